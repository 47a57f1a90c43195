// Over 400 lines on purpose: the API's one description. The response schemas and API_OPERATIONS (every route with its
// scopes, body, answers and error codes) are one table, read top to bottom, that the tests hold the router to.
import { OpenApiGeneratorV31, OpenAPIRegistry, type ResponseConfig } from '@asteasolutions/zod-to-openapi';
import type { RequestHandler } from 'express';
import { z } from 'zod';
import { ERROR_CODES, type ErrorCode } from '../errors.ts';
import {
    callIdParam,
    callSettingsBody,
    callSettingsResponse,
    keptDecisionResponse,
    keptSummary,
    lookupBody,
    lookupResponse,
    queuedResponse,
    taskBody,
    taskResponse,
    taskStateResponse
} from '../calls/schemas.ts';
import { LINK_STATUSES, OUTBOX_EVENT_TYPES } from '../store/types.ts';
import { activityQuery, actorBody, deliveriesQuery, keptDecisionBody, linkSessionBody, sessionIdParam } from './schemas.ts';
import { webhookBody } from './webhookRouter.ts';

/**
 * The OpenAPI 3.1 document of /api/v1, generated from the very zod schemas the routers validate
 * with (imported, never copied). A route added to a router must be added to `API_OPERATIONS`:
 * the OpenAPI test compares this table with the routers' own route lists.
 */

export const API_PREFIX = '/api/v1';

// ------------------------------------------------------------------ response shapes

export const errorResponse = z
    .object({
        error: z
            .object({
                code: z.enum(ERROR_CODES).describe('stable, SNAKE_CASE, meant for programs'),
                message: z.string().describe('a sentence a person can act on')
            })
            .catchall(z.unknown())
    })
    .meta({ id: 'Error' });

const timestamp = z.string().describe('ISO 8601 time');
const linkStatus = z.enum(LINK_STATUSES);
const actor = z.object({ userId: z.string(), username: z.string() });

export const linkStatusResponse = z
    .object({
        status: linkStatus,
        account: z.object({ id: z.string(), name: z.string() }),
        link: z
            .object({
                method: z.enum(['oauth', 'legacy']),
                environment: z.enum(['production', 'sandbox']),
                orgId: z.string().optional(),
                orgName: z.string().optional().describe('the org’s name (Organization.Name), read when the link was made'),
                userId: z.string().optional(),
                username: z.string(),
                displayName: z.string().optional(),
                instanceUrl: z.string().optional(),
                loginUrl: z.string(),
                linkedAt: timestamp,
                linkedBy: actor.optional(),
                lastVerifiedAt: timestamp.optional(),
                lastRefreshedAt: timestamp
                    .optional()
                    .describe(
                        'OAuth links: when the refresh token was last used for a refresh (Salesforce expires one left unused for its idle TTL; the backend uses it at least every SF_REFRESH_KEEPALIVE_SECONDS); none before the first'
                    ),
                lastError: z.object({ code: z.string(), message: z.string(), at: timestamp }).optional()
            })
            .optional(),
        apiUser: z.object({ linkedAccounts: z.number().int(), limit: z.number().int() }).optional(),
        permissions: z
            .object({
                checkedAt: timestamp,
                checks: z.array(
                    z.object({
                        id: z.string(),
                        label: z.string(),
                        ok: z.boolean(),
                        severity: z.enum(['error', 'warning']).optional(),
                        detail: z.string().optional()
                    })
                )
            })
            .optional(),
        apiUsage: z
            .object({ used: z.number().int(), max: z.number().int(), at: timestamp })
            .optional()
            .describe('the org’s daily API requests, from Salesforce’s Sforce-Limit-Info header, saved at most every few seconds'),
        egressAddresses: z
            .array(z.string())
            .optional()
            .describe(
                'the addresses (IPs or CIDR blocks) this backend reaches Salesforce from, as its operator set them (SF_EGRESS_ADDRESSES): for the app’s refresh token IP allowlist or IP relaxation policy'
            ),
        apiGuard: z
            .object({ since: timestamp, remaining: z.number().int(), max: z.number().int(), reserve: z.number().int() })
            .optional()
            .describe(
                'present while the org has fewer daily API requests left than the reserve: screen-pop lookups pause, call Tasks go on'
            ),
        keptTasks: keptSummary.optional().describe('present while call Tasks are kept for later (rule 13): how many, the oldest, why')
    })
    .meta({ id: 'LinkStatus' });

export const linkSessionCreated = z
    .object({ id: z.string(), authorizeUrl: z.string(), expiresAt: timestamp })
    .meta({ id: 'LinkSessionCreated' });

export const linkSessionView = z
    .object({
        id: z.string(),
        state: z.enum(['pending', 'linked', 'failed', 'expired']),
        expiresAt: timestamp,
        error: z.object({ code: z.string(), message: z.string() }).optional()
    })
    .meta({ id: 'LinkSession' });

export const activityResponse = z
    .object({
        entries: z.array(
            z.object({
                at: timestamp,
                action: z.enum([
                    'link',
                    'relink',
                    'link_failed',
                    'unlink',
                    'verify',
                    'status_changed',
                    'legacy_import',
                    'key_rotated',
                    'platform_key_issued',
                    'account_created',
                    'webhook_set',
                    'webhook_removed',
                    'tasks_kept',
                    'tasks_replayed',
                    'tasks_dropped'
                ]),
                outcome: z.string().describe('`ok`, an error code, or the new status'),
                actor: actor.extend({ claimed: z.literal(true).optional().describe('named by the caller, not proven') }).optional(),
                orgId: z.string().optional(),
                username: z.string().optional(),
                detail: z.string().optional()
            })
        ),
        nextCursor: z.string().optional().describe('pass as `cursor` for the next, older page; absent on the last page')
    })
    .meta({ id: 'LinkActivity' });

export const unlinkResponse = z.object({ status: z.literal('unlinked'), revoked: z.boolean() }).meta({ id: 'Unlinked' });
export const webhookView = z.object({ url: z.string(), createdAt: timestamp }).meta({ id: 'Webhook' });
export const webhookCreated = z
    .object({ url: z.string(), secret: z.string().describe('shown once: signs every delivery (HMAC-SHA256)'), createdAt: timestamp })
    .meta({ id: 'WebhookCreated' });
export const webhookRemoved = z.object({ removed: z.boolean() }).meta({ id: 'WebhookRemoved' });
export const deliveriesResponse = z
    .object({
        deliveries: z.array(
            z.object({
                id: z.string().describe('the event’s id: the `id` of the body the webhook receives, the same on every attempt'),
                type: z.enum(OUTBOX_EVENT_TYPES),
                createdAt: timestamp,
                from: linkStatus.optional().describe('`link.status_changed`: the status before'),
                to: linkStatus.optional().describe('`link.status_changed`: the status after'),
                calls: z
                    .object({
                        count: z.number().int(),
                        waiting: z.number().int(),
                        reason: z.string().optional(),
                        choice: z.enum(['make', 'drop']).optional()
                    })
                    .optional()
                    .describe('`calls.*`: how many Tasks the event is about, and how many still wait'),
                apiGuard: z
                    .object({ engaged: z.boolean(), remaining: z.number().int(), max: z.number().int(), reserve: z.number().int() })
                    .optional()
                    .describe('`api_guard.*`: the org’s remaining daily API requests and the reserve'),
                state: z
                    .enum(['pending', 'delivered', 'failed'])
                    .describe(
                        '`pending`: not delivered yet, tried again at `nextAttemptAt`; `failed`: given up after 6 attempts, or the webhook was removed'
                    ),
                attempts: z.number().int(),
                nextAttemptAt: timestamp.optional(),
                deliveredAt: timestamp.optional(),
                lastAttempt: z
                    .object({
                        at: timestamp,
                        status: z.number().int().optional().describe('the HTTP status the webhook answered'),
                        error: z.string().optional()
                    })
                    .optional()
            })
        )
    })
    .meta({ id: 'WebhookDeliveries' });

// ------------------------------------------------------------------ the operations

type Method = 'get' | 'post' | 'put' | 'delete';

export interface ApiOperation {
    method: Method;
    /** Express-style, below /api/v1 */
    path: string;
    /** Unique and stable: client generators name their methods after it. */
    operationId: string;
    summary: string;
    description?: string;
    params?: Record<string, z.ZodType>;
    query?: z.ZodObject;
    body?: z.ZodType;
    bodyRequired?: boolean;
    responses: Record<number, { description: string; schema?: z.ZodType }>;
    /** errors this operation answers besides 401 (the API key) and 400 */
    errors?: Record<number, ErrorCode[]>;
    public?: boolean;
    /** Taken with either of the account's keys, not only the one its path implies. */
    anyKey?: boolean;
}

export const API_OPERATIONS: ApiOperation[] = [
    {
        method: 'get',
        path: '/link',
        operationId: 'getLinkStatus',
        summary: 'The link status the card shows',
        responses: { 200: { description: 'The status', schema: linkStatusResponse } }
    },
    {
        method: 'get',
        path: '/link/activity',
        operationId: 'getLinkActivity',
        summary: 'The link’s history: this account’s audit entries, newest first, a page at a time',
        query: activityQuery,
        responses: { 200: { description: 'A page of entries', schema: activityResponse } },
        anyKey: true
    },
    {
        method: 'post',
        path: '/link-sessions',
        operationId: 'createLinkSession',
        summary: 'Start a link: a popup session',
        body: linkSessionBody,
        bodyRequired: true,
        responses: { 201: { description: 'Open authorizeUrl in a popup', schema: linkSessionCreated } },
        errors: { 429: ['TOO_MANY_LINK_SESSIONS'] }
    },
    {
        method: 'get',
        path: '/link-sessions/:id',
        operationId: 'getLinkSession',
        summary: 'The state of a link session (the card polls it)',
        params: { id: sessionIdParam },
        responses: { 200: { description: 'The session', schema: linkSessionView } },
        errors: { 404: ['LINK_SESSION_NOT_FOUND'] }
    },
    {
        method: 'post',
        path: '/link/verify',
        operationId: 'verifyLink',
        summary: 'Refresh, re-read the identity and check the permissions now',
        body: actorBody,
        responses: { 200: { description: 'The status after the check', schema: linkStatusResponse } },
        errors: { 409: ['NOT_LINKED'], 503: ['SALESFORCE_UNAVAILABLE'], 504: ['DEADLINE_EXCEEDED'] }
    },
    {
        method: 'delete',
        path: '/link',
        operationId: 'unlink',
        summary: 'Revoke at Salesforce, then delete the link',
        body: actorBody,
        responses: { 200: { description: 'Unlinked', schema: unlinkResponse } }
    },
    {
        method: 'get',
        path: '/webhook',
        operationId: 'getWebhook',
        summary: 'The account’s status webhook',
        responses: { 200: { description: 'The webhook', schema: webhookView } },
        errors: { 404: ['NOT_FOUND'] }
    },
    {
        method: 'put',
        path: '/webhook',
        operationId: 'setWebhook',
        summary: 'Set the status webhook (link status changes are posted to it)',
        body: webhookBody,
        bodyRequired: true,
        responses: { 200: { description: 'The webhook and its signing secret', schema: webhookCreated } }
    },
    {
        method: 'get',
        path: '/webhook/deliveries',
        operationId: 'getWebhookDeliveries',
        summary: 'The account’s latest webhook events, newest first, with how their delivery went',
        query: deliveriesQuery,
        responses: { 200: { description: 'The latest events', schema: deliveriesResponse } }
    },
    {
        method: 'delete',
        path: '/webhook',
        operationId: 'removeWebhook',
        summary: 'Remove the status webhook',
        responses: { 200: { description: 'Whether there was one', schema: webhookRemoved } }
    },
    {
        method: 'post',
        path: '/calls/lookup',
        operationId: 'lookupCaller',
        summary: 'Screen pop: the Contacts, Leads and Accounts (Person Accounts among them) with this phone number',
        description:
            'The number is normalised (E.164 and the national form, in `region`, default the account’s matching region) and searched with SOSL in every phone field the API user can read: Contact’s five, Lead’s two, Account’s Phone and, with Person Accounts, its four person phone fields, plus the custom phone fields the account chose. Each returned value is checked with libphonenumber, and each match says which fields hold the number (`matchedOn`); several matches come in the account’s order (object, owned by `agentUserId`, most recently modified). One Salesforce API call. Text that is not a phone number is refused before any Salesforce request.',
        body: lookupBody,
        bodyRequired: true,
        responses: { 200: { description: 'The matching records (possibly none)', schema: lookupResponse } },
        errors: {
            403: ['PERMISSION_MISSING'],
            409: ['NOT_LINKED', 'NEEDS_RELINK'],
            429: ['SALESFORCE_LIMIT_EXCEEDED', 'API_ALLOWANCE_LOW'],
            502: ['SALESFORCE_ERROR'],
            503: ['SALESFORCE_UNAVAILABLE'],
            504: ['DEADLINE_EXCEEDED']
        }
    },
    {
        method: 'put',
        path: '/calls/:callId/task',
        operationId: 'putCallTask',
        summary: 'End of call: the call’s Task, made once per callId',
        description:
            'Creates a completed call Task (TaskSubtype and Type Call, CallType, CallDurationInSeconds, CallObject = callId, CallDisposition, ActivityDate). Idempotent per callId: a retry, concurrent or after a restart, answers the same Task with created:false. One Salesforce API call per new Task.',
        params: { callId: callIdParam },
        body: taskBody,
        bodyRequired: true,
        responses: {
            201: { description: 'The Task was created', schema: taskResponse },
            200: { description: 'The call already had its Task', schema: taskResponse },
            202: {
                description:
                    'The Task cannot be made now (the org over its daily API limit, Salesforce unreachable or too slow, the link needing a relink, or unlinked after it was linked): it is kept, durably, and made exactly once as soon as it can be. Nothing to retry; a retry answers its state as it is',
                schema: queuedResponse
            }
        },
        errors: {
            403: ['PERMISSION_MISSING'],
            409: ['NOT_LINKED', 'CALL_IN_PROGRESS'],
            413: ['PAYLOAD_TOO_LARGE'],
            422: ['SALESFORCE_REJECTED'],
            502: ['SALESFORCE_ERROR'],
            503: ['KEPT_TASKS_FULL']
        }
    },
    {
        method: 'get',
        path: '/calls/:callId/task',
        operationId: 'getCallTask',
        summary: 'The state of a call’s Task: kept for later (and why), made, or being made now',
        params: { callId: callIdParam },
        responses: { 200: { description: 'The call’s Task as it stands', schema: taskStateResponse } },
        errors: { 404: ['NOT_FOUND'] }
    },
    {
        method: 'get',
        path: '/calls/kept',
        operationId: 'getKeptTasks',
        summary: 'The account’s kept call Tasks: how many, the oldest, why, and the bound',
        responses: { 200: { description: 'The kept Tasks', schema: keptSummary } },
        anyKey: true
    },
    {
        method: 'post',
        path: '/calls/kept/decision',
        operationId: 'decideKeptTasks',
        summary: 'The admin’s choice for Tasks kept for another org than the one linked now: make them there, or drop them',
        description:
            'After a relink to another org, the Tasks kept for the old one are never sent to the new one by themselves: `make` makes them in the org linked now, `drop` drops them (recorded in the activity, and announced with a `calls.dropped` webhook event).',
        body: keptDecisionBody,
        bodyRequired: true,
        responses: { 200: { description: 'What the choice applied to', schema: keptDecisionResponse } },
        errors: { 409: ['NOT_LINKED', 'NEEDS_RELINK'] }
    },
    {
        method: 'get',
        path: '/calls/settings',
        operationId: 'getCallSettings',
        summary: 'The call actions’ settings: the lookup reserve of the API allowance guard, how callers are matched, and the Task mapping',
        responses: { 200: { description: 'The settings', schema: callSettingsResponse } },
        anyKey: true
    },
    {
        method: 'put',
        path: '/calls/settings',
        operationId: 'putCallSettings',
        summary:
            'Set the lookup reserve, how callers are matched and the Task mapping (each key left out stays as it is; null: the default)',
        description:
            'Custom phone fields are checked against the linked org’s describes (one Composite request as the API user): each must exist, be of type Phone and be readable by the API user. A Task mapping is checked against the org’s describe of Task as the API user (one API call) before it is saved: every mapped field exists and the API user can create it, picklist values are the field’s, the record type is one the API user may use. A refusal names every problem and its fix (`problems`), and saves nothing. See docs/api.md, “Tasks as each customer wants them”.',
        body: callSettingsBody,
        bodyRequired: true,
        responses: { 200: { description: 'The settings now', schema: callSettingsResponse } },
        errors: {
            403: ['PERMISSION_MISSING'],
            409: ['NOT_LINKED', 'NEEDS_RELINK'],
            422: [
                'PHONE_FIELD_REFUSED',
                'TASK_FIELD_NOT_SETTABLE',
                'TASK_FIELD_UNKNOWN',
                'TASK_FIELD_VALUE_INVALID',
                'TASK_RECORD_TYPE_UNAVAILABLE'
            ],
            429: ['SALESFORCE_LIMIT_EXCEEDED'],
            502: ['SALESFORCE_ERROR'],
            503: ['SALESFORCE_UNAVAILABLE'],
            504: ['DEADLINE_EXCEEDED']
        },
        anyKey: true
    }
];

/** Which of the account's keys an operation takes; the routers enforce the same with requireScope. */
const keyScopeOf = (path: string): 'link' | 'platform' =>
    path === '/calls/kept/decision' ? 'link' : /^\/(calls|webhook)\b/.test(path) ? 'platform' : 'link';
const KEY_SCOPE_HELP = {
    link: 'Key: the org’s key (scope `link`, in the org’s External Credential).',
    platform: 'Key: the platform’s key (scope `platform`), not the key in the org’s External Credential.',
    any: 'Key: either of the account’s keys (scope `link` or `platform`).'
};

/** `/link-sessions/:id` → `/api/v1/link-sessions/{id}` */
export const openApiPath = (path: string): string => API_PREFIX + path.replace(/:([A-Za-z_]+)/g, '{$1}');

/** What a code means for the caller, where its name does not say enough. */
const ERROR_NOTES: Partial<Record<ErrorCode, string>> = {
    CALL_IN_PROGRESS: 'another instance is creating this call’s Task; retry after Retry-After',
    API_ALLOWANCE_LOW: 'the org has fewer daily API requests left than the reserve kept for call Tasks; no API call was made',
    KEPT_TASKS_FULL: 'the account keeps as many Tasks as its bound allows: this one was not kept; retry after Retry-After'
};
const codeList = (codes: ErrorCode[]): string =>
    codes.map((code) => (ERROR_NOTES[code] ? `${code} (${ERROR_NOTES[code]})` : code)).join(', ');
const errorContent = (description: string): ResponseConfig => ({ description, content: { 'application/json': { schema: errorResponse } } });

export function buildOpenApiDocument(serverUrl?: string): ReturnType<OpenApiGeneratorV31['generateDocument']> {
    const registry = new OpenAPIRegistry();
    const apiKey = registry.registerComponent('securitySchemes', 'ApiKey', {
        type: 'http',
        scheme: 'bearer',
        description: 'The account API key (ccl_…), from `npm run accounts -- create`'
    });
    for (const op of API_OPERATIONS) {
        const responses: Record<number, ResponseConfig> = {};
        for (const [status, response] of Object.entries(op.responses)) {
            responses[Number(status)] = response.schema
                ? { description: response.description, content: { 'application/json': { schema: response.schema } } }
                : { description: response.description };
        }
        responses[400] = errorContent(
            `${codeList(['VALIDATION_FAILED', 'INVALID_JSON'])}: the request does not fit; the message names the fields`
        );
        if (!op.public) responses[401] = errorContent(`${codeList(['UNAUTHORIZED'])}: no API key, or not a valid one`);
        for (const [status, codes] of Object.entries(op.errors ?? {})) responses[Number(status)] = errorContent(codeList(codes));
        const scope = op.anyKey ? 'any' : keyScopeOf(op.path);
        if (!op.public && !op.anyKey)
            responses[403] = errorContent(
                [
                    ...(op.errors?.[403] ? [codeList(op.errors[403])] : []),
                    `${codeList(['FORBIDDEN'])}: a key without the ${scope} scope`
                ].join(', ')
            );
        registry.registerPath({
            method: op.method,
            path: openApiPath(op.path),
            operationId: op.operationId,
            summary: op.summary,
            description: [op.description, op.public ? undefined : KEY_SCOPE_HELP[scope]].filter(Boolean).join('\n\n'),
            security: op.public ? [] : [{ [apiKey.name]: [] }],
            request: {
                ...(op.params ? { params: z.object(op.params) } : {}),
                ...(op.query ? { query: op.query } : {}),
                ...(op.body ? { body: { required: op.bodyRequired ?? false, content: { 'application/json': { schema: op.body } } } } : {})
            },
            responses
        });
    }
    registry.registerPath({
        method: 'get',
        path: `${API_PREFIX}/openapi.json`,
        operationId: 'getOpenApiDocument',
        summary: 'This document',
        security: [],
        responses: {
            200: {
                description: 'The OpenAPI 3.1 document of /api/v1',
                content: { 'application/json': { schema: z.object({ openapi: z.string() }).catchall(z.unknown()) } }
            }
        }
    });
    return new OpenApiGeneratorV31(registry.definitions).generateDocument({
        openapi: '3.1.0',
        info: {
            title: 'Contact Center Link API',
            version: '1',
            description:
                'Links a contact-center account to a Salesforce org through an API user, and acts in the org for the contact center. Every error is `{"error":{"code","message"}}`.'
        },
        ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
        security: [{ [apiKey.name]: [] }]
    });
}

/** GET /api/v1/openapi.json: needs no API key; built once. */
export function openApiHandler(serverUrl: string): RequestHandler {
    let document: string | undefined;
    return (_req, res) => {
        document ??= JSON.stringify(buildOpenApiDocument(serverUrl));
        res.type('application/json').send(document);
    };
}
