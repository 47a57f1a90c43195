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

/** A fixed-window counter per key, in memory: cheap enough to run before anything else touches the request. */
export class RateLimiter {
    readonly #windows = new Map<string, { start: number; count: number }>();
    /** This limiter's own copy: changing it (a benchmark lifting the limit) changes no other limiter. */
    readonly policy: RatePolicy;

    constructor(
        policy: RatePolicy,
        private readonly now: () => number = Date.now
    ) {
        this.policy = { ...policy };
    }

    /** Counts one request; 0 when it may go on, otherwise how long until the key's window ends. */
    hit(key: string): number {
        const now = this.now();
        let window = this.#windows.get(key);
        if (!window || now - window.start >= this.policy.windowMs) {
            this.#windows.delete(key);
            if (this.#windows.size >= this.policy.maxKeys) this.#windows.delete(this.#windows.keys().next().value!);
            window = { start: now, count: 0 };
            this.#windows.set(key, window);
        }
        window.count++;
        return window.count > this.policy.limit ? window.start + this.policy.windowMs - now : 0;
    }
}

/** 429 with Retry-After when `keyOf` has used up its window; `refuse` renders the answer (JSON or a popup page). */
export function rateLimit(limiter: RateLimiter, keyOf: (req: Parameters<RequestHandler>[0], res: Response) => string | undefined, refuse: (res: Response, error: AppError) => void): RequestHandler {
    return (req, res, next) => {
        const key = keyOf(req, res);
        const waitMs = key === undefined ? 0 : limiter.hit(key);
        if (!waitMs) return next();
        const seconds = Math.max(1, Math.ceil(waitMs / 1000));
        res.set('Retry-After', String(seconds));
        refuse(res, new AppError('RATE_LIMITED', `Too many requests; try again in ${seconds} seconds.`, 429, { retryAfterSeconds: seconds }));
    };
}

export const clientAddress = (req: { ip?: string; socket: { remoteAddress?: string } }): string => addressKey(req.ip ?? req.socket.remoteAddress ?? 'unknown');
