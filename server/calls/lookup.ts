import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import { deadlineExceeded } from '../link/messages.ts';
import type { OrgClient } from '../link/orgClient.ts';
import { PHONE_OBJECTS } from '../link/phoneFields.ts';
import type { MatchingSettings, PhoneObject } from '../store/types.ts';
import { effectiveMatching, orderMatches, searchPlan, type SearchPlan } from './matching.ts';
import { phoneSearch, phoneTerms } from './phone.ts';
import { readError } from './refusals.ts';
import type { LookupMatch } from './schemas.ts';

export interface LookupInput {
    phone: string;
    region?: string;
    /** The agent's Salesforce user (005…): the records it owns come first where the account's order says so. */
    agentUserId?: string;
}

/**
 * The screen pop: the Contacts, Leads and Accounts (Person Accounts among them) whose phone fields hold the caller's
 * number, in ONE API call (SOSL over the fields the link's describe facts allow), each with the fields it matched on,
 * in the account's order. `deadline` (the request's budget) cancels it: the answer is then DEADLINE_EXCEEDED.
 */
export async function lookupCaller(
    org: OrgClient,
    accountId: string,
    input: LookupInput,
    settings: MatchingSettings | undefined,
    deadline?: AbortSignal
): Promise<{ matches: LookupMatch[] }> {
    const region = input.region ?? effectiveMatching(settings).region;
    const terms = phoneTerms(input.phone, region);
    const link = await org.activeLink(accountId);
    org.guardLookup(link);
    const plan = searchPlan(link.phoneFields, settings);
    let body: { searchRecords?: unknown[] } | unknown[];
    try {
        body = await org.request(
            accountId,
            link,
            { method: 'GET', path: `/search?q=${encodeURIComponent(phoneSearch(terms, returningClause(plan)))}`, idempotent: true },
            deadline
        );
    } catch (error) {
        throw deadline?.aborted ? deadlineExceeded() : readError(error, 'search Contacts, Leads and Accounts by phone');
    }
    const records = Array.isArray(body) ? body : Array.isArray(body.searchRecords) ? body.searchRecords : [];
    const sameNumber = numberMatcher(terms.e164, region);
    // Before the org's fields were read, the search named Phone only: SOSL's own match is kept, as lookups always kept it.
    const verified = link.phoneFields !== undefined;
    const seen = new Set<string>();
    const matches: LookupMatch[] = [];
    for (const raw of records) {
        const match = toMatch(raw, plan, sameNumber, verified);
        if (match && !seen.has(match.id)) {
            seen.add(match.id);
            matches.push(match);
        }
    }
    return { matches: orderMatches(foldPersonContacts(matches), settings, input.agentUserId) };
}

/** `Contact(Id, Name, …), Lead(…), Account(…)`: the objects the plan can search, in Salesforce's usual order. */
export function returningClause(plan: SearchPlan): string {
    return PHONE_OBJECTS.filter((object) => plan[object])
        .map((object) => `${object}(${['Id', 'Name', ...plan[object]!.answer, ...plan[object]!.phone].join(', ')})`)
        .join(', ');
}

/**
 * Whether a stored value is the caller's number: parsed by libphonenumber as written (national, E.164, spaces, dashes,
 * parentheses, an extension), a national form read in the caller's own country (where a number that can match was
 * written), else in the account's region.
 */
function numberMatcher(callerE164: string, region: string): (stored: string) => boolean {
    const country: CountryCode = parsePhoneNumberFromString(callerE164)?.country ?? (region as CountryCode);
    return (stored) => {
        const parsed = parsePhoneNumberFromString(stored, country);
        return parsed !== undefined && parsed.number === callerE164;
    };
}

const str = (record: Record<string, unknown>, key: string): string | undefined => {
    const value = record[key];
    return typeof value === 'string' && value ? value : undefined;
};

/**
 * A search record as a match, with the fields whose value really is the caller's number; none (SOSL is loose): dropped,
 * unless the search could not name every phone field (`verified` false).
 */
function toMatch(raw: unknown, plan: SearchPlan, sameNumber: (stored: string) => boolean, verified: boolean): LookupMatch | undefined {
    if (!raw || typeof raw !== 'object') return undefined;
    const record = raw as Record<string, unknown>;
    const type = (record['attributes'] as { type?: unknown } | undefined)?.type as PhoneObject | undefined;
    const id = record['Id'];
    const asked = type && PHONE_OBJECTS.includes(type) ? plan[type] : undefined;
    if (!asked || typeof id !== 'string') return undefined;
    const matchedOn = asked.phone.flatMap((field) => {
        const value = str(record, field);
        return value && sameNumber(value) ? [{ field, value }] : [];
    });
    if (!matchedOn.length && verified) return undefined;
    const match: LookupMatch = { sobjectType: type!, id, name: str(record, 'Name') ?? '', matchedOn };
    const optional: Array<[keyof LookupMatch, string | undefined]> = [
        ['phone', str(record, 'Phone')],
        ['accountId', type === 'Contact' ? str(record, 'AccountId') : undefined],
        ['company', type === 'Lead' ? str(record, 'Company') : undefined],
        ['personContactId', type === 'Account' ? str(record, 'PersonContactId') : undefined],
        ['ownerId', str(record, 'OwnerId')],
        ['lastModifiedDate', str(record, 'LastModifiedDate')]
    ];
    for (const [key, value] of optional) if (value) (match as Record<string, unknown>)[key] = value;
    if (record['IsPersonAccount'] === true) match.isPersonAccount = true;
    return match;
}

/**
 * A Person Account is answered once, as its Account: the person contact behind it (a Contact with IsPersonAccount) is
 * dropped when its account matched too, its matched fields added to the account's under the Contact field names.
 */
function foldPersonContacts(matches: LookupMatch[]): LookupMatch[] {
    const accounts = new Map(matches.filter((m) => m.sobjectType === 'Account' && m.isPersonAccount).map((m) => [m.id, m]));
    return matches.filter((m) => {
        const account = m.sobjectType === 'Contact' && m.isPersonAccount && m.accountId ? accounts.get(m.accountId) : undefined;
        if (!account) return true;
        for (const on of m.matchedOn) {
            const field = `Contact.${on.field}`;
            if (!account.matchedOn.some((a) => a.field === field || a.value === on.value))
                account.matchedOn.push({ field, value: on.value });
        }
        return false;
    });
}
