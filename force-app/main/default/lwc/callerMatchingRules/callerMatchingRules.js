/**
 * The card's decisions about how callers are matched: the editor's draft from the settings the controller answered
 * (ContactCenterLinkClient.CallerMatching), the changes the admin makes to it (custom fields added and removed, rules
 * and objects moved), what a lookup searches now, and the settings in the backend's shape that the editor sends back
 * to be saved (ContactCenterLinkController.saveCallerMatching). Which field names the org has, and their format, is
 * the backend's to check: it answers with the fix.
 */

/** The objects a lookup searches, in the order the card shows them. */
export const PHONE_OBJECTS = ['Contact', 'Lead', 'Account'];

/** The rules that can order several matches, the backend's names. */
export const MATCH_RULES = ['objectType', 'ownedByAgent', 'lastModified'];

const ofObjects = (make) =>
    Object.fromEntries(PHONE_OBJECTS.map((object) => [object, make(object)]));

/** The editor's draft of the settings: each object's custom fields, every rule (used ones first), the objects' order, the region. */
export function draftOf(matching) {
    const byObject = new Map(
        (matching?.objects ?? []).map((o) => [o.sobjectType, o])
    );
    const order = (matching?.order ?? MATCH_RULES).filter((rule) =>
        MATCH_RULES.includes(rule)
    );
    const objectOrder = (matching?.objectOrder ?? []).filter((o) =>
        PHONE_OBJECTS.includes(o)
    );
    return {
        fields: ofObjects((object) => [
            ...(byObject.get(object)?.customFields ?? [])
        ]),
        typed: ofObjects(() => ''),
        rules: [
            ...order.map((name) => ({ name, used: true })),
            ...MATCH_RULES.filter((rule) => !order.includes(rule)).map(
                (name) => ({ name, used: false })
            )
        ],
        objectOrder: [
            ...objectOrder,
            ...PHONE_OBJECTS.filter((o) => !objectOrder.includes(o))
        ],
        region: matching?.region ?? ''
    };
}

/**
 * The draft with the field typed for an object added to its list, or { problem: 'empty' | 'twice' } (Salesforce's API
 * names are case-insensitive, so a name already listed in another case is the same field).
 */
export function withField(draft, object) {
    const name = (draft.typed[object] ?? '').trim();
    if (!name) {
        return { problem: 'empty' };
    }
    const listed = draft.fields[object];
    if (listed.some((f) => f.toLowerCase() === name.toLowerCase())) {
        return { problem: 'twice', field: name };
    }
    return {
        draft: {
            ...draft,
            fields: { ...draft.fields, [object]: [...listed, name] },
            typed: { ...draft.typed, [object]: '' }
        }
    };
}

/** The draft with every name still typed and not yet added put in its object's list (unless listed already): Save keeps it. */
export function withTypedFields(draft) {
    let result = draft;
    for (const object of PHONE_OBJECTS) {
        const added = withField(result, object);
        if (added.draft) {
            result = added.draft;
        }
    }
    return result;
}

/** The draft without one of an object's custom fields. */
export function withoutField(draft, object, name) {
    return {
        ...draft,
        fields: {
            ...draft.fields,
            [object]: draft.fields[object].filter((f) => f !== name)
        }
    };
}

/** A list with the item at index moved by delta (-1 up, +1 down); unchanged when it would leave the list. */
export function moved(list, index, delta) {
    const to = index + delta;
    if (index < 0 || index >= list.length || to < 0 || to >= list.length) {
        return list;
    }
    const result = [...list];
    [result[index], result[to]] = [result[to], result[index]];
    return result;
}

/**
 * The backend's matching settings from the draft: every key, so what the admin sees is what is saved; a region left
 * empty is left out, and the backend's default applies.
 */
export function matchingOf(draft) {
    const region = (draft.region ?? '').trim().toUpperCase();
    return {
        customPhoneFields: ofObjects((object) => [...draft.fields[object]]),
        order: draft.rules.filter((r) => r.used).map((r) => r.name),
        objectOrder: [...draft.objectOrder],
        ...(region ? { region } : {})
    };
}

/**
 * What a lookup searches now, per object: { sobjectType, searched, fields }; undefined while the org's fields were never
 * read (the backend then asks for Phone only).
 */
export function searchedNow(matching) {
    if (!matching?.checkedAt) {
        return undefined;
    }
    const byObject = new Map(
        (matching.objects ?? []).map((o) => [o.sobjectType, o])
    );
    return PHONE_OBJECTS.map((sobjectType) => {
        const fields = byObject.get(sobjectType)?.searchedFields;
        return {
            sobjectType,
            searched: Array.isArray(fields),
            fields: Array.isArray(fields) ? fields.join(', ') : ''
        };
    });
}
