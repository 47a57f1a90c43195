// Rows of every queryable object: stored records, and setup objects derived from the org model.

import { KEY_PREFIX, makeId } from './ids.ts';
import type { OrgModel, PermissionSetModel, Rec } from './model.ts';
import { PERMISSION_NAMES } from './model.ts';
import { serialFor } from './seed.ts';

const iso = (ms: number): string => new Date(ms).toISOString();

function permissionColumns(ps: PermissionSetModel): Rec {
    const out: Rec = {};
    for (const p of PERMISSION_NAMES) out[`Permissions${p}`] = ps.permissions[p];
    return out;
}

function allPermissionSets(org: OrgModel): PermissionSetModel[] {
    return [...org.profiles.map((p) => p.permissionSet), ...org.permissionSets];
}

function setupStamp(org: OrgModel): Rec {
    const at = iso(org.createdAt);
    const creator = org.users[0]?.id ?? null;
    return { CreatedDate: at, CreatedById: creator, LastModifiedDate: at, LastModifiedById: creator, SystemModstamp: at, IsDeleted: false };
}

export function rows(org: OrgModel, type: string): Rec[] {
    switch (type) {
        case 'Organization':
            return [
                {
                    Id: org.orgId,
                    Name: org.name,
                    IsSandbox: org.isSandbox,
                    OrganizationType: org.organizationType,
                    InstanceName: org.instanceName,
                    NamespacePrefix: null,
                    DefaultAccountAccess: org.sharing.Account === 'ReadWrite' ? 'Edit' : org.sharing.Account,
                    DefaultContactAccess: org.sharing.Contact === 'ReadWrite' ? 'Edit' : org.sharing.Contact,
                    DefaultLeadAccess: org.sharing.Lead === 'ReadWrite' ? 'Edit' : org.sharing.Lead,
                    DefaultCaseAccess: org.sharing.Case === 'ReadWrite' ? 'Edit' : org.sharing.Case,
                    LanguageLocaleKey: 'en_US',
                    TimeZoneSidKey: 'America/Los_Angeles',
                    TrialExpirationDate: null,
                    ...setupStamp(org)
                }
            ];
        case 'UserLicense':
            return org.licenses.map((l) => ({
                Id: l.id,
                Name: l.name,
                MasterLabel: l.name,
                LicenseDefinitionKey: l.key,
                Status: 'Active'
            }));
        case 'Profile':
            return org.profiles.map((p) => ({
                Id: p.id,
                Name: p.name,
                Description: p.description,
                UserType: 'Standard',
                UserLicenseId: p.licenseId,
                ...permissionColumns(p.permissionSet),
                ...setupStamp(org)
            }));
        case 'PermissionSet':
            return allPermissionSets(org).map((ps) => ({
                Id: ps.id,
                Name: ps.name,
                Label: ps.label,
                IsOwnedByProfile: !!ps.profileId,
                NamespacePrefix: null,
                ProfileId: ps.profileId ?? null,
                ...permissionColumns(ps),
                ...setupStamp(org)
            }));
        case 'CustomPermission':
            return (org.customPermissions ?? []).map((p) => ({
                Id: p.id,
                DeveloperName: p.developerName,
                MasterLabel: p.label,
                NamespacePrefix: p.namespacePrefix,
                IsLicensed: false,
                ...setupStamp(org)
            }));
        case 'PermissionSetAssignment': {
            const out: Rec[] = [];
            for (const u of org.users) {
                const profile = org.profiles.find((p) => p.id === u.profileId);
                const stamp = iso(u.modifiedAt);
                if (profile)
                    out.push({
                        Id: u.profileAssignmentId,
                        AssigneeId: u.id,
                        PermissionSetId: profile.permissionSet.id,
                        IsActive: true,
                        SystemModstamp: stamp
                    });
                for (const [psId, aId] of u.assignments)
                    out.push({ Id: aId, AssigneeId: u.id, PermissionSetId: psId, IsActive: true, SystemModstamp: stamp });
            }
            return out;
        }
        case 'ObjectPermissions': {
            const out: Rec[] = [];
            allPermissionSets(org).forEach((ps, i) => {
                Object.entries(ps.objects).forEach(([sobject, a], j) => {
                    if (!a.read && !a.create && !a.edit) return;
                    out.push({
                        Id: makeId(KEY_PREFIX.ObjectPermissions, org.pod, serialFor(5000 + i * 100 + j)),
                        ParentId: ps.id,
                        SobjectType: sobject,
                        PermissionsRead: a.read,
                        PermissionsCreate: a.create,
                        PermissionsEdit: a.edit,
                        PermissionsDelete: a.delete,
                        PermissionsViewAllRecords: a.viewAll,
                        PermissionsModifyAllRecords: a.modifyAll
                    });
                });
            });
            return out;
        }
        case 'FieldPermissions': {
            const out: Rec[] = [];
            allPermissionSets(org).forEach((ps, i) => {
                Object.entries(ps.fields).forEach(([field, a], j) => {
                    if (!a.read && !a.edit) return;
                    out.push({
                        Id: makeId(KEY_PREFIX.FieldPermissions, org.pod, serialFor(7000 + i * 200 + j)),
                        ParentId: ps.id,
                        SobjectType: field.split('.')[0],
                        Field: field,
                        PermissionsRead: a.read || a.edit,
                        PermissionsEdit: a.edit
                    });
                });
            });
            return out;
        }
        case 'RecordType':
            return org.recordTypes.map((rt) => ({
                Id: rt.id,
                Name: rt.name,
                DeveloperName: rt.developerName,
                SobjectType: rt.sobjectType,
                Description: rt.description,
                IsActive: rt.active,
                NamespacePrefix: null,
                ...(org.settings.personAccounts ? { IsPersonType: rt.isPersonType } : {}),
                ...setupStamp(org)
            }));
        case 'User':
            return org.users.map((u) => ({
                Id: u.id,
                Username: u.username,
                FirstName: u.firstName,
                LastName: u.lastName,
                Name: `${u.firstName} ${u.lastName}`.trim(),
                Alias: u.alias,
                Email: u.email,
                Title: u.title,
                Phone: null,
                MobilePhone: null,
                IsActive: u.active,
                UserType: 'Standard',
                ProfileId: u.profileId,
                UserRoleId: null,
                TimeZoneSidKey: u.timeZone,
                LocaleSidKey: u.locale,
                LanguageLocaleKey: u.language,
                CallCenterId: null,
                FederationIdentifier: null,
                LastLoginDate: u.lastLoginAt ? iso(u.lastLoginAt) : null,
                CreatedDate: iso(u.createdAt),
                CreatedById: org.users[0]?.id ?? u.id,
                LastModifiedDate: iso(u.modifiedAt),
                LastModifiedById: org.users[0]?.id ?? u.id,
                SystemModstamp: iso(u.modifiedAt)
            }));
        default:
            return [...(org.records.get(type)?.values() ?? [])];
    }
}

/** Any row by id, stored or derived, with its type. */
export function rowById(org: OrgModel, type: string | undefined, id: string): Rec | undefined {
    if (!type) return undefined;
    const stored = org.records.get(type);
    if (stored) return stored.get(id);
    return rows(org, type).find((r) => r['Id'] === id);
}
