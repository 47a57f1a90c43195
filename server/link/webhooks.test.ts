/**
 * Webhooks from the outbox: the event is written with the status change, delivered once, retried with backoff from
 * the table, taken over by another instance when the one delivering it dies, and listed with its state.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import request from 'supertest';
import { createLogger } from '../logger.ts';
import { DELIVERY_CLAIM_MS, signWebhook, WEBHOOK_ATTEMPTS, Webhooks } from './webhooks.ts';
import { LinkEvents } from './events.ts';
import { PEOPLE, startHarness, type Harness } from '../test/harness.ts';
import { PG_SKIP, warnIfNoPostgres } from '../test/pgDatabase.ts';

warnIfNoPostgres();

for (const kind of ['lowdb', 'postgres'] as const) {
    describe(`webhook outbox: ${kind}`, { skip: kind === 'postgres' && PG_SKIP }, () => {
        let h: Harness;
        let received: Array<{ headers: IncomingMessage['headers']; body: string }>;
        let answers: number[];
        /** When set, the receiver holds the requests from the `from`-th on (1-based) until `until` resolves. */
        let hold: { from: number; until: Promise<void> } | undefined;
        let hookUrl: string;
        let accountId: string;
        let key: string;
        let secret: string;
        const server = createServer((req, res) => {
            let body = '';
            req.on('data', (chunk: Buffer) => (body += chunk.toString()));
            req.on('end', () => {
                const status = answers.shift() ?? 200;
                received.push({ headers: req.headers, body });
                const held = hold && received.length >= hold.from ? hold.until : Promise.resolve();
                void held.then(() => res.writeHead(status).end());
            });
        });
        /** Another instance's delivery loop on the same store (its own claims and memory). */
        const otherInstance = () =>
            new Webhooks(h.store, h.services.cipher, h.clock, createLogger('silent'), new LinkEvents(), {
                allowHttp: true,
                allowPrivateNetworks: true,
                retryDelayMs: 20
            });

        before(async () => {
            h = await startHarness({ store: kind });
            await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
            hookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
            // Fast retries for these tests.
            (h.services.webhooks as unknown as { options: { retryDelayMs: number } }).options.retryDelayMs = 20;
        });
        after(async () => {
            await h.close();
            server.close();
        });
        beforeEach(async () => {
            received = [];
            answers = [];
            const account = await h.newAccount(`Hooked ${Math.random()}`);
            accountId = account.id;
            key = account.key;
            secret = (await h.api(key).put('/api/v1/webhook').send({ url: hookUrl }).expect(200)).body.secret;
        });
        // What a test left under way (a retry, after it failed) ends before the next one counts what it receives.
        afterEach(async () => {
            hold = undefined;
            await h.services.webhooks.settle();
        });
        const deliveries = async () =>
            (await h.api(key).get('/api/v1/webhook/deliveries').expect(200)).body.deliveries as Array<Record<string, unknown>>;

        test('a status change writes its event with the change and is delivered once, signed, its id the same the list shows', async () => {
            assert.equal((await h.link(key, PEOPLE.acmeApi)).callback.status, 200);
            await h.services.webhooks.settle();
            assert.equal(received.length, 1);
            const body = JSON.parse(received[0]!.body) as { id: string; type: string; data: { from: string; to: string } };
            assert.equal(`${body.data.from}->${body.data.to}`, 'unlinked->linked');
            const header = String(received[0]!.headers['x-ccl-signature']);
            assert.equal(header, signWebhook(secret, received[0]!.body, Number(/t=(\d+)/.exec(header)?.[1])));
            assert.equal(received[0]!.headers['x-ccl-delivery-attempt'], '1');
            assert.match(String(received[0]!.headers['x-ccl-instance']), /^[A-Za-z0-9_-]{6,}$/);
            const [listed] = await deliveries();
            assert.equal(listed!['id'], body.id);
            assert.equal(listed!['state'], 'delivered');
            assert.equal(listed!['attempts'], 1);
            assert.deepEqual((listed!['lastAttempt'] as { status: number }).status, 200);
            // Polled again, by this instance or another: nothing is sent twice.
            await h.services.webhooks.poke();
            await otherInstance().poke();
            assert.equal(received.length, 1);
        });

        test('a receiver that fails twice: retried from the table with backoff, delivered at the third attempt, the same id each time', async () => {
            answers = [500, 503];
            // The retry is due 20 ms after the first answer: the receiver holds it until the list has been read, so
            // that the list shows the first attempt's outcome however slow this machine is.
            let release!: () => void;
            hold = { from: 2, until: new Promise((resolve) => (release = resolve)) };
            assert.equal((await h.link(key, PEOPLE.acmeApi)).callback.status, 200);
            let afterFirst: Record<string, unknown> | undefined;
            try {
                for (const started = Date.now(); !afterFirst?.['lastAttempt']; await sleep(5)) {
                    assert.ok(Date.now() - started < 10_000, 'the first attempt is recorded');
                    [afterFirst] = await deliveries();
                }
            } finally {
                release();
            }
            assert.equal(afterFirst['state'], 'pending');
            assert.equal(afterFirst['attempts'], 1);
            assert.equal((afterFirst['lastAttempt'] as { status: number; error: string }).status, 500);
            assert.ok(afterFirst['nextAttemptAt'], 'says when it is tried again');
            await h.services.webhooks.settle();
            assert.equal(received.length, 3);
            assert.equal(new Set(received.map((r) => (JSON.parse(r.body) as { id: string }).id)).size, 1);
            assert.deepEqual(
                received.map((r) => r.headers['x-ccl-delivery-attempt']),
                ['1', '2', '3']
            );
            const [listed] = await deliveries();
            assert.equal(listed!['state'], 'delivered');
            assert.equal(listed!['attempts'], 3);
        });

        test(`a receiver that never accepts: given up after ${WEBHOOK_ATTEMPTS} attempts, listed as failed with the last answer`, async () => {
            answers = Array(WEBHOOK_ATTEMPTS).fill(500);
            assert.equal((await h.link(key, PEOPLE.acmeApi)).callback.status, 200);
            await h.services.webhooks.settle();
            assert.equal(received.length, WEBHOOK_ATTEMPTS);
            const [listed] = await deliveries();
            assert.equal(listed!['state'], 'failed');
            assert.equal(listed!['attempts'], WEBHOOK_ATTEMPTS);
            assert.match(String((listed!['lastAttempt'] as { error: string }).error), /HTTP 500/);
        });

        test('the instance delivering an event dies with it claimed: another instance delivers it once the claim lapses', async () => {
            // The change commits its event; then an instance claims it and dies before it posts.
            await h.services.webhooks.stop();
            await h.store.outbox.add({
                id: `dead-${accountId}`,
                accountId,
                type: 'link.status_changed',
                createdAt: h.clock.now().toISOString(),
                data: { accountId, from: 'linked', to: 'needs_relink', reason: 'revoked' },
                state: 'pending',
                attempts: 0,
                nextAttemptAt: h.clock.now().toISOString()
            });
            const now = h.clock.now();
            const claimed = await h.store.outbox.claimDue({
                now: now.toISOString(),
                by: 'instance-that-died',
                until: new Date(now.getTime() + DELIVERY_CLAIM_MS).toISOString(),
                limit: 10
            });
            assert.equal(claimed.length, 1);
            const other = otherInstance();
            assert.equal(await other.poke(), 0, 'claimed: not touched while the claim holds');
            assert.equal(received.length, 0);
            h.clock.advance(DELIVERY_CLAIM_MS + 1000);
            try {
                assert.equal(await other.poke(), 1);
                await other.settle();
            } finally {
                h.clock.advance(-(DELIVERY_CLAIM_MS + 1000));
            }
            assert.equal(received.length, 1);
            assert.equal((JSON.parse(received[0]!.body) as { id: string }).id, `dead-${accountId}`);
            assert.equal((await deliveries())[0]!['state'], 'delivered');
        });

        test('no webhook, no event; a webhook removed before delivery: the event is given up and says why', async () => {
            await h.api(key).delete('/api/v1/webhook').expect(200);
            assert.equal((await h.link(key, PEOPLE.acmeApi)).callback.status, 200);
            await h.services.webhooks.settle();
            assert.deepEqual(await h.store.outbox.recent(accountId, 10), []);

            await h.api(key).put('/api/v1/webhook').send({ url: hookUrl }).expect(200);
            await h.services.webhooks.stop();
            await h.api(key).delete('/api/v1/link').expect(200);
            await h.api(key).delete('/api/v1/webhook').expect(200);
            await h.services.webhooks.settle();
            const [event] = await h.store.outbox.recent(accountId, 10);
            assert.equal(event?.state, 'failed');
            assert.match(event?.lastAttempt?.error ?? '', /removed/);
            assert.equal(received.length, 0);
        });

        test('an idle poll, nothing due, takes no write lock (it runs every second on every instance)', async () => {
            await h.services.webhooks.settle();
            let transactions = 0;
            const original = h.store.transaction.bind(h.store);
            h.store.transaction = (work) => (transactions++, original(work));
            try {
                for (let i = 0; i < 5; i++) assert.equal(await h.services.webhooks.poke(), 0);
            } finally {
                h.store.transaction = original;
            }
            assert.equal(transactions, 0);
        });

        test('the deliveries list checks its input and its key', async () => {
            for (const query of ['limit=0', 'limit=51', 'limit=abc', 'limit=1.5', 'other=1']) {
                const res = await request(h.app)
                    .get(`/api/v1/webhook/deliveries?${query}`)
                    .set('Authorization', `Bearer ${key}`)
                    .expect(400);
                assert.equal(res.body.error.code, 'VALIDATION_FAILED', query);
            }
            // Once the account has a platform key of its own, this key is the org's only.
            await h.services.accounts.rotateKey(accountId, 'platform');
            const res = await request(h.app).get('/api/v1/webhook/deliveries').set('Authorization', `Bearer ${key}`);
            assert.equal(res.status, 403, 'the org’s key may not read the platform’s deliveries');
            await request(h.app).get('/api/v1/webhook/deliveries').set('Authorization', 'Bearer wrong').expect(401);
        });
    });
}
