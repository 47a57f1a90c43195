import { z } from 'zod';
import { AppError } from '../errors.ts';
import { checkTaskMapping, mappedTaskFields, valueForField, type TaskDescribe } from '../link/taskMappingCheck.ts';
import type { TaskFieldValue, TaskMappingRecord } from '../store/types.ts';
import { CONTROL_MESSAGE, isPlainText } from '../text.ts';

/**
 * The account's Task mapping (`task` in the call settings): the Subject template, the disposition table (platform
 * disposition → Task field values, and a default row), the record type and which lookup match becomes WhoId/WhatId.
 * Checked against the org's describe when saved (and at preflight), never at call time; applied by `mappedFields`.
 */

export const TASK_PLACEHOLDERS = ['direction', 'disposition', 'phone', 'durationMinutes', 'durationSeconds', 'callId'] as const;
type Placeholder = (typeof TASK_PLACEHOLDERS)[number];

/** Fields the call itself fills (or the ledger depends on): the mapping may not set them. */
const CALL_OWNED_FIELDS = [
    'Id',
    'Subject',
    'WhoId',
    'WhatId',
    'OwnerId',
    'RecordTypeId',
    'CallObject',
    'CallType',
    'CallDurationInSeconds',
    'TaskSubtype',
    'ActivityDate',
    'Description'
];
const CALL_OWNED = new Set(CALL_OWNED_FIELDS.map((f) => f.toLowerCase()));

const unknownPlaceholders = (text: string): string[] =>
    [...text.matchAll(/\{([^{}]*)\}/g)].map((m) => m[1]!).filter((name) => !(TASK_PLACEHOLDERS as readonly string[]).includes(name));

const PLACEHOLDER_LIST = TASK_PLACEHOLDERS.map((p) => `{${p}}`).join(', ');
const template = (max: number) =>
    z
        .string({ error: 'must be text' })
        .max(max, `must be at most ${max} characters`)
        .refine((value) => isPlainText(value), CONTROL_MESSAGE)
        .superRefine((value, ctx) => {
            const unknown = unknownPlaceholders(value);
            if (unknown.length)
                ctx.addIssue({
                    code: 'custom',
                    message: `holds the unknown placeholder${unknown.length > 1 ? 's' : ''} {${unknown.join('}, {')}}; the known ones are ${PLACEHOLDER_LIST}`
                });
        });

const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]{0,79}$/;
const VALUE_ERROR = { error: 'must be text, a number or true/false' };
const fieldValue = z.union([template(255), z.number().finite(), z.boolean()], VALUE_ERROR);
const fieldValueOrNull = z.union([template(255), z.number().finite(), z.boolean(), z.null()], {
    error: 'must be text, a number, true/false or null'
});
const fieldValues = <V extends z.ZodType>(value: V) =>
    z
        .object({}, { error: 'must be an object of Task field API names and their values' })
        .catchall(value)
        .superRefine((fields, ctx) => {
            const names = Object.keys(fields);
            if (names.length > 30) ctx.addIssue({ code: 'custom', message: 'may set at most 30 fields' });
            if (new Set(names.map((k) => k.toLowerCase())).size !== names.length)
                ctx.addIssue({ code: 'custom', message: 'names a field twice' });
            for (const name of names) {
                if (!FIELD_NAME.test(name))
                    ctx.addIssue({ code: 'custom', path: [name], message: 'must be a Task field’s API name such as Type or Outcome__c' });
                else if (CALL_OWNED.has(name.toLowerCase()))
                    ctx.addIssue({
                        code: 'custom',
                        path: [name],
                        message: `is filled from the call itself and cannot be mapped (${CALL_OWNED_FIELDS.join(', ')})`
                    });
            }
        });

export const taskMappingBody = z
    .strictObject(
        {
            subject: template(255)
                .refine((value) => value.trim().length > 0, 'must not be empty')
                .optional()
                .describe(`The Task's Subject; placeholders ${PLACEHOLDER_LIST}. A request's own subject wins. Default "{direction} call"`),
            defaultFields: fieldValues(fieldValue)
                .optional()
                .describe(
                    'The default row: Task fields every call gets unless its disposition’s row says otherwise; text may hold placeholders (not in a picklist); a value that renders empty is left out. Default {"CallDisposition":"{disposition}","Type":"Call","Status":"Completed"}'
                ),
            dispositions: z
                .array(
                    z.strictObject({
                        disposition: z
                            .string({ error: 'must be the platform’s disposition as text' })
                            .trim()
                            .min(1, 'must not be empty')
                            .max(255, 'must be at most 255 characters')
                            .refine((value) => isPlainText(value), CONTROL_MESSAGE),
                        fields: fieldValues(fieldValueOrNull).describe(
                            'Over the default row; null or "": left out for this disposition (answered as "")'
                        )
                    }),
                    { error: 'must be an array of { disposition, fields }' }
                )
                .max(100, 'may hold at most 100 rows')
                .refine((rows) => new Set(rows.map((r) => r.disposition.toLowerCase())).size === rows.length, 'names a disposition twice')
                .optional()
                .describe('Platform disposition (matched ignoring case) → Task field values'),
            recordType: z
                .union([z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,79}$/, 'must be a record type’s API name (DeveloperName)'), z.null()], {
                    error: 'must be a record type’s API name (DeveloperName), or null for the API user’s default'
                })
                .optional()
                .describe('The Task record type by DeveloperName, resolved to its id when saved; null: the API user’s default'),
            relate: z
                .strictObject({
                    contact: z.enum(['who', 'who_and_account', 'none'], { error: 'must be "who", "who_and_account" or "none"' }).optional(),
                    lead: z.enum(['who', 'none'], { error: 'must be "who" or "none"' }).optional(),
                    account: z.enum(['what', 'none'], { error: 'must be "what" or "none"' }).optional()
                })
                .optional()
                .describe(
                    'Which lookup match (the Task request’s `match`) becomes WhoId/WhatId: a Contact as WhoId (and its Account as WhatId), a Lead as WhoId, an Account as WhatId. Default contact "who", lead "who", account "what"'
                )
        },
        { error: (issue) => (issue.code === 'invalid_type' ? 'must be a Task mapping object, or null for the default' : undefined) }
    )
    .describe('The account’s Task mapping; keys left out take their defaults');

/** A type error inside the mapping fails the union `mapping | null` as a whole: name the mapping's own first problem instead. */
export function taskMappingError(issue: z.core.$ZodRawIssue): string | undefined {
    if (issue.code !== 'invalid_union') return undefined;
    const inner = (issue as { errors?: z.core.$ZodIssue[][] }).errors?.[0]?.[0];
    if (!inner?.path.length) return 'must be a Task mapping object, or null for the default';
    return `${inner.path.join('.')} ${inner.message.replace(/^Invalid input: /, '')}`;
}

export type TaskMappingInput = z.infer<typeof taskMappingBody>;

export const taskMappingResponse = z
    .object({
        subject: z.string(),
        defaultFields: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
        dispositions: z.array(
            z.object({ disposition: z.string(), fields: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])) })
        ),
        recordType: z.string().nullable(),
        recordTypeId: z.string().optional().describe('The record type’s id in the org the mapping was checked against'),
        relate: z.object({
            contact: z.enum(['who', 'who_and_account', 'none']),
            lead: z.enum(['who', 'none']),
            account: z.enum(['what', 'none'])
        }),
        placeholders: z.array(z.string()).describe('The placeholders a template may hold'),
        isDefault: z.boolean().describe('true while the account set no mapping: the backend’s default'),
        checkedAt: z.string().optional().describe('When the mapping was checked against the org’s describe and saved'),
        checkedOrgId: z.string().optional()
    })
    .meta({ id: 'TaskMapping' });

export type TaskMappingView = z.infer<typeof taskMappingResponse>;

/** Today's Task, as it was before accounts had mappings. */
export const DEFAULT_TASK_MAPPING: Omit<TaskMappingRecord, 'checkedOrgId' | 'checkedAt'> = {
    subject: '{direction} call',
    defaultFields: { CallDisposition: '{disposition}', Type: 'Call', Status: 'Completed' },
    dispositions: [],
    relate: { contact: 'who', lead: 'who', account: 'what' }
};

export function taskMappingView(saved: TaskMappingRecord | undefined): TaskMappingView {
    const m = saved ?? DEFAULT_TASK_MAPPING;
    return {
        subject: m.subject,
        defaultFields: { ...m.defaultFields },
        dispositions: m.dispositions.map((row) => ({ disposition: row.disposition, fields: { ...row.fields } })),
        recordType: m.recordType?.developerName ?? null,
        ...(m.recordType ? { recordTypeId: m.recordType.id } : {}),
        relate: { ...m.relate },
        placeholders: TASK_PLACEHOLDERS.map((p) => `{${p}}`),
        isDefault: saved === undefined,
        ...(saved ? { checkedAt: saved.checkedAt, checkedOrgId: saved.checkedOrgId } : {})
    };
}

/**
 * The mapping to save: the input over the defaults, checked against the org's describe of Task (fetched by the caller
 * as the API user). Every problem is named in one refusal, coded by the first (TASK_FIELD_NOT_SETTABLE first of all).
 */
export function checkedTaskMapping(input: TaskMappingInput, describe: TaskDescribe, orgId: string, at: string): TaskMappingRecord {
    const relate = { ...DEFAULT_TASK_MAPPING.relate, ...input.relate };
    const draft = {
        subject: input.subject ?? DEFAULT_TASK_MAPPING.subject,
        defaultFields: input.defaultFields ?? { ...DEFAULT_TASK_MAPPING.defaultFields },
        // null (left out for this disposition) is kept as '', which renders empty, so leaves the field out too.
        dispositions: (input.dispositions ?? []).map((row) => ({
            disposition: row.disposition,
            fields: Object.fromEntries(Object.entries(row.fields).map(([name, value]) => [name, value ?? '']))
        })),
        relate
    };
    const recordType = input.recordType ?? undefined;
    const { problems, recordTypeId } = checkTaskMapping(mappedTaskFields({ ...draft, recordType }), describe);
    if (problems.length) {
        const first = problems.find((p) => p.code === 'TASK_FIELD_NOT_SETTABLE') ?? problems[0]!;
        throw new AppError(first.code, problems.map((p) => p.message).join(' '), 422, {
            problems: problems.map((p) => ({ code: p.code, subject: p.subject, message: p.message }))
        });
    }
    const spelled = recordType && describe.recordTypeInfos?.find((rt) => rt.recordTypeId === recordTypeId)?.developerName;
    // Each value as its field takes it, under the field's own spelling: "3" for a number field is 3.
    const fields = new Map((describe.fields ?? []).map((f) => [f.name.toLowerCase(), f]));
    const typed = (row: Record<string, TaskFieldValue>) =>
        Object.fromEntries(
            Object.entries(row).map(([name, value]) => {
                const field = fields.get(name.toLowerCase())!;
                return [field.name, value === '' ? '' : valueForField(field, value)];
            })
        );
    return {
        ...draft,
        defaultFields: typed(draft.defaultFields),
        dispositions: draft.dispositions.map((row) => ({ disposition: row.disposition, fields: typed(row.fields) })),
        ...(recordType && recordTypeId ? { recordType: { developerName: spelled || recordType, id: recordTypeId } } : {}),
        checkedOrgId: orgId,
        checkedAt: at
    };
}

/** What the Task request brings that the mapping uses. */
export interface MappedCall {
    callId: string;
    direction: 'Inbound' | 'Outbound' | 'Internal';
    durationSeconds: number;
    disposition?: string;
    phone?: string;
    match?: { sobjectType: 'Contact' | 'Lead' | 'Account'; id: string; accountId?: string; personContactId?: string };
}

function render(text: string, values: Record<Placeholder, string>): string {
    return text.replace(/\{([A-Za-z]+)\}/g, (whole, name: string) => (name in values ? values[name as Placeholder] : whole));
}

/**
 * The mapped part of the Task: Subject (unless the request named one), the disposition's fields over the default
 * row, the record type and the match's WhoId/WhatId (unless the request named them). Values rendering empty are left out.
 */
export function mappedFields(mapping: TaskMappingRecord | undefined, call: MappedCall): Record<string, unknown> {
    const m = mapping ?? DEFAULT_TASK_MAPPING;
    const values: Record<Placeholder, string> = {
        direction: call.direction,
        disposition: call.disposition ?? '',
        phone: call.phone ?? '',
        durationMinutes: String(Math.ceil(call.durationSeconds / 60)),
        durationSeconds: String(call.durationSeconds),
        callId: call.callId
    };
    const out: Record<string, unknown> = {};
    const subject = render(m.subject, values).replace(/\s+/g, ' ').trim();
    out['Subject'] = (subject || `${call.direction} call`).slice(0, 255);
    const wanted = call.disposition?.trim().toLowerCase();
    const row = wanted ? m.dispositions.find((r) => r.disposition.toLowerCase() === wanted) : undefined;
    const merged: Record<string, TaskFieldValue> = { ...m.defaultFields };
    for (const [name, value] of Object.entries(row?.fields ?? {})) {
        for (const key of Object.keys(merged)) if (key.toLowerCase() === name.toLowerCase()) delete merged[key];
        merged[name] = value;
    }
    for (const [name, value] of Object.entries(merged)) {
        if (typeof value !== 'string') out[name] = value;
        else {
            const text = render(value, values).trim();
            if (!text) continue;
            out[name] = /^\{duration(Minutes|Seconds)\}$/.test(value) ? Number(text) : text;
        }
    }
    if (m.recordType) out['RecordTypeId'] = m.recordType.id;
    // A Person Account is a person: related as a Contact is, its person's Contact as WhoId and the account as its Account.
    const match =
        call.match?.sobjectType === 'Account' && call.match.personContactId
            ? { sobjectType: 'Contact' as const, id: call.match.personContactId, accountId: call.match.id }
            : call.match;
    if (match?.sobjectType === 'Contact' && m.relate.contact !== 'none') {
        out['WhoId'] = match.id;
        if (m.relate.contact === 'who_and_account' && match.accountId) out['WhatId'] = match.accountId;
    }
    if (match?.sobjectType === 'Lead' && m.relate.lead === 'who') out['WhoId'] = match.id;
    if (match?.sobjectType === 'Account' && m.relate.account === 'what') out['WhatId'] = match.id;
    return out;
}
