// The preview's stand-in for the Apex class ContactCenterLinkController (with ContactCenterLinkClient):
// the same methods, inputs, outputs (the typed contract: only the Apex classes' @AuraEnabled fields, with
// apiUser.accountLimit for the backend's apiUser.limit; getStatus and verify add `thisOrg`) and errors. Errors
// reach the components as the platform delivers an AuraHandledException: { body: { message } }, the message
// being the controller's JSON {"code","message"}.
// Where the Apex calls callout:ContactCenterLink/api/v1, this module calls the demo's stand-in for the callout
// (/preview/callout/ORG/api/v1), which sends the request to the org's Named Credential URL with the key the org's
// External Credential holds: the page never sees a key, and a sandbox without its key fails as the org's card would.

import { formatLabel } from 'c/labelFormat';
import { PREVIEW_HEADERS, previewContext } from 'preview/context';
import ERROR_INVALID_CALLER_MATCHING from '@salesforce/label/c.Ccl_ErrorInvalidCallerMatching';
import ERROR_INVALID_CURSOR from '@salesforce/label/c.Ccl_ErrorInvalidCursor';
import ERROR_INVALID_ENVIRONMENT from '@salesforce/label/c.Ccl_ErrorInvalidEnvironment';
import ERROR_INVALID_KEPT_CHOICE from '@salesforce/label/c.Ccl_ErrorInvalidKeptChoice';
import ERROR_INVALID_SESSION_ID from '@salesforce/label/c.Ccl_ErrorInvalidSessionId';
import ERROR_INVALID_TASK_MAPPING from '@salesforce/label/c.Ccl_ErrorInvalidTaskMapping';
import ERROR_NO_PERMISSION from '@salesforce/label/c.Ccl_ErrorNoPermission';
import ERROR_UNEXPECTED_RESPONSE from '@salesforce/label/c.Ccl_ErrorUnexpectedResponse';
import ERROR_UNREACHABLE from '@salesforce/label/c.Ccl_ErrorUnreachable';

const ENVIRONMENTS = new Set(['production', 'sandbox']);
const SESSION_ID = /^[A-Za-z0-9_-]{1,128}$/;
/** ContactCenterLinkController.ACTIVITY_PAGE_SIZE and its cursor pattern. */
const ACTIVITY_PAGE_SIZE = 10;
const ACTIVITY_CURSOR = /^[1-9][0-9]{0,17}$/;
/** ContactCenterLinkController.WEBHOOK_DELIVERIES_SHOWN. */
const WEBHOOK_DELIVERIES_SHOWN = 5;
const LINK_STATUSES = new Set(['unlinked', 'linked', 'legacy', 'needs_relink']);
/** ContactCenterLinkController.KEPT_CHOICES. */
const KEPT_CHOICES = new Set(['make', 'drop']);
/** ContactCenterLinkController.TASK_MAPPING_MAX_LENGTH. */
const TASK_MAPPING_MAX_LENGTH = 100000;
/** ContactCenterLinkController.CALLER_MATCHING_MAX_LENGTH. */
const CALLER_MATCHING_MAX_LENGTH = 10000;
/** ContactCenterLinkClient.PHONE_OBJECTS. */
const PHONE_OBJECTS = ['Contact', 'Lead', 'Account'];
/** ContactCenterLinkClient's and ContactCenterLinkController's own codes. */
const CODE_UNREACHABLE = 'SERVICE_UNREACHABLE';
const CODE_UNEXPECTED_RESPONSE = 'UNEXPECTED_RESPONSE';
const CODE_FORBIDDEN = 'FORBIDDEN';
const CODE_VALIDATION_FAILED = 'VALIDATION_FAILED';

/** What the controller's AuraHandledException looks like to the component that called the method (ContactCenterLinkController.auraError). */
export function auraError(code, message, subjects) {
    return {
        ok: false,
        status: 500,
        statusText: 'Server Error',
        headers: {},
        body: {
            message: JSON.stringify({ code, message, ...(subjects?.length ? { subjects } : {}) }),
            exceptionType: 'AuraHandledException'
        }
    };
}

/**
 * ContactCenterLinkException: a message a person can act on, the backend's code and the HTTP status, if any, and
 * what a refused save was refused for (subjects).
 */
class ClientError extends Error {
    constructor(message, code, statusCode, subjects = []) {
        super(message);
        this.code = code;
        this.statusCode = statusCode;
        this.subjects = subjects;
    }
}

/** ContactCenterLinkClient.subjectsOf: the error's field, or each of its problems' subject; unreadable ones left out. */
function subjectsOf(f) {
    try {
        const field = f.text('field');
        const problems = f.children('problems').map((problem) => problem.text('subject'));
        return [field, ...problems].filter((subject) => typeof subject === 'string' && subject.trim());
    } catch (error) {
        if (error instanceof MalformedBody) {
            return [];
        }
        throw error;
    }
}

function unexpected(status) {
    return new ClientError(formatLabel(ERROR_UNEXPECTED_RESPONSE, String(status)), CODE_UNEXPECTED_RESPONSE, status);
}

/** ContactCenterLinkClient.MalformedBodyException: the body is not the contract's shape. */
class MalformedBody extends Error {}

/** ContactCenterLinkClient.JsonFields: one JSON object read field by field; a field of another type is malformed. */
class JsonFields {
    constructor(value, path) {
        if (!value || typeof value !== 'object' || Array.isArray(value)) {
            throw new MalformedBody(`${path} is not an object`);
        }
        this.fields = value;
        this.path = path;
    }

    read(key, isType, kind) {
        const value = this.fields[key];
        if (value == null) {
            return undefined;
        }
        if (!isType(value)) {
            throw new MalformedBody(`${this.path}.${key} is not ${kind}`);
        }
        return value;
    }

    text(key) {
        return this.read(key, (v) => typeof v === 'string', 'a string');
    }

    whole(key) {
        return this.read(key, Number.isInteger, 'a whole number');
    }

    flag(key) {
        return this.read(key, (v) => typeof v === 'boolean', 'true or false');
    }

    /** ContactCenterLinkClient.JsonFields.has: a value under key (null counts as none). */
    has(key) {
        return this.fields[key] != null;
    }

    child(key) {
        const value = this.fields[key];
        return value == null ? undefined : new JsonFields(value, `${this.path}.${key}`);
    }

    /** ContactCenterLinkClient.JsonFields.texts: the strings of an array, [] when absent. */
    texts(key) {
        const value = this.fields[key];
        if (value == null) {
            return [];
        }
        if (!Array.isArray(value)) {
            throw new MalformedBody(`${this.path}.${key} is not an array`);
        }
        if (!value.every((item) => typeof item === 'string')) {
            throw new MalformedBody(`${this.path}.${key} is not an array of strings`);
        }
        return [...value];
    }

    /** ContactCenterLinkClient.JsonFields.keys. */
    keys() {
        return Object.keys(this.fields);
    }

    /** ContactCenterLinkClient.JsonFields.scalar: [text, kind] of a text, number or true/false. */
    scalar(key) {
        const value = this.fields[key];
        if (typeof value === 'string') {
            return [value, 'text'];
        }
        if (typeof value === 'boolean') {
            return [String(value), 'boolean'];
        }
        if (typeof value === 'number') {
            return [String(value), 'number'];
        }
        throw new MalformedBody(`${this.path}.${key} is not text, a number or true/false`);
    }

    children(key) {
        const value = this.fields[key];
        if (value == null) {
            return [];
        }
        if (!Array.isArray(value)) {
            throw new MalformedBody(`${this.path}.${key} is not an array`);
        }
        return value.map((item, index) => new JsonFields(item, `${this.path}.${key}[${index}]`));
    }
}

/** The typed classes of ContactCenterLinkClient, as the component receives them (absent fields left out). */
const contract = {
    linkStatus(fields) {
        const status = fields.text('status');
        if (!LINK_STATUSES.has(status)) {
            throw new MalformedBody(`unknown status ${status}`);
        }
        return withoutEmpty({
            status,
            account: optional(fields.child('account'), (f) => withoutEmpty({ id: f.text('id'), name: f.text('name') })),
            link: optional(fields.child('link'), contract.linkInfo),
            apiUser: optional(fields.child('apiUser'), (f) =>
                withoutEmpty({
                    linkedAccounts: f.whole('linkedAccounts'),
                    accountLimit: f.whole('limit')
                })
            ),
            permissions: optional(fields.child('permissions'), (f) =>
                withoutEmpty({
                    checkedAt: f.text('checkedAt'),
                    checks: f.children('checks').map((check) =>
                        withoutEmpty({
                            id: check.text('id'),
                            label: check.text('label'),
                            ok: check.flag('ok'),
                            severity: check.text('severity'),
                            detail: check.text('detail')
                        })
                    )
                })
            ),
            apiUsage: optional(fields.child('apiUsage'), (f) =>
                withoutEmpty({
                    used: f.whole('used'),
                    max: f.whole('max'),
                    at: f.text('at')
                })
            ),
            egressAddresses: fields.texts('egressAddresses'),
            apiGuard: optional(fields.child('apiGuard'), (f) =>
                withoutEmpty({
                    since: f.text('since'),
                    remaining: f.whole('remaining'),
                    max: f.whole('max'),
                    reserve: f.whole('reserve')
                })
            ),
            keptTasks: optional(fields.child('keptTasks'), contract.keptTasks)
        });
    },
    /** ContactCenterLinkClient.KeptTasks: the reasons and the bound flattened into its fields. */
    keptTasks(f) {
        const reasons = f.child('reasons');
        const bound = f.child('bound');
        const kept = withoutEmpty({
            count: f.whole('count'),
            awaitingChoice: f.whole('awaitingChoice'),
            oldestCallAt: f.text('oldestCallAt'),
            awaitingOrgId: f.text('awaitingOrgId'),
            apiLimit: reasons?.whole('api_limit'),
            salesforceUnavailable: reasons?.whole('salesforce_unavailable'),
            needsRelink: reasons?.whole('needs_relink'),
            notLinked: reasons?.whole('not_linked'),
            maxPerAccount: bound?.whole('maxPerAccount'),
            maxAgeDays: bound?.whole('maxAgeDays')
        });
        if (kept.count === undefined) {
            throw new MalformedBody('no kept count');
        }
        return kept;
    },
    /** The TaskMapping and TaskFieldLine Apex classes: the field values as lines, the default row's first. */
    taskMapping(f) {
        const subject = f.text('subject');
        const relate = f.child('relate');
        const defaults = f.child('defaultFields');
        if (subject == null || !relate || !defaults) {
            throw new MalformedBody('no subject, relate or defaultFields');
        }
        const linesOf = (disposition, values) =>
            values.keys().map((field) => {
                const [value, kind] = values.scalar(field);
                return withoutEmpty({ disposition, field, value, kind });
            });
        const lines = linesOf(undefined, defaults);
        for (const row of f.children('dispositions')) {
            const values = row.child('fields');
            const disposition = row.text('disposition');
            if (!disposition?.trim() || !values) {
                throw new MalformedBody('a row without its disposition or fields');
            }
            lines.push(...linesOf(disposition, values));
        }
        return withoutEmpty({
            subject,
            recordType: f.text('recordType'),
            recordTypeId: f.text('recordTypeId'),
            relateContact: relate.text('contact'),
            relateLead: relate.text('lead'),
            relateAccount: relate.text('account'),
            placeholders: f.texts('placeholders'),
            isDefault: f.flag('isDefault'),
            checkedAt: f.text('checkedAt'),
            lines
        });
    },
    /** The CallerMatching and MatchingObject Apex classes: one entry per object, what is searched now beside its custom fields. */
    callerMatching(f) {
        const custom = f.child('customPhoneFields');
        const order = f.texts('order');
        const objectOrder = f.texts('objectOrder');
        const region = f.text('region');
        const isDefault = f.flag('isDefault');
        if (!custom || !region?.trim()) {
            throw new MalformedBody('no customPhoneFields or region');
        }
        const searched = f.child('searched');
        let checkedAt;
        let personAccounts;
        let fields;
        if (searched) {
            checkedAt = searched.text('checkedAt');
            personAccounts = searched.flag('personAccounts');
            fields = searched.child('fields');
            if (!checkedAt?.trim() || !fields) {
                throw new MalformedBody('searched without checkedAt or fields');
            }
        }
        const objects = PHONE_OBJECTS.map((sobjectType) =>
            withoutEmpty({
                sobjectType,
                customFields: custom.texts(sobjectType),
                searchedFields: fields?.has(sobjectType) ? fields.texts(sobjectType) : undefined
            })
        );
        return withoutEmpty({ objects, order, objectOrder, region, isDefault, checkedAt, personAccounts });
    },
    keptDecision(f) {
        const decision = withoutEmpty({ choice: f.text('choice'), count: f.whole('count'), waiting: f.whole('waiting') });
        if (!decision.choice || decision.count === undefined) {
            throw new MalformedBody('no choice or count');
        }
        return decision;
    },
    linkInfo(f) {
        return withoutEmpty({
            method: f.text('method'),
            environment: f.text('environment'),
            orgId: f.text('orgId'),
            orgName: f.text('orgName'),
            userId: f.text('userId'),
            username: f.text('username'),
            displayName: f.text('displayName'),
            instanceUrl: f.text('instanceUrl'),
            loginUrl: f.text('loginUrl'),
            linkedAt: f.text('linkedAt'),
            linkedBy: optional(f.child('linkedBy'), (u) =>
                withoutEmpty({
                    userId: u.text('userId'),
                    username: u.text('username')
                })
            ),
            lastVerifiedAt: f.text('lastVerifiedAt'),
            lastRefreshedAt: f.text('lastRefreshedAt'),
            lastError: optional(f.child('lastError'), contract.linkError)
        });
    },
    linkError(f) {
        return withoutEmpty({
            code: f.text('code'),
            message: f.text('message'),
            at: f.text('at'),
            subjects: subjectsOf(f)
        });
    },
    /** The LinkSession Apex class. */
    linkSession(f) {
        return withoutEmpty({
            id: f.text('id'),
            authorizeUrl: f.text('authorizeUrl'),
            expiresAt: f.text('expiresAt'),
            state: f.text('state'),
            error: optional(f.child('error'), contract.linkError)
        });
    },
    /** The ActivityPage and ActivityEntry Apex classes. */
    activityPage(f) {
        return withoutEmpty({
            entries: f.children('entries').map(contract.activityEntry),
            nextCursor: f.text('nextCursor')
        });
    },
    activityEntry(f) {
        const at = f.text('at');
        const action = f.text('action');
        const outcome = f.text('outcome');
        if (!at || !action) {
            throw new MalformedBody('an entry without at or action');
        }
        return withoutEmpty({
            at,
            action,
            outcome,
            actor: optional(f.child('actor'), (u) =>
                withoutEmpty({
                    userId: u.text('userId'),
                    username: u.text('username')
                })
            ),
            orgId: f.text('orgId'),
            username: f.text('username'),
            detail: f.text('detail')
        });
    },
    /** The WebhookDeliveries, WebhookDelivery and DeliveryAttempt Apex classes (type, from, to renamed there). */
    webhookDeliveries(f) {
        return {
            allowed: true,
            deliveries: f.children('deliveries').map(contract.webhookDelivery)
        };
    },
    webhookDelivery(f) {
        const delivery = withoutEmpty({
            id: f.text('id'),
            eventType: f.text('type'),
            createdAt: f.text('createdAt'),
            fromStatus: f.text('from'),
            toStatus: f.text('to'),
            state: f.text('state'),
            attempts: f.whole('attempts'),
            nextAttemptAt: f.text('nextAttemptAt'),
            deliveredAt: f.text('deliveredAt'),
            lastAttempt: optional(f.child('lastAttempt'), (a) =>
                withoutEmpty({
                    at: a.text('at'),
                    status: a.whole('status'),
                    error: a.text('error')
                })
            )
        });
        if (!delivery.id || !delivery.createdAt || !delivery.state) {
            throw new MalformedBody('a delivery without id, createdAt or state');
        }
        return delivery;
    },
    unlinkResult(f) {
        const status = f.text('status');
        if (!status) {
            throw new MalformedBody('no status');
        }
        return withoutEmpty({ status, revoked: f.flag('revoked') });
    }
};

function optional(fields, read) {
    return fields === undefined ? undefined : read(fields);
}

/** The body's one parse into a contract type; an unreadable body is an unexpected response. */
function typed({ status, text }, read) {
    try {
        return read(new JsonFields(parseJson(text), 'body'));
    } catch (error) {
        if (error instanceof MalformedBody) {
            throw unexpected(status);
        }
        throw error;
    }
}

/** Like Apex JSON.deserializeUntyped: MalformedBody when the body is blank or not JSON. */
function parseJson(text) {
    if (!text || !text.trim()) {
        throw new MalformedBody('empty body');
    }
    try {
        return JSON.parse(text);
    } catch {
        throw new MalformedBody('not JSON');
    }
}

async function send(method, path, body) {
    const { org } = await previewContext();
    // callout:ContactCenterLink/api/v1: the demo sends it to the org's Named Credential URL with the org's own key.
    const apiBase = `/preview/callout/${encodeURIComponent(org.key)}/api/v1`;
    const headers = {
        Accept: 'application/json',
        ...PREVIEW_HEADERS
    };
    if (body !== undefined) {
        headers['Content-Type'] = 'application/json';
    }
    // The demo answers what the Apex would get: the HttpResponse's status and body, or a CalloutException's message.
    let answer;
    try {
        const response = await fetch(`${apiBase}${path}`, {
            method,
            headers,
            body: body === undefined ? undefined : JSON.stringify(body),
            cache: 'no-store',
            credentials: 'omit'
        });
        answer = await response.json();
    } catch (error) {
        throw new ClientError(formatLabel(ERROR_UNREACHABLE, error?.message || 'network error'), CODE_UNREACHABLE);
    }
    if (answer?.error !== undefined || !Number.isInteger(answer?.status)) {
        throw new ClientError(formatLabel(ERROR_UNREACHABLE, String(answer?.error ?? 'no answer')), CODE_UNREACHABLE);
    }
    const { status } = answer;
    const text = typeof answer.body === 'string' ? answer.body : '';
    if (status < 200 || status > 299) {
        // The ErrorBody class: a message is required.
        const error = typed({ status, text }, (f) => {
            const inner = optional(f.child('error'), contract.linkError);
            if (!inner?.message?.trim()) {
                throw new MalformedBody('no error message');
            }
            return inner;
        });
        throw new ClientError(error.message, error.code, status, error.subjects);
    }
    return { status, text };
}

function withoutEmpty(object) {
    return Object.fromEntries(Object.entries(object).filter(([, value]) => value != null));
}

async function thisOrg() {
    const { org } = await previewContext();
    return org;
}

async function requirePermission() {
    const org = await thisOrg();
    if (!org.user?.canManageLink) {
        throw auraError(CODE_FORBIDDEN, ERROR_NO_PERMISSION);
    }
    return org;
}

/** The running admin (UserInfo.getUserId(), UserInfo.getUserName()). */
function currentUser(org) {
    return { userId: org.user.userId, username: org.user.username };
}

function withThisOrg(status, org) {
    return {
        ...status,
        thisOrg: {
            orgId: org.orgId,
            environment: org.environment,
            domainUrl: org.domainUrl,
            name: org.name,
            createdDate: org.createdDate
        }
    };
}

/** Runs a call the way the Apex methods do: a ContactCenterLinkException becomes an AuraHandledException. */
async function asAura(work) {
    try {
        return await work();
    } catch (error) {
        if (error instanceof ClientError) {
            throw auraError(error.code, error.message, error.subjects);
        }
        if (error && typeof error === 'object' && error.body) {
            throw error;
        }
        throw auraError(CODE_UNREACHABLE, formatLabel(ERROR_UNREACHABLE, error?.message || String(error)));
    }
}

/** getStatus(): the backend's link status body plus thisOrg { orgId, environment, domainUrl }. */
export async function getStatus() {
    const org = await asAura(requirePermission);
    return asAura(async () => withThisOrg(typed(await send('GET', '/link'), contract.linkStatus), org));
}

/**
 * startLink({ environment }): { id, authorizeUrl, expiresAt }. When the environment is this org's own,
 * the login goes through this org's My Domain and must land in this org (loginUrl, expectedOrgId).
 */
export async function startLink(params) {
    const org = await asAura(requirePermission);
    const environment = params?.environment;
    if (environment == null || !ENVIRONMENTS.has(environment)) {
        throw auraError(CODE_VALIDATION_FAILED, ERROR_INVALID_ENVIRONMENT);
    }
    const request = { environment };
    if (environment === org.environment) {
        request.loginUrl = org.domainUrl;
        request.expectedOrgId = org.orgId;
    }
    request.initiatedBy = currentUser(org);
    return asAura(async () => {
        const response = await send('POST', '/link-sessions', request);
        const session = typed(response, contract.linkSession);
        if (!session.id || !session.authorizeUrl) {
            throw unexpected(response.status);
        }
        return session;
    });
}

/** getLinkSession({ sessionId }): { id, state, error? }. */
export async function getLinkSession(params) {
    await asAura(requirePermission);
    const sessionId = params?.sessionId;
    if (sessionId == null || !SESSION_ID.test(sessionId)) {
        throw auraError(CODE_VALIDATION_FAILED, ERROR_INVALID_SESSION_ID);
    }
    return asAura(async () => {
        const response = await send('GET', `/link-sessions/${encodeURIComponent(sessionId)}`);
        const session = typed(response, contract.linkSession);
        if (!session.state) {
            throw unexpected(response.status);
        }
        return session;
    });
}

/**
 * verify(): refreshes the link and re-checks the API user's permissions, naming the admin who asked (the backend's
 * audit trail); returns what getStatus returns.
 */
export async function verify() {
    const org = await asAura(requirePermission);
    const body = { actor: currentUser(org) };
    return asAura(async () => withThisOrg(typed(await send('POST', '/link/verify', body), contract.linkStatus), org));
}

/** unlink(): revokes and deletes the link, naming the admin who asked (the audit trail); { status: 'unlinked', revoked }. */
export async function unlink() {
    const org = await asAura(requirePermission);
    const body = { actor: currentUser(org) };
    return asAura(async () => typed(await send('DELETE', '/link', body), contract.unlinkResult));
}

/** getActivity({ cursor }): the link's history, ten entries a page, newest first: { entries, nextCursor? }. */
export async function getActivity(params) {
    await asAura(requirePermission);
    const cursor = params?.cursor ?? null;
    if (cursor !== null && !ACTIVITY_CURSOR.test(cursor)) {
        throw auraError(CODE_VALIDATION_FAILED, ERROR_INVALID_CURSOR);
    }
    const query = `?limit=${ACTIVITY_PAGE_SIZE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    return asAura(async () => typed(await send('GET', `/link/activity${query}`), contract.activityPage));
}

/**
 * getWebhookDeliveries(): the account's five latest webhook events, newest first, { allowed: true, deliveries }; once
 * the account has a separate platform key, the org's key gets 403 FORBIDDEN and the answer is { allowed: false,
 * deliveries: [] }, not an error.
 */
export async function getWebhookDeliveries() {
    await asAura(requirePermission);
    return asAura(async () => {
        try {
            return typed(await send('GET', `/webhook/deliveries?limit=${WEBHOOK_DELIVERIES_SHOWN}`), contract.webhookDeliveries);
        } catch (error) {
            if (error instanceof ClientError && error.statusCode === 403 && error.code === CODE_FORBIDDEN) {
                return { allowed: false, deliveries: [] };
            }
            throw error;
        }
    });
}

/**
 * decideKeptTasks({ choice }): the admin's choice for the call Tasks kept for another org than the one linked now,
 * 'make' or 'drop', naming the admin who chose: { choice, count, waiting }.
 */
export async function decideKeptTasks(params) {
    const org = await asAura(requirePermission);
    const choice = params?.choice;
    if (choice == null || !KEPT_CHOICES.has(choice)) {
        throw auraError(CODE_VALIDATION_FAILED, ERROR_INVALID_KEPT_CHOICE);
    }
    const body = { choice, actor: currentUser(org) };
    return asAura(async () => typed(await send('POST', '/calls/kept/decision', body), contract.keptDecision));
}

/** The settings body's task, read as ContactCenterLinkClient.taskMappingOf does. */
function taskMappingOf(fields) {
    const task = fields.child('task');
    if (!task) {
        throw new MalformedBody('no task mapping');
    }
    return contract.taskMapping(task);
}

/** getTaskMapping(): the account's Task mapping (GET /calls/settings, its task) in the TaskMapping class's shape. */
export async function getTaskMapping() {
    await asAura(requirePermission);
    return asAura(async () => typed(await send('GET', '/calls/settings'), taskMappingOf));
}

/**
 * saveTaskMapping({ mapping }): the Task mapping as JSON text (an object, or 'null' for the default), sent as { task }
 * to PUT /calls/settings; anything else is refused without a callout. The backend's refusal (TASK_FIELD_NOT_SETTABLE …)
 * reaches the card with its code and fix.
 */
export async function saveTaskMapping(params) {
    await asAura(requirePermission);
    const text = params?.mapping;
    let parsed = '';
    if (typeof text === 'string' && text.trim() && text.length <= TASK_MAPPING_MAX_LENGTH) {
        try {
            parsed = JSON.parse(text);
        } catch {
            parsed = '';
        }
    }
    if (parsed !== null && (typeof parsed !== 'object' || Array.isArray(parsed))) {
        throw auraError(CODE_VALIDATION_FAILED, ERROR_INVALID_TASK_MAPPING);
    }
    return asAura(async () => typed(await send('PUT', '/calls/settings', { task: parsed }), taskMappingOf));
}

/** The settings body's matching, read as ContactCenterLinkClient.callerMatchingOf does. */
function callerMatchingOf(fields) {
    const matching = fields.child('matching');
    if (!matching) {
        throw new MalformedBody('no matching settings');
    }
    return contract.callerMatching(matching);
}

/** getCallerMatching(): how the account's lookups match callers (GET /calls/settings, its matching), as the CallerMatching class. */
export async function getCallerMatching() {
    await asAura(requirePermission);
    return asAura(async () => typed(await send('GET', '/calls/settings'), callerMatchingOf));
}

/**
 * saveCallerMatching({ matching }): the matching settings as JSON text (an object, or 'null' for the defaults), sent as
 * { matching } alone to PUT /calls/settings; anything else is refused without a callout. The backend's refusal
 * (PHONE_FIELD_REFUSED, VALIDATION_FAILED) reaches the card with its code and fix.
 */
export async function saveCallerMatching(params) {
    await asAura(requirePermission);
    const text = params?.matching;
    let parsed = '';
    if (typeof text === 'string' && text.trim() && text.length <= CALLER_MATCHING_MAX_LENGTH) {
        try {
            parsed = JSON.parse(text);
        } catch {
            parsed = '';
        }
    }
    if (parsed !== null && (typeof parsed !== 'object' || Array.isArray(parsed))) {
        throw auraError(CODE_VALIDATION_FAILED, ERROR_INVALID_CALLER_MATCHING);
    }
    return asAura(async () => typed(await send('PUT', '/calls/settings', { matching: parsed }), callerMatchingOf));
}
