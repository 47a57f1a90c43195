// One file on purpose: every repository's SQL in the order the Store contract (store.ts) lists them, read top to bottom.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { runner } from 'node-pg-migrate';
import { id15 } from '../salesforceIds.ts';
import {
    markTransaction,
    refuseNested,
    type AccountOverview,
    type LockKey,
    type Repos,
    type Store,
    type StoreChange,
    type Tx
} from './store.ts';
import type {
    AccountRecord,
    AuditEntry,
    KeptTaskRecord,
    KeptTasksSummary,
    LinkRecord,
    LinkSessionRecord,
    OutboxEvent,
    Snapshot,
    TaskLedgerEntry
} from './types.ts';
import { keepBackup, REPLACED_TABLES, restoreBackup } from './pgBackups.ts';
import { ownChange, PgChangeFeed } from './pgChanges.ts';

/** A lease that has not lapsed: who holds it, and until when. */
export interface LiveLease {
    key: string;
    holder: string;
    until: string;
}

/** Beside this module: the sources' folder, or its copy in the build's output (npm run build copies it). */
export const MIGRATIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');
export const MIGRATIONS_TABLE = 'ccl_migrations';
const RETRIES = 3;
const SEED_CHUNK = 2000;

interface Queryable {
    query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

/** Statements whose writes this process's caches are told of (pgChanges.ts's ownChange), once each is done. */
const telling = (db: Queryable, tell: (change: StoreChange) => void): Queryable => ({
    async query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]) {
        const result = await db.query<R>(text, values);
        const change = ownChange(text, values);
        if (change) tell(change);
        return result;
    }
});

/** Applies the schema's migrations that have not run yet (node-pg-migrate, under its own advisory lock). */
export async function migrate(databaseUrl: string, log: (line: string) => void = () => undefined): Promise<void> {
    await runner({
        databaseUrl,
        dir: MIGRATIONS_DIR,
        direction: 'up',
        migrationsTable: MIGRATIONS_TABLE,
        checkOrder: true,
        advisoryLockMode: 'wait',
        log,
        logger: { debug: () => undefined, info: log, warn: log, error: log }
    });
}

const ledgerEntry = (row: { state: string; task_id: string | null; at: string; claimed_by: string | null }): TaskLedgerEntry => ({
    state: row.state as TaskLedgerEntry['state'],
    ...(row.task_id ? { taskId: row.task_id } : {}),
    at: row.at,
    ...(row.claimed_by ? { by: row.claimed_by } : {})
});
const json = (value: unknown): string => JSON.stringify(value);
const forUpdate = (options?: { forUpdate?: boolean }): string => (options?.forUpdate ? ' FOR UPDATE' : '');

/** The repositories as SQL over one connection (a transaction's) or the pool (each statement on its own). */
class PgRepos implements Repos {
    constructor(protected readonly db: Queryable) {}

    /** Statements that must run together: inside a transaction as they are, outside in one of their own. */
    protected atomically<T>(work: (tx: PgRepos) => Promise<T>): Promise<T> {
        return work(this);
    }

    async #one<T>(text: string, values: unknown[]): Promise<T | undefined> {
        const { rows } = await this.db.query<{ doc: T }>(text, values);
        return rows[0]?.doc;
    }

    accounts: Repos['accounts'] = {
        get: (id) => this.#one('SELECT doc FROM accounts WHERE id = $1', [id]),
        byKeyHash: (hash) => this.#one('SELECT doc FROM accounts WHERE api_key_hash = $1 OR platform_key_hash = $1 LIMIT 1', [hash]),
        names: async (ids) => {
            const { rows } = await this.db.query<{ id: string; name: string }>(
                `SELECT id, doc->>'name' AS name FROM accounts WHERE id = ANY($1::text[])`,
                [ids]
            );
            return new Map(rows.map((r) => [r.id, r.name]));
        },
        list: async () => {
            const { rows } = await this.db.query<{ doc: AccountRecord; status: LinkRecord['status'] | null; username: string | null }>(
                `SELECT a.doc, l.status, l.doc->>'username' AS username FROM accounts a LEFT JOIN links l ON l.account_id = a.id ORDER BY a.doc->>'createdAt', a.id`
            );
            return rows.map((r): AccountOverview => ({
                account: r.doc,
                ...(r.status ? { link: { status: r.status, username: r.username ?? '' } } : {})
            }));
        },
        insert: async (account) => {
            await this.db.query('INSERT INTO accounts (id, doc) VALUES ($1, $2)', [account.id, json(account)]);
        },
        patch: async (id, patch) =>
            (await this.db.query('UPDATE accounts SET doc = jsonb_strip_nulls(doc || $2::jsonb) WHERE id = $1', [id, json(patch)]))
                .rowCount === 1
    };

    links: Repos['links'] = {
        get: (accountId, options) => this.#one(`SELECT doc FROM links WHERE account_id = $1${forUpdate(options)}`, [accountId]),
        ofApiUser: async (orgId, userId, options = {}) => {
            const { rows } = await this.db.query<{ doc: LinkRecord }>(
                `SELECT doc FROM links WHERE org_id15 = $1 AND user_id15 = $2 AND method = 'oauth' AND account_id IS DISTINCT FROM $3 ORDER BY account_id`,
                [id15(orgId), id15(userId), options.except ?? null]
            );
            return rows.map((r) => r.doc);
        },
        dueForCheck: async (verifiedBefore) => {
            const { rows } = await this.db.query<{ account_id: string }>(
                `SELECT account_id FROM links WHERE ((method = 'oauth' AND status = 'linked') OR (method = 'legacy' AND status = 'legacy')) AND ($1::text IS NULL OR last_verified_at IS NULL OR last_verified_at < $1) ORDER BY last_verified_at NULLS FIRST`,
                [verifiedBefore ?? null]
            );
            return rows.map((r) => r.account_id);
        },
        dueForKeepalive: async (refreshedBefore) => {
            const { rows } = await this.db.query<{ account_id: string }>(
                `SELECT account_id FROM links WHERE method = 'oauth' AND status = 'linked' AND last_refreshed_at < $1 ORDER BY last_refreshed_at`,
                [refreshedBefore]
            );
            return rows.map((r) => r.account_id);
        },
        countByStatus: async () => {
            const { rows } = await this.db.query<{ status: string; n: number }>(
                'SELECT status, count(*)::int AS n FROM links GROUP BY status'
            );
            return Object.fromEntries(rows.map((r) => [r.status, r.n]));
        },
        put: (link) =>
            this.atomically(async (tx) => {
                const previous = await tx.links.get(link.accountId, { forUpdate: true });
                await tx.db.query(
                    'INSERT INTO links (account_id, doc) VALUES ($1, $2) ON CONFLICT (account_id) DO UPDATE SET doc = EXCLUDED.doc',
                    [link.accountId, json(link)]
                );
                return previous;
            }),
        patch: async (accountId, patch) =>
            (
                await this.db.query('UPDATE links SET doc = jsonb_strip_nulls(doc || $2::jsonb) WHERE account_id = $1', [
                    accountId,
                    json(patch)
                ])
            ).rowCount === 1,
        delete: (accountId) => this.#one('DELETE FROM links WHERE account_id = $1 RETURNING doc', [accountId])
    };

    sessions: Repos['sessions'] = {
        get: (id, options) => this.#one(`SELECT doc FROM link_sessions WHERE id = $1${forUpdate(options)}`, [id]),
        byStateHash: (hash, options) => this.#one(`SELECT doc FROM link_sessions WHERE state_hash = $1${forUpdate(options)}`, [hash]),
        countPending: async (accountId, now) => {
            const { rows } = await this.db.query<{ n: number }>(
                `SELECT count(*)::int AS n FROM link_sessions WHERE account_id = $1 AND state = 'pending' AND expires_at > $2`,
                [accountId, now]
            );
            return rows[0]!.n;
        },
        insert: async (session) => {
            await this.db.query('INSERT INTO link_sessions (id, doc) VALUES ($1, $2)', [session.id, json(session)]);
        },
        patch: async (id, patch) =>
            (await this.db.query('UPDATE link_sessions SET doc = jsonb_strip_nulls(doc || $2::jsonb) WHERE id = $1', [id, json(patch)]))
                .rowCount === 1,
        purge: async (before) => (await this.db.query('DELETE FROM link_sessions WHERE expires_at < $1', [before])).rowCount ?? 0
    };

    audit: Repos['audit'] = {
        append: async (entry, options = {}) => {
            const result = await this.db.query(
                `INSERT INTO audit (doc) SELECT $1::jsonb WHERE NOT $2::boolean OR NOT EXISTS (
                    SELECT 1 FROM (SELECT doc FROM audit WHERE account_id = $3 ORDER BY seq DESC LIMIT 1) latest WHERE latest.doc - 'at' = $1::jsonb - 'at')`,
                [json(entry), options.unlessRepeat ?? false, entry.accountId]
            );
            return result.rowCount === 1;
        },
        page: async (accountId, { cursor, limit }) => {
            const before = cursor && /^\d+$/.test(cursor) ? cursor : null;
            const { rows } = await this.db.query<{ seq: string; doc: AuditEntry }>(
                'SELECT seq, doc FROM audit WHERE account_id = $1 AND ($2::bigint IS NULL OR seq < $2::bigint) ORDER BY seq DESC LIMIT $3',
                [accountId, before, limit + 1]
            );
            const entries = rows.slice(0, limit);
            return { entries: entries.map((r) => r.doc), ...(rows.length > limit ? { nextCursor: entries.at(-1)!.seq } : {}) };
        },
        firstLinkedAt: async (accountId, orgId) => {
            const { rows } = await this.db.query<{ at: string }>(
                `SELECT at FROM audit WHERE account_id = $1 AND doc->>'outcome' = 'ok'
                   AND (doc->>'action' = 'legacy_import' OR (doc->>'action' IN ('link', 'relink') AND left(doc->>'orgId', 15) = $2))
                 ORDER BY seq LIMIT 1`,
                [accountId, id15(orgId)]
            );
            return rows[0]?.at;
        },
        prune: async (before, keepPerAccount) => {
            const old = await this.db.query('DELETE FROM audit WHERE at < $1', [before]);
            const over = await this.db.query(
                `DELETE FROM audit WHERE seq IN (SELECT seq FROM (SELECT seq, row_number() OVER (PARTITION BY account_id ORDER BY seq DESC) AS n FROM audit) ranked WHERE n > $1)`,
                [keepPerAccount]
            );
            return (old.rowCount ?? 0) + (over.rowCount ?? 0);
        }
    };

    ledger: Repos['ledger'] = {
        startedAt: async () => {
            const found = await this.db.query<{ value: string }>(`SELECT value FROM store_meta WHERE key = 'ledger_started_at'`);
            if (found.rows[0]) return found.rows[0].value;
            const { rows } = await this.db.query<{ value: string }>(
                `INSERT INTO store_meta (key, value) VALUES ('ledger_started_at', $1) ON CONFLICT (key) DO UPDATE SET value = store_meta.value RETURNING value`,
                [new Date().toISOString()]
            );
            return rows[0]!.value;
        },
        get: async (key) => {
            const { rows } = await this.db.query<{ state: string; task_id: string | null; at: string; claimed_by: string | null }>(
                'SELECT state, task_id, at, claimed_by FROM task_ledger WHERE key = $1',
                [key]
            );
            return rows[0] ? ledgerEntry(rows[0]) : undefined;
        },
        claim: async (key, entry) => {
            const inserted = await this.db.query(
                `INSERT INTO task_ledger (key, state, at, claimed_by) VALUES ($1, 'pending', $2, $3) ON CONFLICT (key) DO NOTHING`,
                [key, entry.at, entry.by]
            );
            if (inserted.rowCount === 1) return undefined;
            return (await this.ledger.get(key)) ?? this.ledger.claim(key, entry);
        },
        claimUnlessKept: async (key, entry, call) => {
            // One round trip: the kept row, the entry, and the claim when there is neither (the insert sees the same snapshot).
            const { rows } = await this.db.query<{
                kept: KeptTaskRecord | null;
                claimed: number;
                state: string | null;
                task_id: string | null;
                at: string | null;
                claimed_by: string | null;
            }>(
                `WITH kept AS (SELECT doc FROM kept_tasks WHERE account_id = $4 AND call_id = $5),
                      found AS (SELECT state, task_id, at, claimed_by FROM task_ledger WHERE key = $1),
                      claimed AS (
                          INSERT INTO task_ledger (key, state, at, claimed_by)
                          SELECT $1, 'pending', $2, $3 WHERE NOT EXISTS (SELECT 1 FROM kept) AND NOT EXISTS (SELECT 1 FROM found)
                          ON CONFLICT (key) DO NOTHING RETURNING 1)
                 SELECT (SELECT doc FROM kept) AS kept, (SELECT count(*)::int FROM claimed) AS claimed,
                        found.state, found.task_id, found.at, found.claimed_by
                 FROM (SELECT 1) AS one LEFT JOIN found ON true`,
                [key, entry.at, entry.by, call.accountId, call.callId]
            );
            const row = rows[0]!;
            if (row.kept) return { kept: row.kept };
            if (row.state !== null && row.at !== null) return { entry: ledgerEntry({ ...row, state: row.state, at: row.at }) };
            if (row.claimed === 1) return {};
            // Another claim landed between this statement's snapshot and its insert: read it.
            return this.ledger.claimUnlessKept(key, entry, call);
        },
        settle: async (key, taskId, at) => {
            await this.db.query(
                `INSERT INTO task_ledger (key, state, task_id, at) VALUES ($1, 'created', $2, $3)
                 ON CONFLICT (key) DO UPDATE SET state = 'created', task_id = EXCLUDED.task_id, at = EXCLUDED.at, claimed_by = NULL`,
                [key, taskId, at]
            );
        },
        release: async (key) => {
            await this.db.query(`DELETE FROM task_ledger WHERE key = $1 AND state = 'pending'`, [key]);
        },
        reclaim: async (key, expected, next) =>
            (
                await this.db.query(
                    `UPDATE task_ledger SET at = $4, claimed_by = $5 WHERE key = $1 AND state = 'pending' AND at = $2 AND claimed_by IS NOT DISTINCT FROM $3`,
                    [key, expected.at, expected.by ?? null, next.at, next.by ?? null]
                )
            ).rowCount === 1,
        prune: async (before) => (await this.db.query('DELETE FROM task_ledger WHERE at < $1', [before])).rowCount ?? 0
    };

    outbox: Repos['outbox'] = {
        add: async (event) => {
            await this.db.query('INSERT INTO webhook_outbox (id, doc) VALUES ($1, $2)', [event.id, json(event)]);
        },
        claimDue: async ({ now, by, until, limit }) => {
            // SKIP LOCKED: instances polling at the same moment claim different events, never wait on each other.
            const { rows } = await this.db.query<{ doc: OutboxEvent }>(
                `UPDATE webhook_outbox SET doc = doc || jsonb_build_object('claim', jsonb_build_object('by', $2::text, 'until', $3::text))
                 WHERE id IN (SELECT id FROM webhook_outbox WHERE state = 'pending' AND next_attempt_at <= $1 AND (claim_until IS NULL OR claim_until < $1)
                              ORDER BY next_attempt_at, id LIMIT $4 FOR UPDATE SKIP LOCKED)
                 RETURNING doc`,
                [now, by, until, limit]
            );
            return rows.map((r) => r.doc).sort((a, b) => a.nextAttemptAt.localeCompare(b.nextAttemptAt) || a.id.localeCompare(b.id));
        },
        record: async (id, by, patch) =>
            (
                await this.db.query(
                    `UPDATE webhook_outbox SET doc = jsonb_strip_nulls(doc || $3::jsonb) WHERE id = $1 AND doc->'claim'->>'by' = $2`,
                    [id, by, json(patch)]
                )
            ).rowCount === 1,
        recent: async (accountId, limit) => {
            const { rows } = await this.db.query<{ doc: OutboxEvent }>(
                'SELECT doc FROM webhook_outbox WHERE account_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2',
                [accountId, limit]
            );
            return rows.map((r) => r.doc);
        },
        prune: async (before, keepPerAccount) => {
            const old = await this.db.query(`DELETE FROM webhook_outbox WHERE state <> 'pending' AND created_at < $1`, [before]);
            const over = await this.db.query(
                `DELETE FROM webhook_outbox WHERE id IN (SELECT id FROM (SELECT id, state, row_number() OVER (PARTITION BY account_id ORDER BY created_at DESC, id DESC) AS n FROM webhook_outbox) ranked WHERE n > $1 AND state <> 'pending')`,
                [keepPerAccount]
            );
            return (old.rowCount ?? 0) + (over.rowCount ?? 0);
        }
    };

    kept: Repos['kept'] = {
        add: async (record) => {
            const inserted = await this.db.query(
                'INSERT INTO kept_tasks (account_id, call_id, doc) VALUES ($1, $2, $3) ON CONFLICT (account_id, call_id) DO NOTHING',
                [record.accountId, record.callId, json(record)]
            );
            if (inserted.rowCount === 1) return undefined;
            return (await this.kept.get(record.accountId, record.callId)) ?? this.kept.add(record);
        },
        get: (accountId, callId) => this.#one('SELECT doc FROM kept_tasks WHERE account_id = $1 AND call_id = $2', [accountId, callId]),
        summary: async (accountId) => {
            const { rows } = await this.db.query<{ reason: string; state: string; n: number; oldest: string; org: string }>(
                `SELECT doc->>'reason' AS reason, state, count(*)::int AS n, min(call_at) AS oldest, min(doc->>'orgId') AS org
                 FROM kept_tasks WHERE account_id = $1 GROUP BY 1, 2`,
                [accountId]
            );
            const summary: KeptTasksSummary = { count: 0, awaitingChoice: 0, reasons: {} };
            for (const r of rows) {
                const reason = r.reason as KeptTaskRecord['reason'];
                summary.count += r.n;
                summary.reasons[reason] = (summary.reasons[reason] ?? 0) + r.n;
                if (!summary.oldestCallAt || r.oldest < summary.oldestCallAt) summary.oldestCallAt = r.oldest;
                if (r.state === 'awaiting_choice') summary.awaitingChoice += r.n;
            }
            if (summary.awaitingChoice) {
                const held = await this.db.query<{ org: string }>(
                    `SELECT doc->>'orgId' AS org FROM kept_tasks WHERE account_id = $1 AND state = 'awaiting_choice' ORDER BY call_at, call_id LIMIT 1`,
                    [accountId]
                );
                if (held.rows[0]) summary.awaitingOrgId = held.rows[0].org;
            }
            return summary;
        },
        countAll: async () => (await this.db.query<{ n: number }>('SELECT count(*)::int AS n FROM kept_tasks')).rows[0]!.n,
        accountsDue: async (now, limit) => {
            const { rows } = await this.db.query<{ account_id: string }>(
                `SELECT account_id FROM kept_tasks WHERE state = 'waiting' AND next_attempt_at <= $1
                 GROUP BY account_id ORDER BY min(next_attempt_at), account_id LIMIT $2`,
                [now, limit]
            );
            return rows.map((r) => r.account_id);
        },
        claim: async ({ accountId, now, by, until, limit }) => {
            // SKIP LOCKED: two instances replaying one account at the same moment take different rows, never the same one.
            const { rows } = await this.db.query<{ doc: KeptTaskRecord }>(
                `UPDATE kept_tasks SET doc = doc || jsonb_build_object('claim', jsonb_build_object('by', $3::text, 'until', $4::text))
                 WHERE (account_id, call_id) IN (
                     SELECT account_id, call_id FROM kept_tasks WHERE account_id = $1 AND state = 'waiting' AND next_attempt_at <= $2
                       AND (claim_until IS NULL OR claim_until < $2) ORDER BY call_at, call_id LIMIT $5 FOR UPDATE SKIP LOCKED)
                 RETURNING doc`,
                [accountId, now, by, until, limit]
            );
            return rows.map((r) => r.doc).sort((a, b) => a.callAt.localeCompare(b.callAt) || a.callId.localeCompare(b.callId));
        },
        releaseClaims: async (accountId, by) =>
            (
                await this.db.query(`UPDATE kept_tasks SET doc = doc - 'claim' WHERE account_id = $1 AND doc->'claim'->>'by' = $2`, [
                    accountId,
                    by
                ])
            ).rowCount ?? 0,
        record: async (accountId, callId, by, patch) =>
            (
                await this.db.query(
                    `UPDATE kept_tasks SET doc = jsonb_strip_nulls(doc || $4::jsonb) WHERE account_id = $1 AND call_id = $2 AND doc->'claim'->>'by' = $3`,
                    [accountId, callId, by, json(patch)]
                )
            ).rowCount === 1,
        remove: async (accountId, callId, by) =>
            (
                await this.db.query(
                    `DELETE FROM kept_tasks WHERE account_id = $1 AND call_id = $2 AND ($3::text IS NULL OR doc->'claim'->>'by' = $3)`,
                    [accountId, callId, by ?? null]
                )
            ).rowCount === 1,
        defer: async (accountId, until) =>
            (
                await this.db.query(
                    `UPDATE kept_tasks SET doc = doc || jsonb_build_object('nextAttemptAt', $2::text)
                     WHERE account_id = $1 AND state = 'waiting' AND next_attempt_at < $2`,
                    [accountId, until]
                )
            ).rowCount ?? 0,
        relinked: (accountId, orgId, now) =>
            this.atomically(async (tx) => {
                const same = await tx.db.query(
                    `UPDATE kept_tasks SET doc = doc || jsonb_build_object('state', 'waiting', 'nextAttemptAt', $3::text)
                     WHERE account_id = $1 AND org_id15 = $2`,
                    [accountId, id15(orgId), now]
                );
                const other = await tx.db.query<{ n: number }>(
                    `WITH held AS (UPDATE kept_tasks SET doc = doc || jsonb_build_object('state', 'awaiting_choice')
                                   WHERE account_id = $1 AND org_id15 IS DISTINCT FROM $2 RETURNING 1)
                     SELECT count(*)::int AS n FROM held`,
                    [accountId, id15(orgId)]
                );
                return { waiting: same.rowCount ?? 0, awaitingChoice: other.rows[0]!.n };
            }),
        decide: async (accountId, choice, orgId, now) =>
            choice === 'drop'
                ? ((await this.db.query(`DELETE FROM kept_tasks WHERE account_id = $1 AND state = 'awaiting_choice'`, [accountId]))
                      .rowCount ?? 0)
                : ((
                      await this.db.query(
                          `UPDATE kept_tasks SET doc = doc || jsonb_build_object('state', 'waiting', 'orgId', $2::text, 'attempts', 0, 'nextAttemptAt', $3::text)
                           WHERE account_id = $1 AND state = 'awaiting_choice'`,
                          [accountId, orgId, now]
                      )
                  ).rowCount ?? 0),
        expire: async (before) => {
            const { rows } = await this.db.query<{ account_id: string; n: number }>(
                `WITH gone AS (DELETE FROM kept_tasks WHERE call_at < $1 RETURNING account_id)
                 SELECT account_id, count(*)::int AS n FROM gone GROUP BY account_id ORDER BY account_id`,
                [before]
            );
            return rows.map((r) => ({ accountId: r.account_id, count: r.n }));
        }
    };

    leases: Repos['leases'] = {
        acquire: async (key, by, { now, until }) =>
            (
                await this.db.query(
                    `INSERT INTO leases (key, holder, until) VALUES ($1, $2, $4)
                     ON CONFLICT (key) DO UPDATE SET holder = EXCLUDED.holder, until = EXCLUDED.until WHERE leases.until < $3 OR leases.holder = EXCLUDED.holder`,
                    [key, by, now, until]
                )
            ).rowCount === 1,
        release: async (key, by) => {
            await this.db.query('DELETE FROM leases WHERE key = $1 AND holder = $2', [key, by]);
        },
        get: async (key) => {
            const { rows } = await this.db.query<{ holder: string; until: string }>('SELECT holder, until FROM leases WHERE key = $1', [
                key
            ]);
            return rows[0] ? { by: rows[0].holder, until: rows[0].until } : undefined;
        },
        prune: async (before) => (await this.db.query('DELETE FROM leases WHERE until < $1', [before])).rowCount ?? 0
    };
}

class PgTx extends PgRepos implements Tx {
    /** What this transaction wrote, told to this process's caches after COMMIT. */
    readonly changes: StoreChange[] = [];

    constructor(readonly client: pg.PoolClient) {
        const changes: StoreChange[] = [];
        super(telling(client, (change) => changes.push(change)));
        this.changes = changes;
    }

    /** Sorted, so two transactions that want the same keys take them in one order and never deadlock each other. */
    async lock(...keys: LockKey[]): Promise<void> {
        for (const key of [...new Set(keys)].sort())
            await this.client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [key]);
    }
}

/**
 * The PostgreSQL store (DATABASE_URL): one row per record, the record whole in a jsonb column, the
 * looked-up fields as generated, indexed columns. Transactions run at READ COMMITTED with row locks
 * (FOR UPDATE) and advisory locks where the rules span rows; a deadlock or serialization failure
 * retries the transaction. Any number of processes may share the database.
 */
export class PgStore extends PgRepos implements Store {
    readonly kind = 'postgres' as const;
    readonly changes: PgChangeFeed;

    private constructor(
        readonly pool: pg.Pool,
        databaseUrl: string
    ) {
        const changes = new PgChangeFeed(databaseUrl);
        super(telling(pool, (change) => changes.tell(change)));
        this.changes = changes;
    }

    protected override atomically<T>(work: (tx: PgRepos) => Promise<T>): Promise<T> {
        return this.transaction((tx) => work(tx as PgTx));
    }

    /** Opens a pool; `migrate` (default true) applies pending migrations first. */
    static async open(databaseUrl: string, options: { migrate?: boolean; max?: number } = {}): Promise<PgStore> {
        if (options.migrate ?? true) await migrate(databaseUrl);
        const pool = new pg.Pool({
            connectionString: databaseUrl,
            max: options.max ?? 10,
            // A transaction left open (a bug, a stalled process) must not hold its locks for long.
            idle_in_transaction_session_timeout: 30_000,
            application_name: 'contact-center-link'
        });
        pool.on('error', () => undefined); // an idle client's connection dropped: the pool replaces it
        const store = new PgStore(pool, databaseUrl);
        const { rows } = await pool.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'links' AND table_schema = current_schema()`
        );
        if (rows[0]!.n === 0) {
            await pool.end();
            throw new Error(
                'The database has no Contact Center Link tables: run "npm run store -- migrate" (or start the server, which migrates).'
            );
        }
        return store;
    }

    async transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
        refuseNested();
        for (let attempt = 1; ; attempt++) {
            const client = await this.pool.connect();
            let broken = false;
            try {
                await client.query('BEGIN');
                const tx = new PgTx(client);
                const result = await markTransaction('postgres', () => work(tx));
                await client.query('COMMIT');
                for (const change of tx.changes) this.changes.tell(change);
                return result;
            } catch (error) {
                await client.query('ROLLBACK').catch(() => (broken = true));
                const code = (error as { code?: string }).code;
                if ((code === '40P01' || code === '40001') && attempt < RETRIES) continue;
                throw error;
            } finally {
                client.release(broken);
            }
        }
    }

    async seed(data: Partial<Snapshot>): Promise<void> {
        await this.transaction(async (tx) => this.#seed((tx as PgTx).client, data));
        this.changes.tell({ all: true });
    }

    /** Rows in each table (the move command refuses a target that has any). */
    async counts(): Promise<Record<string, number>> {
        const { rows } = await this.pool.query<{ t: string; n: number }>(
            `SELECT 'accounts' AS t, count(*)::int AS n FROM accounts UNION ALL SELECT 'links', count(*)::int FROM links UNION ALL SELECT 'linkSessions', count(*)::int FROM link_sessions
             UNION ALL SELECT 'audit', count(*)::int FROM audit UNION ALL SELECT 'taskLedger', count(*)::int FROM task_ledger UNION ALL SELECT 'outbox', count(*)::int FROM webhook_outbox
             UNION ALL SELECT 'keptTasks', count(*)::int FROM kept_tasks`
        );
        return Object.fromEntries(rows.map((r) => [r.t, r.n]));
    }

    /**
     * Every table emptied and filled with `data` (the move command), or with a backup's rows (`from`), in one
     * transaction; refused while an instance is alive on the database (`livePrefix`: its leases are locked first, so
     * none starts meanwhile). What it replaces is kept in the backup schema `keep`, unless the tables are empty.
     * Returns the live leases that refused it, or none when it replaced.
     */
    async replaceAll(
        data: Snapshot | { from: string },
        options: { livePrefix: string; now: string; keep: { name: string; reason: string } }
    ): Promise<{ refusedBy: LiveLease[]; kept?: string }> {
        return this.#replaceAll(data, options).finally(() => this.changes.tell({ all: true }));
    }

    #replaceAll(
        data: Snapshot | { from: string },
        options: { livePrefix: string; now: string; keep: { name: string; reason: string } }
    ): Promise<{ refusedBy: LiveLease[]; kept?: string }> {
        return this.transaction(async (tx) => {
            const db = (tx as PgTx).client;
            await db.query('LOCK TABLE leases IN EXCLUSIVE MODE');
            const live = await db.query<LiveLease>(
                `SELECT key, holder, until FROM leases WHERE starts_with(key, $1) AND until >= $2 ORDER BY key`,
                [options.livePrefix, options.now]
            );
            if (live.rows.length > 0) return { refusedBy: live.rows };
            const { rows } = await db.query<{ n: number }>(
                `SELECT (SELECT count(*) FROM accounts) + (SELECT count(*) FROM links) + (SELECT count(*) FROM link_sessions) + (SELECT count(*) FROM audit) + (SELECT count(*) FROM task_ledger) + (SELECT count(*) FROM webhook_outbox) + (SELECT count(*) FROM kept_tasks) AS n`
            );
            const kept = Number(rows[0]!.n) > 0 ? options.keep.name : undefined;
            if (kept) await keepBackup(db, kept, options.keep.reason);
            if ('from' in data) await restoreBackup(db, data.from);
            else {
                await db.query(`TRUNCATE ${REPLACED_TABLES} RESTART IDENTITY`);
                await this.#seed(db, data);
            }
            return { refusedBy: [], ...(kept ? { kept } : {}) };
        });
    }

    async #seed(db: pg.PoolClient, data: Partial<Snapshot>): Promise<void> {
        {
            const insert = async (rows: unknown[], sql: string) => {
                for (let i = 0; i < rows.length; i += SEED_CHUNK) await db.query(sql, [json(rows.slice(i, i + SEED_CHUNK))]);
            };
            await insert(data.accounts ?? [], `INSERT INTO accounts (id, doc) SELECT x->>'id', x FROM jsonb_array_elements($1::jsonb) x`);
            await insert(
                data.links ?? [],
                `INSERT INTO links (account_id, doc) SELECT x->>'accountId', x FROM jsonb_array_elements($1::jsonb) x`
            );
            await insert(
                data.linkSessions ?? [],
                `INSERT INTO link_sessions (id, doc) SELECT x->>'id', x FROM jsonb_array_elements($1::jsonb) x`
            );
            await insert(
                data.audit ?? [],
                `INSERT INTO audit (doc) SELECT x FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(x, n) ORDER BY n`
            );
            await insert(
                data.outbox ?? [],
                `INSERT INTO webhook_outbox (id, doc) SELECT x->>'id', x FROM jsonb_array_elements($1::jsonb) x`
            );
            await insert(
                data.keptTasks ?? [],
                `INSERT INTO kept_tasks (account_id, call_id, doc) SELECT x->>'accountId', x->>'callId', x FROM jsonb_array_elements($1::jsonb) x`
            );
            if (data.taskLedger) {
                await db.query(
                    `INSERT INTO store_meta (key, value) VALUES ('ledger_started_at', $1) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`,
                    [data.taskLedger.startedAt]
                );
                const calls = Object.entries(data.taskLedger.calls).map(([k, e]) => ({ k, ...e }));
                await insert(
                    calls,
                    `INSERT INTO task_ledger (key, state, task_id, at, claimed_by) SELECT x->>'k', x->>'state', x->>'taskId', x->>'at', x->>'by' FROM jsonb_array_elements($1::jsonb) x`
                );
            }
        }
    }

    /** Every row; `from` names a backup schema (pgBackups.ts) to read instead of the tables in use. */
    async dump(from?: string): Promise<Snapshot> {
        const client = await this.pool.connect();
        let broken = false;
        const t = (table: string) => (from ? `${pg.escapeIdentifier(from)}.${table}` : table);
        try {
            // One snapshot of every table.
            await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
            const docs = async <T>(sql: string) => (await client.query<{ doc: T }>(sql)).rows.map((r) => r.doc);
            const accounts = await docs<AccountRecord>(`SELECT doc FROM ${t('accounts')} ORDER BY doc->>'createdAt', id`);
            const links = await docs<LinkRecord>(`SELECT doc FROM ${t('links')} ORDER BY account_id`);
            const linkSessions = await docs<LinkSessionRecord>(`SELECT doc FROM ${t('link_sessions')} ORDER BY doc->>'createdAt', id`);
            const audit = await docs<AuditEntry>(`SELECT doc FROM ${t('audit')} ORDER BY seq`);
            const started = await client.query<{ value: string }>(`SELECT value FROM ${t('store_meta')} WHERE key = 'ledger_started_at'`);
            const ledger = await client.query<{
                key: string;
                state: string;
                task_id: string | null;
                at: string;
                claimed_by: string | null;
            }>(`SELECT key, state, task_id, at, claimed_by FROM ${t('task_ledger')} ORDER BY key`);
            const outbox = await docs<OutboxEvent>(`SELECT doc FROM ${t('webhook_outbox')} ORDER BY doc->>'createdAt', id`);
            // A backup kept before kept Tasks existed has no such table.
            const keptTasks = (
                await client.query<{ n: number }>(
                    `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'kept_tasks' AND table_schema = $1`,
                    [from ?? (await client.query<{ s: string }>('SELECT current_schema() AS s')).rows[0]!.s]
                )
            ).rows[0]!.n
                ? await docs<KeptTaskRecord>(`SELECT doc FROM ${t('kept_tasks')} ORDER BY doc->>'callAt', account_id, call_id`)
                : [];
            await client.query('COMMIT');
            return {
                accounts,
                links,
                linkSessions,
                audit,
                taskLedger: {
                    startedAt: started.rows[0]?.value ?? new Date(0).toISOString(),
                    calls: Object.fromEntries(ledger.rows.map((r) => [r.key, ledgerEntry(r)]))
                },
                outbox,
                keptTasks
            };
        } catch (error) {
            await client.query('ROLLBACK').catch(() => (broken = true));
            throw error;
        } finally {
            client.release(broken);
        }
    }

    #closed?: Promise<void>;
    close(): Promise<void> {
        this.#closed ??= Promise.all([this.changes.close(), this.pool.end()]).then(() => undefined);
        return this.#closed;
    }
}
