/**
 * Two backend instances in one process on one PostgreSQL database (each with its own pool, services and memory, as
 * two processes have): the rules that span instances. The multi-process suite (server/test/multiInstance.test.ts) plays the same with
 * real processes; these run fast and show which part holds what.
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { SEED } from '../../emulator/index.ts';
import { createApp } from '../app.ts';
import { createLogger } from '../logger.ts';
import { buildServices, type Services } from '../services.ts';
import type { Store } from '../store/store.ts';
import { ACME, startCallsHarness, type CallsHarness } from '../test/callsHarness.ts';
import { PEOPLE } from '../test/harness.ts';
import { createTestDatabase, PG_SKIP, warnIfNoPostgres } from '../test/pgDatabase.ts';
import { openStore } from '../store/openStore.ts';
import type { PgStore } from '../store/pgStore.ts';

warnIfNoPostgres();

const CALL = { direction: 'inbound', durationSeconds: 42 };

describe('two instances on one database', { skip: PG_SKIP }, () => {
    let c: CallsHarness;
    let otherStore: Store;
    let other: Services;
    let otherServer: Server;
    /** Instance A is the harness's app, instance B the other one. */
    const on = (i: number) => (i % 2 ? request(otherServer) : request(c.server));

    before(async () => {
        c = await startCallsHarness({ store: 'postgres' });
        otherStore = await c.h.reopenStore();
        other = buildServices({ config: c.h.config, store: otherStore, logger: createLogger('silent'), clock: c.h.clock });
        const app = createApp(other);
        otherServer = await new Promise<Server>((resolve) => {
            const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
        });
    });
    after(async () => {
        await new Promise<void>((resolve) => otherServer?.close(() => resolve()));
        await other?.calls.settled();
        await otherStore?.close();
        await c?.close();
    });

    test('calls right after the access token expired, spread over both: one refresh in all', async () => {
        c.h.emulator.state.expireAccessTokens();
        c.mark();
        const answers = await Promise.all(
            Array.from({ length: 40 }, (_, i) =>
                on(i).post('/api/v1/calls/lookup').set('Authorization', `Bearer ${c.key}`).send({ phone: '4155551212' })
            )
        );
        assert.deepEqual([...new Set(answers.map((a) => a.status))], [200], JSON.stringify(answers.find((a) => a.status !== 200)?.body));
        assert.equal(c.spent().refresh, 1, 'the instance that waited used the token the other one stored');
        assert.ok(c.spent().search <= 80, 'each call sent at most twice: once refused as expired, once with the new token');
    });

    test('Verify on one while the other renews for its calls: the refreshes take turns, none is refused as parallel', async () => {
        c.h.emulator.state.expireAccessTokens();
        c.mark();
        const verify = request(c.server).post('/api/v1/link/verify').set('Authorization', `Bearer ${c.key}`);
        const calls = Array.from({ length: 20 }, () =>
            request(otherServer).post('/api/v1/calls/lookup').set('Authorization', `Bearer ${c.key}`).send({ phone: '4155551212' })
        );
        const [verified, ...looked] = await Promise.all([verify, ...calls]);
        assert.equal(verified.status, 200, verified.text);
        assert.equal(verified.body.status, 'linked');
        assert.ok(
            looked.every((r) => r.status === 200),
            JSON.stringify(looked.map((r) => r.body))
        );
        assert.ok(c.spent().refresh <= 2, `refreshes: ${c.spent().refresh}`);
    });

    test('one call id retried on both at once: one Task', async () => {
        c.mark();
        const answers = await Promise.all(
            Array.from({ length: 30 }, (_, i) =>
                on(i).put('/api/v1/calls/two-instances-1/task').set('Authorization', `Bearer ${c.key}`).send(CALL)
            )
        );
        assert.ok(
            answers.every((a) => a.status === 200 || a.status === 201),
            JSON.stringify(answers.map((a) => a.body))
        );
        assert.equal(new Set(answers.map((a) => a.body.taskId)).size, 1);
        assert.equal(answers.filter((a) => a.status === 201).length, 1);
        assert.equal(c.h.emulator.state.tasks(ACME).filter((t) => t['CallObject'] === 'two-instances-1').length, 1);
        assert.equal(c.spent()['sobject-create'], 1);
    });

    test('a relink on one instance: the other acts as the new API user at its next call, and an unlink stops it at once', async () => {
        const relinked = await c.h.link(c.key, PEOPLE.acmeAdmin);
        assert.equal(relinked.callback.status, 200, relinked.callback.text);
        const made = await request(otherServer)
            .put('/api/v1/calls/two-instances-2/task')
            .set('Authorization', `Bearer ${c.key}`)
            .send(CALL)
            .expect(201);
        const task = c.h.emulator.state.tasks(ACME).find((t) => t['Id'] === made.body.taskId);
        assert.equal(String(task?.['CreatedById']).slice(0, 15), SEED.users.acmeAdmin.userId.slice(0, 15));
        await request(c.server).delete('/api/v1/link').set('Authorization', `Bearer ${c.key}`).expect(200);
        c.mark();
        const refused = await request(otherServer)
            .post('/api/v1/calls/lookup')
            .set('Authorization', `Bearer ${c.key}`)
            .send({ phone: '4155551212' });
        assert.equal(refused.status, 409);
        assert.equal(refused.body.error.code, 'NOT_LINKED');
        const status = await request(otherServer).get('/api/v1/link').set('Authorization', `Bearer ${c.key}`).expect(200);
        assert.equal(status.body.status, 'unlinked');
        assert.equal(c.spent().rest, 0);
    });
});

test('each instance keeps at most DATABASE_POOL_SIZE connections', { skip: PG_SKIP }, async () => {
    const database = await createTestDatabase();
    try {
        const store = (await openStore({ DATA_DIR: 'unused', DATABASE_URL: database.url, DATABASE_POOL_SIZE: 3 })) as PgStore;
        try {
            await Promise.all(Array.from({ length: 12 }, () => store.pool.query('SELECT pg_sleep(0.05)')));
            const { rows } = await store.pool.query<{ n: number }>(
                `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'contact-center-link'`
            );
            assert.ok(rows[0]!.n <= 3, `${rows[0]!.n} connections`);
            assert.equal(store.pool.options.max, 3);
        } finally {
            await store.close();
        }
    } finally {
        await database.drop();
    }
});
