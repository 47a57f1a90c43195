// Over 400 lines on purpose: the end-of-call Task's whole path (the ledger's claim, the look before a create, the create,
// keeping what cannot be made now) is one sequence of steps that share their claim, read top to bottom.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../clock.ts';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { SalesforceError, SalesforceUnavailable } from '../salesforce/gateway.ts';
import { untilDeadline } from '../link/deadline.ts';
import { permissionMissing } from '../link/messages.ts';
import type { OrgClient } from '../link/orgClient.ts';
import { accountLock, type Store } from '../store/store.ts';
import { ReadCache } from '../store/readCache.ts';
import type {
    KeptTaskReason,
    KeptTaskRecord,
    KeptTasksSummary,
    LinkRecord,
    MatchingSettings,
    TaskLedgerEntry,
    TaskMappingRecord
} from '../store/types.ts';
import { id15, normalizeSalesforceId } from '../salesforceIds.ts';
import { queueCallEvent } from '../link/outbox.ts';
import type { LinkEvents } from '../link/events.ts';
import { ledgerKey, type CallLedger } from './ledger.ts';
import { soqlString } from './phone.ts';
import type { LookupMatch, TaskInput } from './schemas.ts';
import { lookupCaller, type LookupInput } from './lookup.ts';
import { gist, readError } from './refusals.ts';
import { CallSettingsService, type CallSettings, type CallSettingsPatch } from './callSettings.ts';
import {
    FIRST_TRY_MS,
    KeptForAnotherOrg,
    keepReason,
    keptTasksFull,
    queuedResult,
    type QueuedResult,
    type TaskState
} from './keptAnswers.ts';
import { mappedFields } from './taskMapping.ts';

/** A retry that finds its call claimed by another instance waits this long for that instance's Task, looking this often. */
const CLAIM_WAIT_MS = 10_000;
const CLAIM_POLL_MS = 50;

const callInProgress = (): AppError =>
    new AppError(
        'CALL_IN_PROGRESS',
        'Another request is creating this call’s Task right now. Retry in a few seconds: the retry answers with that Task, never a second one.',
        409,
        { retryAfterSeconds: 5 }
    );

/** A Task create cut off by the request's budget may or may not have reached Salesforce: the retry finds out. */
const taskDeadlineExceeded = (): AppError =>
    new AppError(
        'DEADLINE_EXCEEDED',
        'Salesforce did not answer in time, so the backend stopped waiting. Retry with the same call id: the retry answers with the call’s Task if Salesforce made it, and never makes a second one.',
        504
    );

/** One call's Task request, as the steps of its creation pass it on. */
interface TaskCall {
    accountId: string;
    link: LinkRecord;
    orgId: string;
    callId: string;
    input: TaskInput;
    deadline: AbortSignal | undefined;
    /** A live call (not the replay of a kept one): its claim answers the kept row when the call is kept. */
    live: boolean;
    /** The account's Task mapping as the request's authentication read it; read from the store when absent. */
    mapping?: { task: TaskMappingRecord | undefined };
}

export interface TaskResult {
    taskId: string;
    created: boolean;
}

/** Salesforce's answers to a Task create that mean "this Task, as sent, is wrong". */
const TASK_REJECTIONS = new Set([
    'INVALID_FIELD',
    'INVALID_CROSS_REFERENCE_KEY',
    'MALFORMED_ID',
    'FIELD_INTEGRITY_EXCEPTION',
    'FIELD_CUSTOM_VALIDATION_EXCEPTION',
    'STRING_TOO_LONG',
    'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
    'REQUIRED_FIELD_MISSING',
    'INACTIVE_OWNER_OR_USER',
    'INVALID_TYPE_ON_FIELD_IN_RECORD',
    'JSON_PARSER_ERROR',
    'INVALID_ID_FIELD'
]);

const DIRECTION = { inbound: 'Inbound', outbound: 'Outbound', internal: 'Internal' } as const;

/** Salesforce's refusals of a Task that a mapping saved earlier can cause: the Task is then made with the default. */
const MAPPING_REFUSALS = new Set([
    'INVALID_FIELD_FOR_INSERT_UPDATE',
    'INVALID_FIELD',
    'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
    'INVALID_CROSS_REFERENCE_KEY',
    'JSON_PARSER_ERROR',
    'STRING_TOO_LONG'
]);

const pick = <T extends object, K extends keyof T>(from: T, ...keys: K[]): Partial<Pick<T, K>> =>
    Object.fromEntries(keys.filter((k) => from[k] !== undefined).map((k) => [k, from[k]])) as Partial<Pick<T, K>>;

/**
 * The automated call actions: the screen-pop lookup and the end-of-call Task, acting in the linked
 * org as the API user through the OrgClient.
 */
export class CallActions {
    readonly #inFlight = new Map<string, Promise<TaskResult | QueuedResult>>();

    /** Accounts this process saw keep Tasks: a Task made for one of them tells the replay that the org answers again. */
    readonly #keeping = new Set<string>();

    readonly #settings: CallSettingsService;

    /**
     * The links live calls act through, kept until the store says the account changed (store/readCache.ts): on
     * PostgreSQL a change made on another instance empties it at its change notice, as it does the link status.
     */
    readonly #links: ReadCache<LinkRecord>;

    constructor(
        private readonly deps: {
            org: OrgClient;
            ledger: CallLedger;
            clock: Clock;
            logger: Logger;
            store: Store;
            /** Kept Tasks per account at most (KEPT_TASKS_MAX_PER_ACCOUNT), and for how long (KEPT_TASKS_MAX_AGE_DAYS). */
            maxKeptPerAccount: number;
            maxKeptAgeDays?: number;
            /** The lookup reserve of accounts that set none (API_GUARD_RESERVE_PERCENT). */
            defaultReservePercent?: number;
            events?: LinkEvents;
            /** Told of each Task kept (metrics). */
            onKept?: (reason: KeptTaskReason) => void;
            /** Told that the account's org answered a Task: its kept ones may be made now. */
            onOrgAnswered?: (accountId: string) => void;
        }
    ) {
        this.#settings = new CallSettingsService(deps);
        this.#links = new ReadCache(deps.store.changes);
    }

    /**
     * The screen pop (lookup.ts): the records whose phone fields hold the caller's number, in the account's order. One API
     * call. `matching`: the account's settings as the request's authentication read them (else read here).
     */
    async lookup(
        accountId: string,
        input: LookupInput,
        deadline?: AbortSignal,
        matching?: { settings: MatchingSettings | undefined }
    ): Promise<{ matches: LookupMatch[] }> {
        const settings = matching ? matching.settings : (await this.deps.store.accounts.get(accountId))?.callSettings?.matching;
        return lookupCaller(this.deps.org, accountId, input, settings, deadline);
    }

    /**
     * The call's Task, made at most once per callId: the ledger answers a retry without asking
     * Salesforce; concurrent requests for one callId share one creation. `deadline` (the request's
     * budget, the first request's for a shared creation) cancels the Salesforce requests. A Task that
     * cannot be made now (the org over its API limit, Salesforce unreachable or too slow, the link dead
     * or unlinked) is kept and made later (rule 13): the answer is then `{ state: "queued" }`, and a retry
     * of a kept call answers its state as it is (the ledger's claim reads the kept row in the same store request).
     * `mapping`: the account's Task mapping as the request's authentication read it (else read here, per Task).
     */
    async logTask(
        accountId: string,
        callId: string,
        input: TaskInput,
        deadline?: AbortSignal,
        mapping?: { task: TaskMappingRecord | undefined }
    ): Promise<TaskResult | QueuedResult> {
        try {
            const result = await this.#logTaskNow(accountId, callId, input, deadline, { mapping });
            if ('state' in result) return result;
            if (this.#keeping.has(accountId)) this.deps.onOrgAnswered?.(accountId);
            return result;
        } catch (error) {
            const reason = keepReason(error);
            if (!reason) throw error;
            return this.#keep(accountId, callId, input, reason, error as AppError);
        }
    }

    /** A kept Task, made by the replay through the same ledger as a live one; KeptForAnotherOrg when the link moved. */
    async makeKept(row: KeptTaskRecord): Promise<TaskResult> {
        const input = { ...(row.input as TaskInput) };
        input.activityDate ??= row.callAt.slice(0, 10);
        const result = await this.#logTaskNow(row.accountId, row.callId, input, undefined, { keptFor: row.orgId });
        if ('state' in result) throw new Error('The replay of a kept Task was answered as kept.'); // its claim never reads the kept row
        return result;
    }

    /** What the platform can read of a call's Task: kept (and why), made, or being made now; NOT_FOUND otherwise. */
    async taskState(accountId: string, callId: string): Promise<TaskState> {
        const kept = await this.deps.store.kept.get(accountId, callId);
        if (kept) return queuedResult(kept);
        const link = await this.deps.store.links.get(accountId);
        const known = link?.orgId ? await this.deps.ledger.find(accountId, link.orgId, callId) : undefined;
        if (known?.taskId) return { state: 'created', taskId: known.taskId };
        if (known) return { state: 'in_progress' };
        throw new AppError(
            'NOT_FOUND',
            'No Task is known for this call in the org linked now: it was never sent, or was made longer ago than the backend remembers (14 days).',
            404
        );
    }

    /** `keptFor`: the replay of a Task kept for that org; else a live call, with its account's mapping when the request read it. */
    async #logTaskNow(
        accountId: string,
        callId: string,
        input: TaskInput,
        deadline: AbortSignal | undefined,
        options: { keptFor?: string; mapping?: { task: TaskMappingRecord | undefined } }
    ): Promise<TaskResult | QueuedResult> {
        const { org } = this.deps;
        const { keptFor, mapping } = options;
        const link = (keptFor === undefined && (await this.#linkedNow(accountId))) || (await org.activeLink(accountId));
        const orgId = await org.orgIdOf(accountId, link, deadline);
        if (keptFor !== undefined && keptFor !== '' && id15(keptFor) !== id15(orgId)) throw new KeptForAnotherOrg(orgId);
        const key = ledgerKey(accountId, orgId, callId);
        const live = keptFor === undefined;
        const running = this.#inFlight.get(key);
        if (running) {
            const shared = await untilDeadline(running, deadline);
            if (!('state' in shared)) return { taskId: shared.taskId, created: false };
            // A live request found the call kept and made nothing: a live one answers the same, the replay makes the Task.
            if (live) return shared;
            return this.#logTaskNow(accountId, callId, input, deadline, options);
        }
        const work = this.#logTask({ accountId, link, orgId, callId, input, deadline, live, ...(mapping ? { mapping } : {}) })
            .catch((error: unknown) => {
                throw deadline?.aborted ? taskDeadlineExceeded() : error;
            })
            .finally(() => this.#inFlight.delete(key));
        this.#inFlight.set(key, work);
        return work;
    }

    /** The account's link from the cache when it is one calls may use; undefined otherwise (activeLink reads it and says why not). */
    async #linkedNow(accountId: string): Promise<LinkRecord | undefined> {
        const link = await this.#links.get(accountId, async () => {
            const found = await this.deps.store.links.get(accountId);
            return found && { value: found, tags: { accountId } };
        });
        return link?.status === 'needs_relink' ? undefined : link;
    }

    /** Keeps the call's Task for later, within the account's bound; the first one of a batch is recorded and announced. */
    async #keep(accountId: string, callId: string, input: TaskInput, reason: KeptTaskReason, error: AppError): Promise<QueuedResult> {
        const { store, clock, maxKeptPerAccount } = this.deps;
        const link = await store.links.get(accountId);
        // Unlinked: kept for the org it was linked to last, if the audit still says which; never linked, nothing to keep for.
        const orgId = link ? link.orgId : await lastLinkedOrg(store, accountId);
        if (orgId === undefined) throw error;
        const now = clock.now();
        const at = now.toISOString();
        const record: KeptTaskRecord = {
            accountId,
            callId,
            orgId,
            input: { ...input },
            callAt: at,
            reason,
            detail: gist(error.message),
            state: 'waiting',
            attempts: 0,
            nextAttemptAt: new Date(now.getTime() + FIRST_TRY_MS[reason]).toISOString()
        };
        const { row, started } = await store.transaction(async (tx) => {
            await tx.lock(accountLock(accountId));
            const existing = await tx.kept.get(accountId, callId);
            if (existing) return { row: existing, started: false };
            const summary = await tx.kept.summary(accountId);
            if (summary.count >= maxKeptPerAccount) throw keptTasksFull(maxKeptPerAccount);
            await tx.kept.add(record);
            if (summary.count > 0) return { row: record, started: false };
            // The first of a batch: the activity and the platform hear of it once, not for every call.
            await tx.audit.append({
                at,
                accountId,
                action: 'tasks_kept',
                outcome: reason,
                ...(orgId ? { orgId } : {}),
                ...(link?.username ? { username: link.username } : {}),
                detail: `Call Tasks are kept from ${at} on: ${gist(error.message)}`
            });
            await queueCallEvent(tx, {
                accountId,
                type: 'calls.kept',
                at,
                data: { ...(orgId ? { orgId } : {}), calls: { count: 1, waiting: 1, reason } }
            });
            return { row: record, started: true };
        });
        if (row === record) {
            this.#keeping.add(accountId);
            this.deps.onKept?.(reason);
            this.deps.logger.warn({ accountId, callId, reason }, 'call Task kept for later');
        }
        if (started) this.deps.events?.eventQueued();
        return queuedResult(row);
    }

    /** The account's kept Tasks as the status and the platform see them, with the bound. */
    async keptSummary(accountId: string): Promise<KeptTasksSummary & { bound: { maxPerAccount: number; maxAgeDays: number } }> {
        const summary = await this.deps.store.kept.summary(accountId);
        return { ...summary, bound: { maxPerAccount: this.deps.maxKeptPerAccount, maxAgeDays: this.deps.maxKeptAgeDays ?? 14 } };
    }

    settings(accountId: string): Promise<CallSettings> {
        return this.#settings.get(accountId);
    }

    /** Sets the account's call settings (see CallSettingsService.update): what the body leaves out stays. */
    updateSettings(accountId: string, patch: CallSettingsPatch, deadline?: AbortSignal): Promise<CallSettings> {
        return this.#settings.update(accountId, patch, deadline);
    }

    /** Who claims calls in this process (the ledger's claimant, kept alive by its heartbeat). */
    get claimant(): string {
        return this.deps.ledger.claimant;
    }

    /** The replay found none left for the account. */
    keptDrained(accountId: string): void {
        this.#keeping.delete(accountId);
    }

    async #logTask(call: TaskCall): Promise<TaskResult | QueuedResult> {
        const { accountId, link, orgId, callId, deadline } = call;
        const { ledger, clock } = this.deps;
        const waitUntil = clock.now().getTime() + CLAIM_WAIT_MS;
        for (;;) {
            if (deadline?.aborted) throw taskDeadlineExceeded();
            // One store request: the kept row (a live call), the ledger's entry, or the claim when there is neither.
            const claim = call.live
                ? await ledger.claimLive(accountId, orgId, callId)
                : await this.#claimForReplay(accountId, orgId, callId);
            if (claim.kept) return queuedResult(claim.kept);
            const known = claim.entry;
            if (known?.taskId) return { taskId: known.taskId, created: false };
            if (known) {
                // Another instance claimed this call and may be creating its Task right now: its answer lands in the ledger.
                if (await ledger.heldElsewhere(known)) {
                    if (clock.now().getTime() >= waitUntil) throw callInProgress();
                    await sleep(CLAIM_POLL_MS);
                    continue;
                }
                // A claim no one holds any more: an earlier create may have reached Salesforce, so look before creating.
                if (!(await ledger.takeOver(accountId, orgId, callId, known))) continue;
                const found = await this.#madeEarlier(call);
                if (found) return found;
            } else if (!(await ledger.provesAbsence(accountId, orgId, link))) {
                // Claimed now. A ledger that cannot vouch for this account and org may simply not know an earlier Task: look
                // first, under the claim; should the look fail, nothing was sent, so the claim goes and a retry looks again.
                const found = await this.#madeEarlier(call).catch(async (error: unknown) => {
                    await ledger.forget(accountId, orgId, callId);
                    throw error;
                });
                if (found) return found;
            }
            return this.#create(call);
        }
    }

    /** The replay's claim (its call's row is kept, so the kept row is not read): the entry already there, or `{}` when claimed. */
    async #claimForReplay(accountId: string, orgId: string, callId: string): Promise<{ kept?: undefined; entry?: TaskLedgerEntry }> {
        const { ledger } = this.deps;
        const known = await ledger.find(accountId, orgId, callId);
        if (known) return { entry: known };
        const claimed = await ledger.markPending(accountId, orgId, callId);
        return claimed ? { entry: claimed } : {};
    }

    /** The create, under this process's claim of the call. */
    async #create(call: TaskCall): Promise<TaskResult> {
        const { accountId, link, orgId, callId, input, deadline } = call;
        const { org, ledger } = this.deps;
        let taskId: string;
        const post = (body: Record<string, unknown>) =>
            org.request<{ id?: unknown; success?: unknown }>(
                accountId,
                link,
                { method: 'POST', path: '/sobjects/Task', body, idempotent: false },
                deadline
            );
        try {
            const mapping = call.mapping ? call.mapping.task : (await this.deps.store.accounts.get(accountId))?.callSettings?.task;
            let result: { id?: unknown; success?: unknown };
            try {
                result = await post(this.#taskFields(callId, orgId, input, mapping));
            } catch (error) {
                // Rule 13: a mapping the org no longer accepts (a field's access or a record type taken away since it was
                // saved) must not lose the call; Salesforce made nothing, so the Task is made once more with the default.
                if (!mapping || !(error instanceof SalesforceError) || !MAPPING_REFUSALS.has(error.code)) throw error;
                this.deps.logger.warn(
                    { accountId, callId, code: error.code },
                    'the org refused the Task mapping; Task made with the default'
                );
                result = await post(this.#taskFields(callId, orgId, input, undefined));
            }
            if (typeof result.id !== 'string' || result.success === false) {
                throw new SalesforceUnavailable(
                    'Salesforce answered the Task create without an id. Try again; the retry will not make a second Task.',
                    true
                );
            }
            taskId = result.id;
        } catch (error) {
            if (!(error instanceof SalesforceUnavailable && error.outcomeUnknown)) {
                await ledger.forget(accountId, orgId, callId);
            } else {
                await ledger.abandon(accountId, orgId, callId);
                this.deps.logger.warn({ accountId, callId }, 'task create outcome unknown; a retry looks for it by CallObject first');
            }
            throw taskError(error);
        }
        this.#record(call, taskId);
        return { taskId, created: true };
    }

    /** The server's: lets other instances tell that this one is alive, so its claims are not waited for once it died. */
    start(): void {
        this.deps.ledger.startHeartbeat();
    }

    stop(): Promise<void> {
        return this.deps.ledger.stopHeartbeat();
    }

    /** Resolves once the ledger's changes so far are in the data file. */
    settled(): Promise<void> {
        return this.deps.ledger.settled();
    }

    #record({ accountId, orgId, callId }: TaskCall, taskId: string): void {
        this.deps.ledger.markCreated(accountId, orgId, callId, taskId).catch((error: unknown) => {
            this.deps.logger.error(
                { accountId, callId, err: error instanceof Error ? error.message : String(error) },
                'could not save a Task id in the ledger; a retry finds the Task by CallObject'
            );
        });
    }

    /** A Task Salesforce already has for this call, made by an earlier create the ledger does not know: recorded. */
    async #madeEarlier(call: TaskCall): Promise<TaskResult | undefined> {
        const taskId = await this.#findByCallObject(call);
        if (!taskId) return undefined;
        this.#record(call, taskId);
        return { taskId, created: false };
    }

    async #findByCallObject({ accountId, link, callId, deadline }: TaskCall): Promise<string | undefined> {
        // Only Tasks this account's API user made: another account linked to the org may use the same call ids.
        const userId = await this.deps.org.userIdOf(accountId, link, deadline);
        const soql = `SELECT Id FROM Task WHERE CallObject = ${soqlString(callId)} AND CreatedById = ${soqlString(userId)} ORDER BY CreatedDate ASC LIMIT 1`;
        let result: { records?: Array<{ Id?: unknown }> };
        try {
            result = await this.deps.org.request(
                accountId,
                link,
                { method: 'GET', path: `/query?q=${encodeURIComponent(soql)}`, idempotent: true },
                deadline
            );
        } catch (error) {
            throw readError(error, 'look for the call’s Task by CallObject');
        }
        const id = result.records?.[0]?.Id;
        return typeof id === 'string' ? id : undefined;
    }

    /** The Task: the account's mapping (the default when it has none) under what the call itself fills. */
    #taskFields(callId: string, orgId: string, input: TaskInput, mapping: TaskMappingRecord | undefined): Record<string, unknown> {
        const direction = DIRECTION[input.direction];
        // A record type id is the org's own: after a relink to another org the mapping applies without it.
        const forOrg = mapping?.recordType && id15(mapping.checkedOrgId) !== id15(orgId) ? { ...mapping, recordType: undefined } : mapping;
        // The request's own whoId or whatId wins: the match then relates nothing, so the two never disagree.
        const m = input.whoId || input.whatId ? undefined : input.match;
        const match = m && {
            sobjectType: m.sobjectType,
            id: normalizeSalesforceId(m.id)!,
            ...(m.accountId ? { accountId: normalizeSalesforceId(m.accountId)! } : {}),
            ...(m.personContactId ? { personContactId: normalizeSalesforceId(m.personContactId)! } : {})
        };
        const fields: Record<string, unknown> = {
            ...mappedFields(forOrg, {
                callId,
                direction,
                durationSeconds: input.durationSeconds,
                ...pick(input, 'disposition', 'phone'),
                ...(match ? { match } : {})
            }),
            TaskSubtype: 'Call',
            CallType: direction,
            CallDurationInSeconds: input.durationSeconds,
            CallObject: callId,
            ActivityDate: input.activityDate ?? this.deps.clock.now().toISOString().slice(0, 10)
        };
        if (input.subject !== undefined) fields['Subject'] = input.subject;
        if (input.description !== undefined) fields['Description'] = input.description;
        if (input.whoId) fields['WhoId'] = normalizeSalesforceId(input.whoId);
        if (input.whatId) fields['WhatId'] = normalizeSalesforceId(input.whatId);
        if (input.ownerId) fields['OwnerId'] = normalizeSalesforceId(input.ownerId);
        return fields;
    }
}

function taskError(error: unknown): unknown {
    if (!(error instanceof SalesforceError)) return error;
    if (
        error.code === 'INSUFFICIENT_ACCESS_OR_READONLY' ||
        error.code === 'INVALID_FIELD_FOR_INSERT_UPDATE' ||
        error.code === 'INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY'
    ) {
        return permissionMissing(`Salesforce refused to create the Task as the API user (${error.code}: ${gist(error.message)}).`);
    }
    if (TASK_REJECTIONS.has(error.code)) {
        return new AppError('SALESFORCE_REJECTED', `Salesforce rejected the Task (${error.code}): ${gist(error.message)}`, 422, {
            salesforceCode: error.code
        });
    }
    return new AppError('SALESFORCE_ERROR', `Salesforce refused the Task (${error.code}: ${gist(error.message)}).`, 502);
}

/** The org an unlinked account was linked to last, from what its audit still holds (newest first); undefined when none. */
async function lastLinkedOrg(store: Store, accountId: string): Promise<string | undefined> {
    const page = await store.audit.page(accountId, { limit: 50 });
    return page.entries.find((e) => e.orgId && ['unlink', 'link', 'relink', 'status_changed', 'tasks_kept'].includes(e.action))?.orgId;
}
