import assert from 'node:assert/strict';
import type { Snapshot } from '../store/types.ts';
import { after, before, beforeEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SEED } from '../../emulator/index.ts';
import { PEOPLE } from '../test/harness.ts';
import { ACME, startCallsHarness, total, type CallsHarness } from '../test/callsHarness.ts';

const CALL = { direction: 'inbound', durationSeconds: 60 } as const;

describe('the access token: one per link, renewed once however many calls fail together', () => {
    let c: CallsHarness;
    before(async () => {
        c = await startCallsHarness();
    });
    after(() => c.close());

    test('100 concurrent calls on an expired access token cause exactly one refresh', async () => {
        c.h.emulator.state.expireAccessTokens(PEOPLE.acmeApi.username);
        c.mark();
        const results = await Promise.all(
            Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? c.lookup({ phone: '4155551212' }) : c.task(`expired-${i}`, CALL)))
        );
        assert.deepEqual(
            results.map((r) => r.status).filter((s) => s !== 200 && s !== 201),
            []
        );
        const spent = c.spent();
        assert.equal(spent.refresh, 1, 'one refresh');
        // A call refused with 401 is sent once more with the new token; calls that started after the refresh need no second try.
        assert.ok(spent.search >= 50 && spent.search <= 100, `search ${spent.search}`);
        assert.ok(spent['sobject-create'] >= 50 && spent['sobject-create'] <= 100, `create ${spent['sobject-create']}`);
        assert.ok(spent.search + spent['sobject-create'] > 100, 'some calls were refused with 401 first');
        assert.equal(c.h.emulator.state.tasks(ACME).filter((t) => String(t['CallObject']).startsWith('expired-')).length, 50);
        // The new token is kept: the next calls need no refresh.
        c.mark();
        await c.lookup({ phone: '4155551212' }).expect(200);
        assert.equal(c.spent().refresh, 0);
    });

    test('with refresh token rotation (the emulator’s default, as a packaged app’s org), the rotated token is saved and the next expiry still costs one refresh', async () => {
        assert.equal(c.h.emulator.state.tokenPolicy().rotateRefreshTokens, true, 'refresh tokens rotate');
        for (let round = 0; round < 3; round++) {
            const stored = ((db: Snapshot) => db.links.find((l) => l.accountId === c.accountId)!.refreshToken!.data)(
                await c.h.services.store.dump()
            );
            c.h.emulator.state.expireAccessTokens(PEOPLE.acmeApi.username);
            c.mark();
            const results = await Promise.all(Array.from({ length: 30 }, (_, i) => c.task(`rotation-${round}-${i}`, CALL)));
            assert.ok(results.every((r) => r.status === 201));
            assert.equal(c.spent().refresh, 1);
            const rotated = ((db: Snapshot) => db.links.find((l) => l.accountId === c.accountId)!.refreshToken!.data)(
                await c.h.services.store.dump()
            );
            assert.notEqual(rotated, stored, 'the rotated refresh token replaced the old one in the store');
        }
    });

    test('no access token in memory (a restart, another instance): the stored one is used, no refresh', async () => {
        c.h.services.tokens.forget(c.accountId);
        c.mark();
        await Promise.all(Array.from({ length: 20 }, () => c.lookup({ phone: '4155551212' }).expect(200)));
        assert.equal(c.spent().refresh, 0);
        assert.equal(c.spent().search, 20);
    });

    test('no access token stored either (one sealed with a key since removed): the first calls share one refresh, which stores the new one', async () => {
        c.h.services.tokens.forget(c.accountId);
        await c.h.services.store.links.patch(c.accountId, { session: null });
        c.mark();
        await Promise.all(Array.from({ length: 20 }, () => c.lookup({ phone: '4155551212' }).expect(200)));
        assert.equal(c.spent().refresh, 1);
        assert.equal(c.spent().search, 20);
        const stored = (await c.h.services.store.links.get(c.accountId))!;
        assert.ok(stored.method === 'oauth' && stored.session, 'the refreshed token is stored for the other instances');
        c.h.services.tokens.forget(c.accountId);
        c.mark();
        await c.lookup({ phone: '4155551212' }).expect(200);
        assert.equal(c.spent().refresh, 0);
    });

    test('a stored access token that does not open (garbled) is refreshed over, not an error', async () => {
        c.h.services.tokens.forget(c.accountId);
        const stored = (await c.h.services.store.links.get(c.accountId))!;
        assert.ok(stored.method === 'oauth' && stored.session);
        await c.h.services.store.links.patch(c.accountId, {
            session: { ...stored.session, data: `${stored.session.data.slice(0, -4)}AAAA` }
        });
        c.mark();
        await c.lookup({ phone: '4155551212' }).expect(200);
        assert.equal(c.spent().refresh, 1);
    });
});

describe('the refresh lease', () => {
    test('outlasts the longest a refresh may take: its own timeout (SF_HTTP_TIMEOUT_MS, here 120 s) and the store around it', async () => {
        const c = await startCallsHarness({ env: { SF_HTTP_TIMEOUT_MS: '120000' } });
        try {
            c.h.emulator.state.setLatency(600);
            const refreshing = c.h.services.tokens.refresh(c.accountId, { force: true });
            await sleep(300);
            const lease = await c.h.services.store.leases.get(`refresh:${c.accountId}`);
            c.h.emulator.state.setLatency(0);
            await refreshing;
            assert.equal(lease?.by, c.h.services.tokens.holder, 'held while the refresh is at Salesforce');
            const heldFor = Date.parse(lease.until) - c.h.clock.now().getTime();
            assert.ok(heldFor > 120_000, `held for ${heldFor} ms`);
        } finally {
            c.h.emulator.state.setLatency(0);
            await c.close();
        }
    });
});

describe('a link that broke', () => {
    let c: CallsHarness;
    beforeEach(async () => {
        c = await startCallsHarness();
    });
    after(() => c?.close());

    test('a revoked link: lookups 409 NEEDS_RELINK, Tasks kept (202), the status flips, and the next calls ask Salesforce nothing', async () => {
        try {
            c.h.emulator.state.revokeUserTokens(PEOPLE.acmeApi.username);
            c.mark();
            const results = await Promise.all(
                Array.from({ length: 20 }, (_, i) => (i % 2 ? c.lookup({ phone: '4155551212' }) : c.task(`revoked-${i}`, CALL)))
            );
            const lookups = results.filter((_, i) => i % 2);
            const tasks = results.filter((_, i) => i % 2 === 0);
            assert.ok(
                lookups.every((r) => r.status === 409 && r.body.error.code === 'NEEDS_RELINK'),
                JSON.stringify(lookups.map((r) => r.body))
            );
            assert.ok(
                tasks.every((r) => r.status === 202 && r.body.state === 'queued' && r.body.reason === 'needs_relink'),
                JSON.stringify(tasks.map((r) => r.body))
            );
            assert.match(lookups[0]!.body.error.message, /Relink/);
            assert.equal(c.spent().refresh, 1, 'one refresh attempt for the whole burst');
            const status = await c.get('/api/v1/link').expect(200);
            assert.equal(status.body.status, 'needs_relink');
            assert.equal(status.body.link.lastError.code, 'NEEDS_RELINK');
            assert.match(status.body.link.lastError.message, /revoked/);

            c.mark();
            for (let i = 0; i < 5; i++) {
                const later = await c.task(`after-revoke-${i}`, CALL).expect(202);
                assert.equal(later.body.reason, 'needs_relink');
                await c.lookup({ phone: '4155551212' }).expect(409);
            }
            assert.equal((await c.get('/api/v1/link').expect(200)).body.keptTasks.count, 15);
            assert.equal(total(c.spent()), 0, 'a needs_relink link answers without any Salesforce request');
            assert.equal(c.h.emulator.state.tasks(ACME).length, 0);
        } finally {
            await c.close();
        }
    });

    test('a deactivated API user: NEEDS_RELINK saying so', async () => {
        try {
            c.h.emulator.state.setUserActive(PEOPLE.acmeApi.username, false);
            const res = await c.lookup({ phone: '4155551212' }).expect(409);
            assert.equal(res.body.error.code, 'NEEDS_RELINK');
            assert.match(res.body.error.message, /inactive/);
            const task = await c.task('inactive-1', CALL).expect(202);
            assert.equal(task.body.reason, 'needs_relink');
        } finally {
            c.h.emulator.state.setUserActive(PEOPLE.acmeApi.username, true);
            await c.close();
        }
    });

    test('the daily API limit: a lookup 429 SALESFORCE_LIMIT_EXCEEDED, a Task kept, no re-authentication; made once the allowance frees', async () => {
        try {
            c.h.emulator.state.setApiLimit(ACME, { max: 100, used: 100 });
            c.mark();
            const lookup = await c.lookup({ phone: '4155551212' }).expect(429);
            assert.equal(lookup.body.error.code, 'SALESFORCE_LIMIT_EXCEEDED');
            assert.match(lookup.body.error.message, /daily API requests/);
            const task = await c.task('limit-1', CALL).expect(202);
            assert.deepEqual([task.body.state, task.body.reason], ['queued', 'api_limit']);
            assert.equal(c.spent().refresh, 0);
            assert.equal(c.spent().rest, 2, 'each refused once, not retried');
            assert.equal((await c.get('/api/v1/link').expect(200)).body.status, 'linked');

            c.h.emulator.state.setApiLimit(ACME, { max: 15000, used: 0 });
            c.h.clock.advance(61_000);
            c.mark();
            assert.equal(await c.h.services.replay.poke(), 1);
            assert.equal(c.spent().query, 0, 'the refused create left nothing to look for');
            assert.equal(c.spent()['sobject-create'], 1);
            await c.task('limit-1', CALL).expect(200);
        } finally {
            await c.close();
        }
    });
});

describe('Salesforce unavailable', () => {
    let c: CallsHarness;
    before(async () => {
        c = await startCallsHarness();
    });
    after(() => c.close());
    beforeEach(() => c.h.emulator.state.clearFaults());

    test('a lookup is retried (bounded) on 5xx, then 503 SALESFORCE_UNAVAILABLE', async () => {
        c.h.emulator.state.failNext('search', 'http503', { count: 10 });
        c.mark();
        const res = await c.lookup({ phone: '4155551212' }).expect(503);
        assert.equal(res.body.error.code, 'SALESFORCE_UNAVAILABLE');
        assert.match(res.body.error.message, /after 3 attempts/);
        assert.equal(c.spent().search, 3, 'three attempts, not jsforce’s six');
        assert.equal(c.spent().refresh, 0);
    });

    for (const how of ['http500', 'html503', 'reset', 'malformed'] as const) {
        test(`a lookup survives one ${how}`, async () => {
            c.h.emulator.state.failNext('search', how);
            c.mark();
            const res = await c.lookup({ phone: '4155551212' }).expect(200);
            assert.equal(res.body.matches.length, 4);
            assert.equal(c.spent().search, 2);
        });
    }

    for (const how of ['http500', 'reset', 'malformed'] as const) {
        test(`a create that fails with ${how} is not retried blindly: kept (202), then the replay finds or makes exactly one Task`, async () => {
            const callId = `create-${how}`;
            c.h.emulator.state.failNext('sobject-create', how);
            c.mark();
            const first = await c.task(callId, CALL).expect(202);
            assert.deepEqual([first.body.state, first.body.reason], ['queued', 'salesforce_unavailable']);
            assert.equal(c.spent()['sobject-create'], 1, 'sent once');
            const pending = ((db: Snapshot) => Object.entries(db.taskLedger.calls).find(([k]) => k.endsWith(`|${callId}`))?.[1])(
                await c.h.services.store.dump()
            );
            assert.equal(pending?.state, 'pending');
            // The platform's retry answers the state as it is, and asks Salesforce nothing.
            c.mark();
            assert.equal((await c.task(callId, CALL).expect(202)).body.state, 'queued');
            assert.equal(total(c.spent()) + c.spent().rest, 0);

            c.h.clock.advance(16_000);
            c.mark();
            assert.equal(await c.h.services.replay.poke(), 1);
            assert.equal(c.spent().query, 1, 'the replay looks for a Task first');
            assert.ok(c.spent()['sobject-create'] <= 1);
            const tasks = c.h.emulator.state.tasks(ACME).filter((t) => t['CallObject'] === callId);
            assert.equal(tasks.length, 1);
            const retry = await c.task(callId, CALL).expect(200);
            assert.deepEqual(retry.body, { taskId: tasks[0]!['Id'], created: false });
        });
    }

    test('the CallObject query is retried on 5xx', async () => {
        c.h.emulator.state.failNext('sobject-create', 'http503');
        await c.task('query-retry', CALL).expect(202);
        c.h.emulator.state.failNext('query', 'http503', { count: 2 });
        c.h.clock.advance(16_000);
        c.mark();
        assert.equal(await c.h.services.replay.poke(), 1);
        assert.equal(c.spent().query, 3);
        assert.equal(c.h.emulator.state.tasks(ACME).filter((t) => t['CallObject'] === 'query-retry').length, 1);
    });

    test('a refresh that cannot reach Salesforce: 503, and the link stays linked', async () => {
        c.h.emulator.state.expireAccessTokens(PEOPLE.acmeApi.username);
        c.h.emulator.state.failNext('refresh', 'reset');
        const res = await c.lookup({ phone: '4155551212' }).expect(503);
        assert.equal(res.body.error.code, 'SALESFORCE_UNAVAILABLE');
        assert.equal((await c.get('/api/v1/link').expect(200)).body.status, 'linked');
        await c.lookup({ phone: '4155551212' }).expect(200);
    });
});

describe('a create that times out', () => {
    let c: CallsHarness;
    before(async () => {
        c = await startCallsHarness({ env: { SF_HTTP_TIMEOUT_MS: '300' } });
    });
    after(() => c.close());

    test('kept at the timeout; Salesforce makes the Task late; the replay finds it instead of making another', async () => {
        c.h.emulator.state.failNext('sobject-create', 'slow', { delayMs: 600 });
        const started = Date.now();
        const first = await c.task('slow-create', CALL).expect(202);
        assert.ok(Date.now() - started < 1000, 'bounded by SF_HTTP_TIMEOUT_MS');
        assert.equal(first.body.reason, 'salesforce_unavailable');
        await sleep(500);
        const late = c.h.emulator.state.tasks(ACME).filter((t) => t['CallObject'] === 'slow-create');
        assert.equal(late.length, 1, 'Salesforce did make it');
        c.h.clock.advance(16_000);
        assert.equal(await c.h.services.replay.poke(), 1);
        const retry = await c.task('slow-create', CALL).expect(200);
        assert.deepEqual(retry.body, { taskId: late[0]!['Id'], created: false });
        assert.equal(c.h.emulator.state.tasks(ACME).filter((t) => t['CallObject'] === 'slow-create').length, 1);
    });
});

describe('a legacy link (username + password + security token)', () => {
    let c: CallsHarness;
    let key: string;
    let accountId: string;
    before(async () => {
        c = await startCallsHarness();
        const account = await c.h.newAccount('Legacy contact center');
        key = account.key;
        accountId = account.id;
        await c.h.services.accounts.importLegacy(
            [
                {
                    accountId,
                    username: PEOPLE.acmeApi.username,
                    password: PEOPLE.acmeApi.password,
                    securityToken: '',
                    environment: 'production'
                }
            ],
            c.h.services.cipher,
            c.h.services.hosts
        );
    });
    after(() => c.close());

    test('looks up and logs Tasks through one SOAP login, kept in memory', async () => {
        c.mark();
        const found = await c.lookup({ phone: '(415) 555-1212' }, key).expect(200);
        assert.equal(found.body.matches.length, 4);
        const task = await c.task('legacy-1', { ...CALL, whoId: found.body.matches[0].id }, key).expect(201);
        await c.task('legacy-2', CALL, key).expect(201);
        await c.task('legacy-1', CALL, key).expect(200);
        const spent = c.spent();
        assert.equal(spent['soap-login'], 1, 'one login for all the calls');
        assert.equal(spent.rest, 3, 'search + two creates: the ledger vouches for the legacy link too');
        assert.equal(spent.refresh, 0);
        const stored = c.h.emulator.state.tasks(ACME).find((t) => t['Id'] === task.body.taskId)!;
        assert.equal(stored['OwnerId'], SEED.users.acmeApi.userId);
        assert.equal(stored['CallObject'], 'legacy-1');
        const status = await c.get('/api/v1/link', key).expect(200);
        assert.equal(status.body.status, 'legacy');
        assert.equal(status.body.apiUsage.max, SEED.defaultApiLimit);
        assert.ok(!JSON.stringify(status.body).includes(PEOPLE.acmeApi.password));
    });

    test('an expired session: 20 concurrent calls share one new login', async () => {
        c.h.emulator.state.expireAccessTokens(PEOPLE.acmeApi.username);
        c.mark();
        const results = await Promise.all(Array.from({ length: 20 }, (_, i) => c.task(`legacy-expired-${i}`, CALL, key)));
        assert.ok(results.every((r) => r.status === 201));
        assert.equal(c.spent()['soap-login'], 1);
    });

    test('a password changed in Salesforce: NEEDS_RELINK with the reason, then no more logins', async () => {
        c.h.emulator.state.setUserPassword(PEOPLE.acmeApi.username, 'changed-by-admin');
        c.h.emulator.state.expireAccessTokens(PEOPLE.acmeApi.username);
        try {
            c.mark();
            const res = await c.lookup({ phone: '4155551212' }, key).expect(409);
            assert.equal(res.body.error.code, 'NEEDS_RELINK');
            assert.match(res.body.error.message, /INVALID_LOGIN/);
            assert.ok(!res.body.error.message.includes(PEOPLE.acmeApi.password));
            const status = await c.get('/api/v1/link', key).expect(200);
            assert.equal(status.body.status, 'needs_relink');
            c.mark();
            await c.lookup({ phone: '4155551212' }, key).expect(409);
            const kept = await c.task('legacy-dead-2', CALL, key).expect(202);
            assert.equal(kept.body.reason, 'needs_relink');
            assert.ok(!JSON.stringify(kept.body).includes(PEOPLE.acmeApi.password));
            assert.equal(total(c.spent()), 0);
        } finally {
            c.h.emulator.state.setUserPassword(PEOPLE.acmeApi.username, PEOPLE.acmeApi.password);
        }
    });
});

describe('a sandbox link after the sandbox was refreshed', () => {
    test('NEEDS_RELINK, and a relink to the refreshed org logs Tasks again; the one kept meanwhile waits for the admin’s choice', async () => {
        const c = await startCallsHarness({ person: PEOPLE.uatApi, environment: 'sandbox' });
        try {
            await c.task('uat-1', CALL).expect(201);
            c.h.emulator.state.refreshSandbox('acmeUat');
            const res = await c.lookup({ phone: '4155551212' }).expect(409);
            assert.equal(res.body.error.code, 'NEEDS_RELINK');
            const kept = await c.task('uat-2', CALL).expect(202);
            assert.equal(kept.body.reason, 'needs_relink');
            const { callback } = await c.h.link(c.key, PEOPLE.uatApi, { environment: 'sandbox' });
            assert.equal(callback.status, 200, callback.text);
            // A new org: the same callId is a new Task there.
            const again = await c.task('uat-1', CALL).expect(201);
            assert.equal(c.h.emulator.state.tasks('acmeUat').find((t) => t['CallObject'] === 'uat-1')?.['Id'], again.body.taskId);
            // The Task kept for the old org is never sent to the new one by itself.
            assert.equal(await c.h.services.replay.poke(), 0);
            const waiting = await c.task('uat-2', CALL).expect(202);
            assert.equal(waiting.body.awaitingChoice, true);
            const status = await c.get('/api/v1/link').expect(200);
            assert.equal(status.body.keptTasks.awaitingChoice, 1);
            assert.equal(c.h.emulator.state.tasks('acmeUat').filter((t) => t['CallObject'] === 'uat-2').length, 0);
            // The admin chooses to make it there.
            const decided = await c.h.api(c.key).post('/api/v1/calls/kept/decision', { choice: 'make' }).expect(200);
            assert.deepEqual(decided.body, { choice: 'make', count: 1, waiting: 1 });
            assert.equal(await c.h.services.replay.poke(), 1);
            assert.equal(c.h.emulator.state.tasks('acmeUat').filter((t) => t['CallObject'] === 'uat-2').length, 1);
            assert.equal((await c.get('/api/v1/link').expect(200)).body.keptTasks, undefined);
        } finally {
            await c.close();
        }
    });
});
