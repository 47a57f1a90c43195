// Long on purpose: every field and refusal of the end-of-call Task against one linked org, which starts once.
import assert from 'node:assert/strict';
import type { Store } from '../store/store.ts';
import type { Snapshot } from '../store/types.ts';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { SEED, to18 } from '../../emulator/index.ts';
import { emptyTaskLedger } from '../store/types.ts';
import { createApp } from '../app.ts';
import { buildServices } from '../services.ts';
import { createLogger } from '../logger.ts';
import { taskResponse } from './schemas.ts';
import { ALIVE_FOR_MS, CLAIM_TTL_MS, instanceLease, ledgerKey } from './ledger.ts';
import { ACME, startCallsHarness, total, type CallsHarness } from '../test/callsHarness.ts';

const CALL = { direction: 'inbound', durationSeconds: 95 } as const;

/**
 * Resolves once a retry of the call `key` has found its claim held elsewhere and come back to look again: the retry is
 * in its wait, whatever the machine's load (a fixed pause could end before the request arrived).
 */
function inItsWait(store: Store, key: string): Promise<void> {
    const ledger = store.ledger;
    const real = ledger.claimUnlessKept.bind(ledger);
    let looks = 0;
    return new Promise((resolve) => {
        ledger.claimUnlessKept = async (...args) => {
            const found = await real(...args);
            if (args[0] === key && ++looks === 2) {
                ledger.claimUnlessKept = real;
                resolve();
            }
            return found;
        };
    });
}

describe('PUT /api/v1/calls/:callId/task', () => {
    let c: CallsHarness;
    let contactId: string;
    let leadId: string;
    let accountId: string;
    let caseId: string;
    before(async () => {
        c = await startCallsHarness();
        const records = (type: string) => c.h.emulator.state.records(ACME, type);
        contactId = records('Contact').find((r) => r['LastName'] === 'Doe')!['Id'] as string;
        leadId = records('Lead')[0]!['Id'] as string;
        accountId = records('Account')[0]!['Id'] as string;
        caseId = records('Case')[0]!['Id'] as string;
    });
    after(() => c.close());

    const tasksFor = (callId: string) => c.h.emulator.state.tasks(ACME).filter((t) => t['CallObject'] === callId);

    test('creates the call Task with every call field, in one API call', async () => {
        c.mark();
        const res = await c
            .task('call-1001', {
                direction: 'outbound',
                durationSeconds: 312,
                disposition: 'Left voicemail',
                description: 'Asked about the renewal.',
                whoId: contactId,
                whatId: caseId,
                ownerId: SEED.users.acmeAdmin.userId,
                activityDate: '2026-01-30'
            })
            .expect(201);
        taskResponse.parse(res.body);
        assert.equal(res.body.created, true);
        assert.match(res.body.taskId, /^00T[A-Za-z0-9]{15}$/);
        assert.deepEqual(c.spent().rest, 1, 'one API call: the create');
        assert.equal(total(c.spent()), 1);
        const [task] = tasksFor('call-1001');
        assert.equal(task!['Id'], res.body.taskId);
        assert.deepEqual(
            {
                Subject: task!['Subject'],
                Status: task!['Status'],
                TaskSubtype: task!['TaskSubtype'],
                Type: task!['Type'],
                CallType: task!['CallType'],
                CallDurationInSeconds: task!['CallDurationInSeconds'],
                CallObject: task!['CallObject'],
                CallDisposition: task!['CallDisposition'],
                Description: task!['Description'],
                ActivityDate: task!['ActivityDate'],
                WhoId: task!['WhoId'],
                WhatId: task!['WhatId'],
                OwnerId: task!['OwnerId'],
                IsClosed: task!['IsClosed']
            },
            {
                Subject: 'Outbound call',
                Status: 'Completed',
                TaskSubtype: 'Call',
                Type: 'Call',
                CallType: 'Outbound',
                CallDurationInSeconds: 312,
                CallObject: 'call-1001',
                CallDisposition: 'Left voicemail',
                Description: 'Asked about the renewal.',
                ActivityDate: '2026-01-30',
                WhoId: contactId,
                WhatId: caseId,
                OwnerId: SEED.users.acmeAdmin.userId,
                IsClosed: true
            }
        );
    });

    test('defaults: subject from the direction, today as ActivityDate, the API user as owner; 15-character ids are accepted', async () => {
        const res = await c
            .task('call-1002', { direction: 'internal', durationSeconds: 0, whoId: leadId.slice(0, 15), whatId: accountId.slice(0, 15) })
            .expect(201);
        const [task] = tasksFor('call-1002');
        assert.equal(task!['Id'], res.body.taskId);
        assert.equal(task!['Subject'], 'Internal call');
        assert.equal(task!['CallType'], 'Internal');
        assert.equal(task!['ActivityDate'], c.h.clock.now().toISOString().slice(0, 10));
        assert.equal(task!['OwnerId'], SEED.users.acmeApi.userId);
        assert.equal(task!['WhoId'], leadId);
        assert.equal(task!['WhatId'], accountId);
        const custom = await c.task('call-1003', { ...CALL, subject: 'Billing question' }).expect(201);
        assert.equal(tasksFor('call-1003')[0]!['Subject'], 'Billing question');
        assert.equal(tasksFor('call-1003')[0]!['Id'], custom.body.taskId);
    });

    test('a retry answers the same Task with created:false and asks Salesforce nothing', async () => {
        const first = await c.task('call-retry', CALL).expect(201);
        c.mark();
        for (let i = 0; i < 3; i++) {
            const again = await c.task('call-retry', { ...CALL, durationSeconds: 100 + i }).expect(200);
            assert.deepEqual(again.body, { taskId: first.body.taskId, created: false });
        }
        assert.equal(total(c.spent()), 0);
        assert.equal(tasksFor('call-retry').length, 1);
    });

    test('50 concurrent PUTs for one callId make one Task', async () => {
        c.mark();
        const results = await Promise.all(Array.from({ length: 50 }, () => c.task('call-burst', CALL)));
        const created = results.filter((r) => r.status === 201);
        assert.equal(created.length, 1, 'exactly one 201');
        assert.equal(results.filter((r) => r.status === 200).length, 49);
        assert.equal(new Set(results.map((r) => r.body.taskId)).size, 1);
        assert.equal(tasksFor('call-burst').length, 1);
        assert.equal(c.spent()['sobject-create'], 1);
        assert.equal(total(c.spent()), 1);
    });

    test('one API call per new Task; two with the screen-pop lookup', async () => {
        c.mark();
        const calls = 20;
        await Promise.all(Array.from({ length: calls }, (_, i) => c.task(`call-per-task-${i}`, CALL).expect(201)));
        assert.equal(c.spent().rest, calls, 'one create each, no CallObject query');
        c.mark();
        for (let i = 0; i < 5; i++) {
            const found = await c.lookup({ phone: '415 555 1212' }).expect(200);
            await c.task(`call-with-lookup-${i}`, { ...CALL, whoId: found.body.matches[0].id }).expect(201);
        }
        assert.equal(c.spent().rest, 10);
        assert.equal(total(c.spent()), 10);
    });

    test('a callId may be reused by another account: the ledger is per account and org', async () => {
        const other = await c.h.newAccount('Second contact center');
        await c.h.link(other.key, { username: 'api@acme.example', password: 'demo-api-pass' });
        const mine = await c.task('shared-call-id', CALL).expect(201);
        const theirs = await c.task('shared-call-id', CALL, other.key);
        // The org already has a Task with this CallObject, but the other account's ledger has no
        // record of it and its link was made after the ledger started: it makes its own.
        assert.equal(theirs.status, 201);
        assert.notEqual(theirs.body.taskId, mine.body.taskId);
    });

    const invalid: Array<[string, string, unknown, RegExp]> = [
        ['no direction', 'v-1', { durationSeconds: 1 }, /direction/],
        [
            'an unknown direction',
            'v-2',
            { direction: 'sideways', durationSeconds: 1 },
            /direction must be "inbound", "outbound" or "internal"/
        ],
        ['no duration', 'v-3', { direction: 'inbound' }, /durationSeconds/],
        ['a negative duration', 'v-4', { direction: 'inbound', durationSeconds: -1 }, /durationSeconds must not be negative/],
        ['a fractional duration', 'v-5', { direction: 'inbound', durationSeconds: 1.5 }, /durationSeconds must be a whole number/],
        ['a duration over a day', 'v-6', { direction: 'inbound', durationSeconds: 86401 }, /durationSeconds must be at most 86400/],
        ['a duration as a string', 'v-7', { direction: 'inbound', durationSeconds: '95' }, /durationSeconds must be a number/],
        ['a disposition of 256 characters', 'v-8', { ...CALL, disposition: 'd'.repeat(256) }, /disposition must be at most 255/],
        ['a subject of 256 characters', 'v-9', { ...CALL, subject: 's'.repeat(256) }, /subject must be at most 255/],
        ['an empty subject', 'v-10', { ...CALL, subject: '  ' }, /subject must not be empty/],
        ['a description of 32001 characters', 'v-11', { ...CALL, description: 'x'.repeat(32001) }, /description must be at most 32000/],
        [
            'a WhoId that is an Account',
            'v-12',
            { ...CALL, whoId: '001Hs00002XPHmOIAX' },
            /whoId must be a Contact \(003…\) or Lead \(00Q…\) id/
        ],
        ['a WhoId that is not an id', 'v-13', { ...CALL, whoId: "003' OR Id != '" }, /whoId must be a Contact/],
        ['a WhoId of 16 characters', 'v-14', { ...CALL, whoId: '003Hs00002Z0y9HI1' }, /whoId/],
        [
            'an 18-character WhoId whose suffix does not fit',
            'v-15',
            { ...CALL, whoId: '003Hs00002Z0y9H999' },
            /whoId is not a well-formed Salesforce id/
        ],
        [
            'a WhatId that is a Contact',
            'v-16',
            { ...CALL, whatId: '003Hs00002Z0y9HIAR' },
            /whatId must be an id .*not a Contact, Lead or User/
        ],
        ['a WhatId that is a User', 'v-17', { ...CALL, whatId: SEED.users.acmeApi.userId }, /whatId/],
        ['an OwnerId that is not a User', 'v-18', { ...CALL, ownerId: '001Hs00002XPHmOIAX' }, /ownerId must be a User id \(005…\)/],
        ['a malformed activityDate', 'v-19', { ...CALL, activityDate: '30/01/2026' }, /activityDate must be a date/],
        ['an unknown field', 'v-20', { ...CALL, CallObject: 'other' }, /unknown fields: CallObject/],
        ['no body', 'v-21', undefined, /request body/],
        ['an array body', 'v-22', [CALL], /request body/]
    ];
    for (const [what, callId, body, message] of invalid) {
        test(`refuses ${what} with 400 VALIDATION_FAILED, nothing asked or stored`, async () => {
            await c.h.services.calls.settled();
            c.mark();
            const ledgerBefore = ((db: Snapshot) => JSON.stringify(db.taskLedger))(await c.h.services.store.dump());
            const req = c.task(callId, body);
            const res = await (body === undefined ? req : req).expect(400);
            assert.equal(res.body.error.code, 'VALIDATION_FAILED');
            assert.match(res.body.error.message, message);
            assert.equal(total(c.spent()), 0);
            assert.equal(((db: Snapshot) => JSON.stringify(db.taskLedger))(await c.h.services.store.dump()), ledgerBefore);
        });
    }

    for (const [what, callId] of [
        ['a callId of 256 characters', 'c'.repeat(256)],
        ['a callId with a quote', "call'1"],
        ['a callId with a space', 'call%201'],
        ['a callId with a slash', 'call%2F1'],
        ['a callId with SOQL', "x'%20OR%20CallObject%20!%3D%20'"],
        ['a callId that starts with a dash', '-call']
    ] as const) {
        test(`refuses ${what}`, async () => {
            c.mark();
            const res = await c.task(callId, CALL).expect(400);
            assert.equal(res.body.error.code, 'VALIDATION_FAILED');
            assert.match(res.body.error.message, /call id/);
            assert.equal(total(c.spent()), 0);
        });
    }

    test('a callId of 255 characters of the safe set is fine, and so is a 32,000-character description', async () => {
        const callId = `A1._:@-${'z'.repeat(248)}`;
        assert.equal(callId.length, 255);
        await c.task(callId, { ...CALL, description: 'é'.repeat(32000) }).expect(201);
        assert.equal(tasksFor(callId).length, 1);
    });

    test('Salesforce rejections are 422 SALESFORCE_REJECTED with Salesforce’s message, and the call can be retried', async () => {
        const ghostContact = to18('003Hs0000ZZZZZZ');
        const cross = await c.task('call-bad-ref', { ...CALL, whoId: ghostContact }).expect(422);
        assert.equal(cross.body.error.code, 'SALESFORCE_REJECTED');
        assert.equal(cross.body.error.salesforceCode, 'INVALID_CROSS_REFERENCE_KEY');
        assert.match(cross.body.error.message, /invalid cross reference id/);
        const integrity = await c.task('call-bad-what', { ...CALL, whatId: to18('00THs0000ZZZZZZ') }).expect(422);
        assert.equal(integrity.body.error.salesforceCode, 'FIELD_INTEGRITY_EXCEPTION');
        // Nothing was made, so nothing is pending: the corrected retry creates without a lookup.
        c.mark();
        await c.task('call-bad-ref', { ...CALL, whoId: contactId }).expect(201);
        assert.equal(c.spent().query, 0);
        assert.equal(tasksFor('call-bad-ref').length, 1);
    });

    test('INVALID_FIELD (a field the API user cannot see) is 422 too', async () => {
        c.h.emulator.state.updatePermissions(ACME, SEED.permissionSets.apiUser, {
            fields: { 'Task.CallDisposition': { read: false, edit: false } }
        });
        try {
            const res = await c.task('call-no-fls', { ...CALL, disposition: 'Sold' }).expect(422);
            assert.equal(res.body.error.salesforceCode, 'INVALID_FIELD');
        } finally {
            c.h.emulator.state.updatePermissions(ACME, SEED.permissionSets.apiUser, {
                fields: { 'Task.CallDisposition': { read: true, edit: true } }
            });
        }
    });

    test('without Edit Tasks: 403 PERMISSION_MISSING naming Contact_Center_API_User', async () => {
        c.h.emulator.state.updatePermissions(ACME, SEED.permissionSets.apiUser, { permissions: { EditTask: false } });
        try {
            const res = await c.task('call-no-edit', CALL).expect(403);
            assert.equal(res.body.error.code, 'PERMISSION_MISSING');
            assert.match(res.body.error.message, /INSUFFICIENT_ACCESS_OR_READONLY/);
            assert.match(res.body.error.message, /Contact_Center_API_User/);
        } finally {
            c.h.emulator.state.updatePermissions(ACME, SEED.permissionSets.apiUser, { permissions: { EditTask: true } });
        }
        await c.task('call-no-edit', CALL).expect(201);
    });
});

describe('the ledger across restarts', () => {
    let c: CallsHarness;
    before(async () => {
        c = await startCallsHarness();
    });
    after(() => c.close());

    /** A second backend over the same data directory, as after a restart: nothing in memory. */
    async function restarted() {
        const store = await c.h.reopenStore();
        const services = buildServices({ config: c.h.config, store, logger: createLogger('silent') });
        const app = createApp(services);
        return {
            services,
            task: (callId: string, body: unknown) =>
                request(app)
                    .put(`/api/v1/calls/${callId}/task`)
                    .set('Authorization', `Bearer ${c.key}`)
                    .send(body as object),
            close: () => store.close()
        };
    }

    test('after a restart the ledger answers a retry without asking Salesforce', async () => {
        const first = await c.task('call-restart', CALL).expect(201);
        await c.h.services.calls.settled();
        const next = await restarted();
        try {
            c.mark();
            const again = await next.task('call-restart', CALL).expect(200);
            assert.deepEqual(again.body, { taskId: first.body.taskId, created: false });
            assert.equal(total(c.spent()), 0, 'no refresh, no query');
        } finally {
            await next.close();
        }
    });

    test('with an empty ledger, the CallObject query finds the Task made before', async () => {
        const first = await c.task('call-lost-ledger', CALL).expect(201);
        const outside = c.h.emulator.state.insertRecord(ACME, 'Task', {
            Subject: 'Logged by the old adapter',
            CallObject: 'call-made-elsewhere',
            Status: 'Completed',
            OwnerId: SEED.users.acmeApi.userId,
            CreatedById: SEED.users.acmeApi.userId
        });
        // The ledger is wiped (a data file from before the ledger, or one restored without it).
        await c.h.services.calls.settled();
        await c.h.store.ledger.prune('9999');
        await c.h.store.seed({ taskLedger: emptyTaskLedger(c.h.clock.now()) });
        const next = await restarted();
        try {
            c.mark();
            const again = await next.task('call-lost-ledger', CALL).expect(200);
            assert.deepEqual(again.body, { taskId: first.body.taskId, created: false });
            assert.equal(c.spent().query, 1, 'one CallObject query');
            assert.equal(c.spent()['sobject-create'], 0);
            const elsewhere = await next.task('call-made-elsewhere', CALL).expect(200);
            assert.deepEqual(elsewhere.body, { taskId: outside, created: false });
            // A new call after the wipe: the ledger cannot vouch for calls before it started, so it looks first.
            c.mark();
            await next.task('call-after-wipe', CALL).expect(201);
            assert.equal(c.spent().query, 1);
            assert.equal(c.spent()['sobject-create'], 1);
            // ...and now knows it: the retry asks nothing.
            c.mark();
            await next.task('call-after-wipe', CALL).expect(200);
            assert.equal(total(c.spent()), 0);
        } finally {
            await next.close();
        }
        assert.equal(c.h.emulator.state.tasks(ACME).filter((t) => t['CallObject'] === 'call-lost-ledger').length, 1);
    });

    test('a ledger that cannot vouch, and a look by CallObject that fails: the claim goes, the call is kept, nothing is made twice', async () => {
        // The ledger wiped: every new call looks for an earlier Task first, under its claim.
        await c.h.services.calls.settled();
        await c.h.store.ledger.prune('9999');
        await c.h.store.seed({ taskLedger: emptyTaskLedger(c.h.clock.now()) });
        const next = await restarted();
        try {
            // The look and its two retries fail.
            c.h.emulator.state.failNext('query', 'http503', { count: 3 });
            c.mark();
            const kept = await next.task('call-look-fails', CALL).expect(202);
            c.h.emulator.state.clearFaults();
            assert.equal(kept.body.state, 'queued');
            assert.equal(c.spent()['sobject-create'], 0, 'nothing created without the look');
            const orgId = (await c.h.store.links.get(c.accountId))!.orgId;
            assert.equal(
                await c.h.store.ledger.get(ledgerKey(c.accountId, orgId, 'call-look-fails')),
                undefined,
                'no claim is left behind'
            );
            // A retry answers the kept row from the same claim request, asking Salesforce nothing.
            c.mark();
            const again = await next.task('call-look-fails', CALL).expect(202);
            assert.equal(again.body.state, 'queued');
            assert.equal(total(c.spent()), 0);
        } finally {
            c.h.emulator.state.clearFaults();
            await next.close();
        }
        assert.equal(c.h.emulator.state.tasks(ACME).filter((t) => t['CallObject'] === 'call-look-fails').length, 0);
        // The kept row goes, so the tests after this one see an account with nothing kept.
        assert.equal(await c.h.store.kept.remove(c.accountId, 'call-look-fails'), true);
    });

    test('a crash between the create and its answer: the pending entry makes the retry look first, and it finds the Task', async () => {
        const orgId15 = SEED.orgs.acme.orgId.slice(0, 15);
        const made = c.h.emulator.state.insertRecord(ACME, 'Task', {
            Subject: 'Inbound call',
            CallObject: 'call-crashed',
            Status: 'Completed',
            OwnerId: SEED.users.acmeApi.userId,
            CreatedById: SEED.users.acmeApi.userId
        });
        // Claimed by a process that died before Salesforce answered: its claim has lapsed.
        await c.h.store.ledger.claim(`${c.accountId}|${orgId15}|call-crashed`, {
            at: new Date(c.h.clock.now().getTime() - CLAIM_TTL_MS - 1000).toISOString(),
            by: 'crashed-process'
        });
        c.mark();
        const res = await c.task('call-crashed', CALL).expect(200);
        assert.deepEqual(res.body, { taskId: made, created: false });
        assert.equal(c.spent().query, 1);
        assert.equal(c.spent()['sobject-create'], 0);
    });

    test('a call another instance is creating right now: the retry waits for its Task, and makes none', async () => {
        const key = `${c.accountId}|${SEED.orgs.acme.orgId.slice(0, 15)}|call-elsewhere`;
        await c.h.store.ledger.claim(key, { at: c.h.clock.now().toISOString(), by: 'another-instance' });
        c.mark();
        const waiting = inItsWait(c.h.store, key);
        const answered = c.task('call-elsewhere', CALL).then((res) => res);
        await waiting;
        await c.h.store.ledger.settle(key, '00T000000000042AAA', c.h.clock.now().toISOString());
        const res = await answered;
        assert.equal(res.status, 200, res.text);
        assert.deepEqual(res.body, { taskId: '00T000000000042AAA', created: false });
        assert.equal(c.spent()['sobject-create'], 0);
        assert.equal(c.spent().query, 0, 'no CallObject lookup while the other instance holds the call');
    });

    test('a call whose instance died (it stopped saying it is alive): the retry takes it over at once, looks by CallObject, and makes one Task', async () => {
        const key = `${c.accountId}|${SEED.orgs.acme.orgId.slice(0, 15)}|call-of-dead-instance`;
        const now = c.h.clock.now();
        await c.h.store.ledger.claim(key, { at: now.toISOString(), by: 'dead-instance' });
        // It beat until a moment ago, then was killed.
        await c.h.store.leases.acquire(instanceLease('dead-instance'), 'dead-instance', {
            now: new Date(now.getTime() - 20_000).toISOString(),
            until: new Date(now.getTime() - 1).toISOString()
        });
        c.mark();
        const started = Date.now();
        const res = await c.task('call-of-dead-instance', CALL);
        assert.equal(res.status, 201, res.text);
        assert.ok(Date.now() - started < 5_000, 'not waited for');
        assert.equal(c.spent().query, 1, 'looked for a Task the dead instance may have made');
        assert.equal(c.spent()['sobject-create'], 1);
    });

    test('a live instance’s claim is waited for while it says it is alive', async () => {
        const key = `${c.accountId}|${SEED.orgs.acme.orgId.slice(0, 15)}|call-of-live-instance`;
        const now = c.h.clock.now();
        await c.h.store.ledger.claim(key, { at: now.toISOString(), by: 'live-instance' });
        await c.h.store.leases.acquire(instanceLease('live-instance'), 'live-instance', {
            now: now.toISOString(),
            until: new Date(now.getTime() + ALIVE_FOR_MS).toISOString()
        });
        const waiting = inItsWait(c.h.store, key);
        const answered = c.task('call-of-live-instance', CALL).then((r) => r);
        await waiting;
        await c.h.store.ledger.settle(key, '00T000000000043AAA', c.h.clock.now().toISOString());
        assert.deepEqual((await answered).body, { taskId: '00T000000000043AAA', created: false });
    });

    test('a call another instance holds for longer than a retry waits: 409 CALL_IN_PROGRESS with Retry-After, nothing created', async () => {
        const key = `${c.accountId}|${SEED.orgs.acme.orgId.slice(0, 15)}|call-stuck`;
        await c.h.store.ledger.claim(key, { at: c.h.clock.now().toISOString(), by: 'another-instance' });
        c.mark();
        const waiting = inItsWait(c.h.store, key);
        const pending = c.task('call-stuck', CALL).then((res) => res);
        await waiting;
        c.h.clock.advance(11_000);
        const res = await pending;
        c.h.clock.advance(-11_000);
        assert.equal(res.status, 409, res.text);
        assert.equal(res.body.error.code, 'CALL_IN_PROGRESS');
        assert.equal(res.headers['retry-after'], '5');
        assert.equal(c.spent()['sobject-create'], 0);
        assert.equal((await c.h.store.ledger.get(key))?.by, 'another-instance', 'the claim is left to its holder');
    });

    test('the ledger is in the data file, keyed by account, org and callId', async () => {
        await c.task('call-in-file', CALL).expect(201);
        await c.h.services.calls.settled();
        const orgId15 = SEED.orgs.acme.orgId.slice(0, 15);
        const entry = ((db: Snapshot) => db.taskLedger.calls[`${c.accountId}|${orgId15}|call-in-file`])(await c.h.services.store.dump());
        assert.equal(entry?.state, 'created');
        assert.match(entry.taskId!, /^00T/);
    });
});
