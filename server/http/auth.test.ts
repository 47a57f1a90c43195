import assert from 'node:assert/strict';
import type { Snapshot } from '../store/types.ts';
import { describe, test } from 'node:test';
import request from 'supertest';
import { ConfigError, parseConfig } from '../config.ts';
import { DEFAULT_FAILED_AUTH_POLICY } from './abuse.ts';
import { PEOPLE, startHarness } from '../test/harness.ts';

// No delays, so a test reaches the refusal at once; the counting is the real limiter's.
const COUNTING = { ...DEFAULT_FAILED_AUTH_POLICY, delayStepMs: 0 };
const wrongKeys = (count: number, send: (i: number) => request.Test) => Promise.all(Array.from({ length: count }, (_, i) => send(i)));

describe('the client address of the wrong-key limiter', () => {
    test('without TRUST_PROXY, X-Forwarded-For is ignored: a client cannot rename itself out of the count', async () => {
        const h = await startHarness({ failedAuth: COUNTING });
        try {
            const answers = await wrongKeys(DEFAULT_FAILED_AUTH_POLICY.blockAfter, (i) =>
                request(h.app).get('/api/v1/link').set('X-Forwarded-For', `198.51.100.${i}`).set('Authorization', 'Bearer wrong')
            );
            assert.equal(answers.filter((r) => r.status === 429).length, 1);
            await request(h.app)
                .get('/api/v1/link')
                .set('X-Forwarded-For', '198.51.100.200')
                .set('Authorization', 'Bearer wrong')
                .expect(429);
        } finally {
            await h.close();
        }
    });

    test('behind a listed proxy, the machine itself is counted too (a proxy that names nobody), and the client the proxy appends is the one counted', async () => {
        const h = await startHarness({ env: { TRUST_PROXY: 'loopback' }, failedAuth: COUNTING });
        try {
            await wrongKeys(DEFAULT_FAILED_AUTH_POLICY.blockAfter, () =>
                request(h.app).get('/api/v1/link').set('Authorization', 'Bearer wrong')
            );
            await request(h.app).get('/api/v1/link').set('Authorization', 'Bearer wrong').expect(429);
            // A forged first hop does not help: the proxy appends the real client, and that one is counted.
            await wrongKeys(DEFAULT_FAILED_AUTH_POLICY.blockAfter, (i) =>
                request(h.app).get('/api/v1/link').set('X-Forwarded-For', `10.0.0.${i}, 203.0.113.9`).set('Authorization', 'Bearer wrong')
            );
            await request(h.app)
                .get('/api/v1/link')
                .set('X-Forwarded-For', '10.9.9.9, 203.0.113.9')
                .set('Authorization', 'Bearer wrong')
                .expect(429);
            await request(h.app)
                .get('/api/v1/link')
                .set('X-Forwarded-For', '203.0.113.10')
                .set('Authorization', 'Bearer wrong')
                .expect(401);
        } finally {
            await h.close();
        }
    });

    test('TRUST_PROXY takes named ranges, addresses and CIDRs, and refuses anything else', () => {
        assert.deepEqual(parseConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8,2001:db8::1' }).TRUST_PROXY, [
            'loopback',
            '10.0.0.0/8',
            '2001:db8::1'
        ]);
        for (const bad of ['true', '10.0.0.0/33', 'proxy.example', '1.2.3.4/8/2'])
            assert.throws(() => parseConfig({ TRUST_PROXY: bad }), ConfigError, bad);
    });
});

describe('authentication before the body', () => {
    test('a request without a valid key is refused before its body is parsed or measured', async () => {
        const h = await startHarness();
        try {
            const malformed = await request(h.app)
                .post('/api/v1/link-sessions')
                .set('Authorization', 'Bearer wrong')
                .set('Content-Type', 'application/json')
                .send('{"broken"');
            assert.equal(malformed.status, 401);
            assert.equal(malformed.body.error.code, 'UNAUTHORIZED');
            const huge = await request(h.app)
                .put('/api/v1/calls/c1/task')
                .set('Content-Type', 'application/json')
                .set('Content-Length', String(10 * 1024 * 1024))
                .send('{}');
            assert.equal(huge.status, 401);
            // With a valid key the same bodies get their own answers.
            const { key } = await h.newAccount('Parsed after');
            assert.equal(
                (
                    await request(h.app)
                        .post('/api/v1/link-sessions')
                        .set('Authorization', `Bearer ${key}`)
                        .set('Content-Type', 'application/json')
                        .send('{"broken"')
                ).body.error.code,
                'INVALID_JSON'
            );
        } finally {
            await h.close();
        }
    });
});

describe('/metrics', () => {
    test('on an https PUBLIC_URL without METRICS_TOKEN, it is not served', async () => {
        const h = await startHarness({ env: { PUBLIC_URL: 'https://ccl.example.com' } });
        try {
            const res = await request(h.app).get('/metrics').expect(403);
            assert.equal(res.body.error.code, 'METRICS_TOKEN_REQUIRED');
        } finally {
            await h.close();
        }
    });

    test('with METRICS_TOKEN, wrong tokens count as failed authentications; the right one reads', async () => {
        const token = 'metrics-token-0123456789';
        const h = await startHarness({ env: { PUBLIC_URL: 'https://ccl.example.com', METRICS_TOKEN: token }, failedAuth: COUNTING });
        try {
            await request(h.app).get('/metrics').set('Authorization', `Bearer ${token}`).expect(200);
            const answers = await wrongKeys(DEFAULT_FAILED_AUTH_POLICY.blockAfter, () =>
                request(h.app).get('/metrics').set('Authorization', 'Bearer guess')
            );
            assert.deepEqual([...new Set(answers.map((r) => r.status))].sort(), [401, 429]);
            await request(h.app).get('/metrics').set('Authorization', 'Bearer guess').expect(429);
        } finally {
            await h.close();
        }
    });

    test('a backend on plain http without a token serves it (the demo, a private network)', async () => {
        const h = await startHarness();
        try {
            await request(h.app).get('/metrics').expect(200);
        } finally {
            await h.close();
        }
    });
});

describe('key scopes', () => {
    test('the org’s key manages the link only; the platform’s key makes calls and manages the webhook only', async () => {
        const h = await startHarness();
        try {
            const { account, apiKey: orgKey, platformKey } = await h.services.accounts.create('Scoped');
            const as = (key: string) => ({ Authorization: `Bearer ${key}` });
            await request(h.app).get('/api/v1/link').set(as(orgKey)).expect(200);
            await request(h.app).post('/api/v1/link-sessions').set(as(orgKey)).send({ environment: 'production' }).expect(201);
            // The key in the customer's External Credential can no longer replace the platform's webhook or act as the platform.
            for (const denied of [
                request(h.app).put('/api/v1/webhook').set(as(orgKey)).send({ url: 'https://hooks.example.com/ccl' }),
                request(h.app).delete('/api/v1/webhook').set(as(orgKey)),
                request(h.app).post('/api/v1/calls/lookup').set(as(orgKey)).send({ phone: '+14155551212' }),
                request(h.app).put('/api/v1/calls/c-1/task').set(as(orgKey)).send({ direction: 'inbound', durationSeconds: 1 }),
                request(h.app).get('/api/v1/link').set(as(platformKey!)),
                request(h.app).post('/api/v1/link-sessions').set(as(platformKey!)).send({ environment: 'production' }),
                request(h.app).delete('/api/v1/link').set(as(platformKey!))
            ]) {
                const res = await denied;
                assert.equal(res.status, 403, res.text);
                assert.equal(res.body.error.code, 'FORBIDDEN');
            }
            await request(h.app).get('/api/v1/webhook').set(as(platformKey!)).expect(404);
            assert.equal(
                (await request(h.app).post('/api/v1/calls/lookup').set(as(platformKey!)).send({ phone: '+14155551212' })).body.error.code,
                'NOT_LINKED'
            );
            // An account from before scopes keeps one key for everything until the CLI issues its platform key.
            const { id, key } = await h.newAccount('Before scopes');
            await request(h.app)
                .put('/api/v1/webhook')
                .set(as(key))
                .send({ url: 'http://hooks.example.com/ccl' })
                .expect((res) => assert.notEqual(res.status, 403));
            const issued = await h.services.accounts.rotateKey(id, 'platform');
            await request(h.app).delete('/api/v1/webhook').set(as(key)).expect(403);
            await request(h.app).delete('/api/v1/webhook').set(as(issued)).expect(200);
            await request(h.app).get('/api/v1/link').set(as(key)).expect(200);
            assert.equal(account.platformKeyHash === undefined, false);
        } finally {
            await h.close();
        }
    });

    test('the admin the caller names is recorded as claimed', async () => {
        const h = await startHarness();
        try {
            const { id, key } = await h.newAccount('Claimed');
            const actor = { userId: '005000000000001AAA', username: 'someone@acme.example' };
            const { callback } = await h.link(key, PEOPLE.acmeApi, { environment: 'production', initiatedBy: actor });
            assert.equal(callback.status, 200, callback.text);
            assert.deepEqual((await request(h.app).get('/api/v1/link').set('Authorization', `Bearer ${key}`)).body.link.linkedBy, {
                ...actor,
                claimed: true
            });
            await request(h.app).delete('/api/v1/link').set('Authorization', `Bearer ${key}`).send({ actor }).expect(200);
            const audit = ((db: Snapshot) => db.audit.filter((a) => a.accountId === id && a.actor))(await h.services.store.dump());
            assert.deepEqual(audit.map((a) => a.action).sort(), ['link', 'unlink']);
            for (const entry of audit) assert.deepEqual(entry.actor, { ...actor, claimed: true });
        } finally {
            await h.close();
        }
    });
});
