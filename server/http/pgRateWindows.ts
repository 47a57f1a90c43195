import type pg from 'pg';
import type { Logger } from '../logger.ts';
import type { Store } from '../store/store.ts';
import type { PgStore } from '../store/pgStore.ts';
import { MemoryRateWindows, type RatePolicy, type RateWindows } from './rateLimit.ts';

/** How long a count may take before the request goes on uncounted, and how often stale windows are dropped. */
const COUNT_TIMEOUT_MS = 2_000;
const PRUNE_EVERY_MS = 60_000;
const WARN_EVERY_MS = 60_000;

// $1 the key, $2 now, $3 the window (milliseconds). One statement: concurrent hits on several instances are all counted.
const HIT = `
INSERT INTO rate_windows AS t (key, window_start, count) VALUES ($1, $2, 1)
ON CONFLICT (key) DO UPDATE SET
    window_start = CASE WHEN $2::bigint - t.window_start >= $3::bigint THEN $2::bigint ELSE t.window_start END,
    count = CASE WHEN $2::bigint - t.window_start >= $3::bigint THEN 1 ELSE t.count + 1 END
RETURNING window_start, count`;

/**
 * A limiter's windows in PostgreSQL (`rate_windows`), counted once for every instance on the database, so N instances
 * allow a key the policy's limit, not N times it. If the database cannot count within 2 s, the request goes on
 * uncounted (a limit must not turn a database outage into refused writes) and a warning says so, at most once a minute.
 */
export class PgRateWindows implements RateWindows {
    #prunedAt = Number.NEGATIVE_INFINITY;
    #warnedAt = Number.NEGATIVE_INFINITY;
    #uncounted = 0;

    constructor(
        private readonly pool: Pick<pg.Pool, 'query'>,
        /** Keys of one limiter are prefixed by its name, so limiters can share the table. */
        private readonly name: string,
        private readonly logger?: Pick<Logger, 'warn'>
    ) {}

    async hit(key: string, now: number, policy: RatePolicy): Promise<{ start: number; count: number }> {
        let timer: NodeJS.Timeout | undefined;
        try {
            const counted = this.pool.query<{ window_start: string; count: number }>(HIT, [`${this.name}:${key}`, now, policy.windowMs]);
            const timeout = new Promise<never>((_, reject) => {
                timer = setTimeout(() => reject(new Error(`no answer within ${COUNT_TIMEOUT_MS / 1000} s`)), COUNT_TIMEOUT_MS);
            });
            const { rows } = await Promise.race([counted, timeout]);
            this.#pruneNowAndThen(now, policy);
            return { start: Number(rows[0]!.window_start), count: rows[0]!.count };
        } catch (error) {
            this.#uncounted++;
            if (now - this.#warnedAt >= WARN_EVERY_MS) {
                this.#warnedAt = now;
                this.logger?.warn(
                    { limiter: this.name, err: error instanceof Error ? error.message : String(error), uncounted: this.#uncounted },
                    'could not count a rate-limited request; it went on uncounted'
                );
                this.#uncounted = 0;
            }
            return { start: now, count: 0 };
        } finally {
            clearTimeout(timer);
        }
    }

    #pruneNowAndThen(now: number, policy: RatePolicy): void {
        if (now - this.#prunedAt < PRUNE_EVERY_MS) return;
        this.#prunedAt = now;
        void this.pool
            .query('DELETE FROM rate_windows WHERE key LIKE $1 AND window_start <= $2', [`${this.name}:%`, now - policy.windowMs])
            .catch((error: unknown) =>
                this.logger?.warn({ err: error instanceof Error ? error.message : String(error) }, 'could not prune the rate windows')
            );
    }
}

/** The windows of a limit that must hold across instances: in the database on PostgreSQL, in memory on lowdb (one instance). */
export function sharedRateWindows(store: Store, name: string, logger?: Pick<Logger, 'warn'>): RateWindows {
    return store.kind === 'postgres' ? new PgRateWindows((store as PgStore).pool, name, logger) : new MemoryRateWindows();
}
