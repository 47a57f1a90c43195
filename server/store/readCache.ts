import type { ChangeFeed, StoreChange } from './store.ts';

/** What a cached value depends on: the account it shows, and the API user whose linked accounts it counts. */
export interface CacheTags {
    accountId: string;
    apiUser?: string;
}

/** A cached value is never older than this, even should a change notice be lost (docs/performance.md states the bound). */
export const CACHE_MAX_AGE_MS = 5_000;

interface Entry<V> {
    value: V;
    at: number;
    tags: CacheTags;
}

/**
 * Values read from the store (a link status, the account of a key hash), kept in this process until the store says
 * that what they depend on changed (`Store.changes`): at once on lowdb, at the change notice on PostgreSQL. Nothing is
 * kept while the store cannot tell (PostgreSQL's listening connection is down), nor longer than `maxAgeMs`, nor more
 * than `maxEntries` (the oldest go first). A value read while a change came in is not kept: it may predate it.
 * Values are frozen: every caller shares them.
 */
export class ReadCache<V> {
    readonly #entries = new Map<string, Entry<V>>();
    readonly #byTag = new Map<string, Set<string>>();
    /** Moves at every change: a read that saw it move keeps nothing. */
    #epoch = 0;

    constructor(
        private readonly feed: ChangeFeed,
        private readonly options: { maxAgeMs?: number; maxEntries?: number; now?: () => number } = {}
    ) {
        feed.subscribe((change) => this.#changed(change));
    }

    get size(): number {
        return this.#entries.size;
    }

    /** The cached value, or `load`'s (kept when the store can vouch for it). `undefined` is never kept. */
    async get(key: string, load: () => Promise<{ value: V; tags: CacheTags } | undefined>): Promise<V | undefined> {
        const watching = await this.feed.watching();
        const now = this.#now();
        const entry = watching ? this.#entries.get(key) : undefined;
        if (entry && now - entry.at < (this.options.maxAgeMs ?? CACHE_MAX_AGE_MS)) return entry.value;
        const epoch = this.#epoch;
        const loaded = await load();
        if (!loaded) return undefined;
        if (watching && epoch === this.#epoch) this.#keep(key, deepFreeze(loaded.value), loaded.tags, now);
        return loaded.value;
    }

    #keep(key: string, value: V, tags: CacheTags, at: number): void {
        this.#drop(key);
        const max = this.options.maxEntries ?? 10_000;
        if (this.#entries.size >= max) this.#drop(this.#entries.keys().next().value!);
        this.#entries.set(key, { value, at, tags });
        for (const tag of tagsOf(tags)) {
            const keys = this.#byTag.get(tag);
            if (keys) keys.add(key);
            else this.#byTag.set(tag, new Set([key]));
        }
    }

    #drop(key: string): void {
        const entry = this.#entries.get(key);
        if (!entry) return;
        this.#entries.delete(key);
        for (const tag of tagsOf(entry.tags)) {
            const keys = this.#byTag.get(tag);
            keys?.delete(key);
            if (keys?.size === 0) this.#byTag.delete(tag);
        }
    }

    #changed(change: StoreChange): void {
        this.#epoch++;
        if ('all' in change) {
            this.#entries.clear();
            this.#byTag.clear();
            return;
        }
        const tags = [`a:${change.accountId}`, ...(change.apiUsers ?? []).map((u) => `u:${u}`)];
        for (const tag of tags) for (const key of [...(this.#byTag.get(tag) ?? [])]) this.#drop(key);
    }

    #now(): number {
        return this.options.now ? this.options.now() : performance.now();
    }
}

const tagsOf = (tags: CacheTags): string[] => [`a:${tags.accountId}`, ...(tags.apiUser ? [`u:${tags.apiUser}`] : [])];

function deepFreeze<T>(value: T): T {
    if (value && typeof value === 'object' && !Object.isFrozen(value)) {
        Object.freeze(value);
        for (const child of Object.values(value)) deepFreeze(child);
    }
    return value;
}
