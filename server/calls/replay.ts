import { hostname } from 'node:os';
import type { Clock } from '../clock.ts';
import { randomToken } from '../crypto.ts';
import { AppError, isAppError } from '../errors.ts';
import type { LinkEvents } from '../link/events.ts';
import { queueCallEvent } from '../link/outbox.ts';
import type { Logger } from '../logger.ts';
import { instanceLease, type Store } from '../store/store.ts';
import type { Actor, KeptTaskRecord } from '../store/types.ts';
import type { CallActions } from './callActions.ts';
import { KeptForAnotherOrg, keepReason } from './keptAnswers.ts';

export interface ReplayOptions {
    /** How often every instance looks for kept Tasks that are due. */
    pollMs: number;
    /** How long a claim on a batch (and the account's replay lease) holds: only an instance that died lets it lapse. */
    claimMs: number;
    /** Rows claimed at a time; they are made one after the other. */
    batch: number;
    /** A kept Task whose call is older than this is dropped, recorded and announced (KEPT_TASKS_MAX_AGE_DAYS). */
    maxAgeMs: number;
    /** The wait after a failed try, doubled at each next one, up to `maxBackoffMs`. */
    backoffMs: number;
    maxBackoffMs: number;
}

export const DEFAULT_REPLAY: ReplayOptions = {
    pollMs: 2_000,
    claimMs: 120_000,
    batch: 10,
    maxAgeMs: 14 * 24 * 3600_000,
    backoffMs: 15_000,
    maxBackoffMs: 5 * 60_000
};

/** A link that needs a person (a relink, a link) is tried again this often; the relink itself wakes its Tasks at once. */
const PERSON_WAIT_MS = 10 * 60_000;
const EXPIRY_EVERY_MS = 3600_000;
export const replayLease = (accountId: string): string => `kept-replay:${accountId}`;
export const EXPIRY_LEASE = 'kept-expiry';

type Outcome = 'made' | 'dropped' | 'stop';

/**
 * Makes the kept call Tasks (rule 13) in the background, on whichever instance gets there first: an account's due rows
 * are replayed one at a time, under the account's lease (one replay per link across instances), through the call
 * ledger, so a Task is made once even when the platform also retries its PUT or an instance dies mid-create. A try
 * the org still refuses puts every waiting row of the account back with backoff, so a refusing org sees one request
 * per wait, not one per kept call. A row kept for another org than the one linked now waits for the admin's choice.
 */
export class KeptTaskReplay {
    /** The call ledger's claimant: its heartbeat says whether this instance is alive, so a dead one's replay is taken over. */
    readonly #holder: string;
    #timer?: NodeJS.Timeout;
    #draining?: Promise<number>;
    #again = false;
    #stopped = false;
    #expiredAt = 0;

    constructor(
        private readonly deps: {
            store: Store;
            calls: CallActions;
            /** Who claims here: the call ledger's claimant, whose instance lease the heartbeat renews. */
            holder?: string;
            clock: Clock;
            logger: Logger;
            events: LinkEvents;
            options?: Partial<ReplayOptions>;
            /** Metrics: Tasks made from the kept ones, and kept ones dropped (by reason). */
            onReplayed?: (count: number) => void;
            onDropped?: (reason: 'expired' | 'rejected' | 'admin_choice', count: number) => void;
        }
    ) {
        this.#holder = deps.holder ?? `${hostname()}:${process.pid}:${randomToken(4)}`;
        // A relink (or a link) makes the Tasks kept for that org due: replay them now rather than at the next poll.
        deps.events.on('status', ({ to }) => void (to === 'linked' && !this.#stopped && this.poke()));
    }

    get options(): ReplayOptions {
        return { ...DEFAULT_REPLAY, ...this.deps.options };
    }

    start(): void {
        this.#stopped = false;
        this.#timer ??= setInterval(() => void this.poke(), this.options.pollMs);
        this.#timer.unref();
    }

    async stop(): Promise<void> {
        this.#stopped = true;
        clearInterval(this.#timer);
        this.#timer = undefined;
        await this.#draining;
    }

    /** The org answered a live Task of this account: its kept ones are due now (the backoff is over). */
    async wake(accountId: string): Promise<void> {
        const link = await this.deps.store.links.get(accountId);
        if (link?.status === 'linked' || link?.status === 'legacy') {
            await this.deps.store.kept.relinked(accountId, link.orgId, this.deps.clock.now().toISOString());
            void this.poke();
        }
    }

    /**
     * The admin's choice for the Tasks kept for another org than the one linked now: make them in the org linked now
     * (they are due at once), or drop them. Recorded in the activity; a drop is announced to the platform.
     */
    async decide(
        accountId: string,
        choice: 'make' | 'drop',
        actor?: Actor
    ): Promise<{ choice: 'make' | 'drop'; count: number; waiting: number }> {
        const { store, clock } = this.deps;
        const link = await store.links.get(accountId);
        if (choice === 'make' && (!link || link.status === 'needs_relink'))
            throw new AppError(
                link ? 'NEEDS_RELINK' : 'NOT_LINKED',
                'The kept Tasks can be made only in a working link: relink to the org they should go to first, then choose again.',
                409
            );
        const at = clock.now().toISOString();
        const orgId = link?.orgId ?? '';
        const result = await store.transaction(async (tx) => {
            const count = await tx.kept.decide(accountId, choice, orgId, at);
            const waiting = (await tx.kept.summary(accountId)).count;
            if (!count) return { choice, count, waiting };
            const what = `${count} kept call ${count === 1 ? 'Task' : 'Tasks'}`;
            await tx.audit.append({
                at,
                accountId,
                action: choice === 'drop' ? 'tasks_dropped' : 'tasks_kept',
                outcome: choice === 'drop' ? 'admin_choice' : 'make_chosen',
                ...(orgId ? { orgId } : {}),
                ...(link?.username ? { username: link.username } : {}),
                ...(actor ? { actor } : {}),
                detail:
                    choice === 'drop'
                        ? `${what} of another org dropped, by the admin's choice.`
                        : `${what} of another org to be made in the org linked now, by the admin's choice.`
            });
            if (choice === 'drop')
                await queueCallEvent(tx, {
                    accountId,
                    type: 'calls.dropped',
                    at,
                    data: { ...(orgId ? { orgId } : {}), reason: 'The admin chose to drop them.', calls: { count, waiting, choice } }
                });
            return { choice, count, waiting };
        });
        if (result.count && choice === 'drop') {
            this.deps.onDropped?.('admin_choice', result.count);
            this.deps.events.eventQueued();
        }
        if (result.count && choice === 'make') void this.poke();
        return result;
    }

    /** Replays what is due now; a poke while a round runs makes one more round after it. Resolves with the Tasks made. */
    poke(): Promise<number> {
        if (this.#draining) {
            this.#again = true;
            return this.#draining;
        }
        this.#draining = this.#drain()
            .catch((error: unknown) => {
                this.deps.logger.warn({ err: describe(error) }, 'could not replay kept call Tasks; trying again at the next poll');
                return 0;
            })
            .finally(() => (this.#draining = undefined));
        return this.#draining;
    }

    async #drain(): Promise<number> {
        let made = 0;
        await this.#expireNowAndThen();
        do {
            this.#again = false;
            const accounts = await this.deps.store.kept.accountsDue(this.deps.clock.now().toISOString(), 20);
            for (const accountId of accounts) {
                if (this.#stopped) return made;
                made += await this.#replayAccount(accountId);
            }
            if (accounts.length === 20) this.#again = true;
        } while (this.#again && !this.#stopped);
        return made;
    }

    /** The account's due rows, one at a time, while the org takes them; then one activity entry and one event for the batch. */
    async #replayAccount(accountId: string): Promise<number> {
        const { store, clock } = this.deps;
        const { claimMs, batch } = this.options;
        const lease = replayLease(accountId);
        const leaseUntil = () => new Date(clock.now().getTime() + claimMs).toISOString();
        if (!(await this.#acquire(lease, accountId, leaseUntil()))) return 0;
        let made = 0;
        try {
            for (let stop = false; !stop && !this.#stopped;) {
                const now = clock.now();
                const rows = await store.kept.claim({
                    accountId,
                    now: now.toISOString(),
                    by: this.#holder,
                    until: leaseUntil(),
                    limit: batch
                });
                if (!rows.length) break;
                for (const [i, row] of rows.entries()) {
                    const outcome = stop || this.#stopped ? 'stop' : await this.#replayOne(row);
                    if (outcome === 'made') made++;
                    if (outcome === 'stop' && !stop) {
                        stop = true;
                        // The rest of the batch goes back unclaimed, as it was.
                        for (const rest of rows.slice(i + 1))
                            await store.kept.record(accountId, rest.callId, this.#holder, { claim: null });
                    }
                    if (stop) break;
                }
                await store.leases.acquire(lease, this.#holder, { now: clock.now().toISOString(), until: leaseUntil() });
            }
        } finally {
            await store.leases.release(lease, this.#holder).catch(() => undefined);
        }
        if (made) await this.#recordBatch(accountId, made);
        return made;
    }

    /**
     * The account's replay lease: free, lapsed or this instance's; or held by an instance that stopped saying it is
     * alive (it died mid-replay), whose lease and row claims are taken over at once rather than when they lapse.
     */
    async #acquire(lease: string, accountId: string, until: string): Promise<boolean> {
        const { store, clock } = this.deps;
        const now = clock.now().toISOString();
        if (await store.leases.acquire(lease, this.#holder, { now, until })) return true;
        const held = await store.leases.get(lease);
        if (!held) return store.leases.acquire(lease, this.#holder, { now, until });
        const alive = await store.leases.get(instanceLease(held.by));
        if (!alive || alive.until >= now) return false;
        await store.leases.release(lease, held.by);
        if (!(await store.leases.acquire(lease, this.#holder, { now, until }))) return false;
        const freed = await store.kept.releaseClaims(accountId, held.by);
        this.deps.logger.warn({ accountId, from: held.by, freed }, 'took over the replay of an instance that stopped');
        return true;
    }

    async #replayOne(row: KeptTaskRecord): Promise<Outcome> {
        const { store, calls, clock, logger } = this.deps;
        const { accountId, callId } = row;
        try {
            await calls.makeKept(row);
            await store.kept.remove(accountId, callId, this.#holder);
            return 'made';
        } catch (error) {
            const now = clock.now();
            if (error instanceof KeptForAnotherOrg) {
                // Linked to another org since: never sent there without the admin's choice.
                await store.kept.record(accountId, callId, this.#holder, { claim: null });
                await store.kept.relinked(accountId, error.linkedOrgId, now.toISOString());
                return 'stop';
            }
            if (isAppError(error, 'SALESFORCE_REJECTED')) {
                // Salesforce refuses this Task as it is (a record it names is gone, a value it no longer takes): it never will.
                if (await store.kept.remove(accountId, callId, this.#holder)) await this.#recordDrop(row, error);
                return 'dropped';
            }
            const reason = keepReason(error);
            const attempts = row.attempts + 1;
            const wait =
                reason === 'needs_relink' || reason === 'not_linked'
                    ? PERSON_WAIT_MS
                    : isAppError(error, 'CALL_IN_PROGRESS')
                      ? 5_000
                      : Math.min(this.options.backoffMs * 2 ** (attempts - 1), this.options.maxBackoffMs);
            const nextAttemptAt = new Date(now.getTime() + wait).toISOString();
            const code = error instanceof AppError ? error.code : 'INTERNAL';
            await store.kept.record(accountId, callId, this.#holder, {
                attempts,
                lastAttempt: { at: now.toISOString(), error: `${code}: ${describe(error).slice(0, 500)}` },
                nextAttemptAt,
                claim: null
            });
            // The org (or the link) still refuses: every waiting row of the account waits as long, not just this one.
            await store.kept.defer(accountId, nextAttemptAt);
            logger.info({ accountId, callId, code, attempts, nextAttemptAt }, 'a kept call Task could not be made yet');
            return 'stop';
        }
    }

    async #recordBatch(accountId: string, made: number): Promise<void> {
        const { store, clock } = this.deps;
        const at = clock.now().toISOString();
        const link = await store.links.get(accountId);
        await store.transaction(async (tx) => {
            const left = (await tx.kept.summary(accountId)).count;
            await tx.audit.append({
                at,
                accountId,
                action: 'tasks_replayed',
                outcome: 'ok',
                ...(link?.orgId ? { orgId: link.orgId } : {}),
                ...(link?.username ? { username: link.username } : {}),
                detail: `${made} kept call ${made === 1 ? 'Task' : 'Tasks'} made in the org; ${left} still ${left === 1 ? 'waits' : 'wait'}.`
            });
            await queueCallEvent(tx, {
                accountId,
                type: 'calls.replayed',
                at,
                data: { ...(link?.orgId ? { orgId: link.orgId } : {}), calls: { count: made, waiting: left } }
            });
            if (!left) this.deps.calls.keptDrained(accountId);
        });
        this.deps.events.eventQueued();
        this.deps.onReplayed?.(made);
    }

    async #recordDrop(row: KeptTaskRecord, error: AppError): Promise<void> {
        const at = this.deps.clock.now().toISOString();
        await this.deps.store.transaction(async (tx) => {
            await tx.audit.append({
                at,
                accountId: row.accountId,
                action: 'tasks_dropped',
                outcome: 'rejected',
                orgId: row.orgId,
                detail: `The kept Task of call ${row.callId} was dropped: ${error.message.slice(0, 400)}`
            });
            await queueCallEvent(tx, {
                accountId: row.accountId,
                type: 'calls.dropped',
                at,
                data: {
                    orgId: row.orgId,
                    reason: error.message.slice(0, 400),
                    calls: { count: 1, waiting: (await tx.kept.summary(row.accountId)).count }
                }
            });
        });
        this.deps.events.eventQueued();
        this.deps.onDropped?.('rejected', 1);
    }

    /** Past the bound's age: dropped, and each account's activity and webhook say how many (once an hour, on one instance). */
    async #expireNowAndThen(): Promise<void> {
        const { store, clock } = this.deps;
        const now = clock.now().getTime();
        if (now - this.#expiredAt < EXPIRY_EVERY_MS) return;
        this.#expiredAt = now;
        const until = new Date(now + EXPIRY_EVERY_MS - 1000).toISOString();
        if (!(await store.leases.acquire(EXPIRY_LEASE, `${this.#holder}:${randomToken(4)}`, { now: new Date(now).toISOString(), until })))
            return;
        await this.expire();
    }

    /** Drops the kept Tasks older than the bound now; how many in all. */
    async expire(): Promise<number> {
        const { store, clock } = this.deps;
        const now = clock.now();
        const at = now.toISOString();
        const days = Math.round(this.options.maxAgeMs / (24 * 3600_000));
        const dropped = await store.transaction(async (tx) => {
            const counts = await tx.kept.expire(new Date(now.getTime() - this.options.maxAgeMs).toISOString());
            for (const { accountId, count } of counts) {
                const reason = `${count} kept call ${count === 1 ? 'Task was' : 'Tasks were'} older than ${days} days, the bound, and dropped without being made.`;
                await tx.audit.append({ at, accountId, action: 'tasks_dropped', outcome: 'expired', detail: reason });
                const waiting = (await tx.kept.summary(accountId)).count;
                await queueCallEvent(tx, { accountId, type: 'calls.dropped', at, data: { reason, calls: { count, waiting } } });
            }
            return counts;
        });
        const total = dropped.reduce((sum, { count }) => sum + count, 0);
        if (total) {
            this.deps.logger.warn({ dropped: total }, 'kept call Tasks past their bound were dropped');
            this.deps.onDropped?.('expired', total);
            this.deps.events.eventQueued();
        }
        return total;
    }
}

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error));
