import { isIPv6 } from 'node:net';
import { AppError } from '../errors.ts';

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

interface Tally {
    failures: number;
    windowStart: number;
    blockedUntil: number;
}

export type FailedAuthVerdict = { refuseForMs: number; delayMs: 0 } | { refuseForMs: 0; delayMs: number };

export class FailedAuthLimiter {
    readonly #tallies = new Map<string, Tally>();

    constructor(
        readonly policy: FailedAuthPolicy = DEFAULT_FAILED_AUTH_POLICY,
        private readonly now: () => number = Date.now
    ) {}

    /** Counts one failed authentication from `address` and says how to answer it. */
    fail(address: string): FailedAuthVerdict {
        const now = this.now();
        const key = addressKey(address);
        let tally = this.#tallies.get(key);
        if (tally && tally.blockedUntil <= now && now - tally.windowStart >= this.policy.windowMs) tally = undefined;
        if (!tally) {
            tally = { failures: 0, windowStart: now, blockedUntil: 0 };
            this.#remember(key, tally, now);
        }
        tally.failures++;
        if (tally.blockedUntil > now) return { refuseForMs: tally.blockedUntil - now, delayMs: 0 };
        if (tally.failures >= this.policy.blockAfter) {
            tally.blockedUntil = now + this.policy.blockMs;
            // The next window starts when the block ends, from zero.
            tally.windowStart = tally.blockedUntil;
            tally.failures = 0;
            return { refuseForMs: this.policy.blockMs, delayMs: 0 };
        }
        const over = tally.failures - this.policy.freeFailures;
        return { refuseForMs: 0, delayMs: over > 0 ? Math.min(over * this.policy.delayStepMs, this.policy.maxDelayMs) : 0 };
    }

    /** Failures counted for an address now (for tests and metrics). */
    failures(address: string): number {
        return this.#tallies.get(addressKey(address))?.failures ?? 0;
    }

    get size(): number {
        return this.#tallies.size;
    }

    #remember(key: string, tally: Tally, now: number): void {
        if (this.#tallies.size >= this.policy.maxAddresses) {
            for (const [k, t] of this.#tallies) {
                if (t.blockedUntil <= now && now - t.windowStart >= this.policy.windowMs) this.#tallies.delete(k);
            }
            // Still full: forget the oldest (a Map iterates in insertion order).
            while (this.#tallies.size >= this.policy.maxAddresses) this.#tallies.delete(this.#tallies.keys().next().value!);
        }
        this.#tallies.set(key, tally);
    }
}

/** An IPv4 address as is; an IPv6 address by its /64, which one host usually holds whole. */
export function addressKey(address: string): string {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return mapped[1]!;
    if (!isIPv6(address)) return address;
    const [head = '', tail = ''] = address.toLowerCase().split('::');
    const left = head ? head.split(':') : [];
    const right = tail ? tail.split(':') : [];
    const groups = address.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
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
