import type { ErrorCode } from '../errors.ts';
import type { PermissionCheck, TaskFieldValue, TaskMappingRecord } from '../store/types.ts';
import { API_USER_PERMISSION_SET } from './messages.ts';

/**
 * The account's Task mapping checked against the org's describe of Task as the API user: each mapped field exists and
 * the API user can create it, picklist values are the field's, the record type is one the API user may use. Run when
 * the mapping is saved and at preflight (link, Verify), never at call time. Pure: the describe is fetched by the caller.
 */

export interface TaskDescribe {
    fields?: Array<{
        name: string;
        type?: string;
        createable?: boolean;
        calculated?: boolean;
        /** false: not under field-level security (a system or calculated field) */
        permissionable?: boolean;
        length?: number;
        picklistValues?: Array<{ value: string; active?: boolean }>;
    }>;
    recordTypeInfos?: Array<{ developerName?: string; recordTypeId?: string; available?: boolean; active?: boolean; master?: boolean }>;
}

/** What the check reads of a mapping: every value each field may get, and the record type's DeveloperName. */
export interface MappedTaskFields {
    fields: Map<string, TaskFieldValue[]>;
    recordType?: string;
}

export interface TaskMappingProblem {
    code: Extract<
        ErrorCode,
        'TASK_FIELD_UNKNOWN' | 'TASK_FIELD_NOT_SETTABLE' | 'TASK_FIELD_VALUE_INVALID' | 'TASK_RECORD_TYPE_UNAVAILABLE'
    >;
    /** The field (Task.X) or record type the problem is about. */
    subject: string;
    message: string;
}

const PLACEHOLDER = /\{[A-Za-z]+\}/;
const TEXT_TYPES = new Set(['string', 'textarea', 'combobox', 'phone', 'email', 'url', 'encryptedstring']);
const NUMBER_TYPES = new Set(['int', 'double', 'currency', 'percent', 'long']);
const PICKLIST_TYPES = new Set(['picklist', 'multipicklist']);

const fieldAccessFix = (field: string) =>
    `give the API user edit access to Task.${field} in its permission set (${API_USER_PERMISSION_SET}, or the one you use: Object Settings → Tasks → Field Permissions → ${field}: Edit)`;

/** The problems of the mapping in this describe (none: the mapping can be saved), and the record type's id. */
export function checkTaskMapping(
    mapped: MappedTaskFields,
    describe: TaskDescribe
): { problems: TaskMappingProblem[]; recordTypeId?: string } {
    const problems: TaskMappingProblem[] = [];
    const byName = new Map((describe.fields ?? []).map((f) => [f.name.toLowerCase(), f]));
    for (const [name, values] of mapped.fields) {
        const field = byName.get(name.toLowerCase());
        const subject = `Task.${name}`;
        if (!field) {
            problems.push({
                code: 'TASK_FIELD_UNKNOWN',
                subject,
                message: `Task has no field ${name} the API user can see: check its API name (a custom field’s ends in __c), or ${fieldAccessFix(name)}.`
            });
            continue;
        }
        if (field.createable !== true && (field.calculated === true || field.permissionable === false)) {
            problems.push({
                code: 'TASK_FIELD_NOT_SETTABLE',
                subject,
                message: `Salesforce fills Task.${field.name} itself (a calculated or system field): no one can set it, so map another field.`
            });
            continue;
        }
        if (field.createable !== true) {
            problems.push({
                code: 'TASK_FIELD_NOT_SETTABLE',
                subject,
                message: `The API user cannot set Task.${field.name}: ${fieldAccessFix(field.name)}, then save the mapping again.`
            });
            continue;
        }
        for (const value of values) {
            const wrong = valueProblem(field, value);
            if (wrong) problems.push({ code: 'TASK_FIELD_VALUE_INVALID', subject, message: `Task.${field.name}: ${wrong}` });
        }
    }
    if (mapped.recordType === undefined) return { problems };
    const wanted = mapped.recordType.toLowerCase();
    const info = (describe.recordTypeInfos ?? []).find((rt) => !rt.master && rt.developerName?.toLowerCase() === wanted);
    if (!info?.recordTypeId) {
        const known = (describe.recordTypeInfos ?? []).filter((rt) => !rt.master && rt.active !== false && rt.developerName);
        problems.push({
            code: 'TASK_RECORD_TYPE_UNAVAILABLE',
            subject: mapped.recordType,
            message: `Task has no record type ${mapped.recordType}${known.length ? ` (it has ${known.map((rt) => rt.developerName).join(', ')})` : ' (it has none)'}: name one by its API name (DeveloperName), or none.`
        });
        return { problems };
    }
    if (info.active === false || info.available !== true) {
        problems.push({
            code: 'TASK_RECORD_TYPE_UNAVAILABLE',
            subject: mapped.recordType,
            message: `The API user may not create Tasks of record type ${info.developerName}${info.active === false ? ' (it is inactive)' : ''}: activate it and add it to the API user’s permission set (Object Settings → Tasks → Record Type Assignments), then save the mapping again.`
        });
        return { problems };
    }
    return { problems, recordTypeId: info.recordTypeId };
}

type DescribedField = NonNullable<TaskDescribe['fields']>[number];

const DURATION = /^\{duration(Minutes|Seconds)\}$/;

/**
 * The value as the field takes it: text that spells a number or true/false becomes one for a number field or a
 * checkbox (the card sends text), a number or true/false becomes text for a text field or picklist.
 */
export function valueForField(field: DescribedField, value: TaskFieldValue): TaskFieldValue {
    const type = field.type ?? 'string';
    if (NUMBER_TYPES.has(type) && typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value.trim())) return Number(value.trim());
    if (type === 'boolean' && typeof value === 'string' && /^(true|false)$/i.test(value.trim()))
        return value.trim().toLowerCase() === 'true';
    if ((TEXT_TYPES.has(type) || PICKLIST_TYPES.has(type)) && typeof value !== 'string') return String(value);
    return value;
}

function valueProblem(field: DescribedField, raw: TaskFieldValue): string | undefined {
    const type = field.type ?? 'string';
    const value = valueForField(field, raw);
    if (PICKLIST_TYPES.has(type)) {
        const text = String(value);
        if (PLACEHOLDER.test(text)) return `a picklist takes one of its values, not a placeholder (${text}).`;
        const allowed = (field.picklistValues ?? []).filter((v) => v.active !== false).map((v) => v.value);
        const chosen = type === 'multipicklist' ? text.split(';') : [text];
        const bad = chosen.filter((v) => !allowed.includes(v));
        return bad.length ? `"${bad.join('", "')}" is not a value of this picklist (its values: ${allowed.join(', ')}).` : undefined;
    }
    if (type === 'boolean') return typeof value === 'boolean' ? undefined : `a checkbox takes true or false, not ${JSON.stringify(value)}.`;
    if (NUMBER_TYPES.has(type)) {
        if (typeof value === 'number') return type === 'int' && !Number.isInteger(value) ? 'takes a whole number.' : undefined;
        return typeof value === 'string' && DURATION.test(value)
            ? undefined
            : `a number field takes a number or {durationMinutes} / {durationSeconds}, not ${JSON.stringify(value)}.`;
    }
    if (TEXT_TYPES.has(type)) {
        const text = String(value);
        return !PLACEHOLDER.test(text) && field.length && text.length > field.length ? `at most ${field.length} characters.` : undefined;
    }
    if (type === 'date' || type === 'datetime' || type === 'reference' || type === 'id')
        return `a ${type} field cannot be set by the mapping (the Task’s date and its related records come from the call).`;
    return `a ${type} field cannot be set by the mapping.`;
}

/** Every field the mapping writes, with every value it may write (what the describe check reads). */
export function mappedTaskFields(
    m: Omit<TaskMappingRecord, 'checkedOrgId' | 'checkedAt' | 'recordType'> & { recordType?: string }
): MappedTaskFields {
    const fields = new Map<string, TaskFieldValue[]>();
    const add = (row: Record<string, TaskFieldValue | null>) => {
        for (const [name, value] of Object.entries(row)) {
            const key = [...fields.keys()].find((k) => k.toLowerCase() === name.toLowerCase()) ?? name;
            if (!fields.has(key)) fields.set(key, []);
            if (value !== null && value !== '') fields.get(key)!.push(value);
        }
    };
    add(m.defaultFields);
    for (const row of m.dispositions) add(row.fields);
    return { fields, ...(m.recordType !== undefined ? { recordType: m.recordType } : {}) };
}

export function savedMappedFields(saved: TaskMappingRecord | undefined): MappedTaskFields | undefined {
    return saved ? mappedTaskFields({ ...saved, recordType: saved.recordType?.developerName }) : undefined;
}

/** Preflight's check of a saved mapping (a warning: Tasks are still made, without the mapping, until it is fixed). */
export function taskMappingPreflight(
    saved: TaskMappingRecord | undefined,
    describe: TaskDescribe | undefined
): PermissionCheck | undefined {
    const mapped = savedMappedFields(saved);
    if (!mapped || !describe) return undefined;
    const { problems } = checkTaskMapping(mapped, describe);
    return {
        id: 'task_mapping',
        label: 'Task mapping fields writable',
        ok: problems.length === 0,
        severity: 'warning',
        ...(problems.length
            ? {
                  detail: `${problems.map((p) => p.message).join(' ')} Until then each call’s Task is made without the account’s mapping (with the default fields), so no call is lost.`
              }
            : {})
    };
}
