// A user's effective access: the union of the profile's permission set and the assigned ones.

import type {
    FieldAccess,
    FieldDef,
    ObjectAccess,
    OrgModel,
    PermissionName,
    PermissionSetModel,
    Rec,
    RecordTypeModel,
    UserModel
} from './model.ts';
import { noAccess, noPermissions, PERMISSION_NAMES } from './model.ts';
import { OBJECTS, type ObjectDef } from './schema.ts';

/** Setup objects (those derived from the org model rather than stored), which every API user may read in the emulator. */
const SETUP_OBJECTS = new Set(
    Object.values(OBJECTS)
        .filter((o) => !o.dml)
        .map((o) => o.name)
);

export class Access {
    readonly permissions: Record<PermissionName, boolean>;
    private readonly sets: PermissionSetModel[];

    constructor(
        readonly org: OrgModel,
        readonly user: UserModel
    ) {
        const profile = org.profiles.find((p) => p.id === user.profileId);
        this.sets = [];
        if (profile) this.sets.push(profile.permissionSet);
        for (const psId of user.assignments.keys()) {
            const ps = org.permissionSets.find((p) => p.id === psId);
            if (ps) this.sets.push(ps);
        }
        this.permissions = noPermissions();
        for (const ps of this.sets) for (const p of PERMISSION_NAMES) if (ps.permissions[p]) this.permissions[p] = true;
        if (this.permissions.ModifyAllData) this.permissions.ViewAllData = true;
    }

    /** The UserPermissionAccess row Salesforce answers for the running user. */
    permissionRow(): Rec {
        const row: Rec = { Id: null };
        for (const p of PERMISSION_NAMES) row[`Permissions${p}`] = this.permissions[p];
        return row;
    }

    object(type: string): ObjectAccess {
        const acc = noAccess();
        if (SETUP_OBJECTS.has(type)) {
            acc.read = true;
            return acc;
        }
        if (type === 'Task') {
            // Tasks follow the Edit Tasks user permission rather than object permissions.
            acc.read = true;
            acc.create = acc.edit = acc.delete = this.permissions.EditTask;
            acc.viewAll = this.permissions.ViewAllData;
            acc.modifyAll = this.permissions.ModifyAllData;
            return acc;
        }
        for (const ps of this.sets) {
            const o = ps.objects[type];
            if (!o) continue;
            acc.read ||= o.read;
            acc.create ||= o.create;
            acc.edit ||= o.edit;
            acc.delete ||= o.delete;
            acc.viewAll ||= o.viewAll;
            acc.modifyAll ||= o.modifyAll;
        }
        if (this.permissions.ViewAllData) acc.read = acc.viewAll = true;
        if (this.permissions.ModifyAllData)
            Object.assign(acc, { read: true, create: true, edit: true, delete: true, viewAll: true, modifyAll: true });
        return acc;
    }

    field(type: string, field: FieldDef): FieldAccess {
        if (!field.fls) return { read: true, edit: true };
        if (this.permissions.ModifyAllData) return { read: true, edit: true };
        const out: FieldAccess = { read: this.permissions.ViewAllData, edit: false };
        const key = field.flsKey ?? `${type}.${field.name}`;
        for (const ps of this.sets) {
            const fa = ps.fields[key];
            if (!fa) continue;
            out.read ||= fa.read || fa.edit;
            out.edit ||= fa.edit;
        }
        return out;
    }

    /** The object's active record types this user may create records with (their profile or a permission set grants them). */
    recordTypes(sobjectType: string): RecordTypeModel[] {
        return this.org.recordTypes.filter(
            (rt) => rt.sobjectType === sobjectType && rt.active && this.sets.some((ps) => ps.recordTypes[rt.id]?.visible)
        );
    }

    /** The user's default record type for new records of the object (the profile's default), or null for the Master. */
    defaultRecordType(sobjectType: string): RecordTypeModel | null {
        const available = this.recordTypes(sobjectType);
        const profileSet = this.sets[0];
        return available.find((rt) => profileSet?.recordTypes[rt.id]?.default) ?? available[0] ?? null;
    }

    canSeeObject(def: ObjectDef): boolean {
        return this.object(def.name).read;
    }

    canReadField(def: ObjectDef, field: FieldDef): boolean {
        return this.field(def.name, field).read;
    }

    /** Record-level visibility from the org-wide defaults, ownership and View All. */
    canSeeRecord(type: string, rec: Rec, depth = 0): boolean {
        const acc = this.object(type);
        if (!acc.read) return false;
        if (acc.viewAll || SETUP_OBJECTS.has(type)) return true;
        const ownerId = rec['OwnerId'];
        if (ownerId === this.user.id) return true;
        if (type === 'Task') {
            // Task sharing is controlled by the parent records.
            if (depth > 2) return false;
            for (const key of ['WhoId', 'WhatId']) {
                const id = rec[key];
                if (typeof id !== 'string') continue;
                const parent = findRecord(this.org, id);
                if (parent && this.canSeeRecord(parent.type, parent.rec, depth + 1)) return true;
            }
            return false;
        }
        const model = (this.org.sharing as Record<string, string>)[type] ?? 'ReadWrite';
        if (model === 'Read' || model === 'ReadWrite') return true;
        if (model === 'ControlledByParent' && type === 'Contact') {
            const accId = rec['AccountId'];
            if (typeof accId !== 'string') return false;
            const parent = this.org.records.get('Account')?.get(accId);
            return parent ? this.canSeeRecord('Account', parent, depth + 1) : false;
        }
        return false;
    }
}

export function findRecord(org: OrgModel, id: string): { type: string; rec: Rec } | undefined {
    for (const [type, table] of org.records) {
        const rec = table.get(id);
        if (rec) return { type, rec };
    }
    return undefined;
}
