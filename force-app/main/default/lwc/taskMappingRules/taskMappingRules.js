/**
 * The card's decisions about the account's Task mapping: the editor's draft from the mapping the controller answered
 * (ContactCenterLinkClient.TaskMapping: its field values as lines, the default row's with no disposition), and the
 * mapping in the backend's shape that the editor sends back to be saved (ContactCenterLinkController.saveTaskMapping).
 */

/** Which match a Task is related to, per kind of match: the backend's choices, in the order the card offers them. */
export const RELATE_CHOICES = {
    contact: ['who', 'who_and_account', 'none'],
    lead: ['who', 'none'],
    account: ['what', 'none']
};

let lineCount = 0;

/** A new line of the editor's table (a key for the template's loop). */
export function newLine(disposition = '', field = '', value = '') {
    lineCount += 1;
    return { key: `line-${lineCount}`, disposition, field, value };
}

/** The editor's draft of a mapping. */
export function draftOf(mapping) {
    const relate = (value, kind) => {
        return RELATE_CHOICES[kind].includes(value)
            ? value
            : RELATE_CHOICES[kind][0];
    };
    return {
        subject: mapping?.subject ?? '{direction} call',
        recordType: mapping?.recordType ?? '',
        relateContact: relate(mapping?.relateContact, 'contact'),
        relateLead: relate(mapping?.relateLead, 'lead'),
        relateAccount: relate(mapping?.relateAccount, 'account'),
        lines: (mapping?.lines ?? []).map((line) =>
            newLine(line.disposition ?? '', line.field ?? '', line.value ?? '')
        )
    };
}

/**
 * The backend's Task mapping from the draft, or { problem: 'field' } when a value has no field. Lines without a
 * disposition make the default row (an empty value there is left out); a disposition's empty value leaves the field
 * out for it. Values go as text: the backend gives each the type of its field when it saves the mapping.
 */
export function mappingOf(draft) {
    const defaultFields = {};
    const rows = new Map();
    for (const line of draft.lines) {
        const field = (line.field ?? '').trim();
        const value = line.value ?? '';
        const disposition = (line.disposition ?? '').trim();
        if (!field) {
            if (value.trim() || disposition) {
                return { problem: 'field' };
            }
            continue;
        }
        if (!disposition) {
            if (value.trim()) {
                defaultFields[field] = value;
            }
            continue;
        }
        const key = disposition.toLowerCase();
        if (!rows.has(key)) {
            rows.set(key, { disposition, fields: {} });
        }
        rows.get(key).fields[field] = value;
    }
    const recordType = (draft.recordType ?? '').trim();
    return {
        mapping: {
            subject: draft.subject,
            defaultFields,
            dispositions: [...rows.values()],
            recordType: recordType || null,
            relate: {
                contact: draft.relateContact,
                lead: draft.relateLead,
                account: draft.relateAccount
            }
        }
    };
}
