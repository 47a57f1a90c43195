import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { SEED, type Emulator } from '../index.ts';
import { authorizeInEmulator } from '../driver.ts';
import { authorizeUrl, CLIENT, control, getCode, link, oauth2, PEOPLE, pkce, refreshPost, restGet, start, tokenPost } from './helpers.ts';

let em: Emulator;
before(async () => {
    em = await start();
});
after(() => em.close());
beforeEach(() => em.state.reset());

const DAY = 86400_000;
const EXPIRED = { status: 400, body: { error: 'invalid_grant', error_description: 'expired access/refresh token' } };
const IP_RESTRICTED = { status: 400, body: { error: 'invalid_grant', error_description: 'ip restricted' } };
const limitsUrl = (): string => `${em.origins.acme}/services/data/v62.0/limits`;
const user = (u: string): string => encodeURIComponent(u);
/** The refresh token to use next: the rotated one when the refresh answered one, else the same. */
const nextToken = (r: { body: Record<string, string> }, previous: string): string => r.body['refresh_token'] ?? previous;

describe('refresh token rotation (as a packaged app has it)', () => {
    beforeEach(() => em.state.setRotateRefreshTokens(true));

    it('answers a new refresh token on every refresh and retires the one used', async () => {
        const t = await link(em, PEOPLE.acmeApi);
        const r1 = await refreshPost(em, t.refresh_token!);
        assert.equal(r1.status, 200);
        assert.ok(r1.body['refresh_token'] && r1.body['refresh_token'] !== t.refresh_token);
        const r2 = await refreshPost(em, r1.body['refresh_token']);
        assert.ok(r2.body['refresh_token'] && r2.body['refresh_token'] !== r1.body['refresh_token']);
        assert.equal(em.state.tokensFor(PEOPLE.acmeApi.username), 1, 'still one approval');
    });

    it('revokes every token of the grant when a retired refresh token is used, and leaves other grants alone', async () => {
        const grant = await link(em, PEOPLE.acmeApi);
        const other = await link(em, PEOPLE.acmeApi);
        const r1 = await refreshPost(em, grant.refresh_token!);
        assert.deepEqual(await refreshPost(em, grant.refresh_token!), EXPIRED);
        // the current refresh token of the grant and its access tokens (old and new) are dead
        assert.deepEqual(await refreshPost(em, r1.body['refresh_token']!), EXPIRED);
        assert.equal((await restGet(limitsUrl(), grant.access_token)).status, 401);
        assert.equal((await restGet(limitsUrl(), r1.body['access_token']!)).status, 401);
        assert.equal((await restGet(limitsUrl(), other.access_token)).status, 200);
        assert.equal((await refreshPost(em, other.refresh_token!)).status, 200);
    });

    it('is switched per client and emulator-wide, in process and over HTTP', async () => {
        em.state.registerClient({ ...CLIENT, rotateRefreshTokens: false });
        let t = await link(em, PEOPLE.acmeApi);
        assert.equal((await refreshPost(em, t.refresh_token!)).body['refresh_token'], undefined, 'the client says no');
        em.state.registerClient(CLIENT);
        assert.equal((await control(em, 'GET', '')).body.tokenPolicy.rotateRefreshTokens, true);
        assert.equal((await control(em, 'POST', 'rotation', { enabled: false })).status, 200);
        t = await link(em, PEOPLE.acmeApi);
        assert.equal((await refreshPost(em, t.refresh_token!)).body['refresh_token'], undefined);
        assert.equal((await control(em, 'GET', '')).body.tokenPolicy.rotateRefreshTokens, false);
        assert.equal((await control(em, 'POST', 'rotation', { enabled: 'yes' })).status, 400);
        await control(em, 'POST', 'rotation', { enabled: true });
        assert.ok((await refreshPost(em, t.refresh_token!)).body['refresh_token']);
    });
});

describe('the idle refresh token TTL (30 days by default)', () => {
    it('expires a refresh token not used to refresh for 30 days, however busy its access token is', async () => {
        em.state.setAccessTokenTtl(60 * 86400);
        const t = await link(em, PEOPLE.acmeApi);
        for (let day = 0; day < 30; day += 5) {
            em.state.advanceTime(5 * DAY);
            assert.equal((await restGet(limitsUrl(), t.access_token)).status, 200, `the access token works on day ${day + 5}`);
        }
        assert.deepEqual(await refreshPost(em, t.refresh_token!), EXPIRED);
        assert.equal((await restGet(limitsUrl(), t.access_token)).status, 200, 'the access token lives to its own expiry');
        assert.equal(em.state.tokensFor(PEOPLE.acmeApi.username), 0);
        assert.deepEqual(em.state.grants(PEOPLE.acmeApi.username), []);
    });

    for (const rotation of [true, false])
        it(`is a sliding window: each refresh restarts it (rotation ${rotation ? 'on' : 'off'})`, async () => {
            em.state.setRotateRefreshTokens(rotation);
            const t = await link(em, PEOPLE.acmeApi);
            em.state.advanceTime(29 * DAY);
            const r1 = await refreshPost(em, t.refresh_token!);
            assert.equal(r1.status, 200);
            em.state.advanceTime(29 * DAY);
            const r2 = await refreshPost(em, nextToken(r1, t.refresh_token!));
            assert.equal(r2.status, 200);
            const [grant] = em.state.grants(PEOPLE.acmeApi.username);
            assert.ok(Math.abs(Date.parse(grant!.lastUsedAt) - em.state.now()) < 5000, 'last used by the refresh just made');
            assert.equal(Date.parse(grant!.idleExpiresAt!) - Date.parse(grant!.lastUsedAt), 30 * DAY);
            em.state.advanceTime(30 * DAY);
            assert.deepEqual(await refreshPost(em, nextToken(r2, nextToken(r1, t.refresh_token!))), EXPIRED);
        });

    it('can be off (valid until revoked), or another period, per client or for all', async () => {
        em.state.setRefreshTokenIdleTtl(null);
        const forever = await link(em, PEOPLE.acmeApi);
        em.state.advanceTime(400 * DAY);
        assert.equal((await refreshPost(em, forever.refresh_token!)).status, 200);

        em.state.reset();
        em.state.setRefreshTokenIdleTtl(60, CLIENT.clientId);
        const short = await link(em, PEOPLE.acmeApi);
        em.state.advanceTime(59_000);
        const r = await refreshPost(em, short.refresh_token!);
        assert.equal(r.status, 200);
        em.state.advanceTime(60_000);
        assert.deepEqual(await refreshPost(em, nextToken(r, short.refresh_token!)), EXPIRED);
        assert.throws(() => em.state.setRefreshTokenIdleTtl(0), /positive/);
        assert.throws(() => em.state.setRefreshTokenIdleTtl(10, 'nobody'), /unknown client/);
    });

    it('is set and reported over HTTP', async () => {
        assert.equal((await control(em, 'POST', 'refresh-token-policy', { idleTtlSeconds: 3600 })).status, 200);
        await link(em, PEOPLE.acmeApi);
        const grants = await control(em, 'GET', `users/${user(PEOPLE.acmeApi.username)}/grants`);
        assert.equal(grants.status, 200);
        assert.equal(grants.body.length, 1);
        assert.equal(grants.body[0].clientId, CLIENT.clientId);
        assert.equal(Date.parse(grants.body[0].idleExpiresAt) - Date.parse(grants.body[0].lastUsedAt), 3600_000);
        assert.equal((await control(em, 'POST', 'refresh-token-policy', { idleTtlSeconds: null, clientId: CLIENT.clientId })).status, 200);
        assert.equal((await control(em, 'GET', `users/${user(PEOPLE.acmeApi.username)}/grants`)).body[0].idleExpiresAt, null);
        assert.equal((await control(em, 'POST', 'refresh-token-policy', { idleTtlSeconds: -1 })).status, 400);
        assert.equal((await control(em, 'POST', 'refresh-token-policy', {})).status, 400);
        assert.equal((await control(em, 'POST', 'refresh-token-policy', { idleTtlSeconds: 5, clientId: 'nobody' })).status, 400);
        assert.equal((await control(em, 'GET', 'users/nobody@nowhere/grants')).status, 400);
    });
});

describe("the app's Refresh Token IP Allowlist", () => {
    it('refuses a refresh from an address outside it with invalid_grant "ip restricted", and the token stays unused', async () => {
        em.state.setRotateRefreshTokens(true);
        const t = await link(em, PEOPLE.acmeApi);
        em.state.setTokenIpAllowlist(CLIENT.clientId, ['203.0.113.0/30']);
        assert.deepEqual(await refreshPost(em, t.refresh_token!), IP_RESTRICTED);
        assert.equal(em.state.requestCounts('acme').refresh, 1, 'the refused request is still counted');
        em.state.setTokenIpAllowlist(CLIENT.clientId, ['203.0.113.7', '127.0.0.1', '::1']);
        const r = await refreshPost(em, t.refresh_token!);
        assert.equal(r.status, 200, 'not rotated by the refused request, so not a reuse');
        em.state.setTokenIpAllowlist(CLIENT.clientId, null);
        assert.equal((await refreshPost(em, nextToken(r, t.refresh_token!))).status, 200);
    });

    it('refuses the code exchange too, and applies to its own app only', async () => {
        em.state.registerClient({ ...CLIENT, refreshTokenIpAllowlist: ['198.51.100.0-198.51.100.9'] });
        const { code, verifier } = await getCode(em, PEOPLE.acmeApi);
        const exchange = await tokenPost(em.origins.production, {
            grant_type: 'authorization_code',
            code,
            client_id: CLIENT.clientId,
            client_secret: CLIENT.clientSecret,
            redirect_uri: CLIENT.redirectUris[0]!,
            code_verifier: verifier
        });
        assert.deepEqual(exchange, IP_RESTRICTED);
        assert.equal(em.state.tokensFor(PEOPLE.acmeApi.username), 0);
        // another app without an allowlist links from here
        const other = { clientId: 'other-app', clientSecret: 'other-secret', redirectUris: ['http://other.test/cb'] };
        em.state.registerClient(other);
        const { verifier: v2, challenge } = pkce();
        const final = await authorizeInEmulator(
            authorizeUrl(em, 'production', { code_challenge: challenge, code_challenge_method: 'S256' }, other),
            PEOPLE.acmeApi
        );
        assert.ok(
            (await oauth2(em, 'production', other).requestToken(final.searchParams.get('code')!, { code_verifier: v2 })).refresh_token
        );
        // an IPv4-mapped form of the address is the address
        em.state.setTokenIpAllowlist(CLIENT.clientId, ['::ffff:127.0.0.1']);
        assert.ok((await link(em, PEOPLE.acmeApi)).refresh_token);
    });

    it('is set over HTTP, within Salesforce limits, and refuses malformed ranges', async () => {
        const t = await link(em, PEOPLE.acmeApi);
        const path = `clients/${CLIENT.clientId}/ip-allowlist`;
        assert.equal((await control(em, 'POST', path, { ranges: ['10.1.2.0/24'] })).status, 200);
        assert.deepEqual(await refreshPost(em, t.refresh_token!), IP_RESTRICTED);
        assert.equal((await control(em, 'POST', path, { ranges: ['127.0.0.0/30'] })).status, 200);
        assert.equal((await refreshPost(em, t.refresh_token!)).status, 200);
        assert.equal((await control(em, 'POST', path, { ranges: ['10.0.0.0/8'] })).status, 400, 'over 256 addresses');
        assert.equal((await control(em, 'POST', path, { ranges: Array.from({ length: 129 }, (_, i) => `10.0.${i}.1`) })).status, 400);
        assert.equal((await control(em, 'POST', path, { ranges: ['10.0.0.9-10.0.0.1'] })).status, 400);
        assert.equal((await control(em, 'POST', path, { ranges: ['not-an-ip'] })).status, 400);
        assert.equal((await control(em, 'POST', path, { ranges: 'x' })).status, 400);
        assert.equal((await control(em, 'POST', 'clients/nobody/ip-allowlist', { ranges: null })).status, 400);
        assert.equal((await control(em, 'POST', path, { ranges: null })).status, 200);
        assert.equal(em.state.client(CLIENT.clientId)!.refreshTokenIpAllowlist, undefined);
    });
});

describe("an admin revoking the app's access", () => {
    it('for one user: that user’s tokens of the app are refused, other users keep theirs', async () => {
        const api = await link(em, PEOPLE.acmeApi);
        const admin = await link(em, PEOPLE.acmeAdmin);
        const res = await control(em, 'POST', `orgs/acme/apps/${CLIENT.clientId}/revoke`, { username: PEOPLE.acmeApi.username });
        assert.deepEqual(res, { status: 200, body: { ok: true, revoked: 1 } });
        assert.deepEqual(await refreshPost(em, api.refresh_token!), EXPIRED);
        assert.equal((await restGet(limitsUrl(), api.access_token)).status, 401);
        assert.equal((await restGet(limitsUrl(), admin.access_token)).status, 200);
        assert.equal((await refreshPost(em, admin.refresh_token!)).status, 200);
        // the user may authorize the app again
        assert.ok((await link(em, PEOPLE.acmeApi)).refresh_token);
    });

    it('for the whole org: every token of the app in that org is refused, other orgs and apps are untouched', async () => {
        const api = await link(em, PEOPLE.acmeApi);
        const admin = await link(em, PEOPLE.acmeAdmin);
        const uat = await link(em, PEOPLE.uatApi, 'sandbox');
        assert.equal(em.state.revokeAppAccess('acme', CLIENT.clientId), 2);
        for (const t of [api, admin]) assert.deepEqual(await refreshPost(em, t.refresh_token!), EXPIRED);
        assert.equal((await refreshPost(em, uat.refresh_token!, 'sandbox')).status, 200);
        assert.equal(em.state.revokeAppAccess('acme', CLIENT.clientId), 0);
        assert.equal((await control(em, 'POST', 'orgs/acme/apps/nobody/revoke')).status, 400);
        assert.equal(
            (await control(em, 'POST', `orgs/acme/apps/${CLIENT.clientId}/revoke`, { username: PEOPLE.uatApi.username })).status,
            400
        );
        assert.equal((await control(em, 'POST', `orgs/acme/apps/${CLIENT.clientId}/revoke`, { username: 7 })).status, 400);
        assert.equal(SEED.users.acmeApi.username, PEOPLE.acmeApi.username);
    });
});
