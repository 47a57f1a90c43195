import pg from 'pg';
import { ChangeListeners, type ChangeFeed, type StoreChange } from './store.ts';

/** The channel the change-notice triggers (migration 1796600000000_change-notices.sql) notify on. */
export const CHANGES_CHANNEL = 'ccl_changes';
/** The listening connection's name in pg_stat_activity. */
export const LISTENER_NAME = 'contact-center-link-changes';
const RETRY_MS = [100, 250, 500, 1000, 2000, 5000];

/**
 * PostgreSQL's changes: one connection of its own LISTENs on ccl_changes, opened at the first subscriber (a process
 * that caches nothing never opens it). While it is down, `watching()` is false and the listeners were told `all`, so
 * the caches read the store; it connects again (100 ms, then up to every 5 s) and says `all` once listening again.
 */
export class PgChangeFeed implements ChangeFeed {
    readonly #listeners = new ChangeListeners();
    #client?: pg.Client;
    #listening = false;
    #started = false;
    #closed = false;
    #failures = 0;
    #retry?: NodeJS.Timeout;

    constructor(private readonly databaseUrl: string) {}

    subscribe(listener: (change: StoreChange) => void): () => void {
        const unsubscribe = this.#listeners.subscribe(listener);
        if (!this.#started && !this.#closed) {
            this.#started = true;
            void this.#connect();
        }
        return unsubscribe;
    }

    /** A write of this process, told at once (after its COMMIT), so its next read does not wait for the notice. */
    tell(change: StoreChange): void {
        this.#listeners.emit(change);
    }

    watching(): Promise<boolean> {
        return Promise.resolve(this.#listening);
    }

    async close(): Promise<void> {
        this.#closed = true;
        clearTimeout(this.#retry);
        this.#listening = false;
        await this.#client?.end().catch(() => undefined);
    }

    async #connect(): Promise<void> {
        const client = new pg.Client({ connectionString: this.databaseUrl, application_name: LISTENER_NAME, keepAlive: true });
        this.#client = client;
        let lost = false;
        const drop = () => {
            if (lost) return;
            lost = true;
            this.#lost(client);
        };
        client.on('error', drop);
        client.on('end', drop);
        client.on('notification', (message) => {
            if (message.channel === CHANGES_CHANNEL) this.#listeners.emit(parseChange(message.payload));
        });
        try {
            await client.connect();
            await client.query(`LISTEN ${CHANGES_CHANNEL}`);
        } catch {
            drop();
            return;
        }
        if (lost) return;
        if (this.#closed) {
            // Closed while it connected: close() ended the client it knew, which may have been this one or not.
            await client.end().catch(() => undefined);
            return;
        }
        this.#failures = 0;
        this.#listening = true;
        // Whatever changed while no one listened.
        this.#listeners.emit({ all: true });
    }

    #lost(client: pg.Client): void {
        if (this.#client !== client) return;
        this.#listening = false;
        this.#listeners.emit({ all: true });
        void client.end().catch(() => undefined);
        if (this.#closed) return;
        const delay = RETRY_MS[Math.min(this.#failures++, RETRY_MS.length - 1)]!;
        this.#retry = setTimeout(() => void this.#connect(), delay);
        this.#retry.unref();
    }
}

/** A notice's payload; anything unexpected is taken as `all` (dropping more than needed is always safe). */
export function parseChange(payload: string | undefined): StoreChange {
    try {
        const value = JSON.parse(payload ?? '') as { accountId?: unknown; apiUsers?: unknown; all?: unknown };
        if (typeof value.accountId === 'string') {
            const apiUsers = Array.isArray(value.apiUsers) ? value.apiUsers.filter((u): u is string => typeof u === 'string') : [];
            return { accountId: value.accountId, ...(apiUsers.length ? { apiUsers } : {}) };
        }
    } catch {
        // below
    }
    return { all: true };
}

const OWN_WRITE = /\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+(accounts|links|kept_tasks)\b/i;
const BY_ACCOUNT = /(?:\b(?:id|account_id)\s*=\s*\$1\b|^\s*INSERT\s+INTO\s+\w+\s*\(\s*(?:id|account_id)\s*,[^)]*\)\s*VALUES\s*\(\s*\$1\b)/i;

/**
 * What one of this process's statements changed, for its own caches (other processes learn it from the notice): the
 * account named by its first parameter when the statement is about one account and cannot move an API user's links,
 * everything otherwise. Undefined for a statement that touches nothing a cache holds.
 */
export function ownChange(text: string, values: unknown[] | undefined): StoreChange | undefined {
    const table = OWN_WRITE.exec(text)?.[1]?.toLowerCase();
    if (!table) return undefined;
    const accountId = values?.[0];
    const movesApiUser =
        table === 'links' &&
        (!/^\s*UPDATE\s+links\b/i.test(text) || typeof values?.[1] !== 'string' || /"(?:orgId|userId|method)"/.test(values[1]));
    if (typeof accountId === 'string' && BY_ACCOUNT.test(text) && !movesApiUser) return { accountId };
    return { all: true };
}
