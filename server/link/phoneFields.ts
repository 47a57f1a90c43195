import type { CompositeResult } from '../salesforce/gateway.ts';
import type { PhoneFieldFacts, PhoneObject } from '../store/types.ts';

/**
 * What the screen-pop lookup may ask of an org, read from the API user's describes (Salesforce leaves out of a describe
 * every field the user cannot read): each object's phone fields, the other fields the lookup answers with, and whether
 * the org has Person Accounts. Taken at link, relink and Verify (the preflight's Composite already holds the describes)
 * and when the matching settings are saved, and kept on the link, so a lookup stays one SOSL call that names only
 * fields the user could read when last looked at.
 */

export const PHONE_OBJECTS: readonly PhoneObject[] = ['Contact', 'Lead', 'Account'];

/** The non-phone fields a lookup answers with, per object, when the describe lists them. */
const ANSWER_FIELDS: Record<PhoneObject, readonly string[]> = {
    Contact: ['AccountId', 'OwnerId', 'LastModifiedDate', 'IsPersonAccount'],
    Lead: ['Company', 'OwnerId', 'LastModifiedDate'],
    Account: ['OwnerId', 'LastModifiedDate', 'IsPersonAccount', 'PersonContactId']
};

interface DescribeBody {
    queryable?: boolean;
    searchable?: boolean;
    fields?: Array<{ name?: unknown; type?: unknown }>;
}

/** One object's describe body, when Salesforce answered it. */
export type Describes = Partial<Record<PhoneObject, unknown>>;

/** The facts from the describes of Contact, Lead and Account; an object not described (or not searchable) is left out. */
export function phoneFieldsOf(describes: Describes, checkedAt: string): PhoneFieldFacts {
    const objects: PhoneFieldFacts['objects'] = {};
    for (const name of PHONE_OBJECTS) {
        const body = describes[name] as DescribeBody | undefined;
        if (!body || !Array.isArray(body.fields) || body.queryable === false || body.searchable === false) continue;
        const fields = body.fields.filter((f): f is { name: string; type?: unknown } => typeof f.name === 'string');
        const present = new Set(fields.map((f) => f.name));
        objects[name] = {
            phone: fields.filter((f) => f.type === 'phone').map((f) => f.name),
            answer: ANSWER_FIELDS[name].filter((f) => present.has(f))
        };
    }
    const account = objects.Account?.answer ?? [];
    return { checkedAt, personAccounts: account.includes('IsPersonAccount') && account.includes('PersonContactId'), objects };
}

/** The facts from the preflight's Composite answers (the describes it asks for, under the objects' names). */
export function phoneFieldsFromPreflight(results: Map<string, CompositeResult>, checkedAt: string): PhoneFieldFacts {
    const describes: Describes = {};
    for (const name of PHONE_OBJECTS) {
        const result = results.get(name);
        if (result && result.status >= 200 && result.status < 300) describes[name] = result.body;
    }
    return phoneFieldsOf(describes, checkedAt);
}
