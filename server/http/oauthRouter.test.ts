import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { authorizeInEmulator } from '../../emulator/driver.ts';
import { sessionCookieName } from '../link/authorization.ts';
import { confirmPopup, PEOPLE, startHarness, type Harness } from '../test/harness.ts';

const randomId = () => randomBytes(24).toString('base64url');

/** Counts the store's write transactions (the lock they take on either store). */
function countTransactions(h: Harness): () => number {
    let count = 0;
    const original = h.store.transaction.bind(h.store);
    h.store.transaction = (work) => {
        count++;
        return original(work);
    };
    return () => count;
}

describe('an unauthenticated /oauth request that matches nothing writes nothing and takes no lock', () => {
    let h: Harness;
    let transactions: () => number;
    before(async () => {
        h = await startHarness();
        transactions = countTransactions(h);
    });
    after(() => h.close());

    test('unknown session ids and unknown states: 404 and 400 pages, no transaction, the store as it was', async () => {
        const { key } = await h.newAccount('Flooded');
        await h.link(key, PEOPLE.acmeApi);
        const before = JSON.stringify(await h.store.dump());
        const started = transactions();
        for (let i = 0; i < 25; i++) {
            const start = await request(h.app).get(`/oauth/start/${randomId()}`);
            assert.equal(start.status, 404);
            const confirm = await request(h.app).post(`/oauth/start/${randomId()}`).type('form').send({ token: 'x' });
            assert.ok(confirm.status >= 400 && confirm.status < 500, `confirm answered ${confirm.status}`);
            const callback = await request(h.app).get(`/oauth/callback?state=${randomId()}&code=x`);
            assert.equal(callback.status, 400);
            assert.match(callback.text, /does not belong to a link in progress/);
        }
        assert.equal(transactions() - started, 0, 'a request that matched nothing ran a store transaction');
        assert.equal(JSON.stringify(await h.store.dump()), before);
    });
});

describe('the popup’s cookies are read as text', () => {
    let h: Harness;
    before(async () => {
        h = await startHarness();
    });
    after(() => h.close());

    test('a session cookie that cookie-parser reads as JSON (j:…) does not fit: the callback refuses the window, no 500', async () => {
        const { key } = await h.newAccount('JSON cookie');
        const created = await h.api(key).post('/api/v1/link-sessions', { environment: 'production' }).expect(201);
        const sessionId = created.body.id as string;
        const start = await confirmPopup(h.app, `/oauth/start/${sessionId}`);
        const final = await authorizeInEmulator(start.headers.location!, PEOPLE.acmeApi);
        const res = await request(h.app)
            .get(`${final.pathname}${final.search}`)
            .set('Cookie', `${sessionCookieName(sessionId)}=j:${encodeURIComponent('{"a":1}')}`);
        assert.equal(res.status, 400, res.text.slice(0, 300));
        assert.match(res.text, /different browser window/);
        assert.equal((await h.api(key).get('/api/v1/link')).body.status, 'unlinked');
    });
});

describe('/oauth is rate-limited per client address', () => {
    let h: Harness;
    before(async () => {
        h = await startHarness({ oauthRate: { limit: 10, windowMs: 60_000, maxKeys: 100 } });
    });
    after(() => h.close());

    test('past the limit: 429 with Retry-After, and again after the window', async () => {
        for (let i = 0; i < 10; i++) assert.equal((await request(h.app).get(`/oauth/callback?state=${randomId()}`)).status, 400);
        const refused = await request(h.app).get(`/oauth/callback?state=${randomId()}`);
        assert.equal(refused.status, 429);
        assert.ok(Number(refused.headers['retry-after']) > 0);
        assert.match(refused.text, /Too many requests/);
        h.clock.advance(60_000);
        assert.equal((await request(h.app).get(`/oauth/callback?state=${randomId()}`)).status, 400);
    });
});

describe('the audit stays bounded', () => {
    let h: Harness;
    before(async () => {
        h = await startHarness({
            accountWriteRate: { limit: 5, windowMs: 60_000, maxKeys: 100 },
            env: { AUDIT_RETENTION_DAYS: '30', AUDIT_MAX_PER_ACCOUNT: '10' }
        });
    });
    after(() => h.close());

    const entries = async (accountId: string) => (await h.store.audit.page(accountId, { limit: 100 })).entries;

    test('setting the same webhook again, or removing none, adds no entry', async () => {
        const { id } = await h.newAccount('Same hook');
        const platform = await h.services.accounts.rotateKey(id, 'platform');
        const hook = () =>
            request(h.app).put('/api/v1/webhook').set('Authorization', `Bearer ${platform}`).send({ url: 'https://93.184.215.14/hook' });
        const first = await hook();
        assert.equal(first.status, 200, first.text);
        await hook().expect(200);
        await request(h.app).delete('/api/v1/webhook').set('Authorization', `Bearer ${platform}`).expect(200);
        await request(h.app).delete('/api/v1/webhook').set('Authorization', `Bearer ${platform}`).expect(200);
        const actions = (await entries(id)).map((e) => e.action);
        assert.deepEqual(
            actions.filter((a) => a.startsWith('webhook')),
            ['webhook_removed', 'webhook_set']
        );
    });

    test('writes that leave an audit entry are rate-limited per account, not per address, and call actions are not', async () => {
        const a = await h.newAccount('Busy');
        const b = await h.newAccount('Quiet');
        for (let i = 0; i < 5; i++) await h.api(a.key).post('/api/v1/link-sessions', { environment: 'production' }).expect(201);
        const refused = await h.api(a.key).post('/api/v1/link-sessions', { environment: 'production' }).expect(429);
        assert.equal(refused.body.error.code, 'RATE_LIMITED');
        assert.ok(Number(refused.headers['retry-after']) > 0);
        // Reads go on, and another account is not affected.
        await h.api(a.key).get('/api/v1/link').expect(200);
        await h.api(b.key).post('/api/v1/link-sessions', { environment: 'production' }).expect(201);
        h.clock.advance(60_000);
        await h.api(a.key).post('/api/v1/link-sessions', { environment: 'production' }).expect(201);
    });

    test('retention by age and by count per account', async () => {
        const { id } = await h.newAccount('Long history');
        const old = new Date(h.clock.now().getTime() - 40 * 86_400_000).toISOString();
        await h.store.seed({
            audit: Array.from({ length: 5 }, (_, i) => ({ at: old, accountId: id, action: 'verify' as const, outcome: `old-${i}` }))
        });
        await h.store.seed({
            audit: Array.from({ length: 15 }, (_, i) => ({
                at: h.clock.now().toISOString(),
                accountId: id,
                action: 'verify' as const,
                outcome: `new-${i}`
            }))
        });
        const dropped = await h.services.auditRetention.prune();
        assert.ok(dropped >= 5 + 6, `dropped ${dropped}`);
        const kept = await entries(id);
        assert.equal(kept.length, 10);
        assert.ok(kept.every((e) => e.outcome.startsWith('new-')));
        assert.equal(kept[0]!.outcome, 'new-14', 'the newest are kept');
    });
});
