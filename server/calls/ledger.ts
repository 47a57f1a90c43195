import { hostname } from 'node:os';
import type { Clock } from '../clock.ts';
import { randomToken } from '../crypto.ts';
import type { Logger } from '../logger.ts';
import { instanceLease, type CallClaim, type Store } from '../store/store.ts';
import type { LinkRecord, TaskLedgerEntry } from '../store/types.ts';
import { id15 } from '../salesforceIds.ts';

/**
 * How long a claim holds: above the longest a create can take (a session renewal that waits for another instance's
 * refresh, then the create with its timeout), so only a claimant that died lets it lapse.
 */
export const CLAIM_TTL_MS = 60_000;

/** Every instance says it is alive this often, for this long: a claim of an instance that stopped saying so is taken over at once. */
export const HEARTBEAT_MS = 3_000;
export const ALIVE_FOR_MS = 10_000;
export { instanceLease };

/** How long the ledger remembers a call: a retry later than this is treated as a new call. */
export const LEDGER_RETENTION_MS = 14 * 24 * 3600 * 1000;
const PRUNE_EVERY_MS = 3600 * 1000;

export const ledgerKey = (accountId: string, orgId: string, callId: string): string => `${accountId}|${id15(orgId)}|${callId}`;

/**
 * The call Tasks this backend made, in the store's ledger, keyed by account + org + callId.
 *
 * A callId is claimed (a `pending` entry, naming this process) before its create is sent, and gets
 * the Task id once Salesforce answers, so a pending entry without an id means "a create may have
 * reached Salesforce": only then (or when the ledger cannot vouch for the account, see
 * `provesAbsence`) does the caller look for the Task by CallObject before creating one.
 */
export class CallLedger {
    readonly #trust = new Map<string, boolean>();
    /** Task ids known in this process but not yet stored. */
    readonly #unsaved = new Map<string, TaskLedgerEntry>();
    readonly #writes = new Set<Promise<unknown>>();
    /** The claims this process holds now: key → the claim's time. */
    readonly #claims = new Map<string, string>();
    #prunedAt = 0;
    /** When the ledger began recording: read once per process. */
    #startedAt?: Promise<string>;
    #heartbeat?: NodeJS.Timeout;
    /** Who claims calls here: another process can tell its own pending entries from this one's. */
    readonly claimant = `${hostname()}:${process.pid}:${randomToken(4)}`;

    constructor(
        private readonly store: Store,
        private readonly clock: Clock,
        private readonly logger: Logger,
        /** `alone`: no other process makes calls on this store now (lowdb's server, which holds its data directory alone). */
        private readonly options: { alone?: boolean } = {}
    ) {
        // A store filled anew (a seed, a move, another process's write the store cannot name) may hold another start.
        store.changes.subscribe((change) => {
            if ('all' in change) this.#startedAt = undefined;
        });
    }

    async find(accountId: string, orgId: string, callId: string): Promise<TaskLedgerEntry | undefined> {
        const key = ledgerKey(accountId, orgId, callId);
        const unsaved = this.#unsaved.get(key);
        if (unsaved) return { ...unsaved };
        return this.store.ledger.get(key);
    }

    /**
     * Whether a callId missing from the ledger was never attempted for this account and org: true
     * when the ledger was already recording before the account was first linked to the org (every
     * Task ever made for them went through it), or has recorded for longer than its retention.
     */
    async provesAbsence(accountId: string, orgId: string, link: LinkRecord): Promise<boolean> {
        // Set once, at the ledger's first use; a store filled anew says so (`all`), and it is read again.
        this.#startedAt ??= this.store.ledger.startedAt().catch((error: unknown) => {
            this.#startedAt = undefined;
            throw error;
        });
        const startedAt = await this.#startedAt;
        const started = Date.parse(startedAt);
        if (this.clock.now().getTime() - started >= LEDGER_RETENTION_MS) return true;
        const cacheKey = `${accountId}|${id15(orgId)}|${link.linkedAt}|${startedAt}`;
        const cached = this.#trust.get(cacheKey);
        if (cached !== undefined) return cached;
        const audited = await this.store.audit.firstLinkedAt(accountId, orgId);
        const firstLinked = Math.min(Date.parse(link.linkedAt), audited ? Date.parse(audited) : Infinity);
        const proves = started <= firstLinked;
        this.#trust.set(cacheKey, proves);
        return proves;
    }

    /** Claims the call for this process; returns the entry already there when another claim came first. */
    async markPending(accountId: string, orgId: string, callId: string): Promise<TaskLedgerEntry | undefined> {
        const at = this.clock.now().toISOString();
        const key = ledgerKey(accountId, orgId, callId);
        const claimed = await this.store.ledger.claim(key, { at, by: this.claimant });
        if (!claimed) this.#claims.set(key, at);
        this.#pruneNowAndThen();
        return claimed;
    }

    /**
     * A live call's claim, in one store request: the call's kept Task when it is kept (nothing claimed), else the entry
     * already there (as `find` reads it), else the call is claimed for this process (`{}`). The replay of a kept Task
     * claims with `markPending`, its row being kept.
     */
    async claimLive(accountId: string, orgId: string, callId: string): Promise<CallClaim> {
        const key = ledgerKey(accountId, orgId, callId);
        const unsaved = this.#unsaved.get(key);
        if (unsaved) return { entry: { ...unsaved } };
        const at = this.clock.now().toISOString();
        const found = await this.store.ledger.claimUnlessKept(key, { at, by: this.claimant }, { accountId, callId });
        if (!found.kept && !found.entry) {
            this.#claims.set(key, at);
            this.#pruneNowAndThen();
        }
        return found;
    }

    /**
     * A pending entry another process (another instance) claimed and may be creating right now: wait for it, do not
     * create. Not when the claim is older than CLAIM_TTL_MS, nor when its instance stopped saying it is alive (it died:
     * its claims are taken over within ALIVE_FOR_MS instead of CLAIM_TTL_MS). Never when this process serves the store
     * alone: every other claimant is a process that ran before it, so its claims are taken over at once, after a restart
     * too (the caller then looks for the Task before creating one, as for any claim taken over).
     */
    async heldElsewhere(entry: TaskLedgerEntry): Promise<boolean> {
        if (entry.state !== 'pending' || entry.by === undefined || entry.by === this.claimant) return false;
        if (this.options.alone) return false;
        const now = this.clock.now();
        if (now.getTime() - Date.parse(entry.at) >= CLAIM_TTL_MS) return false;
        const alive = await this.store.leases.get(instanceLease(entry.by));
        return !alive || alive.until >= now.toISOString();
    }

    /** Says every HEARTBEAT_MS that this instance is alive (the server runs it; a process without it is trusted to CLAIM_TTL_MS). */
    startHeartbeat(): void {
        let beats = 0;
        const beat = () => {
            const now = this.clock.now();
            void this.store.leases
                .acquire(instanceLease(this.claimant), this.claimant, {
                    now: now.toISOString(),
                    until: new Date(now.getTime() + ALIVE_FOR_MS).toISOString()
                })
                // About once an hour: the rows of instances that stopped a day ago or more.
                .then(() => (beats++ % 1200 === 0 ? this.store.leases.prune(new Date(now.getTime() - 24 * 3600_000).toISOString()) : 0))
                .catch((error: unknown) =>
                    this.logger.warn(
                        { err: error instanceof Error ? error.message : String(error) },
                        'could not say this instance is alive'
                    )
                );
        };
        beat();
        this.#heartbeat ??= setInterval(beat, HEARTBEAT_MS);
        this.#heartbeat.unref();
    }

    /** A clean stop: this instance's claims are all settled, and its row goes with it. */
    async stopHeartbeat(): Promise<void> {
        if (!this.#heartbeat) return;
        clearInterval(this.#heartbeat);
        this.#heartbeat = undefined;
        await this.store.leases.release(instanceLease(this.claimant), this.claimant).catch(() => undefined);
    }

    /** Takes over a pending entry that no one holds any more (lapsed, abandoned, or this process's from an earlier request); false when another took it first. */
    async takeOver(accountId: string, orgId: string, callId: string, entry: TaskLedgerEntry): Promise<boolean> {
        const at = this.clock.now().toISOString();
        const key = ledgerKey(accountId, orgId, callId);
        const taken = await this.store.ledger.reclaim(key, { at: entry.at, by: entry.by }, { at, by: this.claimant });
        if (taken) this.#claims.set(key, at);
        return taken;
    }

    /**
     * The create's outcome is unknown (Salesforce did not answer): the entry stays pending, so the next attempt looks for
     * the Task by CallObject, but no longer claimed, so that attempt may come at once on any instance.
     */
    abandon(accountId: string, orgId: string, callId: string): Promise<void> {
        const key = ledgerKey(accountId, orgId, callId);
        const at = this.#claims.get(key);
        this.#claims.delete(key);
        if (!at) return Promise.resolve();
        return this.#track(this.store.ledger.reclaim(key, { at, by: this.claimant }, { at }).then(() => undefined));
    }

    /**
     * Records the Task id. It is known in this process at once, so the caller need not wait for the
     * store: should the write be lost, the entry stays pending there and a retry finds the Task by
     * CallObject.
     */
    markCreated(accountId: string, orgId: string, callId: string, taskId: string): Promise<void> {
        const entry: TaskLedgerEntry = { state: 'created', taskId, at: this.clock.now().toISOString() };
        const key = ledgerKey(accountId, orgId, callId);
        this.#claims.delete(key);
        this.#unsaved.set(key, entry);
        return this.#track(
            this.store.ledger.settle(key, taskId, entry.at).finally(() => {
                if (this.#unsaved.get(key) === entry) this.#unsaved.delete(key);
            })
        );
    }

    /** Resolves once every change made so far is stored. */
    async settled(): Promise<void> {
        while (this.#writes.size) await Promise.allSettled([...this.#writes]);
    }

    /** Salesforce refused the create outright: nothing was made, so nothing needs looking for later. */
    forget(accountId: string, orgId: string, callId: string): Promise<void> {
        this.#claims.delete(ledgerKey(accountId, orgId, callId));
        return this.#track(this.store.ledger.release(ledgerKey(accountId, orgId, callId)));
    }

    #track<T>(write: Promise<T>): Promise<T> {
        this.#writes.add(write);
        void write.finally(() => this.#writes.delete(write)).catch(() => undefined);
        return write;
    }

    #pruneNowAndThen(): void {
        const now = this.clock.now().getTime();
        if (now - this.#prunedAt < PRUNE_EVERY_MS) return;
        this.#prunedAt = now;
        void this.#track(
            this.store.ledger.prune(new Date(now - LEDGER_RETENTION_MS).toISOString()).then(
                (dropped) => dropped > 0 && this.logger.info({ dropped }, 'task ledger pruned'),
                (error: unknown) =>
                    this.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'could not prune the task ledger')
            )
        );
    }
}
