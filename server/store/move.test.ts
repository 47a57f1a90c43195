import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import request from 'supertest';
import { createApp } from '../app.ts';
import { runStoreCommand } from '../cli/store.ts';
import { createLogger } from '../logger.ts';
import { buildServices } from '../services.ts';
import { PgStore } from './pgStore.ts';
import { PEOPLE, startHarness } from '../test/harness.ts';
import { createTestDatabase, PG_SKIP, warnIfNoPostgres } from '../test/pgDatabase.ts';

warnIfNoPostgres();

test(
    'moving a populated data directory into PostgreSQL: same rows and checksums, sealed values still open, safe to run again',
    { skip: PG_SKIP },
    async () => {
        const h = await startHarness({ store: 'lowdb' });
        const database = await createTestDatabase();
        try {
            // A data directory as a running installation leaves it: links (sealed refresh tokens), sessions, audit, a call's Task, a webhook.
            const linked = await h.newAccount('Moved and linked');
            assert.equal((await h.link(linked.key, PEOPLE.acmeApi)).callback.status, 200);
            const other = await h.newAccount('Moved, never linked');
            await h.api(other.key).post('/api/v1/link-sessions', { environment: 'production' }).expect(201);
            const platform = await h.services.accounts.rotateKey(linked.id, 'platform');
            await request(h.app)
                .put('/api/v1/webhook')
                .set('Authorization', `Bearer ${platform}`)
                .send({ url: 'https://93.184.215.14/hook' })
                .expect(200);
            const task = await request(h.app)
                .put('/api/v1/calls/moved-call/task')
                .set('Authorization', `Bearer ${platform}`)
                .send({ direction: 'inbound', durationSeconds: 30 })
                .expect(201);
            await h.services.calls.settled();

            const lines: string[] = [];
            const run = (...args: string[]) =>
                runStoreCommand(['move', '--from', h.dataDir, '--to', database.url, ...args], {}, (line) => lines.push(line));
            assert.equal(await run(), 0, lines.join('\n'));
            assert.match(lines.join('\n'), /Moved .* every table has the source's rows and checksum/);
            for (const name of ['accounts', 'links', 'linkSessions', 'audit', 'taskLedger'])
                assert.match(lines.join('\n'), new RegExp(`${name}\\s+\\d+\\s+\\d+\\s+[0-9a-f]{16}\\s+same`));
            const source = await h.store.dump();
            const target = await PgStore.open(database.url);
            const moved = await target.dump();
            assert.equal(moved.accounts.length, source.accounts.length);
            assert.equal(moved.audit.length, source.audit.length);
            assert.deepEqual(moved.taskLedger, source.taskLedger);

            // The backend on PostgreSQL opens what was sealed in the files: the link verifies (a refresh with the moved token), the ledger answers the retried call.
            const services = buildServices({ config: h.config, store: target, logger: createLogger('silent'), clock: h.clock });
            const app = createApp(services);
            const verified = await request(app).post('/api/v1/link/verify').set('Authorization', `Bearer ${linked.key}`).expect(200);
            assert.equal(verified.body.status, 'linked');
            const again = await request(app)
                .put('/api/v1/calls/moved-call/task')
                .set('Authorization', `Bearer ${platform}`)
                .send({ direction: 'inbound', durationSeconds: 30 })
                .expect(200);
            assert.deepEqual(again.body, { taskId: task.body.taskId, created: false });
            assert.equal((await services.webhooks.get(linked.id))?.url, 'https://93.184.215.14/hook');
            await services.calls.settled();
            await target.close();

            // Run again: the target is the source plus what the verify wrote, so it is refused without --force, and nothing changes.
            lines.length = 0;
            assert.equal(await run(), 1);
            assert.match(lines.at(-1)!, /already holds other rows. Nothing was changed/);
            lines.length = 0;
            assert.equal(await run('--force'), 0, lines.join('\n'));
            lines.length = 0;
            assert.equal(await run(), 0);
            assert.match(lines.at(-1)!, /already holds exactly this data directory/);

            // A target with unrelated rows is refused, and stays as it was.
            const client = new pg.Client({ connectionString: database.url });
            await client.connect();
            await client.query(
                `INSERT INTO accounts (id, doc) VALUES ('acc_other', '{"id":"acc_other","name":"x","apiKeyHash":"zz","createdAt":""}')`
            );
            lines.length = 0;
            assert.equal(await run(), 1);
            assert.equal((await client.query(`SELECT count(*)::int AS n FROM accounts WHERE id = 'acc_other'`)).rows[0].n, 1);
            await client.end();

            // Wrong input is refused with a sentence, not a stack trace.
            lines.length = 0;
            assert.equal(await runStoreCommand(['move', '--from', h.dataDir], {}, (line) => lines.push(line)), 2);
            assert.match(lines.join('\n'), /--to postgres/);
        } finally {
            await h.close();
            await database.drop();
        }
    }
);
