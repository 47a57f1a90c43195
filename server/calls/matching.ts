import { isSupportedCountry } from 'libphonenumber-js';
import { z } from 'zod';
import { AppError } from '../errors.ts';
import { API_USER_PERMISSION_SET } from '../link/messages.ts';
import { PHONE_OBJECTS } from '../link/phoneFields.ts';
import { sameSalesforceId } from '../salesforceIds.ts';
import type { MatchingSettings, PhoneFieldFacts, PhoneObject } from '../store/types.ts';

/*
 * How an account's screen-pop lookups match callers: which phone fields are searched (the standard ones, Person
 * Accounts' when the org has them, and the custom ones the account chose), and in which order several matches come.
 */

export const DEFAULT_REGION = 'US';

/** The rules that can order several matches; the account lists the ones it wants, first decides first. */
export const MATCH_RULES = ['objectType', 'ownedByAgent', 'lastModified'] as const;
export type MatchRule = (typeof MATCH_RULES)[number];

export const DEFAULT_ORDER: readonly MatchRule[] = ['objectType', 'ownedByAgent', 'lastModified'];
export const DEFAULT_OBJECT_ORDER: readonly PhoneObject[] = ['Contact', 'Account', 'Lead'];

/** The phone fields every lookup searches when the API user can read them. */
export const STANDARD_PHONE_FIELDS: Record<PhoneObject, readonly string[]> = {
    Contact: ['Phone', 'MobilePhone', 'HomePhone', 'OtherPhone', 'AssistantPhone'],
    Lead: ['Phone', 'MobilePhone'],
    Account: ['Phone']
};
/** Person Accounts' own phone fields (on Account), searched when the org has Person Accounts. */
export const PERSON_PHONE_FIELDS: readonly string[] = ['PersonMobilePhone', 'PersonHomePhone', 'PersonOtherPhone', 'PersonAssistantPhone'];

/** What a lookup asked of each object before the org's fields were read (a link older than this, or a legacy one). */
const BEFORE_DESCRIBE: Record<PhoneObject, { phone: string[]; answer: string[] }> = {
    Contact: { phone: ['Phone'], answer: ['AccountId'] },
    Lead: { phone: ['Phone'], answer: ['Company'] },
    Account: { phone: ['Phone'], answer: [] }
};

const CUSTOM_FIELD = /^[A-Za-z][A-Za-z0-9_]{0,39}__c$/;
const PERSON_CUSTOM_FIELD = /^[A-Za-z][A-Za-z0-9_]{0,39}__pc$/;
const CUSTOM_HELP = 'must be the API name of a custom phone field, such as "Direct_Line__c"';

const customFields = (object: PhoneObject) =>
    z
        .array(
            z
                .string({ error: CUSTOM_HELP })
                .regex(
                    object === 'Account' ? new RegExp(`${CUSTOM_FIELD.source}|${PERSON_CUSTOM_FIELD.source}`) : CUSTOM_FIELD,
                    object === 'Account' ? `${CUSTOM_HELP} (or a Person Account's "Direct_Line__pc")` : CUSTOM_HELP
                ),
            { error: `must be a list of ${object} custom phone field names` }
        )
        .max(10, 'may name at most 10 fields')
        .refine((names) => new Set(names.map((n) => n.toLowerCase())).size === names.length, 'must not name a field twice')
        .optional();

const distinct = <T>(items: readonly T[]): boolean => new Set(items).size === items.length;

export const matchingSettingsBody = z
    .strictObject({
        customPhoneFields: z
            .strictObject(
                { Contact: customFields('Contact'), Lead: customFields('Lead'), Account: customFields('Account') },
                { error: 'must be an object of Contact, Lead and Account lists' }
            )
            .optional()
            .describe(
                'Custom phone fields searched besides the standard ones, per object; each must exist, be of type Phone and be readable by the API user (checked against the org when saved)'
            ),
        order: z
            .array(z.enum(MATCH_RULES, { error: `must be one of ${MATCH_RULES.join(', ')}` }), {
                error: `must be a list of ${MATCH_RULES.join(', ')}`
            })
            .refine(distinct, 'must not name a rule twice')
            .optional()
            .describe(
                `How several matches are ordered, the first rule deciding first: objectType (objectOrder), ownedByAgent (records the request's agentUserId owns first), lastModified (most recently modified first). Default ${DEFAULT_ORDER.join(', ')}; ties keep Salesforce's order`
            ),
        objectOrder: z
            .array(z.enum(PHONE_OBJECTS, { error: 'must be Contact, Lead or Account' }), {
                error: 'must be a list of Contact, Lead and Account'
            })
            .refine((objects) => objects.length === 3 && distinct(objects), 'must name Contact, Lead and Account, each once')
            .optional()
            .describe(`The objects' order for the objectType rule; default ${DEFAULT_OBJECT_ORDER.join(', ')}`),
        region: z
            .string({ error: 'must be a two-letter country code such as "GB"' })
            .regex(/^[A-Z]{2}$/, 'must be a two-letter country code such as "GB"')
            .refine((code) => isSupportedCountry(code), 'is not a country code libphonenumber knows')
            .optional()
            .describe(`The region of numbers written without a country code, when the lookup names none; default ${DEFAULT_REGION}`)
    })
    .meta({ id: 'CallMatchingSettingsRequest' });

export const matchingSettingsResponse = z
    .object({
        customPhoneFields: z.object({ Contact: z.array(z.string()), Lead: z.array(z.string()), Account: z.array(z.string()) }),
        order: z.array(z.enum(MATCH_RULES)),
        objectOrder: z.array(z.enum(PHONE_OBJECTS)),
        region: z.string(),
        isDefault: z.boolean().describe('true when the account set none and every default applies'),
        searched: z
            .object({
                checkedAt: z.string().describe('When the org’s fields were last read (link, relink, Verify or this settings’ save)'),
                personAccounts: z.boolean().describe('The org has Person Accounts: their phone fields are searched on Account'),
                fields: z
                    .partialRecord(z.enum(PHONE_OBJECTS), z.array(z.string()))
                    .describe('The phone fields a lookup asks for now, per object the API user can search')
            })
            .optional()
            .describe(
                'What a lookup searches in the linked org now; absent while the account is not linked or its org’s fields were never read'
            )
    })
    .meta({ id: 'CallMatchingSettings' });

export type MatchingInput = z.infer<typeof matchingSettingsBody>;
export type MatchingView = z.infer<typeof matchingSettingsResponse>;

/** The account's settings with every default filled in. */
export function effectiveMatching(stored: MatchingSettings | undefined): Required<Omit<MatchingSettings, 'customPhoneFields'>> & {
    customPhoneFields: Record<PhoneObject, string[]>;
    order: MatchRule[];
} {
    return {
        customPhoneFields: {
            Contact: stored?.customPhoneFields?.Contact ?? [],
            Lead: stored?.customPhoneFields?.Lead ?? [],
            Account: stored?.customPhoneFields?.Account ?? []
        },
        order: (stored?.order as MatchRule[] | undefined) ?? [...DEFAULT_ORDER],
        objectOrder: stored?.objectOrder ?? [...DEFAULT_OBJECT_ORDER],
        region: stored?.region ?? DEFAULT_REGION
    };
}

/** A field name as Salesforce writes them: nothing else ever reaches a SOSL statement. */
const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]{0,79}$/;

/** Per object: the phone fields to ask for and the other fields the answer carries. */
export type SearchPlan = Partial<Record<PhoneObject, { phone: string[]; answer: string[] }>>;

/**
 * What a lookup asks for: the standard, Person Account and chosen custom phone fields that the org's describe, when last
 * read, said the API user can read; before the describe was first read, what lookups always asked.
 */
export function searchPlan(facts: PhoneFieldFacts | undefined, settings: MatchingSettings | undefined): SearchPlan {
    if (!facts) return BEFORE_DESCRIBE;
    const custom = effectiveMatching(settings).customPhoneFields;
    const plan: SearchPlan = {};
    for (const object of PHONE_OBJECTS) {
        const known = facts.objects[object];
        if (!known) continue;
        const wanted = [...STANDARD_PHONE_FIELDS[object], ...(object === 'Account' && facts.personAccounts ? PERSON_PHONE_FIELDS : [])];
        const readable = new Map(known.phone.map((name) => [name.toLowerCase(), name]));
        const phone = [...wanted, ...custom[object]].map((name) => readable.get(name.toLowerCase())).filter((name) => name !== undefined);
        plan[object] = {
            phone: [...new Set(phone)].filter((n) => FIELD_NAME.test(n)),
            answer: known.answer.filter((n) => FIELD_NAME.test(n))
        };
    }
    return plan;
}

/** Each chosen custom field against the org's describe (as the API user): it exists, is a phone field and can be read. */
export function checkCustomFields(
    custom: MatchingInput['customPhoneFields'],
    facts: PhoneFieldFacts,
    describes: Map<string, unknown>
): void {
    for (const object of PHONE_OBJECTS) {
        for (const name of custom?.[object] ?? []) {
            const fields = (describes.get(object) as { fields?: Array<{ name?: unknown; type?: unknown }> } | undefined)?.fields;
            const field = fields?.find((f) => typeof f.name === 'string' && f.name.toLowerCase() === name.toLowerCase());
            const where = `${object}.${name}`;
            if (!facts.objects[object])
                throw fieldRefused(
                    where,
                    `the API user cannot search ${object}. Grant read access on ${object} (the ${API_USER_PERMISSION_SET} permission set does), then save again.`
                );
            if (!field)
                throw fieldRefused(
                    where,
                    `the org has no such field, or the API user cannot read it. Check the field’s API name in Setup → Object Manager → ${object} → Fields & Relationships, and give the API user read access to it (field-level security, for instance in the ${API_USER_PERMISSION_SET} permission set), then save again.`
                );
            if (field.type !== 'phone')
                throw fieldRefused(
                    where,
                    `it is a ${String(field.type)} field, not a Phone field: SOSL searches only Phone fields for numbers. Choose a field of type Phone.`
                );
        }
    }
}

const fieldRefused = (field: string, why: string): AppError =>
    new AppError('PHONE_FIELD_REFUSED', `The custom phone field ${field} cannot be searched: ${why}`, 422, { field });

/** What ordering reads of a match. */
export interface Orderable {
    sobjectType: PhoneObject;
    ownerId?: string;
    lastModifiedDate?: string;
}

/** Several matches in the account's order (a stable sort: ties keep Salesforce's order). */
export function orderMatches<T extends Orderable>(matches: T[], settings: MatchingSettings | undefined, agentUserId?: string): T[] {
    const { order, objectOrder } = effectiveMatching(settings);
    const owned = (m: T): number => (agentUserId && m.ownerId && sameSalesforceId(m.ownerId, agentUserId) ? 0 : 1);
    const modified = (m: T): number => -(m.lastModifiedDate ? Date.parse(m.lastModifiedDate) || 0 : 0);
    const keys: Record<MatchRule, (m: T) => number> = {
        objectType: (m) => objectOrder.indexOf(m.sobjectType),
        ownedByAgent: owned,
        lastModified: modified
    };
    return matches
        .map((m, i) => ({ m, i }))
        .sort((a, b) => {
            for (const rule of order) {
                const d = keys[rule](a.m) - keys[rule](b.m);
                if (d !== 0) return d;
            }
            return a.i - b.i;
        })
        .map(({ m }) => m);
}

/** What a lookup's match says besides who it is: why it matched, and what ordered it. */
export const lookupMatchExtras = {
    matchedOn: z
        .array(z.object({ field: z.string(), value: z.string().describe('The stored value, as written in the org') }))
        .describe(
            'Why it matched: each phone field of the record whose value is the caller’s number (a person account’s contact fields as Contact.Field)'
        ),
    isPersonAccount: z
        .literal(true)
        .optional()
        .describe('Accounts: a Person Account (on a Contact: the person contact of a Person Account that did not match itself)'),
    personContactId: z.string().optional().describe('Person Accounts: the Contact behind the account'),
    ownerId: z.string().optional(),
    lastModifiedDate: z.string().optional()
};

/** The `matching` key of the settings' PUT: the settings, or null for the defaults; a refusal names the key inside it. */
export const matchingSettingsField = z
    .union([matchingSettingsBody, z.null()], {
        error: (issue) => {
            const first = (issue as { errors?: Array<Array<{ code?: string; path?: PropertyKey[]; message: string; keys?: string[] }>> })
                .errors?.[0]?.[0];
            if (!first || (first.code === 'invalid_type' && !first.path?.length))
                return 'must be an object of matching settings, or null for the defaults';
            const where = first.path?.length ? `.${first.path.map(String).join('.')}` : '';
            const what = first.code === 'unrecognized_keys' ? `has unknown fields: ${(first.keys ?? []).join(', ')}` : first.message;
            return `${where ? `${where.slice(1)} ` : ''}${what}`;
        }
    })
    .optional()
    .describe('How callers are matched (replaced as a whole); null: the defaults');
