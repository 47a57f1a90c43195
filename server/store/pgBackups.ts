import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * Backups of the tables `store move --force` and `store restore` replace, kept in the same database: one schema per
 * backup (`ccl_backup_<UTC time>_<random>`), holding each table's stored columns, its reason in the schema's comment.
 * Restoring one puts those rows back as they were (audit sequence numbers included).
 */
export const BACKUP_PREFIX = 'ccl_backup_';
const BACKUP_NAME = /^ccl_backup_[0-9]{8}_[0-9]{6}_[0-9a-f]{6}$/;

/** The tables a move replaces and the columns that hold their data (the others are generated from `doc`). */
const TABLES = {
    accounts: ['id', 'doc'],
    links: ['account_id', 'doc'],
    link_sessions: ['id', 'doc'],
    audit: ['seq', 'doc'],
    task_ledger: ['key', 'state', 'task_id', 'at', 'claimed_by'],
    webhook_outbox: ['id', 'doc'],
    kept_tasks: ['account_id', 'call_id', 'doc'],
    store_meta: ['key', 'value']
} as const;
export const REPLACED_TABLES = 'accounts, links, link_sessions, audit, task_ledger, webhook_outbox, kept_tasks';

/** Whether a backup schema has the table (a backup kept before kept Tasks existed has no kept_tasks). */
async function hasTable(db: pg.ClientBase | pg.Pool, name: string, table: string): Promise<boolean> {
    const { rows } = await db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2',
        [name, table]
    );
    return rows[0]!.n === 1;
}

export interface BackupInfo {
    name: string;
    reason: string;
    rows: Record<string, number>;
}

export class BackupNotFound extends Error {
    override name = 'BackupNotFound';
}

const schema = (name: string): string => pg.escapeIdentifier(name);

export function newBackupName(now: Date): string {
    const stamp = now
        .toISOString()
        .replace(/[-:]/g, '')
        .replace(/\.\d+Z$/, '')
        .replace('T', '_');
    return `${BACKUP_PREFIX}${stamp}_${randomBytes(3).toString('hex')}`;
}

/** Copies the replaced tables into a new backup schema, inside the caller's transaction. */
export async function keepBackup(db: pg.ClientBase, name: string, reason: string): Promise<void> {
    if (!BACKUP_NAME.test(name)) throw new BackupNotFound(`"${name.slice(0, 80)}" is not a backup name.`);
    await db.query(`CREATE SCHEMA ${schema(name)}`);
    for (const [table, columns] of Object.entries(TABLES))
        await db.query(`CREATE TABLE ${schema(name)}.${table} AS SELECT ${columns.join(', ')} FROM ${table}`);
    await db.query(`COMMENT ON SCHEMA ${schema(name)} IS ${pg.escapeLiteral(reason)}`);
}

/** Empties the replaced tables and fills them from a backup, inside the caller's transaction. */
export async function restoreBackup(db: pg.ClientBase, name: string): Promise<void> {
    await requireBackup(db, name);
    await db.query(`TRUNCATE ${REPLACED_TABLES} RESTART IDENTITY`);
    for (const [table, columns] of Object.entries(TABLES)) {
        const list = columns.join(', ');
        if (!(await hasTable(db, name, table))) continue;
        if (table === 'store_meta')
            await db.query(
                `INSERT INTO store_meta (${list}) SELECT ${list} FROM ${schema(name)}.store_meta ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`
            );
        else await db.query(`INSERT INTO ${table} (${list}) SELECT ${list} FROM ${schema(name)}.${table}`);
    }
    // The audit's sequence goes on after the restored entries, so activity cursors stay valid.
    await db.query(`SELECT setval(pg_get_serial_sequence('audit', 'seq'), coalesce((SELECT max(seq) FROM audit), 0) + 1, false)`);
}

export async function listBackups(db: pg.ClientBase | pg.Pool): Promise<BackupInfo[]> {
    const { rows } = await db.query<{ name: string; reason: string | null }>(
        `SELECT nspname AS name, obj_description(oid, 'pg_namespace') AS reason FROM pg_namespace WHERE nspname LIKE 'ccl\\_backup\\_%' ORDER BY nspname`
    );
    const backups: BackupInfo[] = [];
    for (const { name, reason } of rows.filter((r) => BACKUP_NAME.test(r.name))) {
        const tables = ['accounts', 'links', 'link_sessions', 'audit', 'task_ledger', 'webhook_outbox'];
        if (await hasTable(db, name, 'kept_tasks')) tables.push('kept_tasks');
        const counts = await db.query<{ t: string; n: number }>(
            tables.map((t) => `SELECT '${t}' AS t, count(*)::int AS n FROM ${schema(name)}.${t}`).join(' UNION ALL ')
        );
        backups.push({ name, reason: reason ?? '', rows: Object.fromEntries(counts.rows.map((r) => [r.t, r.n])) });
    }
    return backups;
}

export async function dropBackup(db: pg.ClientBase | pg.Pool, name: string): Promise<void> {
    await requireBackup(db, name);
    await db.query(`DROP SCHEMA ${schema(name)} CASCADE`);
}

export async function requireBackup(db: pg.ClientBase | pg.Pool, name: string): Promise<void> {
    const found =
        BACKUP_NAME.test(name) &&
        (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = $1', [name])).rows[0]!.n === 1;
    if (!found)
        throw new BackupNotFound(
            `No backup named ${name.slice(0, 80)} in this database. "npm run store -- backups" lists the ones there are.`
        );
}
