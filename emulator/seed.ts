// The demo orgs: Acme (production) and Acme UAT (sandbox), their users, permissions and records.

import { KEY_PREFIX, makeId } from './ids.ts';
import type {
    LicenseModel,
    ObjectAccess,
    OrgKey,
    OrgModel,
    PermissionName,
    PermissionSetModel,
    ProfileModel,
    Rec,
    UserModel
} from './model.ts';
import { ApiAllowance } from './apiLimit.ts';
import { packageCredentials } from './credentials.ts';
import { noAccess, noPermissions } from './model.ts';
import { OBJECTS } from './schema.ts';

const PODS: Record<OrgKey, string> = { acme: 'Hs', acmeUat: 'O5' };

/** Spreads small counters over base62 so ids look like Salesforce's rather than runs of zeros. */
export function serialFor(n: number): number {
    return 1_534_000_000 + n * 7_919_113;
}

function seedId(prefix: string, org: OrgKey, n: number): string {
    return makeId(prefix, PODS[org], serialFor(n));
}

const orgIdFor = (org: OrgKey, generation = 0): string => seedId(KEY_PREFIX.Organization, org, (org === 'acme' ? 900 : 937) + generation);

export const SEED = {
    orgs: {
        acme: {
            key: 'acme' as OrgKey,
            orgId: orgIdFor('acme'),
            name: 'Acme',
            environment: 'production' as const,
            isSandbox: false,
            instanceName: 'NA224'
        },
        acmeUat: {
            key: 'acmeUat' as OrgKey,
            orgId: orgIdFor('acmeUat'),
            name: 'Acme UAT',
            environment: 'sandbox' as const,
            isSandbox: true,
            instanceName: 'CS224',
            /** the production org a refresh copies, and the sandbox's name (its users' username suffix) */
            productionOrg: 'acme' as OrgKey,
            sandboxName: 'uat'
        }
    },
    users: {
        acmeApi: {
            orgKey: 'acme' as OrgKey,
            userId: seedId(KEY_PREFIX.User, 'acme', 1),
            username: 'api@acme.example',
            password: 'demo-api-pass',
            displayName: 'Contact Center Integration'
        },
        acmeAdmin: {
            orgKey: 'acme' as OrgKey,
            userId: seedId(KEY_PREFIX.User, 'acme', 2),
            username: 'admin@acme.example',
            password: 'demo-admin-pass',
            displayName: 'Ada Admin'
        },
        acmeNoApi: {
            orgKey: 'acme' as OrgKey,
            userId: seedId(KEY_PREFIX.User, 'acme', 3),
            username: 'noapi@acme.example',
            password: 'demo-noapi-pass',
            displayName: 'Nora Noapi'
        },
        uatApi: {
            orgKey: 'acmeUat' as OrgKey,
            userId: seedId(KEY_PREFIX.User, 'acmeUat', 1),
            username: 'api@acme.example.uat',
            password: 'demo-api-pass',
            displayName: 'Contact Center Integration'
        },
        uatAdmin: {
            orgKey: 'acmeUat' as OrgKey,
            userId: seedId(KEY_PREFIX.User, 'acmeUat', 2),
            username: 'admin@acme.example.uat',
            password: 'demo-admin-pass',
            displayName: 'Ada Admin'
        }
    },
    profiles: {
        admin: 'System Administrator',
        apiOnly: 'Minimum Access - API Only Integrations',
        standard: 'Standard User'
    },
    permissionSets: {
        apiUser: 'Contact_Center_API_User',
        /** the package's permission set for the admins who manage the link (its Manage_Contact_Center_Link custom permission) */
        linkAdmin: 'Contact_Center_Link_Admin'
    },
    /** the demo client main.ts registers (overridable by environment) */
    demoClient: {
        clientId: 'ccl-demo-client',
        clientSecret: 'ccl-demo-secret',
        redirectUris: ['http://localhost:3000/oauth/callback']
    },
    /** phone numbers present in both orgs' records, in several stored shapes */
    phones: {
        /** stored as '(415) 555-1212' (Contact), '+1 415 555 1212' (Lead), '415.555.1212' (Account), '4155551212' (Contact mobile) */
        us: '+14155551212',
        /** stored as '+44 20 7946 0958' (Contact) and '020 7946 0958' (Lead) */
        uk: '+442079460958',
        ukNational: '020 7946 0958'
    },
    defaultApiLimit: 15000
} as const;

export type SeedUserKey = keyof typeof SEED.users;

/** The record seeds both orgs start with (ids derive from the org's pod and the position here). */
export const SEED_RECORDS = {
    accounts: [
        {
            key: 'globex',
            Name: 'Globex Corporation',
            Phone: '415.555.1212',
            Type: 'Customer - Direct',
            Industry: 'Technology',
            BillingCity: 'San Francisco',
            BillingCountry: 'USA'
        },
        {
            key: 'initechUk',
            Name: 'Initech UK',
            Phone: '+44 20 7946 0000',
            Type: 'Customer - Channel',
            Industry: 'Finance',
            BillingCity: 'London',
            BillingCountry: 'United Kingdom'
        },
        {
            key: 'umbrella',
            Name: 'Umbrella Inc',
            Phone: '(212) 555-0199',
            Type: 'Prospect',
            Industry: 'Manufacturing',
            BillingCity: 'New York',
            BillingCountry: 'USA'
        }
    ],
    contacts: [
        {
            key: 'jane',
            FirstName: 'Jane',
            LastName: 'Doe',
            Phone: '(415) 555-1212',
            Email: 'jane.doe@globex.example',
            Title: 'VP Operations',
            account: 'globex'
        },
        {
            key: 'john',
            FirstName: 'John',
            LastName: 'Roe',
            Phone: '(650) 555-0101',
            MobilePhone: '4155551212',
            Email: 'john.roe@globex.example',
            account: 'globex'
        },
        {
            key: 'olivia',
            FirstName: 'Olivia',
            LastName: 'Smith',
            Phone: '+44 20 7946 0958',
            Email: 'olivia.smith@initech.example',
            account: 'initechUk'
        },
        {
            key: 'bob',
            FirstName: 'Bob',
            LastName: 'Stone',
            Phone: '+1 212 555 0100',
            Email: 'bob.stone@umbrella.example',
            account: 'umbrella'
        },
        { key: 'nina', FirstName: 'Nina', LastName: 'Park', HomePhone: '+1 (303) 555-0188', Email: 'nina.park@example.com', account: null }
    ],
    leads: [
        {
            key: 'sam',
            FirstName: 'Sam',
            LastName: 'Lee',
            Company: 'Lee Logistics',
            Phone: '+1 415 555 1212',
            Email: 'sam@leelogistics.example'
        },
        {
            key: 'harry',
            FirstName: 'Harry',
            LastName: 'Jones',
            Company: 'Jones & Sons',
            Phone: '020 7946 0958',
            Email: 'harry@jonesandsons.example'
        },
        {
            key: 'carol',
            FirstName: 'Carol',
            LastName: 'White',
            Company: 'White Labs',
            Phone: '650-555-0147',
            Email: 'carol@whitelabs.example'
        }
    ],
    cases: [{ key: 'lineDown', Subject: 'Phone line down', Status: 'Working', Origin: 'Phone', account: 'globex', contact: 'jane' }]
} as const;

function allPermissions(value: boolean): Record<PermissionName, boolean> {
    const p = noPermissions();
    for (const k of Object.keys(p) as PermissionName[]) p[k] = value;
    return p;
}

function access(partial: Partial<ObjectAccess>): ObjectAccess {
    return { ...noAccess(), ...partial };
}

/** Field permissions for every FLS-controlled field of the given objects. */
function fieldsOf(types: string[], edit: boolean): PermissionSetModel['fields'] {
    const out: PermissionSetModel['fields'] = {};
    for (const t of types) {
        for (const fd of OBJECTS[t]?.fields ?? [])
            if (fd.fls) out[`${t}.${fd.name}`] = { read: true, edit: edit && (fd.createable || fd.updateable) };
    }
    return out;
}

export const API_USER_TASK_FIELDS = [
    'WhoId',
    'WhatId',
    'CallObject',
    'CallType',
    'CallDurationInSeconds',
    'CallDisposition',
    'Description',
    'Type',
    'ActivityDate'
];

export function buildOrg(key: OrgKey, now: number, generation = 0): OrgModel {
    const seed = SEED.orgs[key];
    const pod = PODS[key];
    let serial = 100;
    const next = (prefix: string): string => makeId(prefix, pod, serialFor(serial++));
    const stableId = (prefix: string, n: number): string => seedId(prefix, key, n);

    const licenses: LicenseModel[] = [
        { id: stableId(KEY_PREFIX.UserLicense, 10), name: 'Salesforce', key: 'SFDC' },
        { id: stableId(KEY_PREFIX.UserLicense, 11), name: 'Salesforce Integration', key: 'SFDC_INTEGRATION' }
    ];
    const profile = (
        n: number,
        name: string,
        description: string,
        licenseId: string,
        ps: Omit<PermissionSetModel, 'id' | 'name' | 'label' | 'profileId' | 'recordTypes'>
    ): ProfileModel => {
        const id = stableId(KEY_PREFIX.Profile, n);
        return {
            id,
            name,
            description,
            licenseId,
            permissionSet: {
                id: stableId(KEY_PREFIX.PermissionSet, n),
                name: `X00ex${n}`,
                label: name,
                profileId: id,
                recordTypes: {},
                ...ps
            }
        };
    };
    const readObjects = ['Account', 'Contact', 'Lead', 'Case'];
    const admin = profile(20, SEED.profiles.admin, 'Full access to the org', licenses[0]!.id, {
        permissions: { ...allPermissions(true), ApiUserOnly: false, UseAnyApiClient: false },
        objects: Object.fromEntries(
            readObjects.map((t) => [t, access({ read: true, create: true, edit: true, delete: true, viewAll: true, modifyAll: true })])
        ),
        fields: fieldsOf([...readObjects, 'Task'], true)
    });
    const apiOnly = profile(21, SEED.profiles.apiOnly, 'API-only access for integration users', licenses[1]!.id, {
        permissions: { ...noPermissions(), ApiEnabled: true, ApiUserOnly: true, PasswordNeverExpires: true },
        objects: {},
        fields: {}
    });
    const standard = profile(22, SEED.profiles.standard, 'Standard user; API access turned off in this org', licenses[0]!.id, {
        permissions: { ...noPermissions(), EditTask: true },
        objects: Object.fromEntries(readObjects.map((t) => [t, access({ read: true, create: true, edit: true })])),
        fields: fieldsOf([...readObjects, 'Task'], true)
    });
    const apiUserSet: PermissionSetModel = {
        id: stableId(KEY_PREFIX.PermissionSet, 30),
        name: SEED.permissionSets.apiUser,
        label: 'Contact Center Link API User',
        permissions: { ...noPermissions(), EditTask: true, ViewAllUsers: true },
        recordTypes: {},
        objects: Object.fromEntries(readObjects.map((t) => [t, access({ read: true })])),
        fields: {
            ...fieldsOf(readObjects, false),
            ...Object.fromEntries(API_USER_TASK_FIELDS.map((fname) => [`Task.${fname}`, { read: true, edit: true }]))
        }
    };

    // The package's admin permission set, as an admin who installed the package assigned it to the org's admins.
    const linkAdminSet: PermissionSetModel = {
        id: stableId(KEY_PREFIX.PermissionSet, 31),
        name: SEED.permissionSets.linkAdmin,
        label: 'Contact Center Link Admin',
        permissions: noPermissions(),
        recordTypes: {},
        objects: {},
        fields: {}
    };

    const users: UserModel[] = [];
    const addUser = (
        k: SeedUserKey,
        profileModel: ProfileModel,
        extra: { alias: string; email: string; title: string | null; sets?: PermissionSetModel[] },
        n: number
    ): void => {
        const u = SEED.users[k];
        const [first, ...rest] = u.displayName.split(' ');
        const user: UserModel = {
            id: u.userId,
            username: u.username,
            password: u.password,
            firstName: first ?? '',
            lastName: rest.join(' '),
            email: extra.email,
            alias: extra.alias,
            title: extra.title,
            active: true,
            frozen: false,
            profileId: profileModel.id,
            assignments: new Map(),
            profileAssignmentId: stableId(KEY_PREFIX.PermissionSetAssignment, 40 + n),
            timeZone: 'America/Los_Angeles',
            locale: 'en_US',
            language: 'en_US',
            createdAt: now - 90 * 86400_000,
            modifiedAt: now - 30 * 86400_000,
            lastLoginAt: null
        };
        for (const [i, ps] of (extra.sets ?? []).entries())
            user.assignments.set(ps.id, stableId(KEY_PREFIX.PermissionSetAssignment, 50 + n * 5 + i));
        users.push(user);
    };
    if (key === 'acme') {
        addUser(
            'acmeApi',
            apiOnly,
            { alias: 'ccapi', email: 'integration@acme.example', title: 'Integration User', sets: [apiUserSet] },
            1
        );
        addUser(
            'acmeAdmin',
            admin,
            { alias: 'aadmi', email: 'ada.admin@acme.example', title: 'Salesforce Administrator', sets: [linkAdminSet] },
            2
        );
        addUser('acmeNoApi', standard, { alias: 'nnoap', email: 'nora@acme.example', title: 'Sales Rep' }, 3);
    } else {
        addUser('uatApi', apiOnly, { alias: 'ccapi', email: 'integration@acme.example', title: 'Integration User', sets: [apiUserSet] }, 1);
        addUser(
            'uatAdmin',
            admin,
            { alias: 'aadmi', email: 'ada.admin@acme.example', title: 'Salesforce Administrator', sets: [linkAdminSet] },
            2
        );
    }
    const adminId = users.find((u) => u.profileId === admin.id)!.id;

    const records = new Map<string, Map<string, Rec>>();
    for (const t of ['Account', 'Contact', 'Lead', 'Case', 'Task']) records.set(t, new Map());
    const stamp = (rec: Rec, at: number): Rec => {
        const iso = new Date(at).toISOString();
        return {
            ...rec,
            OwnerId: adminId,
            CreatedById: adminId,
            LastModifiedById: adminId,
            CreatedDate: iso,
            LastModifiedDate: iso,
            SystemModstamp: iso,
            IsDeleted: false
        };
    };
    const created = now - 60 * 86400_000;
    const accountIds: Record<string, string> = {};
    for (const a of SEED_RECORDS.accounts) {
        const { key: k, ...fields } = a;
        const id = next(KEY_PREFIX.Account);
        accountIds[k] = id;
        records.get('Account')!.set(id, stamp({ Id: id, ...fields }, created));
    }
    const contactIds: Record<string, string> = {};
    for (const c of SEED_RECORDS.contacts) {
        const { key: k, account, ...fields } = c;
        const id = next(KEY_PREFIX.Contact);
        contactIds[k] = id;
        const rec: Rec = {
            Id: id,
            ...fields,
            Name: `${fields.FirstName} ${fields.LastName}`,
            AccountId: account ? accountIds[account] : null
        };
        records.get('Contact')!.set(id, stamp(rec, created));
    }
    for (const l of SEED_RECORDS.leads) {
        const { key: _k, ...fields } = l;
        const id = next(KEY_PREFIX.Lead);
        records.get('Lead')!.set(
            id,
            stamp(
                {
                    Id: id,
                    ...fields,
                    Name: `${fields.FirstName} ${fields.LastName}`,
                    Status: 'Open - Not Contacted',
                    IsConverted: false
                },
                created
            )
        );
    }
    let caseNo = 1001;
    for (const c of SEED_RECORDS.cases) {
        const { key: _k, account, contact, ...fields } = c;
        const id = next(KEY_PREFIX.Case);
        records.get('Case')!.set(
            id,
            stamp(
                {
                    Id: id,
                    CaseNumber: String(caseNo++).padStart(8, '0'),
                    ...fields,
                    Priority: 'Medium',
                    AccountId: accountIds[account],
                    ContactId: contactIds[contact]
                },
                created
            )
        );
    }

    return {
        key,
        orgId: orgIdFor(key, generation),
        name: seed.name,
        isSandbox: seed.isSandbox,
        organizationType: 'Enterprise Edition',
        instanceName: seed.instanceName,
        pod,
        sharing: { Account: 'ReadWrite', Contact: 'ReadWrite', Lead: 'ReadWrite', Case: 'ReadWrite' },
        apiLimit: new ApiAllowance(SEED.defaultApiLimit),
        licenses,
        profiles: [admin, apiOnly, standard],
        permissionSets: [apiUserSet, linkAdminSet],
        users,
        records,
        serial: 10_000,
        createdAt: now - 365 * 86400_000,
        refreshes: generation,
        settings: { personAccounts: false },
        customFields: {},
        recordTypes: [],
        schemaVersion: 0,
        ...packageCredentials()
    };
}

/** The system fields of a record an admin of the org stores at `at` (ISO 8601): owner, creator, dates. */
export function adminStamp(org: OrgModel, at: string): Rec {
    const admin =
        org.users.find((u) => org.profiles.find((p) => p.id === u.profileId)?.permissionSet.permissions.ModifyAllData) ?? org.users[0]!;
    return {
        OwnerId: admin.id,
        CreatedById: admin.id,
        LastModifiedById: admin.id,
        CreatedDate: at,
        LastModifiedDate: at,
        SystemModstamp: at,
        IsDeleted: false
    };
}

/** A fresh id in the org for a new record. */
export function newRecordId(org: OrgModel, prefix: string): string {
    return makeId(prefix, org.pod, serialFor(org.serial++));
}

/** A new org id for a refreshed sandbox. */
export function refreshedOrgId(key: OrgKey, generation: number): string {
    return orgIdFor(key, generation);
}
