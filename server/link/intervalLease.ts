import { randomToken } from '../crypto.ts';
import type { Clock } from '../clock.ts';
import type { Store } from '../store/store.ts';

/**
 * Work that one instance of many does per interval (the health sweep, the refresh keepalive): true when `holder` took
 * the interval's lease. The lease is held a little short of the interval, so the next tick of the instance that ran
 * finds it free whatever the timers' jitter, and never released early; it is named per turn, so that not even the
 * same instance takes one interval twice.
 */
export async function takeInterval(store: Store, key: string, holder: string, clock: Clock, intervalMs: number): Promise<boolean> {
    const now = clock.now();
    const until = new Date(now.getTime() + intervalMs - Math.min(1000, intervalMs / 10)).toISOString();
    return store.leases.acquire(key, `${holder}:${randomToken(6)}`, { now: now.toISOString(), until });
}
