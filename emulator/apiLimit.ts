// An org's daily API request allowance, counted over a rolling 24 hours as Salesforce counts it: a request stops
// counting 24 hours after it was made, so an org over its limit is let in again as the window frees some.

export const API_WINDOW_MS = 24 * 60 * 60_000;
/** requests are counted per minute: the window frees a minute's requests at a time */
const BUCKET_MS = 60_000;

export class ApiAllowance {
    /** minute (ms since epoch / 60 000) → requests counted in it */
    private readonly buckets = new Map<number, number>();

    constructor(public max: number) {}

    /** Requests counted in the 24 hours before `now`. */
    used(now: number): number {
        this.drop(now);
        let n = 0;
        for (const count of this.buckets.values()) n += count;
        return n;
    }

    /** Counts one request made at `now`, unless the window is full; answers whether it was let in. */
    take(now: number): boolean {
        if (this.used(now) >= this.max) return false;
        const minute = Math.floor(now / BUCKET_MS);
        this.buckets.set(minute, (this.buckets.get(minute) ?? 0) + 1);
        return true;
    }

    /** Replaces the window's contents with `used` requests made at `now` (a control, to start from a known usage). */
    set(used: number, now: number): void {
        this.buckets.clear();
        if (used > 0) this.buckets.set(Math.floor(now / BUCKET_MS), used);
    }

    /** When the oldest request still counted leaves the window (ms since epoch), or null when none is counted. */
    nextRelease(now: number): number | null {
        this.drop(now);
        let oldest: number | null = null;
        for (const minute of this.buckets.keys()) if (oldest === null || minute < oldest) oldest = minute;
        return oldest === null ? null : (oldest + 1) * BUCKET_MS + API_WINDOW_MS;
    }

    private drop(now: number): void {
        // a minute leaves the window once all of it is more than 24 hours old
        const first = Math.floor((now - API_WINDOW_MS) / BUCKET_MS);
        for (const minute of this.buckets.keys()) if (minute < first) this.buckets.delete(minute);
    }
}
