import { z } from 'zod';
import { normalizeSalesforceId } from '../salesforceIds.ts';
import { PHONE_TEXT } from './phone.ts';
import { CONTROL_MESSAGE, isPlainText } from '../text.ts';

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
            .describe('ISO 3166 country for numbers written without a country code; default US')
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
        activityDate: z.iso.date('must be a date such as 2026-01-31').optional().describe('The Task’s date; default today (UTC)')
    })
    .meta({ id: 'CallTaskRequest' });

export type TaskInput = z.infer<typeof taskBody>;

export const lookupMatch = z.object({
    sobjectType: z.enum(['Contact', 'Lead', 'Account']),
    id: z.string(),
    name: z.string(),
    phone: z.string().optional(),
    accountId: z.string().optional().describe('Contacts: the Account the Contact belongs to'),
    company: z.string().optional().describe('Leads: the Lead’s company')
});

export const lookupResponse = z.object({ matches: z.array(lookupMatch) }).meta({ id: 'CallLookupResponse' });

export const taskResponse = z
    .object({
        taskId: z.string(),
        created: z.boolean().describe('false when this call already had its Task (a retry)')
    })
    .meta({ id: 'CallTaskResponse' });

export type LookupMatch = z.infer<typeof lookupMatch>;
