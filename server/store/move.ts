import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { processAlive } from './lowdb/lockFile.ts';
import { LowdbStore } from './lowdb/store.ts';
import { newBackupName, requireBackup } from './pgBackups.ts';
import { PgStore, type LiveLease } from './pgStore.ts';
import { instanceLease } from './store.ts';
import type { Snapshot } from './types.ts';

export type TableName = 'accounts' | 'links' | 'linkSessions' | 'audit' | 'taskLedger' | 'outbox' | 'keptTasks';
export interface TableCheck {
    table: TableName;
    source: number;
    target: number;
    checksum: string;
    same: boolean;
}

/** JSON with object keys sorted, so PostgreSQL's jsonb (which reorders keys) and the files compare byte for byte. */
function canonical(value: unknown): string {
    if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
    if (value && typeof value === 'object') {
        return `{${Object.keys(value)
            .sort()
            .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
            .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
            .join(',')}}`;
    }
    return JSON.stringify(value);
}

/** Rows per table in a stable order (by key; the audit in its own order), for counting and checksums. */
function rowsOf(snapshot: Snapshot): Record<TableName, unknown[]> {
    const by = <T>(rows: T[], key: (row: T) => string) => [...rows].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
    return {
        accounts: by(snapshot.accounts, (a) => a.id),
        links: by(snapshot.links, (l) => l.accountId),
        linkSessions: by(snapshot.linkSessions, (s) => s.id),
        audit: snapshot.audit,
        taskLedger: [snapshot.taskLedger.startedAt, ...by(Object.entries(snapshot.taskLedger.calls), ([k]) => k)],
        outbox: by(snapshot.outbox ?? [], (e) => e.id),
        keptTasks: by(snapshot.keptTasks ?? [], (r) => `${r.accountId}|${r.callId}`)
    };
}

export function compare(source: Snapshot, target: Snapshot): TableCheck[] {
    const a = rowsOf(source);
    const b = rowsOf(target);
    return (Object.keys(a) as TableName[]).map((table) => {
        const sum = (rows: unknown[]) => createHash('sha256').update(rows.map(canonical).join('\n')).digest('hex');
        const count = (rows: unknown[]) => (table === 'taskLedger' ? rows.length - 1 : rows.length);
        const checksum = sum(a[table]);
        return {
            table,
            source: count(a[table]),
            target: count(b[table]),
            checksum: checksum.slice(0, 16),
            same: checksum === sum(b[table])
        };
    });
}

export interface MoveResult {
    outcome: 'moved' | 'already_there' | 'refused_not_empty' | 'refused_in_use' | 'mismatch';
    checks: TableCheck[];
    /** refused_in_use: the instances alive on the database. */
    liveLeases?: LiveLease[];
    /** The backup schema that keeps what the move replaced (`npm run store -- restore --backup NAME`). */
    backup?: string;
}

/** A source that is not a data directory of the embedded store, or one a backend still serves: nothing is read or changed. */
export class MoveRefused extends Error {
    override name = 'MoveRefused';
    constructor(
        message: string,
        /** 2: the operator named the wrong thing; 1: the right thing, at the wrong time. */
        readonly exitCode: 1 | 2
    ) {
        super(message);
    }
}

/** The source must be a lowdb store (its db.json) that no live backend serves; it is never created. */
async function checkSource(dataDir: string): Promise<void> {
    const docFile = path.join(dataDir, 'db.json');
    if (!(await stat(docFile).catch(() => undefined))?.isFile())
        throw new MoveRefused(
            `${dataDir} is not a data directory of the embedded store: it holds no db.json. Nothing was changed. Name the directory the server used (its DATA_DIR, ./data by default).`,
            2
        );
    const holder = Number((await readFile(path.join(dataDir, 'server.pid'), 'utf8').catch(() => '')).trim());
    if (Number.isInteger(holder) && holder > 0 && processAlive(holder))
        throw new MoveRefused(
            `A backend (pid ${holder}) still serves ${dataDir}: its writes after the copy would be lost. Stop it, then move. Nothing was changed.`,
            1
        );
}

/**
 * Copies a lowdb data directory into PostgreSQL as it is (sealed values untouched, so the same
 * TOKEN_ENCRYPTION_KEY opens them), in one transaction, then compares counts and a checksum per
 * table. Safe to run again: a target that already holds exactly the source is left alone; any other
 * non-empty target is refused unless `force`, which replaces it and keeps what it replaced in a backup
 * schema. Refused while a backend runs on either side.
 */
export async function moveToPostgres(
    dataDir: string,
    databaseUrl: string,
    options: { force?: boolean; now?: () => Date } = {}
): Promise<MoveResult> {
    await checkSource(dataDir);
    const source = await LowdbStore.open(dataDir);
    let snapshot: Snapshot;
    try {
        snapshot = await source.dump();
    } finally {
        await source.close();
    }
    const target = await PgStore.open(databaseUrl);
    try {
        const counts = await target.counts();
        if (Object.values(counts).some((n) => n > 0)) {
            const checks = compare(snapshot, await target.dump());
            if (checks.every((c) => c.same)) return { outcome: 'already_there', checks };
            if (!options.force) return { outcome: 'refused_not_empty', checks };
        }
        const now = options.now?.() ?? new Date();
        const replaced = await target.replaceAll(snapshot, {
            livePrefix: instanceLease(''),
            now: now.toISOString(),
            keep: { name: newBackupName(now), reason: `before store move --force from ${path.resolve(dataDir)} at ${now.toISOString()}` }
        });
        if (replaced.refusedBy.length > 0) return { outcome: 'refused_in_use', checks: [], liveLeases: replaced.refusedBy };
        const checks = compare(snapshot, await target.dump());
        return { outcome: checks.every((c) => c.same) ? 'moved' : 'mismatch', checks, ...(replaced.kept ? { backup: replaced.kept } : {}) };
    } finally {
        await target.close();
    }
}

export interface RestoreResult {
    outcome: 'restored' | 'refused_in_use' | 'mismatch';
    checks: TableCheck[];
    liveLeases?: LiveLease[];
    /** The backup schema that keeps what the restore replaced. */
    backup?: string;
}

/** Puts a backup's rows back in place of the tables in use (keeping those as another backup); refused while a backend runs on the database. */
export async function restoreFromBackup(databaseUrl: string, name: string, options: { now?: () => Date } = {}): Promise<RestoreResult> {
    const target = await PgStore.open(databaseUrl);
    try {
        // Read first: an unknown name is refused here, before anything is locked.
        await requireBackup(target.pool, name);
        const saved = await target.dump(name);
        const now = options.now?.() ?? new Date();
        const replaced = await target.replaceAll(
            { from: name },
            {
                livePrefix: instanceLease(''),
                now: now.toISOString(),
                keep: { name: newBackupName(now), reason: `before store restore --backup ${name} at ${now.toISOString()}` }
            }
        );
        if (replaced.refusedBy.length > 0) return { outcome: 'refused_in_use', checks: [], liveLeases: replaced.refusedBy };
        const checks = compare(saved, await target.dump());
        return {
            outcome: checks.every((c) => c.same) ? 'restored' : 'mismatch',
            checks,
            ...(replaced.kept ? { backup: replaced.kept } : {})
        };
    } finally {
        await target.close();
    }
}
