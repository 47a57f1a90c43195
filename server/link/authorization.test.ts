import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { authorizeInEmulator } from '../../emulator/driver.ts';
import { confirmPopup, PEOPLE, startHarness, type Harness } from '../test/harness.ts';

describe('linking an account through the OAuth popup', () => {
    let h: Harness;
    before(async () => {
        h = await startHarness();
    });
    after(() => h.close());

    test('production: log in as the API user, Allow, and the account is linked', async () => {
        const { key } = await h.newAccount('Acme EMEA');
        const { sessionId, callback } = await h.link(key, PEOPLE.acmeApi);
        assert.equal(callback.status, 200, callback.text);
        assert.match(callback.headers['content-type']!, /text\/html/);
        assert.match(callback.text, /"type":"ccl:link"/);
        assert.match(callback.text, new RegExp(`"sessionId":"${sessionId}"`));
        assert.match(callback.headers['content-security-policy']!, /frame-ancestors 'none'/);
        assert.match(String(callback.headers['set-cookie']), new RegExp(`ccl_link_${sessionId}=;`));

        const session = await h.api(key).get(`/api/v1/link-sessions/${sessionId}`).expect(200);
        assert.equal(session.body.state, 'linked');

        const status = await h.api(key).get('/api/v1/link').expect(200);
        assert.equal(status.body.status, 'linked');
        assert.equal(status.body.account.name, 'Acme EMEA');
        assert.equal(status.body.link.username, 'api@acme.example');
        assert.equal(status.body.link.orgId, h.emulator.state.org('acme').id);
        assert.equal(status.body.link.environment, 'production');
        assert.equal(status.body.link.instanceUrl, h.emulator.origins.acme);
        assert.equal(status.body.link.loginUrl, h.emulator.origins.production);
        assert.ok(status.body.link.displayName);
        assert.deepEqual(status.body.apiUser, { linkedAccounts: 1, limit: 5 });
        assert.equal(JSON.stringify(status.body).includes('refreshToken'), false);
    });

    test('sandbox: the sandbox login host and the sandbox API user', async () => {
        const { key } = await h.newAccount('Acme UAT');
        const { callback } = await h.link(key, PEOPLE.uatApi, { environment: 'sandbox' });
        assert.equal(callback.status, 200, callback.text);
        const status = await h.api(key).get('/api/v1/link').expect(200);
        assert.equal(status.body.link.environment, 'sandbox');
        assert.equal(status.body.link.orgId, h.emulator.state.org('acmeUat').id);
        assert.equal(status.body.link.loginUrl, h.emulator.origins.sandbox);
    });

    test('My Domain: the org the admin came from, checked against its org id', async () => {
        const { key } = await h.newAccount('Acme My Domain');
        const orgId = h.emulator.state.org('acme').id;
        const { callback } = await h.link(key, PEOPLE.acmeApi, {
            environment: 'production',
            loginUrl: h.emulator.origins.acme,
            expectedOrgId: orgId
        });
        assert.equal(callback.status, 200, callback.text);
        const status = await h.api(key).get('/api/v1/link').expect(200);
        assert.equal(status.body.link.loginUrl, h.emulator.origins.acme);
    });

    test('the authorize request carries PKCE S256, prompt=login, the scopes and the exact redirect URI', async () => {
        const { key } = await h.newAccount('Inspect');
        const created = await h.api(key).post('/api/v1/link-sessions', { environment: 'production' }).expect(201);
        assert.equal(created.body.authorizeUrl, `${h.config.PUBLIC_URL}/oauth/start/${created.body.id}`);
        assert.ok(Date.parse(created.body.expiresAt) - Date.now() <= 10 * 60 * 1000);
        const start = await confirmPopup(h.app, `/oauth/start/${created.body.id}`);
        const url = new URL(start.headers.location!);
        assert.equal(url.origin, h.emulator.origins.production);
        assert.equal(url.pathname, '/services/oauth2/authorize');
        assert.equal(url.searchParams.get('response_type'), 'code');
        assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
        assert.match(url.searchParams.get('code_challenge')!, /^[A-Za-z0-9_-]{43}$/);
        assert.equal(url.searchParams.get('prompt'), 'login');
        assert.equal(url.searchParams.get('scope'), 'api refresh_token');
        assert.equal(url.searchParams.get('redirect_uri'), `${h.config.PUBLIC_URL}/oauth/callback`);
        assert.ok((url.searchParams.get('state') ?? '').length >= 43);
        const cookie = String(start.headers['set-cookie']);
        assert.match(cookie, /HttpOnly/);
        assert.match(cookie, /SameSite=Lax/);
        assert.match(cookie, /Path=\/oauth/);
    });

    test('Deny: ACCESS_DENIED, the session failed, nothing linked', async () => {
        const { key } = await h.newAccount('Denied');
        const { sessionId, callback } = await h.link(key, { ...PEOPLE.acmeApi, decision: 'deny' });
        assert.equal(callback.status, 400);
        assert.match(callback.text, /Access was denied/);
        assert.match(callback.text, /"state":"failed"/);
        const session = await h.api(key).get(`/api/v1/link-sessions/${sessionId}`).expect(200);
        assert.equal(session.body.state, 'failed');
        assert.equal(session.body.error.code, 'ACCESS_DENIED');
        assert.equal((await h.api(key).get('/api/v1/link')).body.status, 'unlinked');
    });

    test('wrong org: ORG_MISMATCH names both orgs and the new token is revoked', async () => {
        const { key } = await h.newAccount('Wrong org');
        const before = h.emulator.state.tokensFor(PEOPLE.acmeApi.username);
        const expected = h.emulator.state.org('acmeUat').id;
        const { sessionId, callback } = await h.link(key, PEOPLE.acmeApi, { environment: 'production', expectedOrgId: expected });
        assert.equal(callback.status, 400);
        const session = await h.api(key).get(`/api/v1/link-sessions/${sessionId}`).expect(200);
        assert.equal(session.body.error.code, 'ORG_MISMATCH');
        assert.match(session.body.error.message, new RegExp(expected));
        assert.match(session.body.error.message, new RegExp(h.emulator.state.org('acme').id));
        assert.equal(h.emulator.state.tokensFor(PEOPLE.acmeApi.username), before);
        assert.equal((await h.api(key).get('/api/v1/link')).body.status, 'unlinked');
    });

    test('a user without API access: API_NOT_ENABLED, token revoked', async () => {
        const { key } = await h.newAccount('No API');
        const { sessionId } = await h.link(key, PEOPLE.acmeNoApi);
        const session = await h.api(key).get(`/api/v1/link-sessions/${sessionId}`).expect(200);
        assert.equal(session.body.error.code, 'API_NOT_ENABLED');
        assert.match(session.body.error.message, /API Enabled/);
        assert.equal(h.emulator.state.tokensFor(PEOPLE.acmeNoApi.username), 0);
    });
});

describe('the OAuth state', () => {
    let h: Harness;
    before(async () => {
        h = await startHarness();
    });
    after(() => h.close());

    async function popup(key: string, on = h) {
        const created = await on.api(key).post('/api/v1/link-sessions', { environment: 'production' }).expect(201);
        const start = await confirmPopup(on.app, `/oauth/start/${created.body.id}`);
        const cookie = (start.headers['set-cookie'] as unknown as string[]).map((c) => c.split(';')[0]).join('; ');
        const final = await authorizeInEmulator(start.headers.location!, PEOPLE.acmeApi);
        return { sessionId: created.body.id as string, cookie, callbackPath: `${final.pathname}${final.search}`, final };
    }

    test('is single use: a replayed callback is refused and the link stays', async () => {
        const { key } = await h.newAccount('Replay');
        const { cookie, callbackPath } = await popup(key);
        await request(h.app).get(callbackPath).set('Cookie', cookie).expect(200);
        const replay = await request(h.app).get(callbackPath).set('Cookie', cookie).expect(400);
        assert.match(replay.text, /STATE_MISMATCH/);
        assert.equal((await h.api(key).get('/api/v1/link')).body.status, 'linked');
    });

    test('a forged or missing state is refused', async () => {
        const forged = await request(h.app).get('/oauth/callback?code=abc&state=forged-state-value').expect(400);
        assert.match(forged.text, /STATE_MISMATCH/);
        const missing = await request(h.app).get('/oauth/callback?code=abc').expect(400);
        assert.match(missing.text, /STATE_MISMATCH/);
        const garbage = await request(h.app)
            .get('/oauth/callback?state=' + 'x'.repeat(5000))
            .expect(400);
        assert.doesNotMatch(garbage.text, /at .*\.ts/);
    });

    test('without the popup cookie the callback is refused and the session fails', async () => {
        const { key } = await h.newAccount('No cookie');
        const { sessionId, callbackPath } = await popup(key);
        const res = await request(h.app).get(callbackPath).expect(400);
        assert.match(res.text, /different browser window/);
        const session = await h.api(key).get(`/api/v1/link-sessions/${sessionId}`).expect(200);
        assert.equal(session.body.state, 'failed');
        assert.equal(session.body.error.code, 'STATE_MISMATCH');
        assert.equal((await h.api(key).get('/api/v1/link')).body.status, 'unlinked');
    });

    test('a cookie of another session does not fit', async () => {
        const { key } = await h.newAccount('Other cookie');
        const first = await popup(key);
        const second = await popup(key);
        const res = await request(h.app)
            .get(first.callbackPath)
            .set('Cookie', second.cookie.replace(`ccl_link_${second.sessionId}`, `ccl_link_${first.sessionId}`))
            .expect(400);
        assert.match(res.text, /STATE_MISMATCH/);
    });

    test('expires after ten minutes', async () => {
        const { key } = await h.newAccount('Slow admin');
        const { sessionId, cookie, callbackPath } = await popup(key);
        h.clock.advance(11 * 60 * 1000);
        try {
            const res = await request(h.app).get(callbackPath).set('Cookie', cookie).expect(410);
            assert.match(res.text, /took longer than 10 minutes and expired/);
            const session = await h.api(key).get(`/api/v1/link-sessions/${sessionId}`).expect(200);
            assert.equal(session.body.state, 'expired');
            const restart = await request(h.app).get(`/oauth/start/${sessionId}`).expect(410);
            assert.match(restart.text, /expired/);
        } finally {
            h.clock.advance(-11 * 60 * 1000);
        }
    });

    test('an expired sign-in names the lifetime the link had, as configured', async () => {
        const short = await startHarness({ env: { LINK_SESSION_TTL_SECONDS: '120' } });
        try {
            const { key } = await short.newAccount('Short lifetime');
            const { cookie, callbackPath } = await popup(key, short);
            short.clock.advance(121_000);
            const res = await request(short.app).get(callbackPath).set('Cookie', cookie).expect(410);
            assert.match(res.text, /took longer than 2 minutes and expired/);
        } finally {
            await short.close();
        }
    });

    test('a used session cannot be started again', async () => {
        const { key } = await h.newAccount('Used');
        const { sessionId, cookie, callbackPath } = await popup(key);
        await request(h.app).get(callbackPath).set('Cookie', cookie).expect(200);
        const again = await request(h.app).get(`/oauth/start/${sessionId}`).expect(409);
        assert.match(again.text, /already used/);
    });
});

describe('login hosts', () => {
    let h: Harness;
    before(async () => {
        h = await startHarness();
    });
    after(() => h.close());

    const cases: Array<[string, string, string, RegExp]> = [
        ['production', 'https://evil.example.com', 'LOGIN_HOST_NOT_ALLOWED', /not a Salesforce login host/],
        ['production', 'https://acme.lightning.force.com', 'LOGIN_HOST_NOT_ALLOWED', /https:\/\/acme\.my\.salesforce\.com/],
        [
            'sandbox',
            'https://acme--uat.sandbox.lightning.force.com',
            'LOGIN_HOST_NOT_ALLOWED',
            /https:\/\/acme--uat\.sandbox\.my\.salesforce\.com/
        ],
        ['production', 'http://login.salesforce.com', 'LOGIN_HOST_NOT_ALLOWED', /bare https origin/],
        ['production', 'https://login.salesforce.com/services/oauth2/authorize', 'LOGIN_HOST_NOT_ALLOWED', /bare https origin/],
        ['production', 'https://login.salesforce.com.evil.example', 'LOGIN_HOST_NOT_ALLOWED', /not a Salesforce login host/],
        ['production', 'not a url', 'LOGIN_HOST_NOT_ALLOWED', /not a URL/],
        ['sandbox', 'https://acme.my.salesforce.com', 'VALIDATION_FAILED', /My Domain of a production org.*Choose Production/],
        ['production', 'https://acme--uat.sandbox.my.salesforce.com', 'VALIDATION_FAILED', /My Domain of a sandbox.*Choose Sandbox/]
    ];
    for (const [environment, loginUrl, code, message] of cases) {
        test(`refuses ${loginUrl} for ${environment}`, async () => {
            const { key } = await h.newAccount();
            const res = await h.api(key).post('/api/v1/link-sessions', { environment, loginUrl }).expect(400);
            assert.equal(res.body.error.code, code);
            assert.match(res.body.error.message, message);
        });
    }

    for (const [environment, loginUrl] of [
        ['production', 'https://login.salesforce.com'],
        ['sandbox', 'https://test.salesforce.com'],
        ['production', 'https://acme.my.salesforce.com'],
        ['production', 'https://acme-dev-ed.develop.my.salesforce.com'],
        ['sandbox', 'https://acme--uat.sandbox.my.salesforce.com'],
        ['sandbox', 'https://acme-scratch.scratch.my.salesforce.com']
    ] as const) {
        test(`accepts ${loginUrl} for ${environment}`, async () => {
            const { key } = await h.newAccount();
            const res = await h.api(key).post('/api/v1/link-sessions', { environment, loginUrl }).expect(201);
            const start = await confirmPopup(h.app, `/oauth/start/${res.body.id}`);
            assert.equal(new URL(start.headers.location!).origin, loginUrl);
        });
    }
});
