import { watch, type FSWatcher } from 'node:fs';
import { link, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Low } from 'lowdb';
import type { Adapter } from 'lowdb';
import { JsonLines, markOf, replaceFile, type FileMark } from './jsonFiles.ts';
import { id15, sameSalesforceId } from '../../salesforceIds.ts';
import {
    markTransaction,
    refuseNested,
    type AccountOverview,
    type AuditPage,
    type LockKey,
    type Patch,
    type Repos,
    type Store,
    type Tx
} from '../store.ts';
import type { AccountRecord, AuditEntry, LinkRecord, LinkSessionRecord, OutboxEvent, Snapshot, TaskLedgerEntry } from '../types.ts';

const LOCK_WAIT_MS = 10_000;
const STALE_LOCK_MS = 30_000;
const EMPTY_LOCK_MS = 1_000;

/** db.json: the rows link writes touch. The audit and the task ledger live in their own append-only files. */
interface Doc {
    accounts: AccountRecord[];
    links: LinkRecord[];
    linkSessions: LinkSessionRecord[];
    /** Webhook events: written with the status change that makes them, so they share its commit. */
    outbox: OutboxEvent[];
    /** The audit entries of the last transaction that also changed this file: appended to audit.jsonl after, and again on open if a crash came between. */
    auditPending?: SeqAudit[];
}
type SeqAudit = AuditEntry & { seq: number };
type Table = 'accounts' | 'links' | 'linkSessions' | 'outbox';
type LedgerLine = { startedAt: string } | { k: string; e: TaskLedgerEntry } | { k: string; d: 1 };

const emptyDoc = (): Doc => ({ accounts: [], links: [], linkSessions: [], outbox: [] });
const rowsOf = (doc: Doc): Doc => ({ accounts: doc.accounts, links: doc.links, linkSessions: doc.linkSessions, outbox: doc.outbox });

const parseDoc = (
    text: string
): Doc & { audit?: AuditEntry[]; taskLedger?: { startedAt?: string; calls?: Record<string, TaskLedgerEntry> } } => {
    try {
        return { ...emptyDoc(), ...(JSON.parse(text) as Partial<Doc>) };
    } catch (error) {
        throw new Error(`The data file is not valid JSON; restore it from a backup: ${(error as Error).message}`);
    }
};

const versionOf = (s: { mtimeMs: number; size: number; ino: number }): string => `${s.mtimeMs}:${s.size}:${s.ino}`;

/** lowdb adapter for db.json: remembers which version of the file it read or wrote, so a change by another process is seen; durable writes. */
class DocFile implements Adapter<Doc> {
    version = 'absent';
    committed = '';
    raw: ReturnType<typeof parseDoc> | undefined;

    constructor(readonly filename: string) {}

    async read(): Promise<Doc | null> {
        let handle;
        try {
            handle = await open(this.filename, 'r');
        } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
            this.version = 'absent';
            return null;
        }
        try {
            const version = versionOf(await handle.stat());
            const text = await handle.readFile('utf8');
            const doc = parseDoc(text);
            this.raw = doc;
            this.committed = text;
            this.version = version;
            return { ...rowsOf(doc), ...(doc.auditPending ? { auditPending: doc.auditPending } : {}) };
        } finally {
            await handle.close();
        }
    }

    async write(data: Doc): Promise<void> {
        const text = JSON.stringify(data);
        if (text === this.committed) return;
        await replaceFile(this.filename, text);
        this.committed = text;
        this.version = versionOf(await stat(this.filename));
    }
}

/** What the committed rows look like, indexed once per commit for the lookups requests make. */
class Indexes {
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

const apiUserKey = (orgId: string, userId: string): string => `${id15(orgId)}|${id15(userId)}`;
const copy = <T>(value: T): T => (value === undefined ? value : structuredClone(value));
const applyPatch = <T extends object>(row: T, patch: Patch<T>): T => {
    const next = { ...row } as Record<string, unknown>;
    for (const [key, value] of Object.entries(patch)) {
        if (value === null) delete next[key];
        else if (value !== undefined) next[key] = structuredClone(value);
    }
    return next as T;
};
const sameAudit = (a: AuditEntry, b: AuditEntry): boolean => {
    const { at: _a, ...left } = a;
    const { at: _b, ...right } = b;
    void _a;
    void _b;
    return JSON.stringify(left) === JSON.stringify(right);
};
const stripSeq = ({ seq: _seq, ...entry }: SeqAudit): AuditEntry => (void _seq, structuredClone(entry));

/** The changes of one transaction, swapped in only after they are durable: readers outside never see them before. */
class Draft {
    readonly doc: Doc;
    readonly copied = new Set<Table>();
    readonly audit: SeqAudit[] = [];
    readonly ledger = new Map<string, TaskLedgerEntry | null>();
    ledgerStartedAt?: string;

    constructor(
        readonly base: LowdbStore,
        committed: Doc
    ) {
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

/** Rows of the committed state, or of a transaction's draft. Reads return copies; writes replace rows, never mutate them. */
class LowdbRepos implements Repos {
    constructor(
        private readonly store: LowdbStore,
        private readonly draft?: Draft
    ) {}

    #index(): Indexes | undefined {
        return this.draft ? undefined : this.store.indexes();
    }
    #rows<K extends Table>(table: K): Doc[K] {
        return this.draft ? this.draft.doc[table] : this.store.committedDoc()[table];
    }
    #write<T>(change: (draft: Draft) => T): Promise<T> {
        if (this.draft) return Promise.resolve(change(this.draft));
        return this.store.transaction(async (tx) => change((tx as LowdbTx).draftState));
    }
    /** Outside a transaction, reads first pick up what another process wrote. */
    async #fresh(): Promise<void> {
        if (!this.draft) await this.store.fresh();
    }
    #findAccount(id: string): AccountRecord | undefined {
        const index = this.#index();
        return index ? index.accounts.get(id) : this.#rows('accounts').find((a) => a.id === id);
    }
    #findLink(accountId: string): LinkRecord | undefined {
        const index = this.#index();
        return index ? index.links.get(accountId) : this.#rows('links').find((l) => l.accountId === accountId);
    }
    #findSession(id: string): LinkSessionRecord | undefined {
        const index = this.#index();
        return index ? index.sessions.get(id) : this.#rows('linkSessions').find((s) => s.id === id);
    }
    #replace<K extends Table>(
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
        return previous;
    }
    #auditOf(accountId: string): SeqAudit[] {
        const committed = this.store.auditOf(accountId);
        const pending = this.draft?.audit.filter((e) => e.accountId === accountId) ?? [];
        return pending.length ? [...committed, ...pending] : committed;
    }
    #ledgerGet(key: string): TaskLedgerEntry | undefined {
        if (this.draft?.ledger.has(key)) return this.draft.ledger.get(key) ?? undefined;
        return this.store.ledgerGet(key);
    }

    accounts: Repos['accounts'] = {
        get: async (id) => (await this.#fresh(), copy(this.#findAccount(id))),
        byKeyHash: async (hash) => {
            await this.#fresh();
            const index = this.#index();
            return copy(
                index ? index.byKeyHash.get(hash) : this.#rows('accounts').find((a) => a.apiKeyHash === hash || a.platformKeyHash === hash)
            );
        },
        names: async (ids) => {
            await this.#fresh();
            return new Map(
                ids.flatMap((id) => {
                    const account = this.#findAccount(id);
                    return account ? [[id, account.name] as const] : [];
                })
            );
        },
        list: async () => {
            await this.#fresh();
            return this.#rows('accounts').map((account): AccountOverview => {
                const link = this.#findLink(account.id);
                return { account: copy(account), ...(link ? { link: { status: link.status, username: link.username } } : {}) };
            });
        },
        insert: (account) =>
            this.#write((draft) => {
                const hashes = [account.apiKeyHash, account.platformKeyHash].filter(Boolean);
                if (
                    draft
                        .rows('accounts', false)
                        .some(
                            (a) =>
                                a.id === account.id ||
                                hashes.includes(a.apiKeyHash) ||
                                (a.platformKeyHash && hashes.includes(a.platformKeyHash))
                        )
                )
                    throw new Error(`An account with the id ${account.id} or its key already exists.`);
                draft.rows('accounts', true).push(structuredClone(account));
            }),
        patch: (id, patch) =>
            this.#write((draft) => {
                const current = draft.rows('accounts', false).find((a) => a.id === id);
                if (!current) return false;
                this.#replace(draft, 'accounts', (a) => a.id === id, applyPatch(current, patch));
                return true;
            })
    };

    links: Repos['links'] = {
        get: async (accountId) => (await this.#fresh(), copy(this.#findLink(accountId))),
        ofApiUser: async (orgId, userId, options = {}) => {
            await this.#fresh();
            const index = this.#index();
            const key = apiUserKey(orgId, userId);
            const all = index
                ? (index.byApiUser.get(key) ?? [])
                : this.#rows('links').filter((l) => l.method === 'oauth' && apiUserKey(l.orgId, l.userId) === key);
            return all.filter((l) => l.accountId !== options.except).map(copy);
        },
        dueForCheck: async (verifiedBefore) => {
            await this.#fresh();
            return this.#rows('links')
                .filter(
                    (l) =>
                        ((l.method === 'oauth' && l.status === 'linked') || (l.method === 'legacy' && l.status === 'legacy')) &&
                        (verifiedBefore === undefined || !l.lastVerifiedAt || l.lastVerifiedAt < verifiedBefore)
                )
                .sort((a, b) => (a.lastVerifiedAt ?? '').localeCompare(b.lastVerifiedAt ?? ''))
                .map((l) => l.accountId);
        },
        countByStatus: async () => {
            await this.#fresh();
            const counts: Record<string, number> = {};
            for (const link of this.#rows('links')) counts[link.status] = (counts[link.status] ?? 0) + 1;
            return counts;
        },
        put: (link) =>
            this.#write((draft) => copy(this.#replace(draft, 'links', (l) => l.accountId === link.accountId, structuredClone(link)))),
        patch: (accountId, patch) =>
            this.#write((draft) => {
                const current = draft.rows('links', false).find((l) => l.accountId === accountId);
                if (!current) return false;
                this.#replace(draft, 'links', (l) => l.accountId === accountId, applyPatch(current, patch));
                return true;
            }),
        delete: (accountId) => this.#write((draft) => copy(this.#replace(draft, 'links', (l) => l.accountId === accountId, undefined)))
    };

    sessions: Repos['sessions'] = {
        get: async (id) => (await this.#fresh(), copy(this.#findSession(id))),
        byStateHash: async (hash) => {
            await this.#fresh();
            const index = this.#index();
            return copy(index ? index.byStateHash.get(hash) : this.#rows('linkSessions').find((s) => s.attempt?.stateHash === hash));
        },
        countPending: async (accountId, now) => {
            await this.#fresh();
            return this.#rows('linkSessions').filter((s) => s.accountId === accountId && s.state === 'pending' && s.expiresAt > now).length;
        },
        insert: (session) =>
            this.#write((draft) => {
                if (draft.rows('linkSessions', false).some((s) => s.id === session.id))
                    throw new Error(`A link session with the id ${session.id} already exists.`);
                draft.rows('linkSessions', true).push(structuredClone(session));
            }),
        patch: (id, patch) =>
            this.#write((draft) => {
                const current = draft.rows('linkSessions', false).find((s) => s.id === id);
                if (!current) return false;
                const next = applyPatch(current, patch);
                // The state hash is unique, as PostgreSQL's index makes it.
                if (
                    next.attempt &&
                    draft.rows('linkSessions', false).some((s) => s.id !== id && s.attempt?.stateHash === next.attempt!.stateHash)
                )
                    throw new Error('This state is already in use.');
                this.#replace(draft, 'linkSessions', (s) => s.id === id, next);
                return true;
            }),
        purge: (before) =>
            this.#write((draft) => {
                const rows = draft.rows('linkSessions', false);
                if (!rows.some((s) => s.expiresAt < before)) return 0;
                const kept = rows.filter((s) => s.expiresAt >= before);
                (draft.doc.linkSessions as LinkSessionRecord[]) = kept;
                draft.copied.add('linkSessions');
                return rows.length - kept.length;
            })
    };

    audit: Repos['audit'] = {
        append: (entry, options = {}) =>
            this.#write((draft) => {
                if (options.unlessRepeat) {
                    const latest = this.#auditOf(entry.accountId).at(-1);
                    if (latest && sameAudit(stripSeq(latest), entry)) return false;
                }
                draft.audit.push({ ...structuredClone(entry), seq: this.store.nextAuditSeq(draft) });
                return true;
            }),
        page: async (accountId, { cursor, limit }) => {
            await this.#fresh();
            const before = cursor ? Number(cursor) : Infinity;
            const all = this.#auditOf(accountId);
            const entries: SeqAudit[] = [];
            for (let i = all.length - 1; i >= 0 && entries.length <= limit; i--) if (all[i]!.seq < before) entries.push(all[i]!);
            const page: AuditPage = { entries: entries.slice(0, limit).map(stripSeq) };
            if (entries.length > limit) page.nextCursor = String(entries[limit - 1]!.seq);
            return page;
        },
        firstLinkedAt: async (accountId, orgId) => {
            await this.#fresh();
            for (const e of this.#auditOf(accountId)) {
                if (e.outcome !== 'ok') continue;
                if (
                    e.action === 'legacy_import' ||
                    ((e.action === 'link' || e.action === 'relink') && e.orgId && sameSalesforceId(e.orgId, orgId))
                )
                    return e.at;
            }
            return undefined;
        },
        prune: async (before, keepPerAccount) => {
            if (this.draft) throw new Error('Prune the audit outside a transaction.');
            return this.store.pruneAudit(before, keepPerAccount);
        }
    };

    ledger: Repos['ledger'] = {
        startedAt: async () => {
            await this.#fresh();
            return (
                this.draft?.ledgerStartedAt ??
                this.store.ledgerStartedAt() ??
                (this.draft ? (this.draft.ledgerStartedAt = new Date().toISOString()) : await this.store.startLedger())
            );
        },
        get: async (key) => (await this.#fresh(), copy(this.#ledgerGet(key))),
        claim: (key, entry) => {
            if (!this.draft)
                return this.store.ledgerOp((get, set) =>
                    get(key) ? copy(get(key)) : (set(key, { state: 'pending', at: entry.at, by: entry.by }), undefined)
                );
            const found = this.#ledgerGet(key);
            if (found) return Promise.resolve(copy(found));
            this.draft.ledger.set(key, { state: 'pending', at: entry.at, by: entry.by });
            return Promise.resolve(undefined);
        },
        settle: (key, taskId, at) => {
            if (!this.draft) return this.store.ledgerOp((_get, set) => set(key, { state: 'created', taskId, at }));
            this.draft.ledger.set(key, { state: 'created', taskId, at });
            return Promise.resolve();
        },
        release: (key) => {
            if (!this.draft) return this.store.ledgerOp((get, set) => (get(key)?.state === 'pending' ? set(key, null) : undefined));
            if (this.#ledgerGet(key)?.state === 'pending') this.draft.ledger.set(key, null);
            return Promise.resolve();
        },
        reclaim: (key, expected, next) => {
            const holds = (found: TaskLedgerEntry | undefined) =>
                found?.state === 'pending' && found.at === expected.at && found.by === expected.by;
            const entry = (): TaskLedgerEntry => ({ state: 'pending', at: next.at, ...(next.by ? { by: next.by } : {}) });
            if (!this.draft) return this.store.ledgerOp((get, set) => (holds(get(key)) ? (set(key, entry()), true) : false));
            if (!holds(this.#ledgerGet(key))) return Promise.resolve(false);
            this.draft.ledger.set(key, entry());
            return Promise.resolve(true);
        },
        prune: async (before) => {
            if (this.draft) throw new Error('Prune the ledger outside a transaction.');
            return this.store.pruneLedger(before);
        }
    };

    outbox: Repos['outbox'] = {
        add: (event) =>
            this.#write((draft) => {
                if (draft.rows('outbox', false).some((e) => e.id === event.id))
                    throw new Error(`An outbox event with the id ${event.id} already exists.`);
                draft.rows('outbox', true).push(structuredClone(event));
            }),
        claimDue: async ({ now, by, until, limit }) => {
            const due = (e: OutboxEvent) => e.state === 'pending' && e.nextAttemptAt <= now && (!e.claim || e.claim.until < now);
            // Polled every second: nothing due is answered from a read, without the write lock.
            if (!this.draft) {
                await this.#fresh();
                if (!this.#rows('outbox').some(due)) return [];
            }
            return this.#write((draft) => {
                const picked = draft
                    .rows('outbox', false)
                    .filter(due)
                    .sort((a, b) => a.nextAttemptAt.localeCompare(b.nextAttemptAt) || a.id.localeCompare(b.id))
                    .slice(0, limit);
                return picked.map((event) => {
                    const claimed = { ...event, claim: { by, until } };
                    this.#replace(draft, 'outbox', (e) => e.id === event.id, claimed);
                    return structuredClone(claimed);
                });
            });
        },
        record: (id, by, patch) =>
            this.#write((draft) => {
                const current = draft.rows('outbox', false).find((e) => e.id === id);
                if (current?.claim?.by !== by) return false;
                this.#replace(draft, 'outbox', (e) => e.id === id, applyPatch(current, patch));
                return true;
            }),
        recent: async (accountId, limit) => {
            await this.#fresh();
            return this.#rows('outbox')
                .filter((e) => e.accountId === accountId)
                .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id))
                .slice(0, limit)
                .map(copy);
        },
        prune: (before, keepPerAccount) =>
            this.#write((draft) => {
                const rows = draft.rows('outbox', false);
                const newestFirst = [...rows].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
                const seen = new Map<string, number>();
                const drop = new Set<string>();
                for (const e of newestFirst) {
                    const n = (seen.get(e.accountId) ?? 0) + 1;
                    seen.set(e.accountId, n);
                    if (e.state !== 'pending' && (e.createdAt < before || n > keepPerAccount)) drop.add(e.id);
                }
                if (!drop.size) return 0;
                (draft.doc.outbox as OutboxEvent[]) = rows.filter((e) => !drop.has(e.id));
                draft.copied.add('outbox');
                return drop.size;
            })
    };

    /** One process serves a data directory (server.pid): its leases live in its memory. */
    leases: Repos['leases'] = {
        acquire: async (key, by, { now, until }) => {
            const held = this.store.leaseTable.get(key);
            if (held && held.by !== by && held.until >= now) return false;
            this.store.leaseTable.set(key, { by, until });
            return true;
        },
        release: async (key, by) => {
            if (this.store.leaseTable.get(key)?.by === by) this.store.leaseTable.delete(key);
        },
        get: async (key) => {
            const held = this.store.leaseTable.get(key);
            return held ? { ...held } : undefined;
        },
        prune: async (before) => {
            let dropped = 0;
            for (const [key, held] of this.store.leaseTable) {
                if (held.until < before) {
                    this.store.leaseTable.delete(key);
                    dropped++;
                }
            }
            return dropped;
        }
    };
}

class LowdbTx extends LowdbRepos implements Tx {
    constructor(
        store: LowdbStore,
        readonly draftState: Draft
    ) {
        super(store, draftState);
    }
    async lock(...keys: LockKey[]): Promise<void> {
        void keys; // writers already run one at a time, across processes too (the lock file)
    }
}

type LedgerChange = (
    get: (key: string) => TaskLedgerEntry | undefined,
    set: (key: string, entry: TaskLedgerEntry | null) => void
) => unknown;
type Job =
    | { kind: 'tx'; run: () => Promise<unknown>; settle: (error: unknown, value?: unknown) => void }
    | { kind: 'ledger'; change: LedgerChange; settle: (error: unknown, value?: unknown) => void };

/**
 * The embedded store: db.json (accounts, links, link sessions) replaced durably on every change that
 * touches it (temp file, fsync, rename); audit.jsonl and ledger.jsonl appended and fsynced, so calls and
 * audit entries never rewrite the links' file. Everything is in memory; writers run one at a time and
 * take a lock file, so the operator's accounts command and the server can share one data directory.
 * Task-ledger changes made while another write runs are committed together (one fsync).
 */
export class LowdbStore extends LowdbRepos implements Store {
    readonly kind = 'lowdb' as const;
    #doc: Doc = emptyDoc();
    #indexes?: Indexes;
    #audit = new Map<string, SeqAudit[]>();
    #auditSeq = 0;
    #auditLines = 0;
    #ledger = new Map<string, TaskLedgerEntry>();
    #ledgerStartedAt?: string;
    #ledgerLines = 0;
    #jobs: Job[] = [];
    #pumping = false;
    #stale = true;
    #watcher?: FSWatcher;
    readonly #low: Low<Doc>;
    readonly #docFile: DocFile;
    readonly #auditFile: JsonLines;
    readonly #ledgerFile: JsonLines;
    #marks: { audit?: FileMark; ledger?: FileMark } = {};

    private constructor(readonly dataDir: string) {
        super(undefined as unknown as LowdbStore);
        (this as unknown as { store: LowdbStore }).store = this;
        this.#docFile = new DocFile(path.join(dataDir, 'db.json'));
        this.#low = new Low<Doc>(this.#docFile, emptyDoc());
        this.#auditFile = new JsonLines(path.join(dataDir, 'audit.jsonl'));
        this.#ledgerFile = new JsonLines(path.join(dataDir, 'ledger.jsonl'));
    }

    static async open(dataDir: string): Promise<LowdbStore> {
        await mkdir(dataDir, { recursive: true, mode: 0o700 });
        const store = new LowdbStore(dataDir);
        await store.#locked(() => store.#load());
        store.#watcher = watch(dataDir, (_event, name) => {
            if (name === 'db.json' || name === 'audit.jsonl' || name === 'ledger.jsonl') store.#stale = true;
        });
        store.#watcher.unref();
        return store;
    }

    // ------------------------------------------------------------ committed state, for the repositories

    committedDoc(): Doc {
        return this.#doc;
    }
    indexes(): Indexes {
        if (this.#indexes?.doc !== this.#doc) this.#indexes = new Indexes(this.#doc);
        return this.#indexes;
    }
    auditOf(accountId: string): SeqAudit[] {
        return this.#audit.get(accountId) ?? [];
    }
    nextAuditSeq(draft: Draft): number {
        return this.#auditSeq + draft.audit.length + 1;
    }
    ledgerGet(key: string): TaskLedgerEntry | undefined {
        return this.#ledger.get(key);
    }
    readonly leaseTable = new Map<string, { by: string; until: string }>();
    ledgerStartedAt(): string | undefined {
        return this.#ledgerStartedAt;
    }

    /** Reads see another process's writes: a change to any file since it was read reloads it first. */
    async fresh(): Promise<void> {
        if (!this.#stale) return;
        this.#stale = false;
        const [version, audit, ledger] = await Promise.all([
            fileVersion(this.#docFile.filename),
            markOf(this.#auditFile.file),
            markOf(this.#ledgerFile.file)
        ]);
        if (version === this.#docFile.version && sameMark(audit, this.#marks.audit) && sameMark(ledger, this.#marks.ledger)) return;
        await this.#enqueue({ kind: 'tx', run: async () => undefined });
    }

    // ------------------------------------------------------------ Store

    transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
        refuseNested();
        return this.#enqueue<T>({
            kind: 'tx',
            run: () =>
                markTransaction('lowdb', async () => {
                    const draft = new Draft(this, this.#doc);
                    const result = await work(new LowdbTx(this, draft));
                    await this.#commit(draft);
                    return result;
                })
        });
    }

    ledgerOp<T>(change: LedgerChange): Promise<T> {
        refuseNested();
        return this.#enqueue<T>({ kind: 'ledger', change });
    }

    async startLedger(): Promise<string> {
        return this.#enqueue<string>({
            kind: 'tx',
            run: async () => {
                if (!this.#ledgerStartedAt) {
                    const startedAt = new Date().toISOString();
                    await this.#ledgerFile.append([{ startedAt }]);
                    this.#ledgerLines++;
                    this.#ledgerStartedAt = startedAt;
                }
                return this.#ledgerStartedAt;
            }
        });
    }

    async pruneAudit(before: string, keepPerAccount: number): Promise<number> {
        return this.#enqueue<number>({
            kind: 'tx',
            run: async () => {
                let dropped = 0;
                for (const [accountId, entries] of this.#audit) {
                    const kept = entries.filter((e) => e.at >= before).slice(-keepPerAccount);
                    dropped += entries.length - kept.length;
                    if (kept.length) this.#audit.set(accountId, kept);
                    else this.#audit.delete(accountId);
                }
                if (dropped > 0 || this.#auditLines > this.#auditCount() * 2) await this.#compactAudit();
                return dropped;
            }
        });
    }

    async pruneLedger(before: string): Promise<number> {
        return this.#enqueue<number>({
            kind: 'tx',
            run: async () => {
                let dropped = 0;
                for (const [key, entry] of this.#ledger) {
                    if (entry.at < before) {
                        this.#ledger.delete(key);
                        dropped++;
                    }
                }
                if (dropped > 0 || this.#ledgerLines > this.#ledger.size * 2 + 1000) await this.#compactLedger();
                return dropped;
            }
        });
    }

    async seed(data: Partial<Snapshot>): Promise<void> {
        await this.transaction(async (tx) => {
            const draft = (tx as LowdbTx).draftState;
            for (const a of data.accounts ?? []) draft.rows('accounts', true).push(structuredClone(a));
            for (const l of data.links ?? []) draft.rows('links', true).push(structuredClone(l));
            for (const s of data.linkSessions ?? []) draft.rows('linkSessions', true).push(structuredClone(s));
            for (const e of data.outbox ?? []) draft.rows('outbox', true).push(structuredClone(e));
            for (const e of data.audit ?? []) draft.audit.push({ ...structuredClone(e), seq: this.nextAuditSeq(draft) });
            if (data.taskLedger) {
                draft.ledgerStartedAt = data.taskLedger.startedAt;
                for (const [key, entry] of Object.entries(data.taskLedger.calls)) draft.ledger.set(key, structuredClone(entry));
            }
        });
    }

    async dump(): Promise<Snapshot> {
        await this.fresh();
        await this.#enqueue({ kind: 'tx', run: async () => undefined });
        const audit = [...this.#audit.values()]
            .flat()
            .sort((a, b) => a.seq - b.seq)
            .map(stripSeq);
        return structuredClone({
            accounts: this.#doc.accounts,
            links: this.#doc.links,
            linkSessions: this.#doc.linkSessions,
            audit,
            taskLedger: { startedAt: this.#ledgerStartedAt ?? new Date(0).toISOString(), calls: Object.fromEntries(this.#ledger) },
            outbox: [...this.#doc.outbox].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id))
        });
    }

    async close(): Promise<void> {
        await this.#enqueue({ kind: 'tx', run: async () => undefined }).catch(() => undefined);
        this.#watcher?.close();
    }

    // ------------------------------------------------------------ the write queue

    #enqueue<T>(job: { kind: 'tx'; run: () => Promise<unknown> } | { kind: 'ledger'; change: LedgerChange }): Promise<T> {
        return new Promise<T>((resolve, reject) => {
            this.#jobs.push({ ...job, settle: (error, value) => (error === undefined ? resolve(value as T) : reject(error)) } as Job);
            if (!this.#pumping) {
                this.#pumping = true;
                void this.#pump();
            }
        });
    }

    async #pump(): Promise<void> {
        for (;;) {
            const job = this.#jobs.shift();
            if (!job) {
                // In the same tick as the last look at the queue: a job queued from here on starts a new pump.
                this.#pumping = false;
                return;
            }
            if (job.kind === 'tx') {
                try {
                    const value = await this.#locked(async () => {
                        await this.#refresh();
                        return job.run();
                    });
                    job.settle(undefined, value);
                } catch (error) {
                    job.settle(error ?? new Error('transaction failed'));
                }
                continue;
            }
            const batch = [job];
            while (this.#jobs[0]?.kind === 'ledger') batch.push(this.#jobs.shift() as typeof job);
            const results: unknown[] = [];
            try {
                await this.#locked(async () => {
                    await this.#refresh();
                    const draft = new Draft(this, this.#doc);
                    const get = (key: string) => (draft.ledger.has(key) ? (draft.ledger.get(key) ?? undefined) : this.#ledger.get(key));
                    const set = (key: string, entry: TaskLedgerEntry | null) => void draft.ledger.set(key, entry);
                    for (const item of batch) results.push(item.change(get, set));
                    await this.#commit(draft);
                });
                batch.forEach((item, i) => item.settle(undefined, results[i]));
            } catch (error) {
                for (const item of batch) item.settle(error ?? new Error('ledger write failed'));
            }
        }
    }

    /** Durable first, then visible: db.json (with this transaction's audit entries), then the append-only files. */
    async #commit(draft: Draft): Promise<void> {
        if (draft.copied.size > 0) {
            const doc: Doc = { ...draft.doc };
            if (draft.audit.length) doc.auditPending = draft.audit;
            this.#low.data = doc;
            await this.#low.write();
        }
        if (draft.audit.length) {
            await this.#auditFile.append(draft.audit);
            this.#auditLines += draft.audit.length;
            this.#marks.audit = this.#auditFile.mark;
        }
        if (draft.ledger.size || draft.ledgerStartedAt) {
            const lines: LedgerLine[] = [];
            if (draft.ledgerStartedAt) lines.push({ startedAt: draft.ledgerStartedAt });
            for (const [k, e] of draft.ledger) lines.push(e ? { k, e } : { k, d: 1 });
            await this.#ledgerFile.append(lines);
            this.#ledgerLines += lines.length;
            this.#marks.ledger = this.#ledgerFile.mark;
        }
        // Visible only now.
        if (draft.copied.size > 0) this.#doc = rowsOf(draft.doc);
        for (const entry of draft.audit) this.#addAudit(entry);
        if (draft.ledgerStartedAt) this.#ledgerStartedAt = draft.ledgerStartedAt;
        for (const [k, e] of draft.ledger) {
            if (e) this.#ledger.set(k, e);
            else this.#ledger.delete(k);
        }
    }

    #addAudit(entry: SeqAudit | { floor: number }): void {
        if ('floor' in entry) {
            this.#auditSeq = Math.max(this.#auditSeq, entry.floor);
            return;
        }
        const list = this.#audit.get(entry.accountId);
        if (list) list.push(entry);
        else this.#audit.set(entry.accountId, [entry]);
        this.#auditSeq = Math.max(this.#auditSeq, entry.seq);
    }

    #auditCount(): number {
        let n = 0;
        for (const list of this.#audit.values()) n += list.length;
        return n;
    }

    async #compactAudit(): Promise<void> {
        const all = [...this.#audit.values()].flat().sort((a, b) => a.seq - b.seq);
        // The highest sequence number ever given stays known, so a pruned entry is never taken for a missing one.
        await this.#auditFile.replace([{ floor: this.#auditSeq }, ...all]);
        this.#auditLines = all.length + 1;
        this.#marks.audit = this.#auditFile.mark;
    }

    async #compactLedger(): Promise<void> {
        const lines: LedgerLine[] = [
            { startedAt: this.#ledgerStartedAt ?? new Date().toISOString() },
            ...[...this.#ledger].map(([k, e]) => ({ k, e }))
        ];
        await this.#ledgerFile.replace(lines);
        this.#ledgerLines = lines.length;
        this.#marks.ledger = this.#ledgerFile.mark;
    }

    // ------------------------------------------------------------ loading, and other processes' writes

    async #load(): Promise<void> {
        const doc = (await this.#low.read(), this.#low.data) ?? emptyDoc();
        this.#doc = doc ?? emptyDoc();
        this.#audit = new Map();
        this.#auditSeq = 0;
        const auditLines = (await this.#auditFile.read()) as SeqAudit[];
        for (const entry of auditLines) this.#addAudit(entry);
        this.#auditLines = auditLines.length;
        this.#ledger = new Map();
        this.#ledgerStartedAt = undefined;
        const ledgerLines = (await this.#ledgerFile.read()) as LedgerLine[];
        for (const line of ledgerLines) this.#applyLedgerLine(line);
        this.#ledgerLines = ledgerLines.length;
        this.#marks = { audit: this.#auditFile.mark, ledger: this.#ledgerFile.mark };
        await this.#recover();
    }

    #applyLedgerLine(line: LedgerLine): void {
        if ('startedAt' in line) this.#ledgerStartedAt = line.startedAt;
        else if ('d' in line) this.#ledger.delete(line.k);
        else this.#ledger.set(line.k, line.e);
    }

    /**
     * A crash between db.json and audit.jsonl leaves the last transaction's entries only in db.json: append
     * them now. A data directory from before the split (audit and ledger inside db.json) is split once.
     */
    async #recover(): Promise<void> {
        const missing = this.#unappendedAudit();
        const raw = this.#docFile.raw;
        const legacyAudit = raw?.audit ?? [];
        const legacyLedger = raw?.taskLedger;
        if (legacyAudit.length) missing.push(...legacyAudit.map((e, i) => ({ ...e, seq: this.#auditSeq + missing.length + i + 1 })));
        if (missing.length) {
            await this.#auditFile.append(missing);
            for (const entry of missing) this.#addAudit(entry);
            this.#auditLines += missing.length;
        }
        if (legacyLedger && typeof legacyLedger === 'object') {
            const lines: LedgerLine[] = [];
            if (!this.#ledgerStartedAt && legacyLedger.startedAt) lines.push({ startedAt: legacyLedger.startedAt });
            for (const [k, e] of Object.entries(legacyLedger.calls ?? {})) if (!this.#ledger.has(k)) lines.push({ k, e });
            await this.#ledgerFile.append(lines);
            for (const line of lines) this.#applyLedgerLine(line);
            this.#ledgerLines += lines.length;
        }
        // A new data directory starts recording now: every Task of the links made from here on goes through the ledger.
        if (!this.#ledgerStartedAt) {
            const startedAt = new Date().toISOString();
            await this.#ledgerFile.append([{ startedAt }]);
            this.#ledgerStartedAt = startedAt;
            this.#ledgerLines++;
        }
        if (raw && (raw.audit !== undefined || raw.taskLedger !== undefined)) {
            this.#low.data = rowsOf(this.#doc);
            await this.#low.write();
        }
        this.#marks = { audit: this.#auditFile.mark, ledger: this.#ledgerFile.mark };
    }

    /** Entries of the last transaction that reached db.json but not audit.jsonl (its process died between the two). */
    #unappendedAudit(): SeqAudit[] {
        return (this.#doc.auditPending ?? []).filter((e) => e.seq > this.#auditSeq);
    }

    /** Under the lock: whatever another process changed since we read it is read again (the appended tail of a log, or all of it after a compaction). */
    async #refresh(): Promise<void> {
        const version = await fileVersion(this.#docFile.filename);
        if (version !== this.#docFile.version) {
            await this.#low.read();
            this.#doc = this.#low.data ?? emptyDoc();
        }
        const audit = await markOf(this.#auditFile.file);
        if (!sameMark(audit, this.#marks.audit)) {
            if (audit && this.#marks.audit && audit.ino === this.#marks.audit.ino && audit.size > this.#marks.audit.size) {
                const tail = (await this.#auditFile.read(this.#marks.audit.size)) as SeqAudit[];
                for (const entry of tail) this.#addAudit(entry);
                this.#auditLines += tail.length;
            } else {
                this.#audit = new Map();
                this.#auditSeq = 0;
                const lines = (await this.#auditFile.read()) as SeqAudit[];
                for (const entry of lines) this.#addAudit(entry);
                this.#auditLines = lines.length;
            }
            this.#marks.audit = this.#auditFile.mark;
        }
        const ledger = await markOf(this.#ledgerFile.file);
        if (!sameMark(ledger, this.#marks.ledger)) {
            if (ledger && this.#marks.ledger && ledger.ino === this.#marks.ledger.ino && ledger.size > this.#marks.ledger.size) {
                const tail = (await this.#ledgerFile.read(this.#marks.ledger.size)) as LedgerLine[];
                for (const line of tail) this.#applyLedgerLine(line);
                this.#ledgerLines += tail.length;
            } else {
                this.#ledger = new Map();
                this.#ledgerStartedAt = undefined;
                const lines = (await this.#ledgerFile.read()) as LedgerLine[];
                for (const line of lines) this.#applyLedgerLine(line);
                this.#ledgerLines = lines.length;
            }
            this.#marks.ledger = this.#ledgerFile.mark;
        }
        const missing = this.#unappendedAudit();
        if (missing.length) {
            await this.#auditFile.append(missing);
            for (const entry of missing) this.#addAudit(entry);
            this.#auditLines += missing.length;
            this.#marks.audit = this.#auditFile.mark;
        }
    }

    async #locked<T>(work: () => Promise<T>): Promise<T> {
        const lock = `${this.#docFile.filename}.lock`;
        const deadline = Date.now() + LOCK_WAIT_MS;
        for (;;) {
            try {
                const handle = await open(lock, 'wx', 0o600);
                try {
                    await handle.writeFile(String(process.pid));
                } finally {
                    await handle.close();
                }
                break;
            } catch (error) {
                if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
                if (await breakStaleLock(lock)) continue;
                if (Date.now() > deadline) throw new Error(`The data file is locked by another process (${lock}).`);
                await sleep(5);
            }
        }
        try {
            return await work();
        } finally {
            await rm(lock, { force: true });
        }
    }
}

const sameMark = (a: FileMark | undefined, b: FileMark | undefined): boolean => a?.ino === b?.ino && a?.size === b?.size;

/**
 * A lock whose process is gone (killed mid-write, power cut) is stale and is removed at once; so is
 * one older than STALE_LOCK_MS whatever it says (its pid may have been reused), and an empty one
 * older than a second (its process died between creating and filling it). Two waiters may find the
 * same stale lock: it is renamed away first, so only one of them removes it, and a fresh lock moved
 * by mistake is put back.
 */
async function breakStaleLock(lock: string): Promise<boolean> {
    let content: string;
    let seen: { ino: number; mtimeMs: number };
    try {
        seen = await stat(lock);
        content = await readFile(lock, 'utf8');
    } catch {
        return true; // gone meanwhile: try again
    }
    const age = Date.now() - seen.mtimeMs;
    const pid = /^\d+$/.test(content.trim()) ? Number(content.trim()) : undefined;
    const stale = age > STALE_LOCK_MS || (pid === undefined ? age > EMPTY_LOCK_MS : !processAlive(pid));
    if (!stale) return false;
    const aside = `${lock}.stale-${process.pid}-${Math.random().toString(36).slice(2)}`;
    try {
        await rename(lock, aside);
    } catch {
        return true; // another waiter moved it first
    }
    const moved = await stat(aside).catch(() => undefined);
    if (moved && moved.ino !== seen.ino) await link(aside, lock).catch(() => undefined);
    await rm(aside, { force: true });
    return true;
}

/** Whether a process with this pid runs (EPERM: it does, as another user). Shared with the serving claim. */
export function processAlive(pid: number): boolean {
    if (pid === process.pid) return true;
    try {
        process.kill(pid, 0);
        return true;
    } catch (error) {
        return (error as NodeJS.ErrnoException).code === 'EPERM';
    }
}

async function fileVersion(file: string): Promise<string> {
    try {
        return versionOf(await stat(file));
    } catch {
        return 'absent';
    }
}
