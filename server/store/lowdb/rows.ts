import { apiUserKey, type Patch, type StoreChange } from '../store.ts';
import type { AccountRecord, AuditEntry, KeptTaskRecord, LinkRecord, LinkSessionRecord, OutboxEvent, TaskLedgerEntry } from '../types.ts';

/** db.json: the rows link writes touch. The audit and the task ledger live in their own append-only files. */
export interface Doc {
    accounts: AccountRecord[];
    links: LinkRecord[];
    linkSessions: LinkSessionRecord[];
    /** Webhook events: written with the status change that makes them, so they share its commit. */
    outbox: OutboxEvent[];
    /** The audit entries of the last transaction that also changed this file: appended to audit.jsonl after, and again on open if a crash came between. */
    auditPending?: SeqAudit[];
}
export type Table = 'accounts' | 'links' | 'linkSessions' | 'outbox';
/** An audit entry as audit.jsonl keeps it: numbered in the order written, the number being the page cursor. */
export type SeqAudit = AuditEntry & { seq: number };

export const emptyDoc = (): Doc => ({ accounts: [], links: [], linkSessions: [], outbox: [] });
export const rowsOf = (doc: Doc): Doc => ({ accounts: doc.accounts, links: doc.links, linkSessions: doc.linkSessions, outbox: doc.outbox });

export { apiUserKey };
export const copy = <T>(value: T): T => (value === undefined ? value : structuredClone(value));
export const applyPatch = <T extends object>(row: T, patch: Patch<T>): T => {
    const next = { ...row } as Record<string, unknown>;
    for (const [key, value] of Object.entries(patch)) {
        if (value === null) delete next[key];
        else if (value !== undefined) next[key] = structuredClone(value);
    }
    return next as T;
};

/** What the committed rows look like, indexed once per commit for the lookups requests make. */
export class Indexes {
    readonly accounts = new Map<string, AccountRecord>();
    readonly byKeyHash = new Map<string, AccountRecord>();
    readonly links = new Map<string, LinkRecord>();
    readonly byApiUser = new Map<string, LinkRecord[]>();
    readonly sessions = new Map<string, LinkSessionRecord>();
    readonly byStateHash = new Map<string, LinkSessionRecord>();

    constructor(readonly doc: Doc) {
        for (const a of doc.accounts) {
            this.accounts.set(a.id, a);
            this.byKeyHash.set(a.apiKeyHash, a);
            if (a.platformKeyHash) this.byKeyHash.set(a.platformKeyHash, a);
        }
        for (const l of doc.links) {
            this.links.set(l.accountId, l);
            if (l.method !== 'oauth') continue;
            const key = apiUserKey(l.orgId, l.userId);
            const list = this.byApiUser.get(key);
            if (list) list.push(l);
            else this.byApiUser.set(key, [l]);
        }
        for (const s of doc.linkSessions) {
            this.sessions.set(s.id, s);
            if (s.attempt) this.byStateHash.set(s.attempt.stateHash, s);
        }
    }
}

/** The changes of one transaction, swapped in only after they are durable: readers outside never see them before. */
export class Draft {
    readonly doc: Doc;
    readonly copied = new Set<Table>();
    readonly audit: SeqAudit[] = [];
    readonly ledger = new Map<string, TaskLedgerEntry | null>();
    /** Kept Tasks written (null: removed), appended to kept.jsonl at the commit. */
    readonly kept = new Map<string, KeptTaskRecord | null>();
    ledgerStartedAt?: string;
    /** What this transaction changed that a cache may hold (told to the store's listeners once it is visible). */
    readonly changes: StoreChange[] = [];

    constructor(committed: Doc) {
        this.doc = rowsOf(committed);
    }

    rows<K extends Table>(table: K, forWrite: boolean): Doc[K] {
        if (forWrite && !this.copied.has(table)) {
            (this.doc[table] as unknown[]) = [...this.doc[table]];
            this.copied.add(table);
        }
        return this.doc[table];
    }
}

/** A task-ledger change, run with others queued beside it in one write: `set(key, null)` drops the entry. */
export type LedgerChange = (
    get: (key: string) => TaskLedgerEntry | undefined,
    set: (key: string, entry: TaskLedgerEntry | null) => void
) => unknown;

/** What the repositories need of the store: its committed state, and its write queue. */
export interface LowdbState {
    committedDoc(): Doc;
    indexes(): Indexes;
    /** Reads see another process's writes: a change to any file since it was read reloads it first. */
    fresh(): Promise<void>;
    /** A write of its own: a transaction on a fresh draft, committed when `change` returns. */
    writeDraft<T>(change: (draft: Draft) => T): Promise<T>;
    auditOf(accountId: string): SeqAudit[];
    nextAuditSeq(draft: Draft): number;
    pruneAudit(before: string, keepPerAccount: number): Promise<number>;
    ledgerGet(key: string): TaskLedgerEntry | undefined;
    ledgerStartedAt(): string | undefined;
    startLedger(): Promise<string>;
    /** `lazy`: nothing waits for it, so it may wait a moment to share its fsync with the next change. */
    ledgerOp<T>(change: LedgerChange, options?: { lazy?: boolean }): Promise<T>;
    pruneLedger(before: string): Promise<number>;
    /** The committed kept Tasks, by `accountId|callId`. */
    keptRows(): ReadonlyMap<string, KeptTaskRecord>;
    /** One process serves a data directory (server.pid): its leases live in its memory. */
    readonly leaseTable: Map<string, { by: string; until: string }>;
}

/**
 * Rows of the committed state, or of a transaction's draft, for the repositories (accounts.ts, links.ts, …). Reads
 * return copies; writes replace rows, never mutate them; a write outside a transaction is one of its own.
 */
export class Rows {
    constructor(
        readonly store: LowdbState,
        readonly draft?: Draft
    ) {}

    index(): Indexes | undefined {
        return this.draft ? undefined : this.store.indexes();
    }
    rows<K extends Table>(table: K): Doc[K] {
        return this.draft ? this.draft.doc[table] : this.store.committedDoc()[table];
    }
    write<T>(change: (draft: Draft) => T): Promise<T> {
        if (this.draft) return Promise.resolve(change(this.draft));
        return this.store.writeDraft(change);
    }
    /** Outside a transaction, reads first pick up what another process wrote. */
    async fresh(): Promise<void> {
        if (!this.draft) await this.store.fresh();
    }
    findAccount(id: string): AccountRecord | undefined {
        const index = this.index();
        return index ? index.accounts.get(id) : this.rows('accounts').find((a) => a.id === id);
    }
    findLink(accountId: string): LinkRecord | undefined {
        const index = this.index();
        return index ? index.links.get(accountId) : this.rows('links').find((l) => l.accountId === accountId);
    }
    findSession(id: string): LinkSessionRecord | undefined {
        const index = this.index();
        return index ? index.sessions.get(id) : this.rows('linkSessions').find((s) => s.id === id);
    }
    replace<K extends Table>(
        draft: Draft,
        table: K,
        match: (row: Doc[K][number]) => boolean,
        next: Doc[K][number] | undefined
    ): Doc[K][number] | undefined {
        const rows = draft.rows(table, true) as Array<Doc[K][number]>;
        const at = rows.findIndex(match);
        const previous = at >= 0 ? rows[at] : undefined;
        if (next === undefined) {
            if (at >= 0) rows.splice(at, 1);
        } else if (at >= 0) rows[at] = next;
        else rows.push(next);
        if (previous === undefined && next === undefined) return previous;
        if (table === 'accounts') draft.changes.push({ accountId: ((previous ?? next) as AccountRecord).id });
        if (table === 'links') draft.changes.push(linkChange(previous as LinkRecord | undefined, next as LinkRecord | undefined));
        return previous;
    }
}

/** A link written: its account, and the API users whose count of linked accounts moved (a link added, gone, or moved). */
export function linkChange(previous: LinkRecord | undefined, next: LinkRecord | undefined): StoreChange {
    const userOf = (link: LinkRecord | undefined) => (link?.method === 'oauth' ? apiUserKey(link.orgId, link.userId) : undefined);
    const before = userOf(previous);
    const after = userOf(next);
    const apiUsers = before === after ? [] : [before, after].filter((key): key is string => key !== undefined);
    return { accountId: (previous ?? next)!.accountId, ...(apiUsers.length ? { apiUsers } : {}) };
}
