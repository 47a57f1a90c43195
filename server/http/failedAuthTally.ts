import type pg from 'pg';
import type { Logger } from '../logger.ts';
import type { PgStore } from '../store/pgStore.ts';
import type { Store } from '../store/store.ts';
import { countFailure, MemoryFailedAuthTally, type FailedAuthPolicy, type FailedAuthTally, type FailedAuthTallyState } from './abuse.ts';

/** What the tally needs of a pool: one statement at a time, each its own transaction. */
export type TallyPool = Pick<pg.Pool, 'query'>;

/** How often one instance deletes the rows whose window and block are over. */
export const PRUNE_EVERY_MS = 60_000;

// $1 the address, $2 now, $3 the window, $4 the failure that blocks, $5 the block (milliseconds); $6–$8 a new address's row.
const OVER = '(t.blocked_until <= $2::bigint AND $2::bigint - t.window_start >= $3::bigint)';
const BLOCKED = 't.blocked_until > $2::bigint';
const COUNTED = `(CASE WHEN ${OVER} THEN 1 ELSE t.failures + 1 END)`;
const BLOCKS = `${COUNTED} >= $4::bigint`;

/**
 * One failure, counted in one statement: the row is locked by the upsert, so failures from one address that land on
 * several instances at once are counted one after the other, none lost. The SET is `countFailure` in SQL; every
 * right-hand side reads the row as it was before this failure.
 */
const COUNT = `
INSERT INTO auth_failures AS t (address, failures, window_start, blocked_until) VALUES ($1, $6, $7, $8)
ON CONFLICT (address) DO UPDATE SET
    failures = CASE WHEN ${BLOCKED} THEN t.failures WHEN ${BLOCKS} THEN 0 ELSE ${COUNTED} END,
    window_start = CASE WHEN ${BLOCKED} THEN t.window_start WHEN ${BLOCKS} THEN $2::bigint + $5::bigint WHEN ${OVER} THEN $2::bigint ELSE t.window_start END,
    blocked_until = CASE WHEN ${BLOCKED} THEN t.blocked_until WHEN ${BLOCKS} THEN $2::bigint + $5::bigint WHEN ${OVER} THEN 0 ELSE t.blocked_until END
RETURNING failures, window_start, blocked_until`;

/** The rows whose window and block are over (re-checked against a row a concurrent failure just renewed). */
const PRUNE_OVER = 'DELETE FROM auth_failures WHERE window_start <= $1::bigint - $2::bigint AND blocked_until <= $1::bigint';
/** Past the bound, the addresses whose window began longest ago go first; a blocked one's begins when its block ends. */
const PRUNE_OLDEST = 'DELETE FROM auth_failures WHERE address IN (SELECT address FROM auth_failures ORDER BY window_start DESC OFFSET $1)';

/**
 * The wrong-key counts in PostgreSQL (the `auth_failures` table), shared by every instance on the database, so N
 * instances behind a load balancer give an address the policy's allowance once, not N times. Only a failed
 * authentication reads or writes it: one upsert each, and now and then (once a minute per instance, after a count,
 * without holding its answer) a prune that keeps the table to the addresses still counted, at most `maxAddresses`.
 */
export class PgFailedAuthTally implements FailedAuthTally {
    #prunedAt = Number.NEGATIVE_INFINITY;
    #pruning?: Promise<void>;

    constructor(
        private readonly pool: TallyPool,
        private readonly logger?: Pick<Logger, 'warn'>
    ) {}

    async count(key: string, now: number, policy: FailedAuthPolicy): Promise<FailedAuthTallyState> {
        const first = countFailure(undefined, now, policy);
        const { rows } = await this.pool.query<{ failures: number; window_start: string; blocked_until: string }>(COUNT, [
            key,
            now,
            policy.windowMs,
            policy.blockAfter,
            policy.blockMs,
            first.failures,
            first.windowStart,
            first.blockedUntil
        ]);
        const row = rows[0]!;
        if (now - this.#prunedAt >= PRUNE_EVERY_MS && !this.#pruning) {
            this.#prunedAt = now;
            this.#pruning = this.prune(now, policy)
                .then(() => undefined)
                .catch((error: unknown) =>
                    this.logger?.warn(
                        { err: error instanceof Error ? error.message : String(error) },
                        'could not prune the wrong-key counts'
                    )
                )
                .finally(() => (this.#pruning = undefined));
        }
        return { failures: row.failures, windowStart: Number(row.window_start), blockedUntil: Number(row.blocked_until) };
    }

    /** Deletes the rows whose window and block are over, then the oldest past `maxAddresses`; returns how many. */
    async prune(now: number, policy: FailedAuthPolicy): Promise<number> {
        const over = await this.pool.query(PRUNE_OVER, [now, policy.windowMs]);
        const oldest = await this.pool.query(PRUNE_OLDEST, [policy.maxAddresses]);
        return (over.rowCount ?? 0) + (oldest.rowCount ?? 0);
    }

    /** Resolves when a prune that is running has ended (tests, shutdown). */
    async settled(): Promise<void> {
        await this.#pruning;
    }

    async failures(key: string): Promise<number> {
        const { rows } = await this.pool.query<{ failures: number }>('SELECT failures FROM auth_failures WHERE address = $1', [key]);
        return rows[0]?.failures ?? 0;
    }

    async size(): Promise<number> {
        const { rows } = await this.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM auth_failures');
        return rows[0]!.n;
    }
}

/** In PostgreSQL when the store is (every instance counts together), else in the process: lowdb serves one instance per data directory. */
export function failedAuthTallyFor(store: Store, logger?: Pick<Logger, 'warn'>): FailedAuthTally {
    return store.kind === 'postgres' ? new PgFailedAuthTally((store as PgStore).pool, logger) : new MemoryFailedAuthTally();
}
