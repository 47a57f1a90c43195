// Long on purpose: rule 13 end to end against one emulated org, each case from the platform's PUT to the Task in Salesforce.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { PEOPLE } from '../test/harness.ts';
import { ACME, startCallsHarness, type CallsHarness } from '../test/callsHarness.ts';
import { queuedResponse, taskStateResponse } from './schemas.ts';

/** The reserve's part of the settings (the matching settings beside it are lookup.test.ts's). */
const reserveView = ({ lookupReservePercent, isDefault }: { lookupReservePercent: number; isDefault: boolean }) => ({
    lookupReservePercent,
    isDefault
});

const CALL = { direction: 'inbound', durationSeconds: 42 } as const;
const DAY = 24 * 3600_000;

/** The events the account's webhook was given (written to the outbox), oldest first. */
async function events(c: CallsHarness, type?: string) {
    const all = (await c.h.store.outbox.recent(c.accountId, 200)).reverse();
    return type ? all.filter((e) => e.type === type) : all;
}
async function activity(c: CallsHarness, action: string) {
    const page = await c.get('/api/v1/link/activity?limit=100').expect(200);
    return (page.body.entries as Array<{ action: string; outcome: string; detail?: string }>).filter((e) => e.action === action);
}
const tasksFor = (c: CallsHarness, callId: string) => c.h.emulator.state.tasks(ACME).filter((t) => t['CallObject'] === callId);

/** The lookup reserve of a settings body (the Task mapping beside it has its own tests). */
describe('kept call Tasks: the org over its daily API limit', () => {
    let c: CallsHarness;
    before(async () => {
        c = await startCallsHarness({ env: { KEPT_TASKS_MAX_PER_ACCOUNT: '10' } });
        await c.h.services.webhooks.set(c.accountId, 'http://127.0.0.1:9/hooks');
    });
    after(async () => {
        await c.h.services.webhooks.stop();
        await c.close();
    });

    test('each Task is kept (202, why), durably; the batch is recorded and announced once; the status shows how many, the oldest and why', async () => {
        c.h.emulator.state.setApiLimit(ACME, { max: 1000, used: 1000 });
        const first = await c.task('limit-0', { ...CALL, subject: 'First' }).expect(202);
        queuedResponse.parse(first.body);
        assert.equal(first.body.state, 'queued');
        assert.equal(first.body.reason, 'api_limit');
        assert.match(first.body.message, /daily API requests/);
        assert.equal(first.body.callAt, c.h.clock.now().toISOString().slice(0, 10) + first.body.callAt.slice(10));
        c.h.clock.advance(1000);
        for (let i = 1; i < 5; i++) await c.task(`limit-${i}`, CALL).expect(202);
        // Durable: another process over the same data sees every one.
        const other = await c.h.reopenStore();
        try {
            assert.equal((await other.kept.summary(c.accountId)).count, 5);
        } finally {
            await other.close();
        }
        const status = await c.get('/api/v1/link').expect(200);
        assert.equal(status.body.status, 'linked');
        assert.deepEqual(status.body.keptTasks, {
            count: 5,
            awaitingChoice: 0,
            oldestCallAt: first.body.callAt,
            reasons: { api_limit: 5 },
            bound: { maxPerAccount: 10, maxAgeDays: 14 }
        });
        assert.equal((await activity(c, 'tasks_kept')).length, 1, 'one activity entry for the batch');
        const kept = await events(c, 'calls.kept');
        assert.equal(kept.length, 1, 'one webhook event for the batch');
        assert.deepEqual(kept[0]!.data.calls, { count: 1, waiting: 1, reason: 'api_limit' });
        // The platform can read a call's state, and its retry answers the same, asking Salesforce nothing.
        c.mark();
        const state = await c.get('/api/v1/calls/limit-0/task').expect(200);
        taskStateResponse.parse(state.body);
        assert.equal(state.body.state, 'queued');
        assert.equal((await c.task('limit-0', CALL).expect(202)).body.callAt, first.body.callAt);
        assert.equal(c.spent().rest, 0);
        const metrics = await c.h.services.metrics.registry.metrics();
        assert.match(metrics, /ccl_kept_tasks_total\{reason="api_limit"\} 5/);
        assert.match(metrics, /ccl_kept_tasks 5/);
    });

    test('while the org still refuses, a replay round costs one API call, and every kept Task waits the backoff', async () => {
        c.h.clock.advance(61_000);
        c.mark();
        assert.equal(await c.h.services.replay.poke(), 0);
        assert.equal(c.spent().rest, 1, 'one try, not one per kept Task');
        const rows = (await c.h.store.dump()).keptTasks!.filter((r) => r.accountId === c.accountId);
        assert.equal(rows.filter((r) => r.attempts === 1).length, 1);
        assert.ok(rows.every((r) => r.nextAttemptAt > c.h.clock.now().toISOString()));
        c.mark();
        assert.equal(await c.h.services.replay.poke(), 0);
        assert.equal(c.spent().rest, 0, 'nothing is due before the backoff is over');
    });

    test('the bound: past the count a Task is refused, and says so', async () => {
        for (let i = 5; i < 10; i++) await c.task(`limit-${i}`, CALL).expect(202);
        const full = await c.task('limit-10', CALL).expect(503);
        assert.equal(full.body.error.code, 'KEPT_TASKS_FULL');
        assert.match(full.body.error.message, /NOT kept/);
        assert.equal(full.headers['retry-after'], '60');
        await c.get('/api/v1/calls/limit-10/task').expect(404);
    });

    test('once the org answers again, every kept Task is made exactly once, one API call each, dated the day of its call', async () => {
        c.h.emulator.state.setApiLimit(ACME, { max: 15000, used: 0 });
        c.h.clock.advance(DAY);
        c.mark();
        assert.equal(await c.h.services.replay.poke(), 10);
        assert.equal(c.spent().rest, 10, 'one create per kept Task');
        assert.equal(c.spent()['sobject-create'], 10);
        for (let i = 0; i < 10; i++) assert.equal(tasksFor(c, `limit-${i}`).length, 1, `limit-${i}`);
        const [firstTask] = tasksFor(c, 'limit-0');
        assert.equal(firstTask!['Subject'], 'First');
        assert.equal(firstTask!['ActivityDate'], new Date(c.h.clock.now().getTime() - DAY).toISOString().slice(0, 10));
        // The platform's retry now answers the Task, and the state says so.
        const retry = await c.task('limit-0', CALL).expect(200);
        assert.deepEqual(retry.body, { taskId: firstTask!['Id'], created: false });
        assert.deepEqual((await c.get('/api/v1/calls/limit-0/task').expect(200)).body, { state: 'created', taskId: firstTask!['Id'] });
        assert.equal((await c.get('/api/v1/link').expect(200)).body.keptTasks, undefined);
        const replayed = await activity(c, 'tasks_replayed');
        assert.equal(replayed.length, 1);
        assert.match(replayed[0]!.detail!, /10 kept call Tasks made in the org; 0 still wait/);
        assert.deepEqual((await events(c, 'calls.replayed'))[0]!.data.calls, { count: 10, waiting: 0 });
        assert.match(await c.h.services.metrics.registry.metrics(), /ccl_replayed_tasks_total 10/);
        c.mark();
        assert.equal(await c.h.services.replay.poke(), 0);
        assert.equal(c.spent().rest, 0);
    });

    test('a replay and the platform’s retries at once make one Task', async () => {
        c.h.emulator.state.setApiLimit(ACME, { max: 15000, used: 15000 });
        await c.task('race-1', CALL).expect(202);
        c.h.emulator.state.setApiLimit(ACME, { max: 15000, used: 0 });
        c.h.clock.advance(61_000);
        const [made, ...answers] = await Promise.all([
            c.h.services.replay.poke(),
            ...Array.from({ length: 5 }, () => c.task('race-1', CALL))
        ]);
        assert.equal(made, 1);
        for (const answer of answers) assert.ok([200, 202].includes(answer.status), answer.text);
        assert.equal(tasksFor(c, 'race-1').length, 1);
    });

    test('past the bound’s age a kept Task is dropped, recorded and announced, never silently', async () => {
        c.h.emulator.state.setApiLimit(ACME, { max: 15000, used: 15000 });
        await c.task('old-1', CALL).expect(202);
        c.h.clock.advance(15 * DAY);
        assert.equal(await c.h.services.replay.expire(), 1);
        await c.get('/api/v1/calls/old-1/task').expect(404);
        const dropped = await activity(c, 'tasks_dropped');
        assert.equal(dropped[0]!.outcome, 'expired');
        assert.match(dropped[0]!.detail!, /older than 14 days/);
        assert.equal((await events(c, 'calls.dropped')).at(-1)!.data.calls!.count, 1);
        assert.match(await c.h.services.metrics.registry.metrics(), /ccl_dropped_tasks_total\{reason="expired"\} 1/);
        c.h.emulator.state.setApiLimit(ACME, { max: 15000, used: 0 });
    });
});

describe('kept call Tasks: unlinked, relinked, and linked to another org', () => {
    let c: CallsHarness;
    before(async () => {
        c = await startCallsHarness();
    });
    after(() => c.close());

    test('an account never linked keeps nothing: 409 NOT_LINKED', async () => {
        const other = await c.h.newAccount('Never linked');
        const res = await c.task('never-1', CALL, other.key).expect(409);
        assert.equal(res.body.error.code, 'NOT_LINKED');
        await c.get('/api/v1/calls/never-1/task', other.key).expect(404);
    });

    test('unlinked after it was linked: kept for that org, made right after a relink to it', async () => {
        await c.h.api(c.key).delete('/api/v1/link').expect(200);
        const kept = await c.task('unlinked-1', CALL).expect(202);
        assert.equal(kept.body.reason, 'not_linked');
        assert.equal(kept.body.nextAttemptAt, undefined, 'it waits for a person, not for a time');
        const status = await c.get('/api/v1/link').expect(200);
        assert.equal(status.body.status, 'unlinked');
        assert.equal(status.body.keptTasks.count, 1);
        const { callback } = await c.h.link(c.key, PEOPLE.acmeApi);
        assert.equal(callback.status, 200);
        c.mark();
        assert.equal(await c.h.services.replay.poke(), 1);
        assert.equal(tasksFor(c, 'unlinked-1').length, 1);
        assert.equal(c.spent().rest, 1);
    });

    test('after a relink to another org the kept Tasks wait for the admin’s choice; dropped when the admin says so', async () => {
        await c.h.api(c.key).delete('/api/v1/link').expect(200);
        await c.task('moved-1', CALL).expect(202);
        await c.task('moved-2', CALL).expect(202);
        const { callback } = await c.h.link(c.key, PEOPLE.uatApi, { environment: 'sandbox' });
        assert.equal(callback.status, 200, callback.text);
        assert.equal(await c.h.services.replay.poke(), 0, 'never sent to another org by itself');
        assert.equal(c.h.emulator.state.tasks('acmeUat').filter((t) => String(t['CallObject']).startsWith('moved-')).length, 0);
        const status = await c.get('/api/v1/link').expect(200);
        assert.equal(status.body.keptTasks.awaitingChoice, 2);
        assert.equal(status.body.keptTasks.awaitingOrgId, c.h.emulator.state.org(ACME).id);
        assert.equal((await activity(c, 'tasks_kept')).find((e) => e.outcome === 'awaiting_choice')?.outcome, 'awaiting_choice');
        const state = await c.get('/api/v1/calls/moved-1/task').expect(200);
        assert.equal(state.body.awaitingChoice, true);
        const dropped = await c.h
            .api(c.key)
            .post('/api/v1/calls/kept/decision', {
                choice: 'drop',
                actor: { userId: '005000000000001AAA', username: 'admin@acme.example' }
            })
            .expect(200);
        assert.deepEqual(dropped.body, { choice: 'drop', count: 2, waiting: 0 });
        const entry = (await activity(c, 'tasks_dropped'))[0]!;
        assert.equal(entry.outcome, 'admin_choice');
        await c.get('/api/v1/calls/moved-1/task').expect(404);
        // Nothing left to decide: answered, nothing changed.
        assert.deepEqual((await c.h.api(c.key).post('/api/v1/calls/kept/decision', { choice: 'drop' }).expect(200)).body, {
            choice: 'drop',
            count: 0,
            waiting: 0
        });
    });

    test('bad input on every new path: a clear 400, nothing changed', async () => {
        const api = c.h.api(c.key);
        for (const body of [
            {},
            { choice: 'maybe' },
            { choice: 'make', extra: 1 },
            { choice: 'make', actor: { userId: 'x', username: 'a' } }
        ]) {
            const res = await api.post('/api/v1/calls/kept/decision', body).expect(400);
            assert.equal(res.body.error.code, 'VALIDATION_FAILED', JSON.stringify(body));
        }
        for (const body of [
            {},
            { lookupReservePercent: 51 },
            { lookupReservePercent: -1 },
            { lookupReservePercent: 1.5 },
            { lookupReservePercent: '10' },
            { lookupReservePercent: 5, x: 1 }
        ]) {
            const res = await request(c.server)
                .put('/api/v1/calls/settings')
                .set('Authorization', `Bearer ${c.key}`)
                .send(body)
                .expect(400);
            assert.equal(res.body.error.code, 'VALIDATION_FAILED', JSON.stringify(body));
        }
        const badId = await c.get('/api/v1/calls/bad%20id/task').expect(400);
        assert.match(badId.body.error.message, /call id/);
        await c.get('/api/v1/calls/kept', 'ccl_not_a_key').expect(401);
        assert.deepEqual(reserveView((await c.get('/api/v1/calls/settings').expect(200)).body), {
            lookupReservePercent: 10,
            isDefault: true
        });
    });
});

describe('the API allowance guard', () => {
    let c: CallsHarness;
    before(async () => {
        c = await startCallsHarness();
        await c.h.services.webhooks.set(c.accountId, 'http://127.0.0.1:9/hooks');
    });
    after(async () => {
        await c.h.services.webhooks.stop();
        await c.close();
    });
    const usageWritten = () => c.h.clock.advance(6000);

    test('under the reserve: lookups 429 API_ALLOWANCE_LOW without an API call, Tasks go on to the limit and are kept beyond it', async () => {
        c.h.emulator.state.setApiLimit(ACME, { max: 100, used: 80 });
        usageWritten();
        await c.task('guard-1', CALL).expect(201);
        await c.lookup({ phone: '4155551212' }).expect(200);
        assert.equal((await c.get('/api/v1/link').expect(200)).body.apiGuard, undefined, '18 left, over the reserve of 10');
        c.h.emulator.state.setApiLimit(ACME, { max: 100, used: 95 });
        usageWritten();
        await c.task('guard-2', CALL).expect(201);
        const status = await c.get('/api/v1/link').expect(200);
        assert.deepEqual({ ...status.body.apiGuard, since: undefined }, { since: undefined, remaining: 4, max: 100, reserve: 10 });
        c.mark();
        const refused = await c.lookup({ phone: '4155551212' }).expect(429);
        assert.equal(refused.body.error.code, 'API_ALLOWANCE_LOW');
        assert.match(refused.body.error.message, /4 of its 100 daily API requests left/);
        assert.equal(refused.body.error.remaining, 4);
        assert.equal(c.spent().rest, 0, 'no API call for a guarded lookup');
        for (let i = 3; i <= 6; i++) await c.task(`guard-${i}`, CALL).expect(201);
        const kept = await c.task('guard-7', CALL).expect(202);
        assert.equal(kept.body.reason, 'api_limit');
        assert.equal(c.spent().rest, 5);
        assert.equal((await events(c, 'api_guard.engaged')).length, 1, 'the platform is told once');
        assert.deepEqual((await events(c, 'api_guard.engaged'))[0]!.data.apiGuard, { engaged: true, remaining: 4, max: 100, reserve: 10 });
    });

    test('it lifts by itself once the allowance frees up, and says so once', async () => {
        c.h.emulator.state.setApiLimit(ACME, { max: 100, used: 0 });
        c.h.clock.advance(61_000);
        assert.equal(await c.h.services.replay.poke(), 1, 'the kept Task is made, and its answer reads the usage anew');
        usageWritten();
        await c.task('guard-8', CALL).expect(201);
        assert.equal((await c.get('/api/v1/link').expect(200)).body.apiGuard, undefined);
        await c.lookup({ phone: '4155551212' }).expect(200);
        assert.equal((await events(c, 'api_guard.lifted')).length, 1);
    });

    test('with no reading for ten minutes a lookup goes through, and reads the usage anew', async () => {
        c.h.emulator.state.setApiLimit(ACME, { max: 100, used: 95 });
        usageWritten();
        await c.task('guard-9', CALL).expect(201);
        await c.lookup({ phone: '4155551212' }).expect(429);
        c.h.emulator.state.setApiLimit(ACME, { max: 100, used: 0 });
        c.h.clock.advance(11 * 60_000);
        await c.lookup({ phone: '4155551212' }).expect(200);
        await c.lookup({ phone: '4155551212' }).expect(200);
        assert.equal((await c.get('/api/v1/link').expect(200)).body.apiGuard, undefined);
    });

    test('the reserve is set per account (0: never), and back to the default with null', async () => {
        const api = (body: object) => request(c.server).put('/api/v1/calls/settings').set('Authorization', `Bearer ${c.key}`).send(body);
        assert.deepEqual(reserveView((await api({ lookupReservePercent: 0 }).expect(200)).body), {
            lookupReservePercent: 0,
            isDefault: false
        });
        c.h.emulator.state.setApiLimit(ACME, { max: 100, used: 99 });
        usageWritten();
        await c.task('guard-10', CALL).expect(201);
        await c
            .lookup({ phone: '4155551212' })
            .expect(429)
            .expect((res) => assert.equal(res.body.error.code, 'SALESFORCE_LIMIT_EXCEEDED'));
        assert.deepEqual(reserveView((await api({ lookupReservePercent: null }).expect(200)).body), {
            lookupReservePercent: 10,
            isDefault: true
        });
        c.h.emulator.state.setApiLimit(ACME, { max: 15000, used: 0 });
    });
});
