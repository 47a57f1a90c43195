import { z } from 'zod';
import { normalizeSalesforceId } from '../salesforceIds.ts';
import { PHONE_TEXT } from './phone.ts';
import { CONTROL_MESSAGE, isPlainText } from '../text.ts';
import { lookupMatchExtras, matchingSettingsField, matchingSettingsResponse } from './matching.ts';
import { taskMappingBody, taskMappingError, taskMappingResponse } from './taskMapping.ts';

/** The request and response shapes of the call actions; the routers validate with these and the OpenAPI document is built from them. */

const wellFormed = (value: string): boolean => normalizeSalesforceId(value) !== undefined;
const WELL_FORMED = 'is not a well-formed Salesforce id (its last three characters do not fit the first fifteen)';

const recordId = (pattern: RegExp, what: string) =>
    z
        .string({ error: `must be ${what}` })
        .regex(pattern, `must be ${what}`)
        .refine(wellFormed, WELL_FORMED);

export const lookupBody = z
    .strictObject({
        phone: z
            .string({ error: 'must be a string such as "+1 415 555 1212"' })
            .max(40, 'must be at most 40 characters')
            .regex(PHONE_TEXT, 'must be a phone number written with digits, spaces and ( ) . - / +, such as "+1 415 555 1212"'),
        region: z
            .string({ error: 'must be a two-letter country code such as "GB"' })
            .regex(/^[A-Z]{2}$/, 'must be a two-letter country code such as "GB"')
            .optional()
            .describe('ISO 3166 country for numbers written without a country code; default the account’s matching region (US)'),
        agentUserId: recordId(/^005[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?$/, 'a User id (005…) of 15 or 18 characters')
            .optional()
            .describe('The agent’s Salesforce user: the records it owns come first where the account’s order says so (ownedByAgent)')
    })
    .meta({ id: 'CallLookupRequest' });

export const callIdParam = z
    .string()
    .min(1, 'must not be empty')
    .max(255, 'must be at most 255 characters')
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:@-]*$/, 'may hold only letters, digits and . _ : @ - (and must start with a letter or digit)')
    .describe('The contact center’s id of the call; stored in the Task’s CallObject field');

export const taskBody = z
    .strictObject({
        direction: z.enum(['inbound', 'outbound', 'internal'], { error: 'must be "inbound", "outbound" or "internal"' }),
        durationSeconds: z
            .number({ error: 'must be a number of seconds' })
            .int('must be a whole number of seconds')
            .min(0, 'must not be negative')
            .max(86400, 'must be at most 86400 (one day)'),
        disposition: z
            .string({ error: 'must be a string' })
            .max(255, 'must be at most 255 characters')
            .refine((value) => isPlainText(value), CONTROL_MESSAGE)
            .optional(),
        subject: z
            .string({ error: 'must be a string' })
            .trim()
            .min(1, 'must not be empty')
            .max(255, 'must be at most 255 characters')
            .refine((value) => isPlainText(value), CONTROL_MESSAGE)
            .optional(),
        description: z
            .string({ error: 'must be a string' })
            .max(32000, 'must be at most 32000 characters')
            .refine((value) => isPlainText(value, { lines: true }), `${CONTROL_MESSAGE}; tabs and line breaks are fine`)
            .optional(),
        whoId: recordId(
            /^(?:003|00Q)[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?$/,
            'a Contact (003…) or Lead (00Q…) id of 15 or 18 characters'
        ).optional(),
        whatId: recordId(
            /^(?!003|00Q|005)[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$/,
            'an id of 15 or 18 characters of a record such as an Account, Opportunity or Case (not a Contact, Lead or User)'
        ).optional(),
        ownerId: recordId(/^005[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?$/, 'a User id (005…) of 15 or 18 characters').optional(),
        activityDate: z.iso.date('must be a date such as 2026-01-31').optional().describe('The Task’s date; default today (UTC)'),
        phone: z
            .string({ error: 'must be a string such as "+1 415 555 1212"' })
            .max(40, 'must be at most 40 characters')
            .regex(PHONE_TEXT, 'must be a phone number written with digits, spaces and ( ) . - / +, such as "+1 415 555 1212"')
            .optional()
            .describe('The caller’s number: the Task mapping’s {phone}'),
        match: z
            .object({
                sobjectType: z.enum(['Contact', 'Lead', 'Account'], { error: 'must be "Contact", "Lead" or "Account"' }),
                id: recordId(/^(?:003|00Q|001)[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?$/, 'a Contact (003…), Lead (00Q…) or Account (001…) id'),
                accountId: recordId(/^001[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?$/, 'an Account id (001…) of 15 or 18 characters').optional(),
                personContactId: recordId(/^003[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?$/, 'a Contact id (003…) of 15 or 18 characters')
                    .optional()
                    .describe('A Person Account: its person’s Contact, related as a Contact is')
            })
            .refine((m) => ({ Contact: '003', Lead: '00Q', Account: '001' })[m.sobjectType] === m.id.slice(0, 3), {
                message: 'id must be an id of the sobjectType (Contact 003…, Lead 00Q…, Account 001…)',
                path: ['id']
            })
            .optional()
            .describe(
                'The lookup match the call was with, as POST /calls/lookup answered it (its other fields are ignored): the account’s Task mapping makes it WhoId/WhatId; whoId and whatId, when given, win'
            )
    })
    .meta({ id: 'CallTaskRequest' });

export type TaskInput = z.infer<typeof taskBody>;

export const lookupMatch = z.object({
    sobjectType: z.enum(['Contact', 'Lead', 'Account']),
    id: z.string(),
    name: z.string(),
    phone: z.string().optional(),
    accountId: z.string().optional().describe('Contacts: the Account the Contact belongs to'),
    company: z.string().optional().describe('Leads: the Lead’s company'),
    ...lookupMatchExtras
});

export const lookupResponse = z.object({ matches: z.array(lookupMatch) }).meta({ id: 'CallLookupResponse' });

export const taskResponse = z
    .object({
        taskId: z.string(),
        created: z.boolean().describe('false when this call already had its Task (a retry)')
    })
    .meta({ id: 'CallTaskResponse' });

export type LookupMatch = z.infer<typeof lookupMatch>;

export const keptTaskReason = z
    .enum(['api_limit', 'salesforce_unavailable', 'needs_relink', 'not_linked'])
    .describe(
        'Why the Task was kept: the org over its daily API limit, Salesforce unreachable or too slow, the link needing a relink, or the account unlinked'
    );

export const queuedResponse = z
    .object({
        state: z.literal('queued'),
        reason: keptTaskReason,
        message: z.string().describe('What happens next, in a sentence a person can act on'),
        callAt: z.string().describe('When the platform first asked: the Task’s ActivityDate unless the request named one'),
        attempts: z.number().int().describe('Tries made since it was kept'),
        nextAttemptAt: z
            .string()
            .optional()
            .describe('When the backend tries next; absent while it waits for a relink or the admin’s choice'),
        awaitingChoice: z
            .literal(true)
            .optional()
            .describe('The account was linked to another org since: the Task waits for the admin’s choice on the card')
    })
    .meta({ id: 'CallTaskQueued' });

export const taskStateResponse = z
    .union([
        queuedResponse,
        z.object({ state: z.literal('created'), taskId: z.string() }),
        z.object({ state: z.literal('in_progress') }).describe('A create is under way (or its outcome is being found out)')
    ])
    .meta({ id: 'CallTaskState' });

export const keptDecisionResponse = z
    .object({
        choice: z.enum(['make', 'drop']),
        count: z.number().int().describe('Kept Tasks the choice applied to (0: none awaited it)'),
        waiting: z.number().int().describe('Kept Tasks of the account after it')
    })
    .meta({ id: 'KeptTasksDecisionResult' });

export const keptSummary = z
    .object({
        count: z.number().int(),
        awaitingChoice: z.number().int().describe('Kept for another org than the one linked now: they wait for the admin’s choice'),
        oldestCallAt: z.string().optional(),
        reasons: z.record(keptTaskReason, z.number().int()).describe('How many per reason'),
        awaitingOrgId: z.string().optional().describe('The org the ones awaiting a choice were kept for'),
        bound: z
            .object({ maxPerAccount: z.number().int(), maxAgeDays: z.number().int() })
            .describe(
                'Beyond the count a Task that cannot be made is refused (503 KEPT_TASKS_FULL); past the age a kept one is dropped, recorded and announced'
            )
    })
    .meta({ id: 'KeptTasksSummary' });

export const callSettingsBody = z
    .strictObject({
        task: z
            .union([taskMappingBody, z.null()], { error: taskMappingError })
            .optional()
            .describe('The Task mapping, checked against the org’s describe of Task as the API user; null: the default'),
        lookupReservePercent: z
            .union(
                [
                    z
                        .number()
                        .int('must be a whole number from 0 to 50, or null for the default')
                        .min(0, 'must be a whole number from 0 to 50, or null for the default')
                        .max(50, 'must be a whole number from 0 to 50, or null for the default'),
                    z.null()
                ],
                { error: 'must be a whole number from 0 to 50, or null for the default' }
            )
            .describe(
                'Screen-pop lookups pause while the org has fewer than this share of its daily API requests left (0: never); null: the backend’s default'
            )
            .optional(),
        matching: matchingSettingsField
    })
    .refine((body) => Object.keys(body).length > 0, 'must set at least one setting, such as lookupReservePercent, matching or task')
    .meta({ id: 'CallSettingsRequest' });

export const callSettingsResponse = z
    .object({
        lookupReservePercent: z.number().int(),
        isDefault: z.boolean().describe('true when the account set none and the backend’s default applies'),
        matching: matchingSettingsResponse,
        task: taskMappingResponse
    })
    .meta({ id: 'CallSettings' });
