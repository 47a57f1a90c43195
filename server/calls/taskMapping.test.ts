// Long on purpose: the account's Task mapping end to end against one emulated org whose Task has custom fields and record
// types: saved and checked through the API, applied to Tasks, refused with the fix, kept Tasks replayed with it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { SEED } from '../../emulator/index.ts';
import { ACME, startCallsHarness, total, type CallsHarness } from '../test/callsHarness.ts';
import { callSettingsResponse } from './schemas.ts';
import { DEFAULT_TASK_MAPPING, mappedFields, type MappedCall } from './taskMapping.ts';
import type { TaskMappingRecord } from '../store/types.ts';

const API_PROFILE = SEED.profiles.apiOnly;

const MAPPING = {
    subject: '{direction} call {disposition} from {phone} ({durationMinutes} min)',
    defaultFields: {
        CallDisposition: '{disposition}',
        Type: 'Call',
        Status: 'Completed',
        Call_Notes__c: 'Call {callId}',
        Rating__c: '5',
        Talk_Minutes__c: '{durationMinutes}'
    },
    dispositions: [
        { disposition: 'Voicemail', fields: { CallDisposition: 'Left voicemail', Status: 'Not Started', Outcome__c: 'No answer' } },
        { disposition: 'Resolved', fields: { Outcome__c: 'Solved', Type: 'Other', Call_Notes__c: null } }
    ],
    recordType: 'Support_Call',
    relate: { contact: 'who_and_account' }
} as const;

describe('the Task mapping', () => {
    let c: CallsHarness;
    let contact: { id: string; accountId: string };
    let supportCallId: string;
    let serviceCallId: string;
    const settings = (body: unknown, key?: string) =>
        request(c.server)
            .put('/api/v1/calls/settings')
            .set('Authorization', `Bearer ${key ?? c.key}`)
            .send(body as object);
    const tasksFor = (callId: string) => c.h.emulator.state.tasks(ACME).filter((t) => t['CallObject'] === callId);

    before(async () => {
        c = await startCallsHarness();
        const { state } = c.h.emulator;
        state.addCustomField(ACME, 'Task', {
            name: 'Outcome__c',
            label: 'Outcome',
            type: 'picklist',
            picklist: ['Solved', 'No answer', 'Escalated']
        });
        state.addCustomField(ACME, 'Task', { name: 'Call_Notes__c', label: 'Call notes', type: 'string', length: 80 });
        state.addCustomField(ACME, 'Task', { name: 'Rating__c', label: 'Rating', type: 'int' });
        state.addCustomField(ACME, 'Task', { name: 'Talk_Minutes__c', label: 'Talk minutes', type: 'double' });
        state.addCustomField(ACME, 'Task', {
            name: 'Agent_Score__c',
            label: 'Agent score',
            type: 'int',
            access: { [API_PROFILE]: { read: true, edit: false } }
        });
        supportCallId = state.addRecordType(ACME, { sobjectType: 'Task', developerName: 'Support_Call', name: 'Support call' }).id;
        serviceCallId = state.addRecordType(ACME, { sobjectType: 'Task', developerName: 'Service_Call' }).id;
        state.addRecordType(ACME, { sobjectType: 'Task', developerName: 'Sales_Call', availableTo: [SEED.profiles.admin] });
        const doe = state.records(ACME, 'Contact').find((r) => r['LastName'] === 'Doe')!;
        contact = { id: doe['Id'] as string, accountId: doe['AccountId'] as string };
    });
    after(() => c.close());

    test('the default is today’s Task, and says so', async () => {
        const res = await c.get('/api/v1/calls/settings').expect(200);
        callSettingsResponse.parse(res.body);
        assert.equal(res.body.task.isDefault, true);
        assert.equal(res.body.task.subject, '{direction} call');
        assert.deepEqual(res.body.task.defaultFields, { CallDisposition: '{disposition}', Type: 'Call', Status: 'Completed' });
        assert.equal(res.body.task.recordType, null);
        assert.ok(res.body.task.placeholders.includes('{durationMinutes}'));
        await c.task('map-0', { direction: 'inbound', durationSeconds: 30 }).expect(201);
        const [task] = tasksFor('map-0');
        assert.equal(task!['Subject'], 'Inbound call');
        assert.equal(task!['CallDisposition'] ?? null, null, 'no disposition: none written');
        assert.equal(task!['Status'], 'Completed');
    });

    test('saved: checked against the describe (one API call), the record type resolved to its id', async () => {
        c.mark();
        const res = await settings({ task: MAPPING }).expect(200);
        callSettingsResponse.parse(res.body);
        assert.equal(c.spent().rest, 1, 'one describe of Task');
        assert.equal(total(c.spent()), 1);
        assert.equal(res.body.task.isDefault, false);
        assert.equal(res.body.task.recordType, 'Support_Call');
        assert.equal(res.body.task.recordTypeId, supportCallId);
        assert.equal(res.body.task.defaultFields.Rating__c, 5, 'text for a number field is saved as the number');
        assert.deepEqual(res.body.task.relate, { contact: 'who_and_account', lead: 'who', account: 'what' }, 'keys left out: defaults');
        assert.equal(res.body.lookupReservePercent, 10, 'the reserve is untouched');
        assert.deepEqual((await c.get('/api/v1/calls/settings').expect(200)).body, res.body);
    });

    test('a Task is made with the mapping, in one API call: Subject, the disposition’s row over the default row, record type, WhoId and WhatId', async () => {
        // The platform passes back the match as the lookup answered it.
        const { matches } = (await c.lookup({ phone: '+1 415 555 1212' }).expect(200)).body as { matches: Array<{ id: string }> };
        const match = matches.find((m) => m.id === contact.id);
        assert.ok(match, 'the lookup finds Jane Doe');
        c.mark();
        await c
            .task('map-1', {
                direction: 'outbound',
                durationSeconds: 95,
                disposition: 'voicemail',
                phone: '+1 415 555 1212',
                match
            })
            .expect(201);
        assert.equal(c.spent().rest, 1);
        assert.equal(total(c.spent()), 1);
        const [task] = tasksFor('map-1');
        assert.deepEqual(
            {
                Subject: task!['Subject'],
                CallDisposition: task!['CallDisposition'],
                Type: task!['Type'],
                Status: task!['Status'],
                Outcome__c: task!['Outcome__c'],
                Call_Notes__c: task!['Call_Notes__c'],
                Rating__c: task!['Rating__c'],
                Talk_Minutes__c: task!['Talk_Minutes__c'],
                RecordTypeId: task!['RecordTypeId'],
                WhoId: task!['WhoId'],
                WhatId: task!['WhatId'],
                CallType: task!['CallType'],
                CallDurationInSeconds: task!['CallDurationInSeconds']
            },
            {
                Subject: 'Outbound call voicemail from +1 415 555 1212 (2 min)',
                CallDisposition: 'Left voicemail',
                Type: 'Call',
                Status: 'Not Started',
                Outcome__c: 'No answer',
                Call_Notes__c: 'Call map-1',
                Rating__c: 5,
                Talk_Minutes__c: 2,
                RecordTypeId: supportCallId,
                WhoId: contact.id,
                WhatId: contact.accountId,
                CallType: 'Outbound',
                CallDurationInSeconds: 95
            }
        );
    });

    test('a row’s null leaves the default row’s field out; a disposition without a row gets the default row; the request’s own subject and whoId win', async () => {
        const lead = c.h.emulator.state.records(ACME, 'Lead')[0]!['Id'] as string;
        await c.task('map-2', { direction: 'inbound', durationSeconds: 10, disposition: 'Resolved' }).expect(201);
        const [resolved] = tasksFor('map-2');
        assert.equal(resolved!['Call_Notes__c'] ?? null, null);
        assert.equal(resolved!['Type'], 'Other');
        assert.equal(resolved!['Outcome__c'], 'Solved');
        assert.equal(resolved!['Subject'], 'Inbound call Resolved from (1 min)');
        await c
            .task('map-3', {
                direction: 'inbound',
                durationSeconds: 10,
                disposition: 'Callback',
                subject: 'Own subject',
                whoId: lead,
                match: { sobjectType: 'Contact', id: contact.id, accountId: contact.accountId }
            })
            .expect(201);
        const [other] = tasksFor('map-3');
        assert.equal(other!['Subject'], 'Own subject');
        assert.equal(other!['CallDisposition'], 'Callback');
        assert.equal(other!['Outcome__c'] ?? null, null);
        assert.equal(other!['WhoId'], lead);
        assert.equal(other!['WhatId'] ?? null, null, 'the request named whoId: the match relates nothing');
    });

    test('wrong mappings are refused with what to fix, and change nothing', async () => {
        const before = (await c.get('/api/v1/calls/settings').expect(200)).body;
        const refusals: Array<[unknown, number, string, RegExp]> = [
            [{ task: { subject: 'Call {caller}' } }, 400, 'VALIDATION_FAILED', /unknown placeholder \{caller\}.*\{durationMinutes\}/],
            [{ task: { defaultFields: { Subject: 'x' } } }, 400, 'VALIDATION_FAILED', /filled from the call itself/],
            [{ task: { defaultFields: { 'Bad name': 'x' } } }, 400, 'VALIDATION_FAILED', /API name/],
            [{ task: { defaultFields: { Type: { a: 1 } } } }, 400, 'VALIDATION_FAILED', /text, a number or true\/false/],
            [
                {
                    task: {
                        dispositions: [
                            { disposition: 'A', fields: {} },
                            { disposition: 'a', fields: {} }
                        ]
                    }
                },
                400,
                'VALIDATION_FAILED',
                /twice/
            ],
            [{ task: { relate: { contact: 'what' } } }, 400, 'VALIDATION_FAILED', /who_and_account/],
            [{ task: { notAKey: 1 } }, 400, 'VALIDATION_FAILED', /notAKey/],
            [{ task: 'all' }, 400, 'VALIDATION_FAILED', /Task mapping object/],
            [{}, 400, 'VALIDATION_FAILED', /at least one setting/],
            [{ task: { defaultFields: { Outcom__c: 'Solved' } } }, 422, 'TASK_FIELD_UNKNOWN', /Task has no field Outcom__c/],
            [
                { task: { defaultFields: { Agent_Score__c: 3 } } },
                422,
                'TASK_FIELD_NOT_SETTABLE',
                /give the API user edit access to Task\.Agent_Score__c in its permission set/
            ],
            [{ task: { defaultFields: { IsClosed: true } } }, 422, 'TASK_FIELD_NOT_SETTABLE', /Salesforce fills Task\.IsClosed itself/],
            [
                { task: { defaultFields: { Outcome__c: 'Happy' } } },
                422,
                'TASK_FIELD_VALUE_INVALID',
                /"Happy" is not a value.*Solved, No answer, Escalated/
            ],
            [{ task: { defaultFields: { Status: '{disposition}' } } }, 422, 'TASK_FIELD_VALUE_INVALID', /not a placeholder/],
            [{ task: { defaultFields: { Call_Notes__c: 'x'.repeat(81) } } }, 422, 'TASK_FIELD_VALUE_INVALID', /at most 80 characters/],
            [{ task: { defaultFields: { Rating__c: 'five' } } }, 422, 'TASK_FIELD_VALUE_INVALID', /takes a number or \{durationMinutes\}/],
            [{ task: { defaultFields: { ActivityDate: '2026-01-01' } } }, 400, 'VALIDATION_FAILED', /filled from the call itself/],
            [{ task: { defaultFields: { ReminderDateTime: '2026-01-01' } } }, 422, 'TASK_FIELD_UNKNOWN', /ReminderDateTime/],
            [{ task: { recordType: 'Billing_Call' } }, 422, 'TASK_RECORD_TYPE_UNAVAILABLE', /no record type Billing_Call.*Support_Call/],
            [{ task: { recordType: 'Sales_Call' } }, 422, 'TASK_RECORD_TYPE_UNAVAILABLE', /Record Type Assignments/]
        ];
        for (const [body, status, code, message] of refusals) {
            const res = await settings(body).expect(status);
            assert.equal(res.body.error.code, code, JSON.stringify(body));
            assert.match(res.body.error.message, message, JSON.stringify(body));
        }
        const both = await settings({ task: { defaultFields: { Outcom__c: 'x', Agent_Score__c: 1 } } }).expect(422);
        assert.equal(both.body.error.code, 'TASK_FIELD_NOT_SETTABLE', 'the field the admin must grant comes first');
        assert.deepEqual(
            both.body.error.problems.map((p: { code: string }) => p.code),
            ['TASK_FIELD_UNKNOWN', 'TASK_FIELD_NOT_SETTABLE']
        );
        assert.deepEqual((await c.get('/api/v1/calls/settings').expect(200)).body, before, 'nothing changed');
        await request(c.server)
            .put('/api/v1/calls/settings')
            .set('Authorization', `Bearer ${c.key}`)
            .set('Content-Type', 'application/json')
            .send('{"task":')
            .expect(400);
    });

    test('a Task request’s wrong match is refused', async () => {
        for (const match of [
            { sobjectType: 'Lead', id: contact.id },
            { sobjectType: 'Case', id: contact.id },
            { sobjectType: 'Contact', id: contact.id, accountId: contact.id },
            { sobjectType: 'Contact' }
        ]) {
            const res = await c.task('map-bad', { direction: 'inbound', durationSeconds: 1, match }).expect(400);
            assert.equal(res.body.error.code, 'VALIDATION_FAILED', JSON.stringify(match));
        }
        const phone = await c.task('map-bad', { direction: 'inbound', durationSeconds: 1, phone: 'call me' }).expect(400);
        assert.match(phone.body.error.message, /phone/);
        assert.equal(tasksFor('map-bad').length, 0);
    });

    test('a mapped field that lost its access shows in preflight, and the Task is still made, with the default', async () => {
        c.h.emulator.state.updatePermissions(ACME, API_PROFILE, { fields: { 'Task.Outcome__c': { read: true, edit: false } } });
        try {
            const verified = await c.h.api(c.key).post('/api/v1/link/verify').expect(200);
            assert.equal(verified.body.status, 'linked', 'a warning: the link stays');
            const check = (verified.body.permissions.checks as Array<{ id: string; ok: boolean; severity: string; detail?: string }>).find(
                (x) => x.id === 'task_mapping'
            );
            assert.equal(check?.ok, false);
            assert.equal(check?.severity, 'warning');
            assert.match(check?.detail ?? '', /give the API user edit access to Task\.Outcome__c/);
            assert.match(check?.detail ?? '', /no call is lost/);
            await c.task('map-4', { direction: 'inbound', durationSeconds: 60, disposition: 'Voicemail' }).expect(201);
            const [task] = tasksFor('map-4');
            assert.equal(task!['Subject'], 'Inbound call', 'the default mapping');
            assert.equal(task!['CallDisposition'], 'Voicemail');
            assert.equal(task!['Outcome__c'] ?? null, null);
            assert.equal(
                await c
                    .task('map-4', { direction: 'inbound', durationSeconds: 60 })
                    .expect(200)
                    .then((r) => r.body.created),
                false
            );
        } finally {
            c.h.emulator.state.updatePermissions(ACME, API_PROFILE, { fields: { 'Task.Outcome__c': { read: true, edit: true } } });
        }
        const verified = await c.h.api(c.key).post('/api/v1/link/verify').expect(200);
        assert.equal(verified.body.permissions.checks.find((x: { id: string }) => x.id === 'task_mapping')?.ok, true);
    });

    test('a kept Task is made with the mapping in force when it is made', async () => {
        c.h.emulator.state.setApiLimit(ACME, { max: 1000, used: 1000 });
        await c.task('map-kept', { direction: 'inbound', durationSeconds: 120, disposition: 'Resolved' }).expect(202);
        c.h.emulator.state.setApiLimit(ACME, { max: 15000, used: 0 });
        const changed = await settings({ task: { ...MAPPING, subject: 'Replayed {disposition} call', recordType: 'service_call' } }).expect(
            200
        );
        assert.equal(changed.body.task.recordType, 'Service_Call', 'the org’s spelling');
        c.h.clock.advance(24 * 3600_000);
        assert.equal(await c.h.services.replay.poke(), 1);
        const [task] = tasksFor('map-kept');
        assert.equal(task!['Subject'], 'Replayed Resolved call');
        assert.equal(task!['Outcome__c'], 'Solved');
        assert.equal(task!['RecordTypeId'], serviceCallId, 'the record type the mapping has now');
    });

    test('null resets the mapping to the default, without asking the org; unlinked, a mapping cannot be checked', async () => {
        c.mark();
        const reset = await settings({ task: null }).expect(200);
        assert.equal(total(c.spent()) + c.spent().rest, 0);
        assert.equal(reset.body.task.isDefault, true);
        const other = await c.h.newAccount('Unlinked');
        const refused = await settings({ task: { subject: 'x' } }, other.key).expect(409);
        assert.equal(refused.body.error.code, 'NOT_LINKED');
    });
});

describe('what a mapping makes of a call (mappedFields)', () => {
    const CONTACT = { sobjectType: 'Contact' as const, id: '003000000000001AAA', accountId: '001000000000001AAA' };
    const saved = (patch: Partial<TaskMappingRecord>): TaskMappingRecord => ({
        ...DEFAULT_TASK_MAPPING,
        checkedOrgId: '00D000000000001AAA',
        checkedAt: '2026-01-01T00:00:00.000Z',
        ...patch
    });
    const call = { callId: 'c-1', direction: 'Inbound' as const, durationSeconds: 61 };

    test('the default is today’s Task: Subject, Type, Status, the disposition when there is one', () => {
        assert.deepEqual(mappedFields(undefined, call), { Subject: 'Inbound call', Type: 'Call', Status: 'Completed' });
        assert.equal(mappedFields(undefined, { ...call, disposition: 'Resolved' })['CallDisposition'], 'Resolved');
    });

    test('placeholders: minutes rounded up, what is missing trimmed away, an empty Subject falls back', () => {
        const m = saved({ subject: '{direction} {phone} call  {durationMinutes}m {durationSeconds}s {callId}' });
        assert.equal(mappedFields(m, call)['Subject'], 'Inbound call 2m 61s c-1');
        assert.equal(mappedFields(m, { ...call, durationSeconds: 0 })['Subject'], 'Inbound call 0m 0s c-1');
        assert.equal(mappedFields(saved({ subject: '{phone}' }), call)['Subject'], 'Inbound call');
        const long = mappedFields(saved({ subject: 'x'.repeat(250) + ' {callId}' }), { ...call, callId: 'y'.repeat(20) })[
            'Subject'
        ] as string;
        assert.equal(long.length, 255);
    });

    test('what each kind of match relates, by the mapping’s choice', () => {
        const relate = (r: Partial<TaskMappingRecord['relate']>, match: NonNullable<MappedCall['match']>) => {
            const out = mappedFields(saved({ relate: { ...DEFAULT_TASK_MAPPING.relate, ...r } }), { ...call, match });
            return [out['WhoId'], out['WhatId']];
        };
        assert.deepEqual(relate({}, CONTACT), [CONTACT.id, undefined]);
        assert.deepEqual(relate({ contact: 'who_and_account' }, CONTACT), [CONTACT.id, CONTACT.accountId]);
        assert.deepEqual(relate({ contact: 'none' }, CONTACT), [undefined, undefined]);
        const lead = { sobjectType: 'Lead' as const, id: '00Q000000000001AAA' };
        assert.deepEqual(relate({}, lead), [lead.id, undefined]);
        assert.deepEqual(relate({ lead: 'none' }, lead), [undefined, undefined]);
        const account = { sobjectType: 'Account' as const, id: '001000000000002AAA' };
        assert.deepEqual(relate({}, account), [undefined, account.id]);
        assert.deepEqual(relate({ account: 'none' }, account), [undefined, undefined]);
        const person = { ...account, personContactId: '003000000000009AAA' };
        assert.deepEqual(relate({}, person), [person.personContactId, undefined], 'a Person Account is related as a Contact is');
        assert.deepEqual(relate({ contact: 'who_and_account' }, person), [person.personContactId, person.id]);
        assert.deepEqual(relate({ contact: 'none', account: 'what' }, person), [undefined, undefined]);
    });

    test('a disposition’s row over the default row, matched ignoring case; numbers and checkboxes as they are', () => {
        const m = saved({
            defaultFields: { Type: 'Call', Minutes__c: '{durationMinutes}', Followed_Up__c: false },
            dispositions: [{ disposition: 'Callback', fields: { type: 'Other', Followed_Up__c: true, Minutes__c: '' } }]
        });
        assert.deepEqual(mappedFields(m, { ...call, disposition: 'CALLBACK' }), {
            Subject: 'Inbound call',
            type: 'Other',
            Followed_Up__c: true
        });
        assert.deepEqual(mappedFields(m, call), { Subject: 'Inbound call', Type: 'Call', Minutes__c: 2, Followed_Up__c: false });
    });
});
