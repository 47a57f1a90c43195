import { AsyncLocalStorage } from 'node:async_hooks';
import { id15 } from '../salesforceIds.ts';
import type {
    AccountRecord,
    AuditEntry,
    KeptTaskRecord,
    KeptTasksSummary,
    LinkRecord,
    LinkSessionRecord,
    LinkStatus,
    OutboxEvent,
    Snapshot,
    TaskLedgerEntry
} from './types.ts';

/**
 * The storage boundary: the domain asks for rows, locks and claims, never for a whole document.
 * Two implementations pass one contract suite (server/store/store.test.ts): lowdb (files in
 * DATA_DIR, the default) and PostgreSQL (DATABASE_URL). Every read returns a copy.
 */
export interface Store extends Repos {
    readonly kind: 'lowdb' | 'postgres';
    /** All or nothing; rolls back on throw. No network I/O inside (it would hold the lock or the connection). */
    transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T>;
    close(): Promise<void>;
    /** Adds rows as they are (tests, the move command); never replaces. */
    seed(data: Partial<Snapshot>): Promise<void>;
    /** Every row (tests, the move command). */
    dump(): Promise<Snapshot>;
    /** What changed, for the caches of the link status and of API keys (store/readCache.ts). */
    readonly changes: ChangeFeed;
}

/**
 * What a write changed that a cache may hold: an account (its row, its link, its kept Tasks), and the API users
 * (`orgId15|userId15`) whose count of linked accounts it moved. `all` when the store cannot say which (another
 * process's write on lowdb, a lost listening connection on PostgreSQL).
 */
export type StoreChange = { all: true } | { accountId: string; apiUsers?: string[] };

/**
 * The store's changes, from this process's commits and (PostgreSQL's LISTEN/NOTIFY, lowdb's file watch) from
 * other processes'. A cache answers from memory only while `watching()` says it is told of every change.
 */
export interface ChangeFeed {
    subscribe(listener: (change: StoreChange) => void): () => void;
    /**
     * lowdb: first reads what another process (the operator's command) wrote, telling the listeners; always true.
     * PostgreSQL: true while its listening connection is up (while it is down, a cache must read the store).
     */
    watching(): Promise<boolean>;
}

/** The listeners of one store's changes. */
export class ChangeListeners {
    readonly #listeners = new Set<(change: StoreChange) => void>();

    subscribe(listener: (change: StoreChange) => void): () => void {
        this.#listeners.add(listener);
        return () => void this.#listeners.delete(listener);
    }

    emit(change: StoreChange): void {
        for (const listener of this.#listeners) listener(change);
    }
}

export interface Tx extends Repos {
    /** First thing in a transaction. PostgreSQL: one advisory lock per key, held to COMMIT; lowdb: writers are serial already. */
    lock(...keys: LockKey[]): Promise<void>;
}

/** null clears a field. */
export type Patch<T> = { [K in keyof T]?: T[K] | null };
export type LockKey = `api-user:${string}` | `account:${string}`;

export const apiUserLock = (orgId: string, userId: string): LockKey => `api-user:${id15(orgId)}:${id15(userId)}`;
/** An API user as the changes name it: org and user on 15 characters. */
export const apiUserKey = (orgId: string, userId: string): string => `${id15(orgId)}|${id15(userId)}`;
export const accountLock = (accountId: string): LockKey => `account:${accountId}`;
/** The lease every running instance renews while it lives (calls/ledger.ts's heartbeat); `store move` refuses while one is live. */
export const instanceLease = (claimant: string): string => `instance:${claimant}`;

export interface AccountOverview {
    account: AccountRecord;
    link?: Pick<LinkRecord, 'status' | 'username'>;
}

export interface AuditPage {
    entries: AuditEntry[];
    nextCursor?: string;
}

/** What `ledger.claimUnlessKept` found: the call's kept Task, or the ledger's entry for it; neither when it claimed the call. */
export interface CallClaim {
    kept?: KeptTaskRecord;
    entry?: TaskLedgerEntry;
}

export interface Repos {
    accounts: {
        get(id: string): Promise<AccountRecord | undefined>;
        byKeyHash(hash: string): Promise<AccountRecord | undefined>;
        /** id → name, for the ids that exist. */
        names(ids: string[]): Promise<Map<string, string>>;
        list(): Promise<AccountOverview[]>;
        insert(account: AccountRecord): Promise<void>;
        /** false when there is no such account. */
        patch(id: string, patch: Patch<AccountRecord>): Promise<boolean>;
    };
    links: {
        /** forUpdate: PostgreSQL locks the row to COMMIT (inside a transaction). */
        get(accountId: string, options?: { forUpdate?: boolean }): Promise<LinkRecord | undefined>;
        /** The OAuth links of one Salesforce user (org and user compared on 15 characters). */
        ofApiUser(orgId: string, userId: string, options?: { except?: string }): Promise<LinkRecord[]>;
        /** Working links (OAuth `linked`, legacy `legacy`) not verified since `verifiedBefore` (all of them without it), oldest first. */
        dueForCheck(verifiedBefore?: string): Promise<string[]>;
        /** Linked OAuth links whose refresh token was last used (or, never used, issued) before `refreshedBefore`, oldest first. */
        dueForKeepalive(refreshedBefore: string): Promise<string[]>;
        countByStatus(): Promise<Partial<Record<Exclude<LinkStatus, 'unlinked'>, number>>>;
        /** Inserts or replaces the account's link; returns the one it replaced. */
        put(link: LinkRecord): Promise<LinkRecord | undefined>;
        patch(accountId: string, patch: Patch<LinkRecord>): Promise<boolean>;
        delete(accountId: string): Promise<LinkRecord | undefined>;
    };
    sessions: {
        get(id: string, options?: { forUpdate?: boolean }): Promise<LinkSessionRecord | undefined>;
        byStateHash(stateHash: string, options?: { forUpdate?: boolean }): Promise<LinkSessionRecord | undefined>;
        /** Pending and not expired at `now`. */
        countPending(accountId: string, now: string): Promise<number>;
        insert(session: LinkSessionRecord): Promise<void>;
        patch(id: string, patch: Patch<LinkSessionRecord>): Promise<boolean>;
        /** Drops sessions that expired before `before`; returns how many. */
        purge(before: string): Promise<number>;
    };
    audit: {
        /** Appends the entry; with `unlessRepeat`, not when it only repeats the account's latest entry (a change that changed nothing). True when written. */
        append(entry: AuditEntry, options?: { unlessRepeat?: boolean }): Promise<boolean>;
        /** Newest first; the cursor is opaque. */
        page(accountId: string, options: { cursor?: string; limit: number }): Promise<AuditPage>;
        /** When the account was first linked (or imported) into this org, from what the audit still holds. */
        firstLinkedAt(accountId: string, orgId: string): Promise<string | undefined>;
        /** Drops entries older than `before`, and an account's oldest beyond `keepPerAccount`; returns how many. */
        prune(before: string, keepPerAccount: number): Promise<number>;
    };
    ledger: {
        /** When the ledger began recording (set once, at its first use). */
        startedAt(): Promise<string>;
        get(key: string): Promise<TaskLedgerEntry | undefined>;
        /** Claims a call: undefined means the caller owns it now (a pending entry was written); otherwise the entry already there. */
        claim(key: string, entry: { at: string; by: string }): Promise<TaskLedgerEntry | undefined>;
        /**
         * A live call's claim in one step: the call's kept Task when one is kept (nothing claimed), else the entry already
         * there (nothing claimed), else the call is claimed for `entry.by` (`{}`). On PostgreSQL one statement, not three.
         */
        claimUnlessKept(key: string, entry: { at: string; by: string }, call: { accountId: string; callId: string }): Promise<CallClaim>;
        settle(key: string, taskId: string, at: string): Promise<void>;
        /** Drops a pending entry (the create was refused outright). */
        release(key: string): Promise<void>;
        /**
         * Compare-and-set on a pending entry: when it still holds `expected` (its `at` and `by`), it takes `next`.
         * Taking over a claim that lapsed or was abandoned (`next.by` = this process), or abandoning one's own (`next.by` undefined).
         */
        reclaim(key: string, expected: { at: string; by?: string }, next: { at: string; by?: string }): Promise<boolean>;
        prune(before: string): Promise<number>;
    };
    outbox: {
        add(event: OutboxEvent): Promise<void>;
        /** Claims for `by` until `until` up to `limit` pending events due at `now` whose claim is free or lapsed; oldest first. */
        claimDue(options: { now: string; by: string; until: string; limit: number }): Promise<OutboxEvent[]>;
        /** An attempt's outcome, recorded only while `by` still holds the event's claim. False otherwise. */
        record(id: string, by: string, patch: Patch<OutboxEvent>): Promise<boolean>;
        /** The account's latest events, newest first. */
        recent(accountId: string, limit: number): Promise<OutboxEvent[]>;
        /** Drops finished (delivered or failed) events older than `before`, and an account's oldest beyond `keepPerAccount`; returns how many. */
        prune(before: string, keepPerAccount: number): Promise<number>;
    };
    kept: {
        /** Keeps a call's Task; undefined when kept now, the row already kept for this call otherwise (kept once). */
        add(record: KeptTaskRecord): Promise<KeptTaskRecord | undefined>;
        get(accountId: string, callId: string): Promise<KeptTaskRecord | undefined>;
        summary(accountId: string): Promise<KeptTasksSummary>;
        /** Every account's kept Tasks (metrics). */
        countAll(): Promise<number>;
        /** Accounts with waiting rows due at `now` (claimed or not: the account's replay lease decides), the oldest due first. */
        accountsDue(now: string, limit: number): Promise<string[]>;
        /** Frees the account's rows `by` claimed (an instance that died): they may be claimed at once. Returns how many. */
        releaseClaims(accountId: string, by: string): Promise<number>;
        /** Claims for `by` until `until` the account's due waiting rows (up to `limit`), oldest call first. */
        claim(options: { accountId: string; now: string; by: string; until: string; limit: number }): Promise<KeptTaskRecord[]>;
        /** A replay's outcome on a row, only while `by` holds its claim; false otherwise. */
        record(accountId: string, callId: string, by: string, patch: Patch<KeptTaskRecord>): Promise<boolean>;
        /** Removes the row (made, or dropped); with `by`, only while `by` holds its claim. True when removed. */
        remove(accountId: string, callId: string, by?: string): Promise<boolean>;
        /** Waiting rows not due before `until` (the org still refuses): each waits at least that long. Returns how many moved. */
        defer(accountId: string, until: string): Promise<number>;
        /**
         * The account was linked (again) to `orgId`: its waiting rows kept for that org are due at `now`, the others (and
         * those awaiting a choice for another org) wait for the admin's choice. Returns how many of each.
         */
        relinked(accountId: string, orgId: string, now: string): Promise<{ waiting: number; awaitingChoice: number }>;
        /** The admin's choice on the rows awaiting it: made in `orgId` (due at `now`), or dropped. Returns how many. */
        decide(accountId: string, choice: 'make' | 'drop', orgId: string, now: string): Promise<number>;
        /** Drops rows whose call is older than `before`; how many per account. */
        expire(before: string): Promise<Array<{ accountId: string; count: number }>>;
    };
    leases: {
        /**
         * One holder per key across instances, for work that leaves the process (a token refresh) or must run once
         * (a health sweep): true when `by` holds the key until `until` (it was free, had lapsed at `now`, or was `by`'s).
         */
        acquire(key: string, by: string, options: { now: string; until: string }): Promise<boolean>;
        release(key: string, by: string): Promise<void>;
        /** Who holds the key and until when (a lapsed lease too, until it is taken over or released). */
        get(key: string): Promise<{ by: string; until: string } | undefined>;
        /** Drops leases that lapsed before `before` (an instance that stopped leaves its row); returns how many. */
        prune(before: string): Promise<number>;
    };
}

const inTransaction = new AsyncLocalStorage<string>();

/** A transaction (or a top-level write) started inside another would wait for it forever on lowdb's queue: refused. */
export function refuseNested(): void {
    if (inTransaction.getStore())
        throw new Error('A store write was started inside a transaction; do it inside the transaction (tx.…) or after it.');
}

/** Runs a transaction's work marked, so the guards below can see it. */
export function markTransaction<T>(store: string, work: () => Promise<T>): Promise<T> {
    return inTransaction.run(store, work);
}

/** Guard for calls that leave the process (Salesforce, webhooks): never while a transaction holds the store. */
export function assertOutsideTransaction(what: string): void {
    if (inTransaction.getStore()) throw new Error(`${what} was called inside a store transaction; call it after COMMIT.`);
}
