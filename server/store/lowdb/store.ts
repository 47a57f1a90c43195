// Over 400 lines on purpose: the write queue, the commit, the reload of other processes' writes and the change feed share
// this class's private state (the document, the append-only logs, the queue); the repositories live in their own files.
import { watch, type FSWatcher } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Low } from 'lowdb';
import {
    ChangeListeners,
    markTransaction,
    refuseNested,
    type ChangeFeed,
    type LockKey,
    type Repos,
    type Store,
    type Tx
} from '../store.ts';
import type { KeptTaskRecord, Snapshot, TaskLedgerEntry } from '../types.ts';
import { lowdbAccounts } from './accounts.ts';
import { AppendLog } from './appendLog.ts';
import { AuditEntries, lowdbAudit, stripSeq, type AuditLine } from './audit.ts';
import { DocFile, fileVersion } from './docFile.ts';
import { KeptEntries, keptKey, lowdbKept, type KeptLine } from './kept.ts';
import { LedgerEntries, lowdbLedger, type LedgerLine } from './ledger.ts';
import { lowdbLeases } from './leases.ts';
import { lowdbLinks } from './links.ts';
import { withLockFile } from './lockFile.ts';
import { lowdbOutbox } from './outbox.ts';
import { Draft, emptyDoc, Indexes, rowsOf, Rows, type Doc, type LedgerChange, type LowdbState, type SeqAudit } from './rows.ts';
import { lowdbSessions } from './sessions.ts';
import type { LowdbSize } from './sizeAdvice.ts';

/** The repositories over one view: the committed state, or a transaction's draft. */
const repositories = (rows: Rows): Repos => ({
    accounts: lowdbAccounts(rows),
    links: lowdbLinks(rows),
    sessions: lowdbSessions(rows),
    audit: lowdbAudit(rows),
    ledger: lowdbLedger(rows),
    outbox: lowdbOutbox(rows),
    kept: lowdbKept(rows),
    leases: lowdbLeases(rows)
});

type Job =
    | { kind: 'tx'; run: () => Promise<unknown>; resolve: (value: unknown) => void; reject: (error: unknown) => void }
    | { kind: 'ledger'; change: LedgerChange; lazy?: boolean; resolve: (value: unknown) => void; reject: (error: unknown) => void };

/**
 * How long a ledger change that nothing waits for (a Task id recorded after the answer) may wait for another to share
 * its fsync: the next call's claim usually comes within it, and then costs one fsync, not two.
 */
export const LAZY_LEDGER_MS = 20;

/**
 * The embedded store: db.json (accounts, links, link sessions) replaced durably on every change that
 * touches it (temp file, fsync, rename); audit.jsonl and ledger.jsonl appended and fsynced, so calls and
 * audit entries never rewrite the links' file. Everything is in memory; writers run one at a time and
 * take a lock file, so the operator's accounts command and the server can share one data directory.
 * Task-ledger changes made while another write runs are committed together (one fsync).
 * The repositories live in accounts.ts, links.ts, sessions.ts, audit.ts, ledger.ts, outbox.ts and leases.ts.
 */
export class LowdbStore implements Store, LowdbState {
    readonly kind = 'lowdb' as const;
    readonly accounts: Repos['accounts'];
    readonly links: Repos['links'];
    readonly sessions: Repos['sessions'];
    readonly audit: Repos['audit'];
    readonly ledger: Repos['ledger'];
    readonly outbox: Repos['outbox'];
    readonly kept: Repos['kept'];
    readonly leases: Repos['leases'];
    readonly leaseTable = new Map<string, { by: string; until: string }>();
    /** Exact: every change is told at its commit, another process's once a read or write picks it up. */
    readonly changes: ChangeFeed = {
        subscribe: (listener) => this.#listeners.subscribe(listener),
        watching: async () => {
            await this.fresh();
            return true;
        }
    };
    readonly #listeners = new ChangeListeners();
    #doc: Doc = emptyDoc();
    #indexes?: Indexes;
    readonly #audit = new AuditEntries();
    readonly #ledger = new LedgerEntries();
    readonly #kept = new KeptEntries();
    #jobs: Job[] = [];
    #pumping = false;
    /** Set while a lazy ledger change waits for company: a job queued meanwhile ends the wait. */
    #wake?: () => void;
    #stale = true;
    #watcher?: FSWatcher;
    readonly #low: Low<Doc>;
    readonly #docFile: DocFile;
    readonly #auditLog: AppendLog<AuditLine>;
    readonly #ledgerLog: AppendLog<LedgerLine>;
    readonly #keptLog: AppendLog<KeptLine>;

    private constructor(readonly dataDir: string) {
        this.#docFile = new DocFile(path.join(dataDir, 'db.json'));
        this.#low = new Low<Doc>(this.#docFile, emptyDoc());
        this.#auditLog = new AppendLog(path.join(dataDir, 'audit.jsonl'), this.#audit);
        this.#ledgerLog = new AppendLog(path.join(dataDir, 'ledger.jsonl'), this.#ledger);
        this.#keptLog = new AppendLog(path.join(dataDir, 'kept.jsonl'), this.#kept);
        ({
            accounts: this.accounts,
            links: this.links,
            sessions: this.sessions,
            audit: this.audit,
            ledger: this.ledger,
            outbox: this.outbox,
            kept: this.kept,
            leases: this.leases
        } = repositories(new Rows(this)));
    }

    static async open(dataDir: string): Promise<LowdbStore> {
        await mkdir(dataDir, { recursive: true, mode: 0o700 });
        const store = new LowdbStore(dataDir);
        await store.#locked(() => store.#load());
        store.#watcher = watch(dataDir, (_event, name) => {
            if (name === 'db.json' || name === 'audit.jsonl' || name === 'ledger.jsonl' || name === 'kept.jsonl') store.#stale = true;
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
        return this.#audit.of(accountId);
    }
    nextAuditSeq(draft: Draft): number {
        return this.#audit.seq + draft.audit.length + 1;
    }
    ledgerGet(key: string): TaskLedgerEntry | undefined {
        return this.#ledger.entries.get(key);
    }
    ledgerStartedAt(): string | undefined {
        return this.#ledger.startedAt;
    }
    keptRows(): ReadonlyMap<string, KeptTaskRecord> {
        return this.#kept.rows;
    }

    async fresh(): Promise<void> {
        if (!this.#stale) return;
        this.#stale = false;
        const [version, audit, ledger, kept] = await Promise.all([
            fileVersion(this.#docFile.filename),
            this.#auditLog.changed(),
            this.#ledgerLog.changed(),
            this.#keptLog.changed()
        ]);
        if (version === this.#docFile.version && !audit && !ledger && !kept) return;
        await this.#enqueue({ kind: 'tx', run: () => Promise.resolve() });
    }

    /** How much it holds, against the size at which PostgreSQL is advised (sizeAdvice.ts). */
    size(): LowdbSize {
        return { accounts: this.#doc.accounts.length, ledgerEntries: this.#ledger.entries.size };
    }

    // ------------------------------------------------------------ Store

    transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
        return this.#onDraft((draft) => work({ ...repositories(new Rows(this, draft)), lock: lockNothing }));
    }

    writeDraft<T>(change: (draft: Draft) => T): Promise<T> {
        return this.#onDraft((draft) => Promise.resolve(change(draft)));
    }

    /** A transaction: `work` changes a draft of the committed state, which is made durable, then visible. */
    #onDraft<T>(work: (draft: Draft) => Promise<T>): Promise<T> {
        refuseNested();
        return this.#enqueue<T>({
            kind: 'tx',
            run: () =>
                markTransaction('lowdb', async () => {
                    const draft = new Draft(this.#doc);
                    const result = await work(draft);
                    await this.#commit(draft);
                    return result;
                })
        });
    }

    ledgerOp<T>(change: LedgerChange, options: { lazy?: boolean } = {}): Promise<T> {
        refuseNested();
        return this.#enqueue<T>({ kind: 'ledger', change, lazy: options.lazy });
    }

    async startLedger(): Promise<string> {
        return this.#enqueue<string>({
            kind: 'tx',
            run: async () => {
                if (!this.#ledger.startedAt) await this.#startLedgerNow();
                return this.#ledger.startedAt;
            }
        });
    }

    async pruneAudit(before: string, keepPerAccount: number): Promise<number> {
        return this.#enqueue<number>({
            kind: 'tx',
            run: async () => {
                const dropped = this.#audit.prune(before, keepPerAccount);
                if (dropped > 0 || this.#auditLog.lines > this.#audit.count() * 2) await this.#auditLog.replace(this.#audit.compacted());
                return dropped;
            }
        });
    }

    async pruneLedger(before: string): Promise<number> {
        return this.#enqueue<number>({
            kind: 'tx',
            run: async () => {
                const dropped = this.#ledger.prune(before);
                if (dropped > 0 || this.#ledgerLog.lines > this.#ledger.entries.size * 2 + 1000)
                    await this.#ledgerLog.replace(this.#ledger.compacted());
                return dropped;
            }
        });
    }

    async seed(data: Partial<Snapshot>): Promise<void> {
        await this.#onDraft((draft) => {
            for (const a of data.accounts ?? []) draft.rows('accounts', true).push(structuredClone(a));
            for (const l of data.links ?? []) draft.rows('links', true).push(structuredClone(l));
            for (const s of data.linkSessions ?? []) draft.rows('linkSessions', true).push(structuredClone(s));
            for (const e of data.outbox ?? []) draft.rows('outbox', true).push(structuredClone(e));
            draft.changes.push({ all: true });
            for (const e of data.audit ?? []) draft.audit.push({ ...structuredClone(e), seq: this.nextAuditSeq(draft) });
            for (const r of data.keptTasks ?? []) draft.kept.set(keptKey(r.accountId, r.callId), structuredClone(r));
            if (data.taskLedger) {
                draft.ledgerStartedAt = data.taskLedger.startedAt;
                for (const [key, entry] of Object.entries(data.taskLedger.calls)) draft.ledger.set(key, structuredClone(entry));
            }
            return Promise.resolve();
        });
    }

    async dump(): Promise<Snapshot> {
        await this.fresh();
        await this.#enqueue({ kind: 'tx', run: () => Promise.resolve() });
        return structuredClone({
            accounts: this.#doc.accounts,
            links: this.#doc.links,
            linkSessions: this.#doc.linkSessions,
            audit: this.#audit.all().map(stripSeq),
            taskLedger: { startedAt: this.#ledger.startedAt ?? new Date(0).toISOString(), calls: Object.fromEntries(this.#ledger.entries) },
            outbox: [...this.#doc.outbox].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id)),
            keptTasks: [...this.#kept.rows.values()].sort(
                (a, b) => a.callAt.localeCompare(b.callAt) || a.accountId.localeCompare(b.accountId) || a.callId.localeCompare(b.callId)
            )
        });
    }

    async close(): Promise<void> {
        await this.#enqueue({ kind: 'tx', run: () => Promise.resolve() }).catch(() => undefined);
        this.#watcher?.close();
    }

    // ------------------------------------------------------------ the write queue

    #enqueue<T>(job: { kind: 'tx'; run: () => Promise<unknown> } | { kind: 'ledger'; change: LedgerChange; lazy?: boolean }): Promise<T> {
        return new Promise<T>((resolve, reject) => {
            this.#jobs.push({ ...job, resolve: (value) => resolve(value as T), reject });
            this.#wake?.();
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
                    job.resolve(value);
                } catch (error) {
                    job.reject(error ?? new Error('transaction failed'));
                }
                continue;
            }
            const batch = [job];
            while (this.#jobs[0]?.kind === 'ledger') batch.push(this.#jobs.shift() as typeof job);
            // Nothing in the batch is waited for: give the next change a moment to share its fsync.
            if (batch.every((item) => item.lazy) && this.#jobs.length === 0) {
                await new Promise<void>((resolve) => {
                    const timer = setTimeout(() => this.#wake?.(), LAZY_LEDGER_MS);
                    this.#wake = () => {
                        clearTimeout(timer);
                        this.#wake = undefined;
                        resolve();
                    };
                });
                while ((this.#jobs[0] as Job | undefined)?.kind === 'ledger') batch.push(this.#jobs.shift() as typeof job);
            }
            const results: unknown[] = [];
            try {
                await this.#locked(async () => {
                    await this.#refresh();
                    const draft = new Draft(this.#doc);
                    const get = (key: string) => (draft.ledger.has(key) ? (draft.ledger.get(key) ?? undefined) : this.ledgerGet(key));
                    const set = (key: string, entry: TaskLedgerEntry | null) => void draft.ledger.set(key, entry);
                    for (const item of batch) results.push(item.change(get, set));
                    await this.#commit(draft);
                });
                batch.forEach((item, i) => item.resolve(results[i]));
            } catch (error) {
                for (const item of batch) item.reject(error ?? new Error('ledger write failed'));
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
        if (draft.audit.length) await this.#auditLog.append(draft.audit);
        const ledgerLines = LedgerEntries.linesOf(draft);
        if (ledgerLines.length) await this.#ledgerLog.append(ledgerLines);
        const keptLines = KeptEntries.linesOf(draft);
        if (keptLines.length) await this.#appendKept(keptLines);
        const keptAccounts = new Set([...draft.kept].map(([key, row]) => row?.accountId ?? this.#kept.rows.get(key)?.accountId));
        // Visible only now.
        if (draft.copied.size > 0) this.#doc = rowsOf(draft.doc);
        for (const entry of draft.audit) this.#audit.apply(entry);
        for (const line of ledgerLines) this.#ledger.apply(line);
        for (const line of keptLines) this.#kept.apply(line);
        for (const change of draft.changes) this.#listeners.emit(change);
        for (const accountId of keptAccounts) if (accountId) this.#listeners.emit({ accountId });
    }

    /** Kept Tasks are appended (a claim, an attempt, a removal: one line each); a file much longer than the rows is compacted. */
    async #appendKept(lines: KeptLine[]): Promise<void> {
        if (this.#keptLog.lines > this.#kept.rows.size * 4 + 1000) {
            const next = new KeptEntries();
            for (const [k, r] of this.#kept.rows) next.rows.set(k, r);
            for (const line of lines) next.apply(line);
            await this.#keptLog.replace(next.compacted());
        } else await this.#keptLog.append(lines);
    }

    async #startLedgerNow(): Promise<void> {
        const line = { startedAt: new Date().toISOString() };
        await this.#ledgerLog.append([line]);
        this.#ledger.apply(line);
    }

    // ------------------------------------------------------------ loading, and other processes' writes

    async #load(): Promise<void> {
        await this.#low.read();
        this.#doc = this.#low.data ?? emptyDoc();
        await this.#auditLog.load();
        await this.#ledgerLog.load();
        await this.#keptLog.load();
        await this.#recover();
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
        if (legacyAudit.length) missing.push(...legacyAudit.map((e, i) => ({ ...e, seq: this.#audit.seq + missing.length + i + 1 })));
        await this.#appendAudit(missing);
        if (legacyLedger && typeof legacyLedger === 'object') {
            const lines: LedgerLine[] = [];
            if (!this.#ledger.startedAt && legacyLedger.startedAt) lines.push({ startedAt: legacyLedger.startedAt });
            for (const [k, e] of Object.entries(legacyLedger.calls ?? {})) if (!this.#ledger.entries.has(k)) lines.push({ k, e });
            await this.#ledgerLog.append(lines);
            for (const line of lines) this.#ledger.apply(line);
        }
        // A new data directory starts recording now: every Task of the links made from here on goes through the ledger.
        if (!this.#ledger.startedAt) await this.#startLedgerNow();
        if (raw && (raw.audit !== undefined || raw.taskLedger !== undefined)) {
            this.#low.data = rowsOf(this.#doc);
            await this.#low.write();
        }
    }

    /** Entries of the last transaction that reached db.json but not audit.jsonl (its process died between the two). */
    #unappendedAudit(): SeqAudit[] {
        return (this.#doc.auditPending ?? []).filter((e) => e.seq > this.#audit.seq);
    }

    async #appendAudit(entries: SeqAudit[]): Promise<void> {
        if (!entries.length) return;
        await this.#auditLog.append(entries);
        for (const entry of entries) this.#audit.apply(entry);
    }

    /** Under the lock: whatever another process changed since we read it is read again. */
    async #refresh(): Promise<void> {
        let changed = false;
        // The four files at once: a write waits for one round of file-system calls, not four in turn.
        const [version, , , kept] = await Promise.all([
            fileVersion(this.#docFile.filename),
            this.#auditLog.refresh(),
            this.#ledgerLog.refresh(),
            this.#keptLog.refresh()
        ]);
        if (version !== this.#docFile.version) {
            await this.#low.read();
            this.#doc = this.#low.data ?? emptyDoc();
            changed = true;
        }
        if (kept) changed = true;
        await this.#appendAudit(this.#unappendedAudit());
        // Another process's write (the operator's accounts command): which rows it changed is not known here.
        if (changed) this.#listeners.emit({ all: true });
    }

    #locked<T>(work: () => Promise<T>): Promise<T> {
        return withLockFile(`${this.#docFile.filename}.lock`, work);
    }
}

/** lowdb's writers already run one at a time, across processes too (the lock file). */
const lockNothing = (..._keys: LockKey[]): Promise<void> => Promise.resolve();
