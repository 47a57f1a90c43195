import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Connection } from 'jsforce';
import { MASTER_RECORD_TYPE_ID, SEED, type Emulator } from '../index.ts';
import type { Person } from '../driver.ts';
import { connectAs, control, PEOPLE, start } from './helpers.ts';

let em: Emulator;
before(async () => {
    em = await start();
});
after(() => em.close());
beforeEach(() => em.state.reset());

const connect = (person: Person = PEOPLE.acmeApi): Promise<Connection> => connectAs(em, person);

const rejectsWith = async (p: Promise<unknown>, code: string, message: RegExp): Promise<void> => {
    await assert.rejects(p, (e: Error) => {
        assert.equal(e.name, code, `${e.name}: ${e.message}`);
        assert.match(e.message, message);
        return true;
    });
};

type RecordTypeInfo = {
    developerName: string;
    available: boolean;
    defaultRecordTypeMapping: boolean;
    master: boolean;
    recordTypeId: string;
};

describe('record types on Task', () => {
    it('describes only the Master while Task has no record type, and has no RecordTypeId field', async () => {
        const conn = await connect();
        const d = await conn.sobject('Task').describe();
        assert.deepEqual(
            (d.recordTypeInfos as unknown as RecordTypeInfo[]).map((r) => [
                r.developerName,
                r.available,
                r.defaultRecordTypeMapping,
                r.master,
                r.recordTypeId
            ]),
            [['Master', true, true, true, MASTER_RECORD_TYPE_ID]]
        );
        assert.equal(
            d.fields.some((f) => f.name === 'RecordTypeId'),
            false
        );
        await rejectsWith(
            conn.sobject('Task').create({ Subject: 'x', RecordTypeId: MASTER_RECORD_TYPE_ID }),
            'INVALID_FIELD',
            /No such column 'RecordTypeId'/
        );
    });

    it('lists every record type with the user’s availability and default; create takes an available one, refuses another', async () => {
        const callLog = em.state.addRecordType('acme', {
            sobjectType: 'Task',
            developerName: 'Call_Log',
            name: 'Call Log',
            availableTo: [SEED.permissionSets.apiUser]
        });
        const note = em.state.addRecordType('acme', {
            sobjectType: 'Task',
            developerName: 'Internal_Note',
            availableTo: [SEED.profiles.admin],
            defaultFor: [SEED.profiles.admin]
        });
        const conn = await connect();
        const d = await conn.sobject('Task').describe();
        const infos = d.recordTypeInfos as unknown as RecordTypeInfo[];
        assert.deepEqual(
            infos.map((r) => [r.developerName, r.available, r.master]),
            [
                ['Call_Log', true, false],
                ['Internal_Note', false, false],
                ['Master', false, true]
            ]
        );
        assert.equal(infos.find((r) => r.developerName === 'Call_Log')!.defaultRecordTypeMapping, true);
        assert.ok(d.fields.some((f) => f.name === 'RecordTypeId' && f.createable));

        const made = await conn.sobject('Task').create({ Subject: 'Call', RecordTypeId: callLog.id });
        const byDefault = await conn.sobject('Task').create({ Subject: 'Call' });
        const rows = await conn.query<any>('SELECT Id, RecordTypeId, RecordType.DeveloperName FROM Task ORDER BY CreatedDate');
        assert.deepEqual(
            rows.records.map((r: any) => [r.Id, r.RecordTypeId, r.RecordType.DeveloperName]),
            [
                [made.id, callLog.id, 'Call_Log'],
                [byDefault.id, callLog.id, 'Call_Log']
            ]
        );
        await rejectsWith(
            conn.sobject('Task').create({ Subject: 'x', RecordTypeId: note.id }),
            'INVALID_CROSS_REFERENCE_KEY',
            new RegExp(`^Record Type ID: this ID value isn't valid for the user: ${note.id}$`)
        );
        await rejectsWith(
            conn.sobject('Task').create({ Subject: 'x', RecordTypeId: MASTER_RECORD_TYPE_ID }),
            'INVALID_CROSS_REFERENCE_KEY',
            /this ID value isn't valid for the user/
        );
        await rejectsWith(
            conn.sobject('Task').update({ Id: made.id!, RecordTypeId: note.id }),
            'INVALID_CROSS_REFERENCE_KEY',
            /this ID value isn't valid for the user/
        );
        const raw = await fetch(`${conn.instanceUrl}/services/data/v62.0/sobjects/Task`, {
            method: 'POST',
            headers: { authorization: `Bearer ${conn.accessToken}`, 'content-type': 'application/json' },
            body: JSON.stringify({ Subject: 'x', RecordTypeId: note.id })
        });
        assert.deepEqual(await raw.json(), [
            {
                message: `Record Type ID: this ID value isn't valid for the user: ${note.id}`,
                errorCode: 'INVALID_CROSS_REFERENCE_KEY',
                fields: ['RecordTypeId']
            }
        ]);
        assert.equal(em.state.tasks('acme').length, 2);
        // the admin's profile defaults to Internal_Note
        const admin = await connect(PEOPLE.acmeAdmin);
        await admin.sobject('Task').create({ Subject: 'note' });
        assert.equal(em.state.tasks('acme')[2]!['RecordTypeId'], note.id);
    });

    it('is granted and taken through profiles and permission sets, over HTTP too', async () => {
        const created = await control(em, 'POST', 'orgs/acme/record-types', {
            sobjectType: 'Task',
            developerName: 'Call_Log',
            availableTo: [SEED.profiles.admin]
        });
        assert.equal(created.status, 201);
        const conn = await connect();
        await rejectsWith(
            conn.sobject('Task').create({ Subject: 'x', RecordTypeId: created.body.id }),
            'INVALID_CROSS_REFERENCE_KEY',
            /isn't valid/
        );
        // without any record type the user creates with the Master
        await conn.sobject('Task').create({ Subject: 'master' });
        assert.equal(em.state.tasks('acme')[0]!['RecordTypeId'], null);
        assert.equal(
            (
                await control(em, 'POST', `orgs/acme/permissions/${SEED.permissionSets.apiUser}`, {
                    recordTypes: { 'Task.Call_Log': { visible: true } }
                })
            ).status,
            200
        );
        assert.ok((await conn.sobject('Task').create({ Subject: 'x', RecordTypeId: created.body.id })).success);
        em.state.addRecordType('acme', { sobjectType: 'Task', developerName: 'Follow_Up' });
        em.state.updatePermissions('acme', SEED.profiles.apiOnly, { recordTypes: { 'Task.Follow_Up': { default: true } } });
        const d = await conn.sobject('Task').describe();
        assert.equal(
            (d.recordTypeInfos as unknown as RecordTypeInfo[]).find((r) => r.defaultRecordTypeMapping)!.developerName,
            'Follow_Up'
        );
        for (const body of [
            { sobjectType: 'Widget', developerName: 'X' },
            { sobjectType: 'Task', developerName: 'Call_Log' },
            { sobjectType: 'Task', developerName: 'bad name' },
            { sobjectType: 'Task' },
            { sobjectType: 'Task', developerName: 'Y', availableTo: ['Nobody'] }
        ])
            assert.equal((await control(em, 'POST', 'orgs/acme/record-types', body)).status, 400, JSON.stringify(body));
        const refused = { permissions: { ViewAllData: true }, recordTypes: { 'Task.Nope': { visible: true } } };
        assert.equal((await control(em, 'POST', `orgs/acme/permissions/${SEED.permissionSets.apiUser}`, refused)).status, 400);
        const [set] = (
            await conn.query<any>(`SELECT PermissionsViewAllData FROM PermissionSet WHERE Name = '${SEED.permissionSets.apiUser}'`)
        ).records;
        assert.equal(set.PermissionsViewAllData, false, 'nothing of a refused patch was kept');
        assert.equal(
            (
                await control(em, 'POST', `orgs/acme/permissions/${SEED.permissionSets.apiUser}`, {
                    recordTypes: { 'Task.Call_Log': { default: true } }
                })
            ).status,
            400,
            'a permission set has no default record type'
        );
    });
});

describe('field-level security on Task fields', () => {
    it('describes a read-only field as not createable or updateable, and refuses a create or update that sets it', async () => {
        em.state.addCustomField('acme', 'Task', {
            name: 'Queue__c',
            type: 'string',
            length: 80,
            access: { [SEED.profiles.apiOnly]: { read: true, edit: false } }
        });
        const conn = await connect();
        const f = (await conn.sobject('Task').describe()).fields.find((x) => x.name === 'Queue__c')!;
        assert.deepEqual([f.createable, f.updateable, f.custom, f.length], [false, false, true, 80]);
        const message =
            /^Unable to create\/update fields: Queue__c\. Please check the security settings of this field and verify that it is read\/write for your profile or permission set\.$/;
        await rejectsWith(conn.sobject('Task').create({ Subject: 'x', Queue__c: 'Billing' }), 'INVALID_FIELD_FOR_INSERT_UPDATE', message);
        const ok = await conn.sobject('Task').create({ Subject: 'x' });
        await rejectsWith(conn.sobject('Task').update({ Id: ok.id!, Queue__c: 'Billing' }), 'INVALID_FIELD_FOR_INSERT_UPDATE', message);
        // the same for a standard call field the permission set makes read-only
        em.state.updatePermissions('acme', SEED.permissionSets.apiUser, {
            fields: { 'Task.CallDisposition': { read: true, edit: false } }
        });
        const cd = (await conn.sobject('Task').describe()).fields.find((x) => x.name === 'CallDisposition')!;
        assert.deepEqual([cd.createable, cd.updateable], [false, false]);
        await rejectsWith(
            conn.sobject('Task').create({ Subject: 'x', CallDisposition: 'Done' }),
            'INVALID_FIELD_FOR_INSERT_UPDATE',
            /CallDisposition/
        );
    });

    it('hides a field the user cannot read from describe, and a create naming it is an unknown field', async () => {
        em.state.addCustomField('acme', 'Task', {
            name: 'Secret__c',
            type: 'string',
            access: { [SEED.profiles.apiOnly]: { read: false, edit: false } }
        });
        const conn = await connect();
        assert.equal(
            (await conn.sobject('Task').describe()).fields.some((x) => x.name === 'Secret__c'),
            false
        );
        await rejectsWith(
            conn.sobject('Task').create({ Subject: 'x', Secret__c: 'y' }),
            'INVALID_FIELD',
            /No such column 'Secret__c' on sobject of type Task/
        );
        // the admin (Modify All Data) reads and writes it
        const admin = await connect(PEOPLE.acmeAdmin);
        assert.ok((await admin.sobject('Task').create({ Subject: 'x', Secret__c: 'y' })).success);
    });

    it('offers Task custom fields to the API user only where granted, and checks the control’s input', async () => {
        const res = await control(em, 'POST', 'orgs/acme/fields', {
            object: 'Task',
            name: 'Disposition__c',
            type: 'picklist',
            picklist: ['Resolved', 'Callback'],
            restrictedPicklist: true
        });
        assert.equal(res.status, 201);
        const conn = await connect();
        await rejectsWith(
            conn.sobject('Task').create({ Subject: 'x', Disposition__c: 'Lost' }),
            'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
            /Lost/
        );
        assert.ok((await conn.sobject('Task').create({ Subject: 'x', Disposition__c: 'Resolved' })).success);
        for (const body of [
            { object: 'Task', name: 'NoSuffix', type: 'string' },
            { object: 'Task', name: 'Disposition__c', type: 'string' },
            { object: 'Task', name: 'Kind__c', type: 'widget' },
            { object: 'Task', name: 'Kind__c', type: 'picklist' },
            { object: 'User', name: 'Kind__c', type: 'string' },
            { object: 'Task', name: 'Kind__c', type: 'string', access: { Nobody: { read: true, edit: true } } },
            { object: 'Task', name: 'Kind__c', type: 'string', length: 0 },
            { object: 'Task', name: 'Kind__c', type: 'string', label: 7 },
            { object: 'Task', name: 'Kind__c', type: 'picklist', picklist: ['A', 2] },
            { object: 'Task', name: 'Kind__c', type: 'string', required: 'yes' },
            { name: 'Kind__c', type: 'string' }
        ])
            assert.equal((await control(em, 'POST', 'orgs/acme/fields', body)).status, 400, JSON.stringify(body));
        // nothing of a refused field was kept
        assert.equal(
            (await conn.sobject('Task').describe()).fields.some((f) => f.name === 'Kind__c'),
            false
        );
    });
});

describe('dependent picklists', () => {
    it('describe a dependent picklist with its controlling field and validFor bitmaps', async () => {
        em.state.addCustomField('acme', 'Task', { name: 'Outcome__c', type: 'picklist', picklist: ['Resolved', 'Escalated', 'Callback'] });
        em.state.addCustomField('acme', 'Task', {
            name: 'Reason__c',
            type: 'picklist',
            picklist: ['Fixed', 'Tier 2', 'Busy', 'Any'],
            controllerName: 'Outcome__c',
            validFor: { Fixed: ['Resolved'], 'Tier 2': ['Escalated'], Busy: ['Callback'], Any: ['Resolved', 'Escalated', 'Callback'] }
        });
        em.state.addCustomField('acme', 'Task', { name: 'Follow_Up__c', type: 'boolean' });
        em.state.addCustomField('acme', 'Task', {
            name: 'When__c',
            type: 'picklist',
            picklist: ['Today', 'Never'],
            controllerName: 'Follow_Up__c',
            validFor: { Today: [true], Never: [false] }
        });
        const conn = await connect();
        const fields = (await conn.sobject('Task').describe()).fields;
        const reason = fields.find((f) => f.name === 'Reason__c')!;
        assert.equal(reason.dependentPicklist, true);
        assert.equal(reason.controllerName, 'Outcome__c');
        const bits = Object.fromEntries(reason.picklistValues!.map((v) => [v.value, Buffer.from(v.validFor, 'base64')[0]]));
        assert.deepEqual(bits, { Fixed: 0b10000000, 'Tier 2': 0b01000000, Busy: 0b00100000, Any: 0b11100000 });
        const when = fields.find((f) => f.name === 'When__c')!;
        assert.deepEqual(
            when.picklistValues!.map((v) => [v.value, Buffer.from(v.validFor, 'base64')[0]]),
            [
                ['Today', 0b01000000],
                ['Never', 0b10000000]
            ]
        );
        assert.equal(fields.find((f) => f.name === 'Outcome__c')!.dependentPicklist, false);
        assert.throws(
            () =>
                em.state.addCustomField('acme', 'Task', {
                    name: 'Bad__c',
                    type: 'picklist',
                    picklist: ['A'],
                    controllerName: 'Outcome__c',
                    validFor: { A: ['Nope'] }
                }),
            /lacks/
        );
        assert.throws(
            () => em.state.addCustomField('acme', 'Task', { name: 'Bad__c', type: 'picklist', picklist: ['A'], controllerName: 'Subject' }),
            /controlling field/
        );
    });
});
