// The sObjects the emulated orgs know, described the way the describe call reports them. OBJECTS is what every org
// has; objectsOf(org) adds what the org's settings and customizations add (Person Accounts, record types, custom fields).

import type { FieldDef, FieldType, OrgModel } from './model.ts';

export interface ObjectDef {
    name: string;
    label: string;
    labelPlural: string;
    keyPrefix: string | null;
    /** stored records the API can create (false for setup objects derived from the org model) */
    dml: boolean;
    searchable: boolean;
    fields: FieldDef[];
}

type FieldOpts = Partial<Omit<FieldDef, 'name' | 'label' | 'type'>>;

function f(name: string, label: string, type: FieldType, opts: FieldOpts = {}): FieldDef {
    const systemType = type === 'id';
    return {
        name,
        label,
        type,
        nillable: !systemType,
        createable: !systemType,
        updateable: !systemType,
        ...(type === 'string' || type === 'phone' || type === 'email' || type === 'url' ? { length: 255 } : {}),
        ...(type === 'picklist' || type === 'combobox' ? { length: 255 } : {}),
        ...(type === 'textarea' ? { length: 32000 } : {}),
        ...(type === 'reference' || type === 'id' ? { length: 18 } : {}),
        ...opts
    };
}

const ro: FieldOpts = { createable: false, updateable: false };
const sys = (): FieldDef[] => [
    f('CreatedDate', 'Created Date', 'datetime', { ...ro, nillable: false, defaultedOnCreate: true }),
    f('CreatedById', 'Created By ID', 'reference', {
        ...ro,
        nillable: false,
        defaultedOnCreate: true,
        referenceTo: ['User'],
        relationshipName: 'CreatedBy'
    }),
    f('LastModifiedDate', 'Last Modified Date', 'datetime', { ...ro, nillable: false, defaultedOnCreate: true }),
    f('LastModifiedById', 'Last Modified By ID', 'reference', {
        ...ro,
        nillable: false,
        defaultedOnCreate: true,
        referenceTo: ['User'],
        relationshipName: 'LastModifiedBy'
    }),
    f('SystemModstamp', 'System Modstamp', 'datetime', { ...ro, nillable: false, defaultedOnCreate: true }),
    f('IsDeleted', 'Deleted', 'boolean', { ...ro, nillable: false, defaultedOnCreate: true })
];
const owner = (): FieldDef =>
    f('OwnerId', 'Owner ID', 'reference', { nillable: false, defaultedOnCreate: true, referenceTo: ['User'], relationshipName: 'Owner' });
const fls: FieldOpts = { fls: true };
/** A person's name as Contact and Lead describe it: the parts and the derived full name. */
const personName = (): FieldDef[] => [
    f('Salutation', 'Salutation', 'picklist', { picklist: ['Mr.', 'Ms.', 'Mrs.', 'Dr.', 'Prof.'] }),
    f('FirstName', 'First Name', 'string', { length: 40 }),
    f('LastName', 'Last Name', 'string', { nillable: false, length: 80 }),
    f('Name', 'Full Name', 'string', { ...ro, nillable: false, nameField: true, length: 121 })
];
const perm = (name: string, label: string): FieldDef => f(name, label, 'boolean', { nillable: false, ...ro });

const permissionFields = (): FieldDef[] => [
    perm('PermissionsApiEnabled', 'API Enabled'),
    perm('PermissionsApiUserOnly', 'API Only User'),
    perm('PermissionsEditTask', 'Edit Tasks'),
    perm('PermissionsViewAllUsers', 'View All Users'),
    perm('PermissionsViewAllData', 'View All Data'),
    perm('PermissionsModifyAllData', 'Modify All Data'),
    perm('PermissionsPasswordNeverExpires', 'Password Never Expires'),
    perm('PermissionsViewSetup', 'View Setup and Configuration')
];

export const OBJECTS: Record<string, ObjectDef> = {
    // The running user's effective permissions: one row, readable by every user.
    UserPermissionAccess: {
        name: 'UserPermissionAccess',
        label: 'User Permission Access',
        labelPlural: 'User Permission Access',
        keyPrefix: null,
        dml: false,
        searchable: false,
        fields: [f('Id', 'ID', 'id'), ...permissionFields()]
    },
    Organization: {
        name: 'Organization',
        label: 'Organization',
        labelPlural: 'Organizations',
        keyPrefix: '00D',
        dml: false,
        searchable: false,
        fields: [
            f('Id', 'Organization ID', 'id'),
            f('Name', 'Name', 'string', { ...ro, nameField: true, nillable: false }),
            f('IsSandbox', 'Is Sandbox', 'boolean', { ...ro, nillable: false }),
            f('OrganizationType', 'Edition', 'picklist', ro),
            f('InstanceName', 'Instance Name', 'string', ro),
            f('NamespacePrefix', 'Namespace Prefix', 'string', ro),
            f('DefaultAccountAccess', 'Default Account Access', 'picklist', ro),
            f('DefaultContactAccess', 'Default Contact Access', 'picklist', ro),
            f('DefaultLeadAccess', 'Default Lead Access', 'picklist', ro),
            f('DefaultCaseAccess', 'Default Case Access', 'picklist', ro),
            f('LanguageLocaleKey', 'Locale', 'picklist', ro),
            f('TimeZoneSidKey', 'Default Time Zone', 'picklist', ro),
            f('TrialExpirationDate', 'Trial Expiration Date', 'datetime', ro),
            ...sys()
        ]
    },
    UserLicense: {
        name: 'UserLicense',
        label: 'User License',
        labelPlural: 'User Licenses',
        keyPrefix: '100',
        dml: false,
        searchable: false,
        fields: [
            f('Id', 'User License ID', 'id'),
            f('Name', 'Name', 'string', { ...ro, nameField: true }),
            f('MasterLabel', 'Master Label', 'string', ro),
            f('LicenseDefinitionKey', 'License Definition Key', 'string', ro),
            f('Status', 'Status', 'picklist', ro)
        ]
    },
    Profile: {
        name: 'Profile',
        label: 'Profile',
        labelPlural: 'Profiles',
        keyPrefix: '00e',
        dml: false,
        searchable: false,
        fields: [
            f('Id', 'Profile ID', 'id'),
            f('Name', 'Name', 'string', { ...ro, nameField: true, nillable: false }),
            f('Description', 'Description', 'string', ro),
            f('UserType', 'User Type', 'picklist', ro),
            f('UserLicenseId', 'User License ID', 'reference', { ...ro, referenceTo: ['UserLicense'], relationshipName: 'UserLicense' }),
            ...permissionFields(),
            ...sys()
        ]
    },
    PermissionSet: {
        name: 'PermissionSet',
        label: 'Permission Set',
        labelPlural: 'Permission Sets',
        keyPrefix: '0PS',
        dml: false,
        searchable: false,
        fields: [
            f('Id', 'Permission Set ID', 'id'),
            f('Name', 'Name', 'string', { ...ro, nillable: false }),
            f('Label', 'Label', 'string', { ...ro, nameField: true, nillable: false }),
            f('IsOwnedByProfile', 'Is Owned By Profile', 'boolean', { ...ro, nillable: false }),
            f('NamespacePrefix', 'Namespace Prefix', 'string', ro),
            f('ProfileId', 'Profile ID', 'reference', { ...ro, referenceTo: ['Profile'], relationshipName: 'Profile' }),
            ...permissionFields(),
            ...sys()
        ]
    },
    CustomPermission: {
        name: 'CustomPermission',
        label: 'Custom Permission',
        labelPlural: 'Custom Permissions',
        keyPrefix: '0CP',
        dml: false,
        searchable: false,
        fields: [
            f('Id', 'Custom Permission ID', 'id'),
            f('DeveloperName', 'Name', 'string', { ...ro, nillable: false }),
            f('MasterLabel', 'Label', 'string', { ...ro, nameField: true, nillable: false }),
            f('NamespacePrefix', 'Namespace Prefix', 'string', ro),
            f('IsLicensed', 'Is Licensed', 'boolean', { ...ro, nillable: false }),
            ...sys()
        ]
    },
    PermissionSetAssignment: {
        name: 'PermissionSetAssignment',
        label: 'Permission Set Assignment',
        labelPlural: 'Permission Set Assignments',
        keyPrefix: '0Pa',
        dml: false,
        searchable: false,
        fields: [
            f('Id', 'Permission Set Assignment ID', 'id'),
            f('AssigneeId', 'Assignee ID', 'reference', { ...ro, nillable: false, referenceTo: ['User'], relationshipName: 'Assignee' }),
            f('PermissionSetId', 'Permission Set ID', 'reference', {
                ...ro,
                nillable: false,
                referenceTo: ['PermissionSet'],
                relationshipName: 'PermissionSet'
            }),
            f('IsActive', 'Is Active', 'boolean', { ...ro, nillable: false }),
            f('SystemModstamp', 'System Modstamp', 'datetime', { ...ro, nillable: false })
        ]
    },
    ObjectPermissions: {
        name: 'ObjectPermissions',
        label: 'Object Permissions',
        labelPlural: 'Object Permissions',
        keyPrefix: '110',
        dml: false,
        searchable: false,
        fields: [
            f('Id', 'Object Permissions ID', 'id'),
            f('ParentId', 'Parent ID', 'reference', { ...ro, nillable: false, referenceTo: ['PermissionSet'], relationshipName: 'Parent' }),
            f('SobjectType', 'sObject Type Name', 'picklist', { ...ro, nillable: false }),
            perm('PermissionsRead', 'Read'),
            perm('PermissionsCreate', 'Create'),
            perm('PermissionsEdit', 'Edit'),
            perm('PermissionsDelete', 'Delete'),
            perm('PermissionsViewAllRecords', 'View All'),
            perm('PermissionsModifyAllRecords', 'Modify All')
        ]
    },
    FieldPermissions: {
        name: 'FieldPermissions',
        label: 'Field Permissions',
        labelPlural: 'Field Permissions',
        keyPrefix: '01k',
        dml: false,
        searchable: false,
        fields: [
            f('Id', 'Field Permissions ID', 'id'),
            f('ParentId', 'Parent ID', 'reference', { ...ro, nillable: false, referenceTo: ['PermissionSet'], relationshipName: 'Parent' }),
            f('SobjectType', 'sObject Type Name', 'picklist', { ...ro, nillable: false }),
            f('Field', 'Field Name', 'string', { ...ro, nillable: false }),
            perm('PermissionsRead', 'Read Access'),
            perm('PermissionsEdit', 'Edit Access')
        ]
    },
    User: {
        name: 'User',
        label: 'User',
        labelPlural: 'Users',
        keyPrefix: '005',
        dml: false,
        searchable: true,
        fields: [
            f('Id', 'User ID', 'id'),
            f('Username', 'Username', 'string', { ...ro, nillable: false, length: 80 }),
            f('FirstName', 'First Name', 'string', { ...ro, length: 40 }),
            f('LastName', 'Last Name', 'string', { ...ro, nillable: false, length: 80 }),
            f('Name', 'Full Name', 'string', { ...ro, nameField: true, length: 121 }),
            f('Alias', 'Alias', 'string', { ...ro, length: 8 }),
            f('Email', 'Email', 'email', { ...ro, nillable: false }),
            f('Title', 'Title', 'string', { ...ro, length: 80 }),
            f('Phone', 'Phone', 'phone', { ...ro, length: 40 }),
            f('MobilePhone', 'Mobile', 'phone', { ...ro, length: 40 }),
            f('IsActive', 'Active', 'boolean', { ...ro, nillable: false }),
            f('UserType', 'User Type', 'picklist', ro),
            f('ProfileId', 'Profile ID', 'reference', { ...ro, nillable: false, referenceTo: ['Profile'], relationshipName: 'Profile' }),
            f('UserRoleId', 'Role ID', 'reference', { ...ro, referenceTo: ['UserRole'], relationshipName: 'UserRole' }),
            f('TimeZoneSidKey', 'Time Zone', 'picklist', ro),
            f('LocaleSidKey', 'Locale', 'picklist', ro),
            f('LanguageLocaleKey', 'Language', 'picklist', ro),
            f('CallCenterId', 'Call Center ID', 'reference', { ...ro, referenceTo: ['CallCenter'] }),
            f('FederationIdentifier', 'SAML Federation ID', 'string', { ...ro, length: 512 }),
            f('LastLoginDate', 'Last Login', 'datetime', ro),
            ...sys().filter((x) => x.name !== 'IsDeleted')
        ]
    },
    RecordType: {
        name: 'RecordType',
        label: 'Record Type',
        labelPlural: 'Record Types',
        keyPrefix: '012',
        dml: false,
        searchable: false,
        fields: [
            f('Id', 'Record Type ID', 'id'),
            f('Name', 'Record Type Name', 'string', { ...ro, nameField: true, nillable: false, length: 80 }),
            f('DeveloperName', 'Record Type Name', 'string', { ...ro, nillable: false, length: 80 }),
            f('SobjectType', 'SObject Type Name', 'picklist', { ...ro, nillable: false, length: 40 }),
            f('Description', 'Description', 'string', ro),
            f('IsActive', 'Active', 'boolean', { ...ro, nillable: false }),
            f('NamespacePrefix', 'Namespace Prefix', 'string', { ...ro, length: 15 }),
            ...sys().filter((x) => x.name !== 'IsDeleted')
        ]
    },
    Account: {
        name: 'Account',
        label: 'Account',
        labelPlural: 'Accounts',
        keyPrefix: '001',
        dml: true,
        searchable: true,
        fields: [
            f('Id', 'Account ID', 'id'),
            f('Name', 'Account Name', 'string', { nillable: false, nameField: true }),
            f('Type', 'Account Type', 'picklist', {
                ...fls,
                picklist: ['Prospect', 'Customer - Direct', 'Customer - Channel', 'Partner', 'Other']
            }),
            f('Industry', 'Industry', 'picklist', { ...fls, picklist: ['Technology', 'Finance', 'Retail', 'Manufacturing', 'Other'] }),
            f('Phone', 'Account Phone', 'phone', { ...fls, length: 40 }),
            f('Fax', 'Account Fax', 'phone', { ...fls, length: 40 }),
            f('Website', 'Website', 'url', fls),
            f('BillingCity', 'Billing City', 'string', { ...fls, length: 40 }),
            f('BillingCountry', 'Billing Country', 'string', { ...fls, length: 80 }),
            f('Description', 'Account Description', 'textarea', fls),
            owner(),
            ...sys()
        ]
    },
    Contact: {
        name: 'Contact',
        label: 'Contact',
        labelPlural: 'Contacts',
        keyPrefix: '003',
        dml: true,
        searchable: true,
        fields: [
            f('Id', 'Contact ID', 'id'),
            f('AccountId', 'Account ID', 'reference', { referenceTo: ['Account'], relationshipName: 'Account' }),
            ...personName(),
            f('Title', 'Title', 'string', { ...fls, length: 128 }),
            f('Email', 'Email', 'email', { ...fls, length: 80 }),
            f('Phone', 'Business Phone', 'phone', { ...fls, length: 40 }),
            f('MobilePhone', 'Mobile Phone', 'phone', { ...fls, length: 40 }),
            f('HomePhone', 'Home Phone', 'phone', { ...fls, length: 40 }),
            f('OtherPhone', 'Other Phone', 'phone', { ...fls, length: 40 }),
            f('AssistantPhone', 'Asst. Phone', 'phone', { ...fls, length: 40 }),
            f('Fax', 'Business Fax', 'phone', { ...fls, length: 40 }),
            f('MailingCity', 'Mailing City', 'string', { ...fls, length: 40 }),
            f('Description', 'Contact Description', 'textarea', fls),
            owner(),
            ...sys()
        ]
    },
    Lead: {
        name: 'Lead',
        label: 'Lead',
        labelPlural: 'Leads',
        keyPrefix: '00Q',
        dml: true,
        searchable: true,
        fields: [
            f('Id', 'Lead ID', 'id'),
            ...personName(),
            f('Company', 'Company', 'string', { nillable: false }),
            f('Title', 'Title', 'string', { ...fls, length: 128 }),
            f('Email', 'Email', 'email', { ...fls, length: 80 }),
            f('Phone', 'Phone', 'phone', { ...fls, length: 40 }),
            f('MobilePhone', 'Mobile Phone', 'phone', { ...fls, length: 40 }),
            f('Fax', 'Fax', 'phone', { ...fls, length: 40 }),
            f('Status', 'Status', 'picklist', {
                nillable: false,
                defaultedOnCreate: true,
                defaultValue: 'Open - Not Contacted',
                picklist: ['Open - Not Contacted', 'Working - Contacted', 'Closed - Converted', 'Closed - Not Converted']
            }),
            f('IsConverted', 'Converted', 'boolean', { ...ro, nillable: false, defaultedOnCreate: true }),
            f('Description', 'Description', 'textarea', fls),
            owner(),
            ...sys()
        ]
    },
    Case: {
        name: 'Case',
        label: 'Case',
        labelPlural: 'Cases',
        keyPrefix: '500',
        dml: true,
        searchable: true,
        fields: [
            f('Id', 'Case ID', 'id'),
            f('CaseNumber', 'Case Number', 'string', { ...ro, nillable: false, nameField: true, length: 30, defaultedOnCreate: true }),
            f('Subject', 'Subject', 'string', fls),
            f('Status', 'Status', 'picklist', {
                nillable: false,
                defaultedOnCreate: true,
                defaultValue: 'New',
                picklist: ['New', 'Working', 'Escalated', 'Closed']
            }),
            f('Priority', 'Priority', 'picklist', {
                ...fls,
                defaultedOnCreate: true,
                defaultValue: 'Medium',
                picklist: ['High', 'Medium', 'Low']
            }),
            f('Origin', 'Case Origin', 'picklist', { ...fls, picklist: ['Phone', 'Email', 'Web'] }),
            f('AccountId', 'Account ID', 'reference', { ...fls, referenceTo: ['Account'], relationshipName: 'Account' }),
            f('ContactId', 'Contact ID', 'reference', { ...fls, referenceTo: ['Contact'], relationshipName: 'Contact' }),
            f('SuppliedPhone', 'Web Phone', 'string', { ...fls, length: 40 }),
            f('Description', 'Description', 'textarea', fls),
            owner(),
            ...sys()
        ]
    },
    Task: {
        name: 'Task',
        label: 'Task',
        labelPlural: 'Tasks',
        keyPrefix: '00T',
        dml: true,
        searchable: false,
        fields: [
            f('Id', 'Activity ID', 'id'),
            f('Subject', 'Subject', 'combobox', { nameField: true, picklist: ['Call', 'Send Letter', 'Send Quote', 'Other'] }),
            f('ActivityDate', 'Due Date Only', 'date', fls),
            f('Status', 'Status', 'picklist', {
                nillable: false,
                defaultedOnCreate: true,
                defaultValue: 'Not Started',
                picklist: ['Not Started', 'In Progress', 'Completed', 'Waiting on someone else', 'Deferred']
            }),
            f('Priority', 'Priority', 'picklist', {
                nillable: false,
                defaultedOnCreate: true,
                defaultValue: 'Normal',
                picklist: ['High', 'Normal', 'Low']
            }),
            f('WhoId', 'Name ID', 'reference', { ...fls, referenceTo: ['Contact', 'Lead'], relationshipName: 'Who' }),
            f('WhatId', 'Related To ID', 'reference', { ...fls, referenceTo: ['Account', 'Case'], relationshipName: 'What' }),
            owner(),
            f('Description', 'Description', 'textarea', fls),
            f('Type', 'Type', 'picklist', { ...fls, picklist: ['Call', 'Email', 'Meeting', 'Other'] }),
            f('TaskSubtype', 'Task Subtype', 'picklist', {
                updateable: false,
                defaultedOnCreate: true,
                defaultValue: 'Task',
                restrictedPicklist: true,
                picklist: ['Task', 'Email', 'ListEmail', 'Cadence', 'Call', 'LinkedIn']
            }),
            f('CallDurationInSeconds', 'Call Duration', 'int', fls),
            f('CallType', 'Call Type', 'picklist', { ...fls, restrictedPicklist: true, picklist: ['Inbound', 'Internal', 'Outbound'] }),
            f('CallDisposition', 'Call Result', 'string', fls),
            f('CallObject', 'Call Object Identifier', 'string', fls),
            f('IsClosed', 'Closed', 'boolean', { ...ro, nillable: false, defaultedOnCreate: true, calculated: true }),
            f('IsHighPriority', 'High Priority', 'boolean', { ...ro, nillable: false, defaultedOnCreate: true, calculated: true }),
            f('AccountId', 'Account ID', 'reference', { ...ro, referenceTo: ['Account'], relationshipName: 'Account' }),
            ...sys()
        ]
    }
};

/** Account fields Person Accounts add, each with the Contact field whose field permissions it follows. */
const personAccountFields = (): FieldDef[] => [
    f('Salutation', 'Salutation', 'picklist', { picklist: ['Mr.', 'Ms.', 'Mrs.', 'Dr.', 'Prof.'] }),
    f('FirstName', 'First Name', 'string', { length: 40 }),
    f('LastName', 'Last Name', 'string', { length: 80 }),
    f('IsPersonAccount', 'Is Person Account', 'boolean', { ...ro, nillable: false, defaultedOnCreate: true }),
    f('PersonContactId', 'Person Contact ID', 'reference', { ...ro, referenceTo: ['Contact'], relationshipName: 'PersonContact' }),
    f('PersonMobilePhone', 'Mobile', 'phone', { ...fls, length: 40, flsKey: 'Contact.MobilePhone' }),
    f('PersonHomePhone', 'Home Phone', 'phone', { ...fls, length: 40, flsKey: 'Contact.HomePhone' }),
    f('PersonOtherPhone', 'Other Phone', 'phone', { ...fls, length: 40, flsKey: 'Contact.OtherPhone' }),
    f('PersonAssistantPhone', 'Asst. Phone', 'phone', { ...fls, length: 40, flsKey: 'Contact.AssistantPhone' }),
    f('PersonEmail', 'Email', 'email', { ...fls, length: 80, flsKey: 'Contact.Email' }),
    f('PersonTitle', 'Title', 'string', { ...fls, length: 128, flsKey: 'Contact.Title' }),
    f('PersonMailingCity', 'Mailing City', 'string', { ...fls, length: 40, flsKey: 'Contact.MailingCity' })
];

/** Contact fields a person account mirrors: the Account field → the Contact field. */
export const PERSON_FIELD_MAP: Readonly<Record<string, string>> = {
    Salutation: 'Salutation',
    FirstName: 'FirstName',
    LastName: 'LastName',
    Phone: 'Phone',
    Fax: 'Fax',
    PersonMobilePhone: 'MobilePhone',
    PersonHomePhone: 'HomePhone',
    PersonOtherPhone: 'OtherPhone',
    PersonAssistantPhone: 'AssistantPhone',
    PersonEmail: 'Email',
    PersonTitle: 'Title',
    PersonMailingCity: 'MailingCity'
};

const recordTypeIdField = (): FieldDef =>
    f('RecordTypeId', 'Record Type ID', 'reference', { referenceTo: ['RecordType'], relationshipName: 'RecordType' });

function buildObjects(org: OrgModel): Record<string, ObjectDef> {
    const out: Record<string, ObjectDef> = {};
    const pa = org.settings.personAccounts;
    for (const base of Object.values(OBJECTS)) {
        const fields = [...base.fields];
        const add = (extra: FieldDef[]): void => {
            // keep the system fields last, as describe lists them
            const at = fields.findIndex((x) => x.name === 'CreatedDate');
            fields.splice(at < 0 ? fields.length : at, 0, ...extra.filter((e) => !fields.some((x) => x.name === e.name)));
        };
        if (org.recordTypes.some((rt) => rt.sobjectType === base.name)) add([recordTypeIdField()]);
        if (pa && base.name === 'Account') {
            add(personAccountFields());
            // a custom field of Contact appears on person accounts as __pc
            add(
                (org.customFields['Contact'] ?? []).map((cf) => ({
                    ...cf,
                    name: cf.name.replace(/__c$/, '__pc'),
                    flsKey: `Contact.${cf.name}`
                }))
            );
        }
        if (pa && base.name === 'Contact')
            add([f('IsPersonAccount', 'Is Person Account', 'boolean', { ...ro, nillable: false, defaultedOnCreate: true })]);
        if (pa && base.name === 'RecordType') add([f('IsPersonType', 'Is Person Type', 'boolean', { ...ro, nillable: false })]);
        add(org.customFields[base.name] ?? []);
        out[base.name] = { ...base, fields };
    }
    return out;
}

const cache = new WeakMap<OrgModel, { version: number; objects: Record<string, ObjectDef> }>();

/** Every object of the org as its settings and customizations make it. */
export function objectsOf(org: OrgModel): Record<string, ObjectDef> {
    const hit = cache.get(org);
    if (hit && hit.version === org.schemaVersion) return hit.objects;
    const objects = buildObjects(org);
    cache.set(org, { version: org.schemaVersion, objects });
    return objects;
}

/** Case-insensitive lookup of an object by API name, in the org's schema when an org is given. */
export function findObject(name: string, org?: OrgModel): ObjectDef | undefined {
    const lower = name.toLowerCase();
    for (const def of Object.values(org ? objectsOf(org) : OBJECTS)) if (def.name.toLowerCase() === lower) return def;
    return undefined;
}

/** What defines a custom field. */
export interface CustomFieldDefinition {
    name: string;
    label?: string;
    type: FieldType;
    length?: number;
    picklist?: string[];
    restrictedPicklist?: boolean;
    /** a dependent picklist's controlling field (a picklist or checkbox of the same object) */
    controllerName?: string;
    /** dependent value → the controlling values it is valid for */
    validFor?: Record<string, Array<string | boolean>>;
    required?: boolean;
}

/** Builds a custom field's definition (field-level security applies to it, as to every custom field). */
export function customField(spec: CustomFieldDefinition): FieldDef {
    return f(spec.name, spec.label ?? spec.name.replace(/__c$/, '').replace(/_/g, ' '), spec.type, {
        fls: true,
        custom: true,
        ...(spec.type === 'phone' ? { length: 40 } : {}),
        ...(spec.length !== undefined ? { length: spec.length } : {}),
        ...(spec.picklist ? { picklist: spec.picklist } : {}),
        ...(spec.restrictedPicklist ? { restrictedPicklist: true } : {}),
        ...(spec.controllerName ? { controllerName: spec.controllerName, validFor: spec.validFor ?? {} } : {}),
        ...(spec.required ? { nillable: false } : {})
    });
}

export function findField(obj: ObjectDef, name: string): FieldDef | undefined {
    const lower = name.toLowerCase();
    return obj.fields.find((x) => x.name.toLowerCase() === lower);
}

/** Finds a reference field by its relationship name (Profile for ProfileId). */
export function findRelationship(obj: ObjectDef, relName: string): FieldDef | undefined {
    const lower = relName.toLowerCase();
    return obj.fields.find((x) => x.type === 'reference' && x.relationshipName?.toLowerCase() === lower);
}

export function soapType(t: FieldType): string {
    switch (t) {
        case 'id':
        case 'reference':
            return 'tns:ID';
        case 'boolean':
            return 'xsd:boolean';
        case 'int':
            return 'xsd:int';
        case 'double':
            return 'xsd:double';
        case 'date':
            return 'xsd:date';
        case 'datetime':
            return 'xsd:dateTime';
        default:
            return 'xsd:string';
    }
}
