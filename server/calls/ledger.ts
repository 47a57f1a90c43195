import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import type { Store } from '../store/store.ts';
import { emptyTaskLedger, type Db, type LinkRecord, type TaskLedger, type TaskLedgerEntry } from '../store/types.ts';
import { id15 } from './ids.ts';

/** How long the ledger remembers a call: a retry later than this is treated as a new call. */
export const LEDGER_RETENTION_MS = 14 * 24 * 3600 * 1000;
const PRUNE_EVERY_MS = 3600 * 1000;

export const ledgerKey = (accountId: string, orgId: string, callId: string): string => `${accountId}|${id15(orgId)}|${callId}`;

/**
 * The call Tasks this backend made, in the store, keyed by account + org + callId.
 *
 * A callId gets a `pending` entry before its create is sent and the Task id once Salesforce
 * answers, so a pending entry without an id means "a create may have reached Salesforce": only
 * then (or when the ledger cannot vouch for the account, see `provesAbsence`) does the caller
 * look for the Task by CallObject before creating one.
 *
 * Writes are group-committed: every change made while a store write runs goes into the next one,
 * so a burst of calls costs a few file writes, not two per call.
 */
export class CallLedger {
    #queue: Array<{ apply: (ledger: TaskLedger) => void; done: (error?: unknown) => void }> = [];
    #writing: Promise<void> | undefined;
    readonly #trust = new Map<string, boolean>();
    /** Task ids known in this process but not yet in the data file. */
    readonly #unsaved = new Map<string, TaskLedgerEntry>();

    constructor(
        private readonly store: Store,
        private readonly clock: Clock,
        private readonly logger: Logger
    ) {}

    find(accountId: string, orgId: string, callId: string): TaskLedgerEntry | undefined {
        const key = ledgerKey(accountId, orgId, callId);
        const unsaved = this.#unsaved.get(key);
        if (unsaved) return { ...unsaved };
        return this.store.read((db) => {
            const calls = db.taskLedger?.calls;
            return calls && Object.hasOwn(calls, key) ? { ...calls[key]! } : undefined;
        });
    }

    /**
     * Whether a callId missing from the ledger was never attempted for this account and org: true
     * when the ledger was already recording before the account was first linked to the org (every
     * Task ever made for them went through it), or has recorded for longer than its retention.
     */
    provesAbsence(accountId: string, orgId: string, link: LinkRecord): boolean {
        const startedAt = this.store.read((db) => db.taskLedger?.startedAt);
        if (!startedAt) return false;
        const started = Date.parse(startedAt);
        if (this.clock.now().getTime() - started >= LEDGER_RETENTION_MS) return true;
        const cacheKey = `${accountId}|${id15(orgId)}|${link.linkedAt}|${startedAt}`;
        const cached = this.#trust.get(cacheKey);
        if (cached !== undefined) return cached;
        const firstLinked = this.store.read((db) => firstLinkedAt(db, accountId, orgId, link));
        const proves = started <= firstLinked;
        this.#trust.set(cacheKey, proves);
        return proves;
    }

    markPending(accountId: string, orgId: string, callId: string): Promise<void> {
        const at = this.clock.now().toISOString();
        const key = ledgerKey(accountId, orgId, callId);
        return this.#write((ledger) => {
            if (!Object.hasOwn(ledger.calls, key)) ledger.calls[key] = { state: 'pending', at };
        });
    }

    /**
     * Records the Task id. It is known in this process at once, so the caller need not wait for the
     * file: should the write be lost, the entry stays pending there and a retry finds the Task by
     * CallObject.
     */
    markCreated(accountId: string, orgId: string, callId: string, taskId: string): Promise<void> {
        const entry: TaskLedgerEntry = { state: 'created', taskId, at: this.clock.now().toISOString() };
        const key = ledgerKey(accountId, orgId, callId);
        this.#unsaved.set(key, entry);
        return this.#write((ledger) => {
            ledger.calls[key] = { ...entry };
        }).finally(() => {
            if (this.#unsaved.get(key) === entry) this.#unsaved.delete(key);
        });
    }

    /** Resolves once every change made so far is in the data file. */
    async settled(): Promise<void> {
        while (this.#writing) await this.#writing;
    }

    /** Salesforce refused the create outright: nothing was made, so nothing needs looking for later. */
    forget(accountId: string, orgId: string, callId: string): Promise<void> {
        const key = ledgerKey(accountId, orgId, callId);
        return this.#write((ledger) => {
            if (ledger.calls[key]?.state === 'pending') delete ledger.calls[key];
        });
    }

    #write(apply: (ledger: TaskLedger) => void): Promise<void> {
        return new Promise((resolve, reject) => {
            this.#queue.push({ apply, done: (error) => (error ? reject(error) : resolve()) });
            this.#writing ??= this.#drain();
        });
    }

    async #drain(): Promise<void> {
        try {
            while (this.#queue.length > 0) {
                const batch = this.#queue.splice(0);
                const now = this.clock.now();
                try {
                    await this.store.update((db) => {
                        const ledger = ensureLedger(db, now);
                        for (const change of batch) change.apply(ledger);
                        prune(ledger, now, this.logger);
                    });
                    for (const change of batch) change.done();
                } catch (error) {
                    for (const change of batch) change.done(error);
                }
            }
        } finally {
            this.#writing = undefined;
        }
    }
}

function ensureLedger(db: Db, now: Date): TaskLedger {
    // A data file from before the ledger (or one whose ledger was removed) starts a new one now.
    if (!db.taskLedger || typeof db.taskLedger !== 'object' || !db.taskLedger.calls) db.taskLedger = emptyTaskLedger(now);
    return db.taskLedger;
}

function prune(ledger: TaskLedger, now: Date, logger: Logger): void {
    if (ledger.prunedAt && now.getTime() - Date.parse(ledger.prunedAt) < PRUNE_EVERY_MS) return;
    const cutoff = now.getTime() - LEDGER_RETENTION_MS;
    let dropped = 0;
    for (const [key, entry] of Object.entries(ledger.calls)) {
        if (Date.parse(entry.at) < cutoff) {
            delete ledger.calls[key];
            dropped++;
        }
    }
    ledger.prunedAt = now.toISOString();
    if (dropped > 0) logger.info({ dropped }, 'task ledger pruned');
}

/** When the account was first linked to this org, from the audit trail and the link itself. */
function firstLinkedAt(db: Readonly<Db>, accountId: string, orgId: string, link: LinkRecord): number {
    let first = Date.parse(link.linkedAt);
    for (const entry of db.audit) {
        if (entry.accountId !== accountId || entry.outcome !== 'ok') continue;
        // A legacy import names no org: it may have been this one.
        const sameOrg = entry.action === 'legacy_import' || ((entry.action === 'link' || entry.action === 'relink') && !!entry.orgId && id15(entry.orgId) === id15(orgId));
        if (sameOrg) first = Math.min(first, Date.parse(entry.at));
    }
    return first;
}
