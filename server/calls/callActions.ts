import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../clock.ts';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { SalesforceError, SalesforceUnavailable } from '../salesforce/gateway.ts';
import { untilDeadline } from '../link/deadline.ts';
import { deadlineExceeded, permissionMissing } from '../link/messages.ts';
import type { OrgClient } from '../link/orgClient.ts';
import type { LinkRecord } from '../store/types.ts';
import { normalizeSalesforceId } from '../salesforceIds.ts';
import { ledgerKey, type CallLedger } from './ledger.ts';
import { phoneSearch, phoneTerms, soqlString } from './phone.ts';
import type { LookupMatch, TaskInput } from './schemas.ts';

export const DEFAULT_REGION = 'US';

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

/** Salesforce's answers that mean "the API user may not do this". */
const ACCESS_REFUSALS = new Set([
    'INSUFFICIENT_ACCESS_OR_READONLY',
    'INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY',
    'INVALID_FIELD_FOR_INSERT_UPDATE',
    'INVALID_TYPE',
    'INVALID_FIELD'
]);

const DIRECTION = { inbound: 'Inbound', outbound: 'Outbound', internal: 'Internal' } as const;

/**
 * The automated call actions: the screen-pop lookup and the end-of-call Task, acting in the linked
 * org as the API user through the OrgClient.
 */
export class CallActions {
    readonly #inFlight = new Map<string, Promise<TaskResult>>();

    constructor(
        private readonly deps: {
            org: OrgClient;
            ledger: CallLedger;
            clock: Clock;
            logger: Logger;
        }
    ) {}

    /**
     * The Contacts, Leads and Accounts whose phone fields hold this number. One API call. `deadline` (the request's
     * budget) cancels it: the answer is then DEADLINE_EXCEEDED.
     */
    async lookup(
        accountId: string,
        input: { phone: string; region?: string },
        deadline?: AbortSignal
    ): Promise<{ matches: LookupMatch[] }> {
        const terms = phoneTerms(input.phone, input.region ?? DEFAULT_REGION);
        const { org } = this.deps;
        const link = await org.activeLink(accountId);
        let body: { searchRecords?: unknown[] } | unknown[];
        try {
            body = await org.request(
                accountId,
                link,
                { method: 'GET', path: `/search?q=${encodeURIComponent(phoneSearch(terms))}`, idempotent: true },
                deadline
            );
        } catch (error) {
            throw deadline?.aborted ? deadlineExceeded() : readError(error, 'search Contacts, Leads and Accounts by phone');
        }
        const records = Array.isArray(body) ? body : Array.isArray(body.searchRecords) ? body.searchRecords : [];
        const seen = new Set<string>();
        const matches: LookupMatch[] = [];
        for (const raw of records) {
            const match = toMatch(raw);
            if (match && !seen.has(match.id)) {
                seen.add(match.id);
                matches.push(match);
            }
        }
        return { matches };
    }

    /**
     * The call's Task, made at most once per callId: the ledger answers a retry without asking
     * Salesforce; concurrent requests for one callId share one creation. `deadline` (the request's
     * budget, the first request's for a shared creation) cancels the Salesforce requests: the answer
     * is then DEADLINE_EXCEEDED, and a retry finds out whether the Task was made.
     */
    async logTask(accountId: string, callId: string, input: TaskInput, deadline?: AbortSignal): Promise<TaskResult> {
        const { org } = this.deps;
        const link = await org.activeLink(accountId);
        const orgId = await org.orgIdOf(accountId, link, deadline);
        const key = ledgerKey(accountId, orgId, callId);
        const running = this.#inFlight.get(key);
        if (running) return { taskId: (await untilDeadline(running, deadline)).taskId, created: false };
        const work = this.#logTask({ accountId, link, orgId, callId, input, deadline })
            .catch((error: unknown) => {
                throw deadline?.aborted ? taskDeadlineExceeded() : error;
            })
            .finally(() => this.#inFlight.delete(key));
        this.#inFlight.set(key, work);
        return work;
    }

    async #logTask(call: TaskCall): Promise<TaskResult> {
        const { accountId, link, orgId, callId, deadline } = call;
        const { ledger, clock } = this.deps;
        const waitUntil = clock.now().getTime() + CLAIM_WAIT_MS;
        for (;;) {
            if (deadline?.aborted) throw taskDeadlineExceeded();
            const known = await ledger.find(accountId, orgId, callId);
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
            } else {
                // A ledger that cannot vouch for this account and org may simply not know an earlier Task: look first.
                if (!(await ledger.provesAbsence(accountId, orgId, link))) {
                    const found = await this.#madeEarlier(call);
                    if (found) return found;
                }
                if (await ledger.markPending(accountId, orgId, callId)) continue; // claimed elsewhere first
            }
            return this.#create(call);
        }
    }

    /** The create, under this process's claim of the call. */
    async #create(call: TaskCall): Promise<TaskResult> {
        const { accountId, link, orgId, callId, input, deadline } = call;
        const { org, ledger } = this.deps;
        let taskId: string;
        try {
            const result = await org.request<{ id?: unknown; success?: unknown }>(
                accountId,
                link,
                { method: 'POST', path: '/sobjects/Task', body: this.#taskFields(callId, input), idempotent: false },
                deadline
            );
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

    #taskFields(callId: string, input: TaskInput): Record<string, unknown> {
        const direction = DIRECTION[input.direction];
        const fields: Record<string, unknown> = {
            Subject: input.subject ?? `${direction} call`,
            Status: 'Completed',
            TaskSubtype: 'Call',
            Type: 'Call',
            CallType: direction,
            CallDurationInSeconds: input.durationSeconds,
            CallObject: callId,
            ActivityDate: input.activityDate ?? this.deps.clock.now().toISOString().slice(0, 10)
        };
        if (input.disposition !== undefined) fields['CallDisposition'] = input.disposition;
        if (input.description !== undefined) fields['Description'] = input.description;
        if (input.whoId) fields['WhoId'] = normalizeSalesforceId(input.whoId);
        if (input.whatId) fields['WhatId'] = normalizeSalesforceId(input.whatId);
        if (input.ownerId) fields['OwnerId'] = normalizeSalesforceId(input.ownerId);
        return fields;
    }
}

function toMatch(raw: unknown): LookupMatch | undefined {
    if (!raw || typeof raw !== 'object') return undefined;
    const record = raw as Record<string, unknown>;
    const type = (record['attributes'] as { type?: unknown } | undefined)?.type;
    const id = record['Id'];
    if ((type !== 'Contact' && type !== 'Lead' && type !== 'Account') || typeof id !== 'string') return undefined;
    const text = (key: string): string | undefined => (typeof record[key] === 'string' && record[key] ? record[key] : undefined);
    const match: LookupMatch = { sobjectType: type, id, name: text('Name') ?? '' };
    const phone = text('Phone');
    if (phone) match.phone = phone;
    if (type === 'Contact' && text('AccountId')) match.accountId = text('AccountId');
    if (type === 'Lead' && text('Company')) match.company = text('Company');
    return match;
}

/** A query or search Salesforce refused: a missing permission, or something we should not have sent. */
function readError(error: unknown, what: string): unknown {
    if (!(error instanceof SalesforceError)) return error;
    if (ACCESS_REFUSALS.has(error.code) || error.code.startsWith('INSUFFICIENT_ACCESS')) {
        return permissionMissing(`The API user may not ${what} (${error.code}: ${gist(error.message)}).`);
    }
    return new AppError('SALESFORCE_ERROR', `Salesforce refused to ${what} (${error.code}: ${gist(error.message)}).`, 502);
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

/** The reason in a Salesforce message (positioned SOQL errors put it on the last line). */
const gist = (message: string): string => message.trim().split('\n').filter(Boolean).slice(-1)[0]?.slice(0, 500) ?? message;
