import assert from 'node:assert/strict';
import type { Snapshot } from '../store/types.ts';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { startHarness, type Harness } from '../test/harness.ts';

describe('the API refuses bad input with a clear 4xx and changes nothing', () => {
    let h: Harness;
    let key: string;
    let snapshot: () => Promise<string>;
    before(async () => {
        h = await startHarness();
        key = (await h.newAccount('Input checks')).key;
        snapshot = async () =>
            ((db: Snapshot) => JSON.stringify({ links: db.links, accounts: db.accounts, sessions: db.linkSessions.length }))(
                await h.services.store.dump()
            );
    });
    after(() => h.close());

    const endpoints: Array<[string, string]> = [
        ['get', '/api/v1/link'],
        ['post', '/api/v1/link-sessions'],
        ['get', '/api/v1/link-sessions/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
        ['post', '/api/v1/link/verify'],
        ['delete', '/api/v1/link']
    ];
    for (const [method, path] of endpoints) {
        test(`${method.toUpperCase()} ${path} without a key, with a wrong key, with a malformed header`, async () => {
            const agent = request(h.app) as unknown as Record<string, (p: string) => request.Test>;
            const none = await agent[method]!(path).expect(401);
            assert.equal(none.body.error.code, 'UNAUTHORIZED');
            assert.equal(none.headers['www-authenticate'], 'Bearer');
            const wrong = await agent[method]!(path).set('Authorization', 'Bearer ccl_wrong').expect(401);
            assert.equal(wrong.body.error.code, 'UNAUTHORIZED');
            await agent[method]!(path).set('Authorization', `Basic ${key}`).expect(401);
            await agent[method]!(path).set('Authorization', `Bearer ${key}x`).expect(401);
        });
    }

    const badBodies: Array<[string, unknown, RegExp]> = [
        ['an empty body', {}, /environment/],
        ['an unknown environment', { environment: 'staging' }, /"production" or "sandbox"/],
        ['an unknown field', { environment: 'production', password: 'x' }, /unknown fields: password/],
        ['a malformed org id', { environment: 'production', expectedOrgId: '001xx' }, /expectedOrgId must be a Salesforce org id/],
        ['a malformed initiating user', { environment: 'production', initiatedBy: { userId: 'bob', username: 'b' } }, /initiatedBy.userId/],
        ['an array', [1, 2], /request body/],
        ['a number as environment', { environment: 7 }, /environment/]
    ];
    for (const [what, body, message] of badBodies) {
        test(`POST /api/v1/link-sessions with ${what}`, async () => {
            const before = await snapshot();
            const res = await h
                .api(key)
                .post('/api/v1/link-sessions', body as object)
                .expect(400);
            assert.equal(res.body.error.code, 'VALIDATION_FAILED');
            assert.match(res.body.error.message, message);
            assert.equal(await snapshot(), before);
        });
    }

    test('a body that is not JSON', async () => {
        const res = await h
            .api(key)
            .post('/api/v1/link-sessions')
            .set('Content-Type', 'application/json')
            .send('{"environment":')
            .expect(400);
        assert.equal(res.body.error.code, 'INVALID_JSON');
    });

    test('a body larger than the limit is refused before it is parsed', async () => {
        const res = await h
            .api(key)
            .post('/api/v1/link-sessions')
            .set('Content-Type', 'application/json')
            .send(JSON.stringify({ environment: 'production', loginUrl: 'x'.repeat(20_000) }))
            .expect(413);
        assert.equal(res.body.error.code, 'PAYLOAD_TOO_LARGE');
    });

    test('a form-encoded body is not mistaken for JSON', async () => {
        const res = await h.api(key).post('/api/v1/link-sessions').type('form').send('environment=production').expect(400);
        assert.equal(res.body.error.code, 'VALIDATION_FAILED');
    });

    test('a malformed link session id, and one of another account', async () => {
        const bad = await h.api(key).get('/api/v1/link-sessions/..%2F..%2Fetc').expect(400);
        assert.equal(bad.body.error.code, 'VALIDATION_FAILED');
        const other = await h.newAccount('Other tenant');
        const created = await h.api(other.key).post('/api/v1/link-sessions', { environment: 'production' }).expect(201);
        const res = await h.api(key).get(`/api/v1/link-sessions/${created.body.id}`).expect(404);
        assert.equal(res.body.error.code, 'LINK_SESSION_NOT_FOUND');
    });

    test('verify and unlink refuse unknown body fields', async () => {
        const res = await h.api(key).post('/api/v1/link/verify', { force: true }).expect(400);
        assert.equal(res.body.error.code, 'VALIDATION_FAILED');
    });

    test('an unknown path gets a JSON 404, an unknown oauth page an HTML 404', async () => {
        const api = await h.api(key).get('/api/v1/nothing-here').expect(404);
        assert.equal(api.body.error.code, 'NOT_FOUND');
        const start = await request(h.app).get('/oauth/start/not-a-session').expect(404);
        assert.match(start.headers['content-type']!, /text\/html/);
        const unknown = await request(h.app).get('/oauth/start/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA').expect(404);
        assert.match(unknown.text, /not valid/);
    });

    test('the callback escapes whatever Salesforce sends back', async () => {
        const res = await request(h.app)
            .get('/oauth/callback')
            .query({ state: '<script>alert(1)</script>', error: '<img src=x onerror=alert(1)>' })
            .expect(400);
        assert.doesNotMatch(res.text, /<script>alert|<img src=x/);
    });

    test('too many open popups for one account are refused', async () => {
        const { key: busy } = await h.newAccount('Busy');
        for (let i = 0; i < 20; i++) await h.api(busy).post('/api/v1/link-sessions', { environment: 'production' }).expect(201);
        const res = await h.api(busy).post('/api/v1/link-sessions', { environment: 'production' }).expect(429);
        assert.equal(res.body.error.code, 'TOO_MANY_LINK_SESSIONS');
    });

    test('/healthz answers without a key', async () => {
        const res = await request(h.app).get('/healthz').expect(200);
        assert.deepEqual(res.body, { ok: true });
    });
});
