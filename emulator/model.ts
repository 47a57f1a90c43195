// In-memory model of an org: users, profiles, permission sets and records.

import type { ApiAllowance } from './apiLimit.ts';
import type { ExternalCredentialModel, NamedCredentialModel } from './credentials.ts';

export type OrgKey = 'acme' | 'acmeUat';
export type OriginKey = 'production' | 'sandbox' | OrgKey;
export const ORIGIN_KEYS: readonly OriginKey[] = ['production', 'sandbox', 'acme', 'acmeUat'];
export const ORG_KEYS: readonly OrgKey[] = ['acme', 'acmeUat'];

export type PermissionName =
    | 'ApiEnabled'
    | 'ApiUserOnly'
    | 'EditTask'
    | 'ViewAllUsers'
    | 'ViewAllData'
    | 'ModifyAllData'
    | 'PasswordNeverExpires'
    | 'ViewSetup'
    // "Approve Uninstalled Connected Apps" and "Use Any API Client": either lets a user authorize an app the org has not installed
    | 'CanApproveUninstalledApps'
    | 'UseAnyApiClient';
export const PERMISSION_NAMES: readonly PermissionName[] = [
    'ApiEnabled',
    'ApiUserOnly',
    'EditTask',
    'ViewAllUsers',
    'ViewAllData',
    'ModifyAllData',
    'PasswordNeverExpires',
    'ViewSetup',
    'CanApproveUninstalledApps',
    'UseAnyApiClient'
];

export interface ObjectAccess {
    read: boolean;
    create: boolean;
    edit: boolean;
    delete: boolean;
    viewAll: boolean;
    modifyAll: boolean;
}

export interface FieldAccess {
    read: boolean;
    edit: boolean;
}

export interface PermissionSetModel {
    id: string;
    name: string;
    label: string;
    /** set for the permission set a profile owns */
    profileId?: string;
    permissions: Record<PermissionName, boolean>;
    objects: Record<string, ObjectAccess>;
    /** keyed 'Task.CallType' */
    fields: Record<string, FieldAccess>;
    /** record type visibility, keyed by record type id; `default` marks the profile's default for that object */
    recordTypes: Record<string, { visible: boolean; default?: boolean }>;
}

export interface LicenseModel {
    id: string;
    name: string;
    key: string;
}

export interface ProfileModel {
    id: string;
    name: string;
    description: string;
    licenseId: string;
    permissionSet: PermissionSetModel;
}

export interface UserModel {
    id: string;
    username: string;
    password: string;
    firstName: string;
    lastName: string;
    email: string;
    alias: string;
    title: string | null;
    active: boolean;
    frozen: boolean;
    /** A profile IP range or login-hour rule that this server's requests fall outside of. */
    loginRestriction?: 'ip' | 'hours';
    /** appended to the password by SOAP logins from outside the org's trusted IP ranges; none set: the server is trusted */
    securityToken?: string;
    profileId: string;
    /** assigned (non-profile) permission set id → assignment id */
    assignments: Map<string, string>;
    profileAssignmentId: string;
    timeZone: string;
    locale: string;
    language: string;
    createdAt: number;
    modifiedAt: number;
    lastLoginAt: number | null;
}

export type SharingModel = 'Private' | 'Read' | 'ReadWrite' | 'ControlledByParent';

export type Rec = Record<string, unknown>;

/** A custom permission a managed package brought into the org (what CustomPermission lists). */
export interface CustomPermissionModel {
    id: string;
    developerName: string;
    label: string;
    namespacePrefix: string;
}

/** A record type (RecordType): per object, assigned to profiles and permission sets. */
export interface RecordTypeModel {
    id: string;
    sobjectType: string;
    developerName: string;
    name: string;
    description: string | null;
    active: boolean;
    /** the person account record types of Account */
    isPersonType: boolean;
}

/** Org settings a test can turn on; each one changes the org's schema the way Salesforce's setting does. */
export interface OrgSettings {
    /** Person Accounts (cannot be turned off again, as in Salesforce) */
    personAccounts: boolean;
}

export interface OrgModel {
    key: OrgKey;
    orgId: string;
    name: string;
    isSandbox: boolean;
    organizationType: string;
    instanceName: string;
    pod: string;
    sharing: Record<'Account' | 'Contact' | 'Lead' | 'Case', SharingModel>;
    /** the daily API request allowance over a rolling 24 hours */
    apiLimit: ApiAllowance;
    licenses: LicenseModel[];
    profiles: ProfileModel[];
    permissionSets: PermissionSetModel[];
    users: UserModel[];
    records: Map<string, Map<string, Rec>>;
    serial: number;
    createdAt: number;
    /** how many times this sandbox was refreshed */
    refreshes: number;
    /** the custom permissions of the managed packages installed here (the state keeps them in step with the apps) */
    customPermissions?: CustomPermissionModel[];
    settings: OrgSettings;
    /** custom fields per object (API names ending in __c) */
    customFields: Record<string, FieldDef[]>;
    recordTypes: RecordTypeModel[];
    /** bumped on every schema change (custom fields, record types, settings) */
    schemaVersion: number;
    externalCredentials: ExternalCredentialModel[];
    namedCredentials: NamedCredentialModel[];
}

export function noAccess(): ObjectAccess {
    return { read: false, create: false, edit: false, delete: false, viewAll: false, modifyAll: false };
}

export function noPermissions(): Record<PermissionName, boolean> {
    const out = {} as Record<PermissionName, boolean>;
    for (const p of PERMISSION_NAMES) out[p] = false;
    return out;
}

/** A field as the describe call reports it (schema.ts holds the objects made of them). */
export type FieldType =
    | 'id'
    | 'string'
    | 'textarea'
    | 'reference'
    | 'picklist'
    | 'combobox'
    | 'boolean'
    | 'int'
    | 'double'
    | 'date'
    | 'datetime'
    | 'phone'
    | 'email'
    | 'url';

export interface FieldDef {
    name: string;
    label: string;
    type: FieldType;
    length?: number;
    nillable: boolean;
    createable: boolean;
    updateable: boolean;
    defaultedOnCreate?: boolean;
    referenceTo?: string[];
    relationshipName?: string;
    picklist?: string[];
    defaultValue?: string;
    restrictedPicklist?: boolean;
    /** subject to field-level security (permission sets grant read/edit) */
    fls?: boolean;
    calculated?: boolean;
    nameField?: boolean;
    /** a custom field (API name ending in __c, or __pc for a person account's copy of a Contact field) */
    custom?: boolean;
    /** field permissions kept under another field's key: a person account field follows its Contact field */
    flsKey?: string;
    /** a dependent picklist: its controlling field, and for each of its values the controlling values it is valid for */
    controllerName?: string;
    validFor?: Record<string, Array<string | boolean>>;
}
