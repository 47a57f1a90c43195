import { createHash } from 'node:crypto';
import { isIPv6 } from 'node:net';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';

/**
 * Wrong API keys from one address are first slowed, then refused for a while; valid keys are never
 * counted, slowed or refused. Salesforce makes every org's callouts from shared addresses, so one
 * org with a stale key in its Named Credential must not lock the others out: a valid key always
 * passes. That a blocked address can still tell a valid key from a wrong one gives nothing away:
 * a key is 256 random bits.
 *
 * The address is Express's `req.ip`: the client a proxy listed in TRUST_PROXY names in X-Forwarded-For,
 * else the peer of the connection. No address is exempt, loopback included: behind a proxy that names
 * nobody, every client shares the proxy's address and is counted there, never waved through.
 */
export interface FailedAuthPolicy {
    /** Failures are counted over this window, from the first one. */
    windowMs: number;
    /** Failures in a window answered at once. */
    freeFailures: number;
    /** Each failure after the free ones is answered this much later than the one before… */
    delayStepMs: number;
    /** …up to this. */
    maxDelayMs: number;
    /** The failure that refuses the address (429) for `blockMs`. */
    blockAfter: number;
    blockMs: number;
    /** Addresses remembered at most; the oldest are forgotten first. */
    maxAddresses: number;
}

export const DEFAULT_FAILED_AUTH_POLICY: FailedAuthPolicy = {
    windowMs: 10 * 60_000,
    freeFailures: 5,
    delayStepMs: 250,
    maxDelayMs: 2_000,
    blockAfter: 20,
    blockMs: 15 * 60_000,
    maxAddresses: 10_000
};

/** One address's count: failures in the window that began at `windowStart`, refused until `blockedUntil` (epoch ms). */
export interface FailedAuthTallyState {
    failures: number;
    windowStart: number;
    blockedUntil: number;
}

/**
 * Where the counts live: in the process (lowdb, one instance per data directory) or in PostgreSQL, shared by every
 * instance on the database (failedAuthTally.ts). Only failed authentications reach it.
 */
export interface FailedAuthTally {
    /** Counts one failure from `key` at `now`, atomically (`countFailure`), and returns the address's count after it. */
    count(key: string, now: number, policy: FailedAuthPolicy): Promise<FailedAuthTallyState>;
    /** Failures counted for `key` (tests, metrics). */
    failures(key: string): Promise<number>;
    /** Addresses remembered. */
    size(): Promise<number>;
}

export type FailedAuthVerdict = { refuseForMs: number; delayMs: 0 } | { refuseForMs: 0; delayMs: number };

/** The policy's one step: an address's count after one more failure at `now`, from its count before (none: undefined). */
export function countFailure(previous: FailedAuthTallyState | undefined, now: number, policy: FailedAuthPolicy): FailedAuthTallyState {
    const over = previous !== undefined && previous.blockedUntil <= now && now - previous.windowStart >= policy.windowMs;
    const tally = previous && !over ? { ...previous } : { failures: 0, windowStart: now, blockedUntil: 0 };
    // Refused while blocked, and not counted: the window after the block starts from zero, however hard it was tried.
    if (tally.blockedUntil > now) return tally;
    tally.failures++;
    // The next window starts when the block ends, from zero.
    if (tally.failures >= policy.blockAfter) return { failures: 0, windowStart: now + policy.blockMs, blockedUntil: now + policy.blockMs };
    return tally;
}

/** How to answer the failure that left `tally`: refused while a block lasts, else at once or later. */
export function verdictOf(tally: FailedAuthTallyState, now: number, policy: FailedAuthPolicy): FailedAuthVerdict {
    if (tally.blockedUntil > now) return { refuseForMs: tally.blockedUntil - now, delayMs: 0 };
    const over = tally.failures - policy.freeFailures;
    return { refuseForMs: 0, delayMs: over > 0 ? Math.min(over * policy.delayStepMs, policy.maxDelayMs) : 0 };
}

/** The counts in this process: one instance's (lowdb), at most `maxAddresses` of them. */
export class MemoryFailedAuthTally implements FailedAuthTally {
    readonly #tallies = new Map<string, FailedAuthTallyState>();

    count(key: string, now: number, policy: FailedAuthPolicy): Promise<FailedAuthTallyState> {
        const previous = this.#tallies.get(key);
        const tally = countFailure(previous, now, policy);
        if (!previous) this.#makeRoom(now, policy);
        this.#tallies.set(key, tally);
        return Promise.resolve(tally);
    }

    failures(key: string): Promise<number> {
        return Promise.resolve(this.#tallies.get(key)?.failures ?? 0);
    }

    size(): Promise<number> {
        return Promise.resolve(this.#tallies.size);
    }

    #makeRoom(now: number, policy: FailedAuthPolicy): void {
        if (this.#tallies.size < policy.maxAddresses) return;
        for (const [k, t] of this.#tallies) {
            if (t.blockedUntil <= now && now - t.windowStart >= policy.windowMs) this.#tallies.delete(k);
        }
        // Still full: forget the oldest (a Map iterates in insertion order).
        while (this.#tallies.size >= policy.maxAddresses) this.#tallies.delete(this.#tallies.keys().next().value!);
    }
}

export interface FailedAuthLimiterOptions {
    /** In memory unless given (PostgreSQL: failedAuthTally.ts). */
    tally?: FailedAuthTally;
    /** Told when a failure could not be counted. */
    logger?: Pick<Logger, 'warn'>;
    /** A tally that has not answered by then (a database that hangs) is not waited for. */
    countTimeoutMs?: number;
}

/** At most one warning a minute while the tally cannot count, with how many failures went uncounted. */
const WARN_EVERY_MS = 60_000;

export class FailedAuthLimiter {
    readonly tally: FailedAuthTally;
    readonly #logger?: Pick<Logger, 'warn'>;
    readonly #countTimeoutMs: number;
    #uncounted = 0;
    #warnedAt = Number.NEGATIVE_INFINITY;

    constructor(
        readonly policy: FailedAuthPolicy = DEFAULT_FAILED_AUTH_POLICY,
        private readonly now: () => number = Date.now,
        options: FailedAuthLimiterOptions = {}
    ) {
        this.tally = options.tally ?? new MemoryFailedAuthTally();
        this.#logger = options.logger;
        this.#countTimeoutMs = options.countTimeoutMs ?? 2_000;
    }

    /**
     * Counts one failed authentication from `address` and says how to answer it. Never rejects: a failure the tally
     * cannot count (the database is down) is answered at once, still as a failure, and a warning is logged.
     */
    async fail(address: string): Promise<FailedAuthVerdict> {
        const now = this.now();
        let timer: NodeJS.Timeout | undefined;
        try {
            const counted = this.tally.count(tallyKey(address), now, this.policy);
            const timeout = new Promise<never>((_, reject) => {
                timer = setTimeout(() => reject(new Error(`no answer in ${this.#countTimeoutMs} ms`)), this.#countTimeoutMs);
                timer.unref();
            });
            return verdictOf(await Promise.race([counted, timeout]), now, this.policy);
        } catch (error) {
            this.#uncounted++;
            if (now - this.#warnedAt >= WARN_EVERY_MS) {
                this.#warnedAt = now;
                this.#logger?.warn(
                    { err: error instanceof Error ? error.message : String(error), uncounted: this.#uncounted },
                    'could not count a failed authentication; it was answered without the wrong-key limiter'
                );
                this.#uncounted = 0;
            }
            return { refuseForMs: 0, delayMs: 0 };
        } finally {
            clearTimeout(timer);
        }
    }

    /** Failures counted for an address now (for tests and metrics). */
    failures(address: string): Promise<number> {
        return this.tally.failures(tallyKey(address));
    }

    /** Addresses remembered. */
    size(): Promise<number> {
        return this.tally.size();
    }
}

/** The key an address is counted under: `addressKey`, or a hash of anything that is not a short address (no row or entry grows with it). */
export function tallyKey(address: string): string {
    const key = addressKey(address);
    return /^[\w.:/%-]{1,64}$/.test(key) ? key : `sha256:${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;
}

/** An IPv4 address as is; an IPv6 address by its /64, which one host usually holds whole. */
export function addressKey(address: string): string {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return mapped[1]!;
    if (!isIPv6(address)) return address;
    const [head = '', tail = ''] = address.toLowerCase().split('::');
    const left = head ? head.split(':') : [];
    const right = tail ? tail.split(':') : [];
    const groups = address.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
    return `${groups
        .slice(0, 4)
        .map((g) => g.replace(/^0+(?=.)/, ''))
        .join(':')}::/64`;
}

/** What a refused address is told: 429, when to come back, and what to check. */
export function tooManyFailures(refuseForMs: number): AppError {
    const seconds = Math.ceil(refuseForMs / 1000);
    return new AppError(
        'TOO_MANY_FAILED_AUTHENTICATIONS',
        `Too many requests from this address had a wrong API key. Check the key in the Named Credential, then try again in ${Math.ceil(seconds / 60)} minutes.`,
        429,
        { retryAfterSeconds: seconds }
    );
}
