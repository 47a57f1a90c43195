import { AppError } from '../errors.ts';
import { deadlineExceeded } from '../link/messages.ts';
import type { OrgClient } from '../link/orgClient.ts';
import { PHONE_OBJECTS, phoneFieldsOf, type Describes } from '../link/phoneFields.ts';
import type { Store, Tx } from '../store/store.ts';
import type { LinkRecord, MatchingSettings, PhoneFieldFacts } from '../store/types.ts';
import { checkCustomFields, effectiveMatching, searchPlan, type MatchingInput, type MatchingView } from './matching.ts';
import { readError } from './refusals.ts';

/*
 * The account's matching settings as the API reads and saves them. A save that names custom phone fields checks them
 * against the linked org's describes (one Composite request, as the API user) and refuses one that the lookup could not
 * search; with a link, the save also keeps what it read on the link, so the lookups that follow ask for exactly those
 * fields. Without a link, settings that need no org (the order, the region) are saved; custom fields are refused.
 */

const linkFirst = (): AppError =>
    new AppError(
        'NOT_LINKED',
        'Custom phone fields are checked against the linked org’s fields, and this account is not linked to Salesforce. Link it from the Contact Center Link card, then save them again (the order and the region can be saved without a link).',
        409
    );

/** What a save read of the org: the describe facts, and the link they were read through. */
export interface MatchingCheck {
    link: LinkRecord;
    facts: PhoneFieldFacts;
}

/**
 * Checks a save's matching settings against the org (outside any transaction: it asks Salesforce). Undefined when there is
 * nothing to read: the settings cleared, or no link and no custom field named.
 */
export async function checkMatchingSave(
    org: OrgClient,
    store: Store,
    accountId: string,
    input: MatchingInput | null,
    at: string,
    deadline?: AbortSignal
): Promise<MatchingCheck | undefined> {
    if (input === null) return undefined;
    const named = PHONE_OBJECTS.some((object) => (input.customPhoneFields?.[object]?.length ?? 0) > 0);
    const stored = await store.links.get(accountId);
    if (!stored) {
        if (named) throw linkFirst();
        return undefined;
    }
    if (!named && stored.status === 'needs_relink') return undefined;
    const link = await org.activeLink(accountId);
    let answers: Map<string, { status: number; body: unknown }>;
    try {
        answers = await org.compositeGet(
            accountId,
            link,
            Object.fromEntries(PHONE_OBJECTS.map((object) => [object, `sobjects/${object}/describe`])),
            deadline
        );
    } catch (error) {
        throw deadline?.aborted ? deadlineExceeded() : readError(error, 'describe Contact, Lead and Account');
    }
    const describes: Describes = {};
    for (const object of PHONE_OBJECTS) {
        const answer = answers.get(object);
        if (answer && answer.status >= 200 && answer.status < 300) describes[object] = answer.body;
    }
    const facts = phoneFieldsOf(describes, at);
    checkCustomFields(input.customPhoneFields, facts, new Map(Object.entries(describes)));
    return { link, facts };
}

/** Saves the matching settings (null: cleared) in the transaction, and what the check read on the link it read it through. */
export async function saveMatching(
    tx: Tx,
    accountId: string,
    next: { matching?: MatchingSettings },
    input: MatchingInput | null,
    check: MatchingCheck | undefined
): Promise<void> {
    if (input === null) delete next.matching;
    else next.matching = compact(input);
    if (!check) return;
    // A relink that landed meanwhile read its own org's fields: what this save read of the old one is not kept.
    const link = await tx.links.get(accountId, { forUpdate: true });
    if (link && link.orgId === check.link.orgId && link.userId === check.link.userId)
        await tx.links.patch(accountId, { phoneFields: check.facts });
}

/** The settings as stored: only what the account set. */
function compact(input: MatchingInput): MatchingSettings {
    const custom = Object.fromEntries(
        PHONE_OBJECTS.flatMap((o) => (input.customPhoneFields?.[o]?.length ? [[o, input.customPhoneFields[o]]] : []))
    );
    return {
        ...(Object.keys(custom).length ? { customPhoneFields: custom } : {}),
        ...(input.order ? { order: input.order } : {}),
        ...(input.objectOrder ? { objectOrder: input.objectOrder } : {}),
        ...(input.region ? { region: input.region } : {})
    };
}

/** The settings as the API answers them: every default filled in, and what a lookup searches in the linked org now. */
export function matchingView(stored: MatchingSettings | undefined, link: LinkRecord | undefined): MatchingView {
    const view: MatchingView = { ...effectiveMatching(stored), isDefault: !stored || Object.keys(stored).length === 0 };
    const facts = link?.phoneFields;
    if (facts) {
        const plan = searchPlan(facts, stored);
        view.searched = {
            checkedAt: facts.checkedAt,
            personAccounts: facts.personAccounts,
            fields: Object.fromEntries(PHONE_OBJECTS.flatMap((o) => (plan[o] ? [[o, plan[o].phone]] : [])))
        };
    }
    return view;
}
