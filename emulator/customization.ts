// What an admin changes in an org's schema: custom fields, record types, Person Accounts. Each change bumps the
// org's schemaVersion so objectsOf(org) (schema.ts) describes the org anew.

import { customField, findObject, PERSON_FIELD_MAP, type CustomFieldDefinition } from './schema.ts';
import type { FieldDef, FieldType, OrgModel, PermissionSetModel, Rec, RecordTypeModel } from './model.ts';
import { adminStamp, newRecordId } from './seed.ts';

/** The Master record type every object has; records get it when the user has no other record type of the object. */
export const MASTER_RECORD_TYPE_ID = '012000000000000AAA';
const RECORD_TYPE_PREFIX = '012';

/** Objects whose schema a test may extend. */
export const CUSTOMIZABLE_OBJECTS = ['Account', 'Contact', 'Lead', 'Case', 'Task'] as const;
const FIELD_TYPES: readonly FieldType[] = [
    'string',
    'textarea',
    'phone',
    'email',
    'url',
    'picklist',
    'boolean',
    'int',
    'double',
    'date',
    'datetime'
];

function allPermissionSets(org: OrgModel): PermissionSetModel[] {
    return [...org.profiles.map((p) => p.permissionSet), ...org.permissionSets];
}

function requireCustomizable(object: string): (typeof CUSTOMIZABLE_OBJECTS)[number] {
    const hit = CUSTOMIZABLE_OBJECTS.find((o) => o.toLowerCase() === object.toLowerCase());
    if (!hit) throw new Error(`${object} cannot be customized here; use one of ${CUSTOMIZABLE_OBJECTS.join(', ')}`);
    return hit;
}

export interface RecordTypeSpec {
    sobjectType: string;
    developerName: string;
    name?: string;
    description?: string;
    active?: boolean;
    /** profile or permission set names (or labels) that get the record type; every profile when omitted */
    availableTo?: string[];
    /** profile names whose default record type of the object this becomes */
    defaultFor?: string[];
}

export function addRecordType(org: OrgModel, spec: RecordTypeSpec, isPersonType = false): RecordTypeModel {
    const sobjectType = requireCustomizable(spec.sobjectType);
    if (!/^[A-Za-z][A-Za-z0-9_]{0,79}$/.test(spec.developerName) || spec.developerName.includes('__'))
        throw new Error(`not a record type API name: ${spec.developerName}`);
    if (org.recordTypes.some((rt) => rt.sobjectType === sobjectType && rt.developerName.toLowerCase() === spec.developerName.toLowerCase()))
        throw new Error(`${sobjectType} already has a record type named ${spec.developerName}`);
    const rt: RecordTypeModel = {
        id: newRecordId(org, RECORD_TYPE_PREFIX),
        sobjectType,
        developerName: spec.developerName,
        name: spec.name ?? spec.developerName.replace(/_/g, ' '),
        description: spec.description ?? null,
        active: spec.active ?? true,
        isPersonType
    };
    const sets = allPermissionSets(org);
    const targets = spec.availableTo
        ? spec.availableTo.map((n) => {
              const ps = findPermissionSet(org, n);
              if (!ps) throw new Error(`no profile or permission set named ${n} in ${org.key}`);
              return ps;
          })
        : org.profiles.map((p) => p.permissionSet);
    const defaults = new Set(
        (spec.defaultFor ?? []).map((n) => {
            const ps = findPermissionSet(org, n);
            if (!ps?.profileId) throw new Error(`no profile named ${n} in ${org.key}`);
            return ps;
        })
    );
    org.recordTypes.push(rt);
    for (const ps of sets) {
        if (!targets.includes(ps)) continue;
        ps.recordTypes[rt.id] = { visible: true };
    }
    for (const ps of sets) {
        if (!defaults.has(ps)) continue;
        for (const other of org.recordTypes)
            if (other.sobjectType === sobjectType && ps.recordTypes[other.id]) delete ps.recordTypes[other.id]!.default;
        ps.recordTypes[rt.id] = { visible: true, default: true };
    }
    org.schemaVersion++;
    return rt;
}

export function findPermissionSet(org: OrgModel, name: string): PermissionSetModel | undefined {
    return org.profiles.find((p) => p.name === name)?.permissionSet ?? org.permissionSets.find((p) => p.name === name || p.label === name);
}

/** The record type named 'Task.Call_Log' (object and API name), or by id. */
export function findRecordType(org: OrgModel, key: string): RecordTypeModel | undefined {
    const byId = org.recordTypes.find((rt) => rt.id === key);
    if (byId) return byId;
    const [object, dev] = key.split('.');
    return org.recordTypes.find(
        (rt) =>
            rt.sobjectType.toLowerCase() === (object ?? '').toLowerCase() && rt.developerName.toLowerCase() === (dev ?? '').toLowerCase()
    );
}

export interface CustomFieldSpec extends CustomFieldDefinition {
    /**
     * field-level security per profile or permission set name; by default every profile gets read and edit, as
     * Salesforce's new-field wizard proposes ("Visible" for all profiles)
     */
    access?: Record<string, { read: boolean; edit: boolean }>;
}

export function addCustomField(org: OrgModel, objectName: string, spec: CustomFieldSpec): FieldDef {
    const object = requireCustomizable(objectName);
    if (!/^[A-Za-z][A-Za-z0-9_]{0,37}__c$/.test(spec.name) || spec.name.slice(0, -3).includes('__'))
        throw new Error(`a custom field's API name ends in __c, without other double underscores: ${spec.name}`);
    if (!FIELD_TYPES.includes(spec.type)) throw new Error(`type must be one of ${FIELD_TYPES.join(', ')}`);
    if (spec.label !== undefined && (typeof spec.label !== 'string' || !spec.label)) throw new Error('label must be a non-empty string');
    if (spec.length !== undefined && (!Number.isInteger(spec.length) || spec.length < 1 || spec.length > 131072))
        throw new Error('length must be a whole number from 1 to 131072');
    if (spec.picklist !== undefined && (!Array.isArray(spec.picklist) || spec.picklist.some((v) => typeof v !== 'string' || !v)))
        throw new Error('picklist must be an array of non-empty strings');
    for (const flag of ['restrictedPicklist', 'required'] as const)
        if (spec[flag] !== undefined && typeof spec[flag] !== 'boolean') throw new Error(`${flag} must be a boolean`);
    if (spec.validFor !== undefined && (typeof spec.validFor !== 'object' || spec.validFor === null || Array.isArray(spec.validFor)))
        throw new Error('validFor must be an object of dependent value → controlling values');
    const def = findObject(object, org)!;
    if (def.fields.some((x) => x.name.toLowerCase() === spec.name.toLowerCase()))
        throw new Error(`${object} already has a field ${spec.name}`);
    if (spec.type === 'picklist' && !spec.picklist?.length) throw new Error('a picklist field needs picklist values');
    if (spec.controllerName !== undefined) {
        if (spec.type !== 'picklist') throw new Error('only a picklist can depend on another field');
        const controller = def.fields.find((x) => x.name === spec.controllerName);
        if (!controller || (controller.type !== 'picklist' && controller.type !== 'boolean'))
            throw new Error(`the controlling field must be a picklist or checkbox of ${object}: ${spec.controllerName}`);
        const controllingValues: Array<string | boolean> = controller.type === 'boolean' ? [false, true] : (controller.picklist ?? []);
        for (const [value, valid] of Object.entries(spec.validFor ?? {})) {
            if (!spec.picklist!.includes(value)) throw new Error(`validFor names a value the picklist lacks: ${value}`);
            for (const c of valid)
                if (!controllingValues.includes(c)) throw new Error(`validFor names a value ${spec.controllerName} lacks: ${String(c)}`);
        }
    }
    const { access, ...definition } = spec;
    // every name is checked before anything changes: a refused field leaves the org as it was
    const grants = Object.entries(access ?? {}).map(([name, fa]) => {
        const ps = findPermissionSet(org, name);
        if (!ps) throw new Error(`no profile or permission set named ${name} in ${org.key}`);
        return { ps, read: !!fa?.read || !!fa?.edit, edit: !!fa?.edit };
    });
    const fd = customField(definition);
    (org.customFields[object] ??= []).push(fd);
    const key = `${object}.${fd.name}`;
    for (const p of org.profiles) p.permissionSet.fields[key] = { read: true, edit: true };
    for (const g of grants) g.ps.fields[key] = { read: g.read, edit: g.edit };
    org.schemaVersion++;
    return fd;
}

// ------------------------------------------------------------------ Person Accounts

export function isPersonRecordType(org: OrgModel, recordTypeId: unknown): boolean {
    return typeof recordTypeId === 'string' && org.recordTypes.some((rt) => rt.id === recordTypeId && rt.isPersonType);
}

/**
 * Marks a new Account or Contact as Salesforce does once Person Accounts are on: an Account of a person account
 * record type (or stored with IsPersonAccount true) is a person account named by its name parts; others are not.
 */
export function preparePersonAccount(org: OrgModel, sobjectType: string, rec: Rec): void {
    if (!org.settings.personAccounts) return;
    if (sobjectType === 'Contact') {
        rec['IsPersonAccount'] ??= false;
        return;
    }
    if (sobjectType !== 'Account') return;
    const person = isPersonRecordType(org, rec['RecordTypeId']) || rec['IsPersonAccount'] === true;
    rec['RecordTypeId'] ??= org.recordTypes.find((rt) => rt.sobjectType === 'Account' && rt.isPersonType === person)?.id ?? null;
    rec['IsPersonAccount'] = person;
    rec['PersonContactId'] ??= null;
    if (person) rec['Name'] = [rec['FirstName'], rec['LastName']].filter((x) => typeof x === 'string' && x).join(' ');
}

/**
 * Keeps a person account's person contact in step with it: the contact carries the person fields (PERSON_FIELD_MAP,
 * and each __pc field as its Contact __c field), is linked both ways, and is created with the account.
 */
export function syncPersonContact(org: OrgModel, account: Rec, at: string): void {
    if (account['IsPersonAccount'] !== true) return;
    const contacts = org.records.get('Contact')!;
    let contactId = account['PersonContactId'];
    let contact = typeof contactId === 'string' ? contacts.get(contactId) : undefined;
    if (!contact) {
        contactId = newRecordId(org, '003');
        contact = { Id: contactId, CreatedDate: at, CreatedById: account['CreatedById'], IsDeleted: false };
        contacts.set(contactId as string, contact);
        account['PersonContactId'] = contactId;
    }
    for (const [accountField, contactField] of Object.entries(PERSON_FIELD_MAP)) contact[contactField] = account[accountField] ?? null;
    for (const [k, v] of Object.entries(account)) if (k.endsWith('__pc')) contact[k.replace(/__pc$/, '__c')] = v;
    contact['Name'] = [account['FirstName'], account['LastName']].filter((x) => typeof x === 'string' && x).join(' ');
    Object.assign(contact, {
        AccountId: account['Id'],
        IsPersonAccount: true,
        OwnerId: account['OwnerId'],
        LastModifiedDate: at,
        LastModifiedById: account['LastModifiedById'],
        SystemModstamp: at
    });
}

/** Person accounts the setting adds to the org's records (they change no answer while the setting is off). */
export const PERSON_ACCOUNT_SEEDS = [
    {
        FirstName: 'Maria',
        LastName: 'Garcia',
        PersonMobilePhone: '+1 (415) 555-0175',
        PersonHomePhone: '415-555-0176',
        PersonEmail: 'maria.garcia@example.com',
        BillingCity: 'San Francisco'
    },
    {
        FirstName: 'Tom',
        LastName: 'Baker',
        Phone: '+44 20 7946 0123',
        PersonMobilePhone: '07700 900123',
        PersonEmail: 'tom.baker@example.co.uk',
        BillingCity: 'London'
    },
    {
        // shares the demo number with Jane Doe, John Roe, Sam Lee and Globex: a caller with several matches
        FirstName: 'Lena',
        LastName: 'Fischer',
        PersonOtherPhone: '4155551212',
        PersonAssistantPhone: '+1 415 555 0190',
        PersonEmail: 'lena.fischer@example.com',
        BillingCity: 'Oakland'
    }
] as const;

/**
 * Turns on Person Accounts: Account gains the person fields and two record types (Business_Account, the default, for
 * the existing accounts, and PersonAccount), every profile gets both, and the person account seeds are added.
 */
export function enablePersonAccounts(org: OrgModel, now: number): void {
    if (org.settings.personAccounts) return;
    if (!org.recordTypes.some((rt) => rt.sobjectType === 'Account' && !rt.isPersonType))
        addRecordType(org, {
            sobjectType: 'Account',
            developerName: 'Business_Account',
            name: 'Business Account',
            defaultFor: org.profiles.map((p) => p.name)
        });
    if (!org.recordTypes.some((rt) => rt.isPersonType))
        addRecordType(org, { sobjectType: 'Account', developerName: 'PersonAccount', name: 'Person Account' }, true);
    applyPersonAccounts(org, now);
}

/**
 * The records' side of Person Accounts, in an org whose Account already has its business and person account record
 * types (a sandbox copy brings them from production): existing accounts become business accounts, the seeds are added.
 */
export function applyPersonAccounts(org: OrgModel, now: number): void {
    org.settings.personAccounts = true;
    const business = org.recordTypes.find((rt) => rt.sobjectType === 'Account' && !rt.isPersonType)!;
    const person = org.recordTypes.find((rt) => rt.isPersonType)!;
    for (const a of org.records.get('Account')!.values()) {
        a['IsPersonAccount'] ??= false;
        a['PersonContactId'] ??= null;
        a['RecordTypeId'] ??= business.id;
    }
    for (const c of org.records.get('Contact')!.values()) c['IsPersonAccount'] ??= false;
    const at = new Date(now).toISOString();
    for (const seed of PERSON_ACCOUNT_SEEDS) {
        const id = newRecordId(org, '001');
        const rec: Rec = {
            Id: id,
            ...seed,
            Name: `${seed.FirstName} ${seed.LastName}`,
            RecordTypeId: person.id,
            IsPersonAccount: true,
            PersonContactId: null,
            ...adminStamp(org, at)
        };
        org.records.get('Account')!.set(id, rec);
        syncPersonContact(org, rec, at);
    }
    org.schemaVersion++;
}
