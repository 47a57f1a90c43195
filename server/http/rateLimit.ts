import type { RequestHandler, Response } from 'express';
import { AppError } from '../errors.ts';
import { addressKey } from './abuse.ts';

export interface RatePolicy {
    /** Requests allowed per window and key. */
    limit: number;
    windowMs: number;
    /** Keys remembered at most; the oldest are forgotten first. */
    maxKeys: number;
}

/** Unauthenticated popup traffic per client address: a real popup makes a handful of requests, a flood thousands. */
export const OAUTH_RATE: RatePolicy = { limit: 60, windowMs: 60_000, maxKeys: 10_000 };
/** Writes per account that leave an audit entry (link sessions, verify, unlink, webhook): far above what a card or a platform does. */
export const ACCOUNT_WRITE_RATE: RatePolicy = { limit: 30, windowMs: 60_000, maxKeys: 100_000 };

/** Where a limiter's windows are counted: one more request for `key` at `now`, and the window it falls in after it. */
export interface RateWindows {
    hit(key: string, now: number, policy: RatePolicy): Promise<{ start: number; count: number }> | { start: number; count: number };
}

/** The windows in this process (one instance, or a limit meant per instance): at most `maxKeys`, the oldest forgotten first. */
export class MemoryRateWindows implements RateWindows {
    readonly #windows = new Map<string, { start: number; count: number }>();

    hit(key: string, now: number, policy: RatePolicy): { start: number; count: number } {
        let window = this.#windows.get(key);
        if (!window || now - window.start >= policy.windowMs) {
            this.#windows.delete(key);
            if (this.#windows.size >= policy.maxKeys) this.#windows.delete(this.#windows.keys().next().value!);
            window = { start: now, count: 0 };
            this.#windows.set(key, window);
        }
        window.count++;
        return { ...window };
    }
}

/** A fixed-window counter per key: in memory by default, or in `windows` (the database, shared by every instance). */
export class RateLimiter {
    /** This limiter's own copy: changing it (a benchmark lifting the limit) changes no other limiter. */
    readonly policy: RatePolicy;

    constructor(
        policy: RatePolicy,
        private readonly now: () => number = Date.now,
        private readonly windows: RateWindows = new MemoryRateWindows()
    ) {
        this.policy = { ...policy };
    }

    /** Counts one request; 0 when it may go on, otherwise how long until the key's window ends. */
    async hit(key: string): Promise<number> {
        const now = this.now();
        const window = await this.windows.hit(key, now, this.policy);
        return window.count > this.policy.limit ? window.start + this.policy.windowMs - now : 0;
    }
}

/** 429 with Retry-After when `keyOf` has used up its window; `refuse` renders the answer (JSON or a popup page). */
export function rateLimit(
    limiter: RateLimiter,
    keyOf: (req: Parameters<RequestHandler>[0], res: Response) => string | undefined,
    refuse: (res: Response, error: AppError) => void
): RequestHandler {
    return async (req, res, next) => {
        const key = keyOf(req, res);
        let waitMs: number;
        try {
            waitMs = key === undefined ? 0 : await limiter.hit(key);
        } catch (error) {
            return next(error);
        }
        if (!waitMs) return next();
        const seconds = Math.max(1, Math.ceil(waitMs / 1000));
        res.set('Retry-After', String(seconds));
        try {
            refuse(
                res,
                new AppError('RATE_LIMITED', `Too many requests; try again in ${seconds} seconds.`, 429, { retryAfterSeconds: seconds })
            );
        } catch (error) {
            next(error);
        }
    };
}

export const clientAddress = (req: { ip?: string; socket: { remoteAddress?: string } }): string =>
    addressKey(req.ip ?? req.socket.remoteAddress ?? 'unknown');
