// Salesforce's own rules in the link flow, as the emulator models them: the uninstalled-app block, a repeated
// /oauth/start, and a link in two round trips (token, one Composite request).

import assert from 'node:assert/strict';
import type { Snapshot } from '../store/types.ts';
import { after, afterEach, before, describe, test } from 'node:test';
import request from 'supertest';
import { authorizeInEmulator } from '../../emulator/driver.ts';
import { CLIENT, PEOPLE, startHarness, type Harness } from '../test/harness.ts';

describe("Salesforce's rules in the link flow", () => {
    let h: Harness;
    before(async () => {
        h = await startHarness();
    });
    afterEach(() => h.emulator.state.reset());
    after(() => h.close());

    const newSession = async (key: string): Promise<string> =>
        (await h.api(key).post('/api/v1/link-sessions', { environment: 'production' }).expect(201)).body.id as string;
    /** What /oauth/start answers for the popup: the authorize URL and the cookie it sets. */
    const start = async (sessionId: string) => {
        // One browser: the same consent cookie on every start.
        const { redirectTo, cookie } = await h.services.authorization.startAuthorization(sessionId, 'consent-of-one-popup');
        return { redirectTo, cookie: `${cookie.name}=${cookie.value}` };
    };
    const finish = async (attempt: { redirectTo: string; cookie: string }, person = PEOPLE.acmeApi) => {
        const final = await authorizeInEmulator(attempt.redirectTo, person);
        return request(h.app).get(`${final.pathname}${final.search}`).set('Cookie', attempt.cookie);
    };

    describe('an app the org has not installed', () => {
        test('fails with APP_NOT_INSTALLED and the fix in Salesforce’s words, on the page, in the session and in the audit', async () => {
            const { id, key } = await h.newAccount('Blocked');
            h.emulator.state.setAppInstalled('acme', CLIENT.clientId, false);
            const { sessionId, callback } = await h.link(key, PEOPLE.acmeApi);
            assert.equal(callback.status, 400);
            assert.match(callback.text, /not installed/i);
            assert.match(callback.text, /install the Contact Center Link OAuth package/);
            assert.match(callback.text, /APP_NOT_INSTALLED/);
            const session = await h.api(key).get(`/api/v1/link-sessions/${sessionId}`).expect(200);
            assert.equal(session.body.state, 'failed');
            assert.equal(session.body.error.code, 'APP_NOT_INSTALLED');
            assert.match(
                session.body.error.message,
                /External Client App Manager → Contact Center Link → Policies → Edit → Permitted Users/
            );
            assert.equal((await h.api(key).get('/api/v1/link').expect(200)).body.status, 'unlinked');
            assert.equal(h.emulator.state.tokensFor(PEOPLE.acmeApi.username), 0);
            const audit = ((db: Snapshot) => db.audit.filter((a) => a.accountId === id && a.action === 'link_failed'))(
                await h.services.store.dump()
            );
            assert.equal(audit.at(-1)?.outcome, 'APP_NOT_INSTALLED');
        });

        test('links once the org installs the app, or when the API user may approve uninstalled apps', async () => {
            const { key } = await h.newAccount('Installed later');
            h.emulator.state.setAppInstalled('acme', CLIENT.clientId, false);
            h.emulator.state.updatePermissions('acme', 'Contact_Center_API_User', { permissions: { CanApproveUninstalledApps: true } });
            assert.equal((await h.link(key, PEOPLE.acmeApi)).callback.status, 200);
            h.emulator.state.updatePermissions('acme', 'Contact_Center_API_User', { permissions: { CanApproveUninstalledApps: false } });
            assert.equal((await h.link(key, PEOPLE.acmeApi)).callback.status, 400);
            h.emulator.state.setAppInstalled('acme', CLIENT.clientId, true);
            assert.equal((await h.link(key, PEOPLE.acmeApi)).callback.status, 200);
        });

        test('another invalid_client answer stays a generic refusal', async () => {
            const { key } = await h.newAccount('Other client error');
            const sessionId = await newSession(key);
            const attempt = await start(sessionId);
            const state = new URL(attempt.redirectTo).searchParams.get('state')!;
            const res = await request(h.app)
                .get(`/oauth/callback?state=${state}&error=invalid_client&error_description=client%20blocked`)
                .set('Cookie', attempt.cookie);
            assert.equal(res.status, 400);
            const session = await h.api(key).get(`/api/v1/link-sessions/${sessionId}`).expect(200);
            assert.equal(session.body.error.code, 'TOKEN_EXCHANGE_FAILED');
        });
    });

    describe('the popup-blocked fallback tab', () => {
        test('the success page closes its window, or says it can be closed when it cannot (a tab opened from a link)', async () => {
            const { key } = await h.newAccount('Fallback tab');
            // Another API user: the tests here link api@acme.example to five accounts already.
            const { callback } = await h.link(key, PEOPLE.acmeAdmin);
            assert.equal(callback.status, 200);
            assert.match(callback.text, /<p id="close-hint" role="status" hidden>This tab cannot close itself: you can close it now\./);
            assert.match(callback.text, /if \(!window\.opener\) hint\(\);/);
            assert.match(callback.text, /window\.close\(\); setTimeout\(hint, 500\);/);
        });
    });

    describe('a repeated /oauth/start', () => {
        test('answers the same attempt, so the login completes with the first request’s cookie', async () => {
            const { key } = await h.newAccount('First wins');
            const sessionId = await newSession(key);
            const first = await start(sessionId);
            const second = await start(sessionId);
            assert.equal(second.redirectTo, first.redirectTo);
            assert.equal(second.cookie, first.cookie);
            assert.equal((await finish(first)).status, 200);
            assert.equal((await h.api(key).get(`/api/v1/link-sessions/${sessionId}`)).body.state, 'linked');
        });

        test('in the other order: the login completes with the second request’s cookie, and the state works once', async () => {
            const { key } = await h.newAccount('Second wins');
            const sessionId = await newSession(key);
            await start(sessionId);
            const second = await start(sessionId);
            const final = await authorizeInEmulator(second.redirectTo, PEOPLE.acmeApi);
            const done = await request(h.app).get(`${final.pathname}${final.search}`).set('Cookie', second.cookie);
            assert.equal(done.status, 200);
            const replay = await request(h.app).get(`${final.pathname}${final.search}`).set('Cookie', second.cookie);
            assert.equal(replay.status, 400);
            assert.match(replay.text, /STATE_MISMATCH/);
        });

        test('at the same moment: one attempt, one working login', async () => {
            const { key } = await h.newAccount('Simultaneous');
            const sessionId = await newSession(key);
            const attempts = await Promise.all([start(sessionId), start(sessionId), start(sessionId)]);
            assert.equal(new Set(attempts.map((a) => a.redirectTo)).size, 1);
            assert.equal(new Set(attempts.map((a) => a.cookie)).size, 1);
            assert.equal((await finish(attempts[2])).status, 200);
        });

        test('after the replay window a new start replaces the attempt (a popup opened again, a private window)', async () => {
            const { key } = await h.newAccount('Later start');
            const sessionId = await newSession(key);
            const old = await start(sessionId);
            h.clock.advance(61_000);
            const fresh = await start(sessionId);
            assert.notEqual(fresh.redirectTo, old.redirectTo);
            const stale = await finish(old);
            assert.equal(stale.status, 400);
            assert.equal((await finish(fresh)).status, 200);
        });
    });

    describe('round trips', () => {
        // A harness of its own: the API user's links from the tests above would make Salesforce's approval count crowded.
        before(async () => {
            await h.close();
            h = await startHarness();
        });
        test('a link costs two: the token, then one Composite request with the identity facts and the permission checks', async () => {
            const { key } = await h.newAccount('Two trips');
            h.emulator.state.resetCounts();
            await h.link(key, PEOPLE.acmeApi);
            const counts = h.emulator.state.requestCounts();
            assert.equal(counts.token, 1);
            assert.equal(counts.identity, 0);
            assert.equal(counts.composite, 1);
            assert.equal(counts.rest, 1);
            assert.equal(counts.token + counts.refresh + counts.revoke + counts.identity + counts.rest, 2);
            const link = (await h.api(key).get('/api/v1/link').expect(200)).body.link;
            assert.equal(link.username, PEOPLE.acmeApi.username);
            assert.equal(link.displayName, 'Contact Center Integration');
            assert.equal(link.orgId, h.emulator.state.org('acme').orgId);
        });

        test('a relink adds only the old token’s revoke', async () => {
            const { key } = await h.newAccount('Three trips');
            await h.link(key, PEOPLE.acmeAdmin);
            h.emulator.state.resetCounts();
            await h.link(key, PEOPLE.acmeApi);
            const counts = h.emulator.state.requestCounts();
            assert.equal(counts.revoke, 1);
            assert.equal(counts.token + counts.refresh + counts.revoke + counts.identity + counts.rest, 3);
        });

        test('an inactive user is refused from the Composite answer, and nothing is linked', async () => {
            const { key } = await h.newAccount('Inactive');
            // Deactivated between the token and the Composite request: the record says IsActive false.
            const real = h.services.gateway.composite.bind(h.services.gateway);
            h.services.gateway.composite = async (tokens, subrequests) => {
                const results = await real(tokens, subrequests);
                const user = results.get('user')!.body as { records: Array<Record<string, unknown>> };
                user.records[0]!.IsActive = false;
                return results;
            };
            try {
                const { sessionId } = await h.link(key, PEOPLE.acmeApi);
                const session = await h.api(key).get(`/api/v1/link-sessions/${sessionId}`).expect(200);
                assert.equal(session.body.error.code, 'USER_INACTIVE');
            } finally {
                h.services.gateway.composite = real;
            }
        });

        test('a Composite answer about another user than the signed token names is not trusted', async () => {
            const { key } = await h.newAccount('Other user');
            const real = h.services.gateway.composite.bind(h.services.gateway);
            h.services.gateway.composite = async (tokens, subrequests) => {
                const results = await real(tokens, subrequests);
                const user = results.get('user')!.body as { records: Array<Record<string, unknown>> };
                user.records[0]!.Id = h.emulator.state.user(PEOPLE.acmeAdmin.username).userId;
                return results;
            };
            try {
                const { sessionId, callback } = await h.link(key, PEOPLE.acmeApi);
                assert.equal(callback.status, 502);
                const session = await h.api(key).get(`/api/v1/link-sessions/${sessionId}`).expect(200);
                assert.equal(session.body.error.code, 'TOKEN_EXCHANGE_FAILED');
                assert.match(session.body.error.message, /different user/);
                assert.equal(h.emulator.state.tokensFor(PEOPLE.acmeApi.username), 0, 'the new token was revoked');
            } finally {
                h.services.gateway.composite = real;
            }
        });
    });
});
