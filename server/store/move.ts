import { createHash } from 'node:crypto';
import { LowdbStore } from './lowdb/store.ts';
import { PgStore } from './pgStore.ts';
import type { Snapshot } from './types.ts';

export type TableName = 'accounts' | 'links' | 'linkSessions' | 'audit' | 'taskLedger' | 'outbox';
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
        outbox: by(snapshot.outbox ?? [], (e) => e.id)
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
    outcome: 'moved' | 'already_there' | 'refused_not_empty' | 'mismatch';
    checks: TableCheck[];
}

/**
 * Copies a lowdb data directory into PostgreSQL as it is (sealed values untouched, so the same
 * TOKEN_ENCRYPTION_KEY opens them), in one transaction, then compares counts and a checksum per
 * table. Safe to run again: a target that already holds exactly the source is left alone; any other
 * non-empty target is refused unless `force`, which replaces it.
 */
export async function moveToPostgres(dataDir: string, databaseUrl: string, options: { force?: boolean } = {}): Promise<MoveResult> {
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
        await target.replaceAll(snapshot);
        const checks = compare(snapshot, await target.dump());
        return { outcome: checks.every((c) => c.same) ? 'moved' : 'mismatch', checks };
    } finally {
        await target.close();
    }
}
