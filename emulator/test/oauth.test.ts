import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { authorizeInEmulator, CookieJar } from '../driver.ts';
import { SEED, type Emulator } from '../index.ts';
import { CLIENT, REDIRECT, authorizeUrl, getCode, link, oauth2, PEOPLE, pkce, restGet, start, tokenPost } from './helpers.ts';

let em: Emulator;
before(async () => {
    em = await start();
});
after(() => em.close());
beforeEach(() => em.state.reset());

const rejects = async (p: Promise<unknown>, name: string, message?: string | RegExp): Promise<void> => {
    await assert.rejects(p, (err: Error) => {
        assert.equal(err.name, name);
        if (message)
            assert.match(
                err.message,
                typeof message === 'string' ? new RegExp(`^${message.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`) : message
            );
        return true;
    });
};

describe('web server flow with PKCE', () => {
    it('issues tokens the way Salesforce does', async () => {
        const { code, verifier, state, final } = await getCode(em, PEOPLE.acmeApi);
        assert.equal(final.origin + final.pathname, REDIRECT);
        assert.equal(final.searchParams.get('state'), state);
        const res = await oauth2(em).requestToken(code, { code_verifier: verifier });
        const acme = SEED.orgs.acme.orgId;
        const user = SEED.users.acmeApi.userId;
        assert.equal(res.instance_url, em.origins.acme);
        assert.equal(res.id, `${em.origins.production}/id/${acme}/${user}`);
        assert.equal(res.token_type, 'Bearer');
        assert.equal(res.scope, 'api refresh_token id');
        assert.match(res.issued_at, /^\d{13}$/);
        assert.ok(res.refresh_token);
        assert.ok(res.access_token.startsWith(acme.slice(0, 15) + '!'));
        assert.equal(
            res.signature,
            createHmac('sha256', CLIENT.clientSecret)
                .update(res.id + res.issued_at)
                .digest('base64')
        );
        assert.equal((res as unknown as Record<string, unknown>)['expires_in'], undefined);
        assert.equal(em.state.tokensFor(PEOPLE.acmeApi.username), 1);
    });

    it('echoes state verbatim and omits the refresh token without the refresh_token scope', async () => {
        const weird = 'a b&c=d/é+%';
        const { verifier, challenge } = pkce();
        const final = await authorizeInEmulator(
            authorizeUrl(em, 'production', { scope: 'api', state: weird, code_challenge: challenge, code_challenge_method: 'S256' }),
            PEOPLE.acmeApi
        );
        assert.equal(final.searchParams.get('state'), weird);
        const res = await oauth2(em).requestToken(final.searchParams.get('code')!, { code_verifier: verifier });
        assert.equal(res.refresh_token, undefined);
        assert.equal(res.scope, 'api');
    });

    it('refuses a wrong or missing verifier, and the code is then spent', async () => {
        const a = await getCode(em, PEOPLE.acmeApi);
        await rejects(oauth2(em).requestToken(a.code, { code_verifier: pkce().verifier }), 'invalid_grant', 'invalid code verifier');
        await rejects(oauth2(em).requestToken(a.code, { code_verifier: a.verifier }), 'invalid_grant', 'invalid authorization code');
        const b = await getCode(em, PEOPLE.acmeApi);
        await rejects(oauth2(em).requestToken(b.code), 'invalid_grant', 'invalid code verifier');
        const c = await getCode(em, PEOPLE.acmeApi);
        await rejects(oauth2(em).requestToken(c.code, { code_verifier: 'short' }), 'invalid_grant', 'invalid code verifier');
    });

    it('accepts a plain challenge and a verifier of 43 to 128 characters', async () => {
        const verifier = 'a'.repeat(43) + '-._~';
        const final = await authorizeInEmulator(authorizeUrl(em, 'production', { code_challenge: verifier }), PEOPLE.acmeApi);
        const res = await oauth2(em).requestToken(final.searchParams.get('code')!, { code_verifier: verifier });
        assert.ok(res.access_token);
    });

    it('uses a code once only', async () => {
        const { code, verifier } = await getCode(em, PEOPLE.acmeApi);
        await oauth2(em).requestToken(code, { code_verifier: verifier });
        await rejects(oauth2(em).requestToken(code, { code_verifier: verifier }), 'invalid_grant', 'invalid authorization code');
    });

    it('requires the same redirect_uri, the same listener and an unexpired code', async () => {
        const a = await getCode(em, PEOPLE.acmeApi);
        const r = await tokenPost(em.origins.production, {
            grant_type: 'authorization_code',
            code: a.code,
            client_id: CLIENT.clientId,
            client_secret: CLIENT.clientSecret,
            redirect_uri: 'http://app.test/other',
            code_verifier: a.verifier
        });
        assert.deepEqual(r, {
            status: 400,
            body: { error: 'redirect_uri_mismatch', error_description: 'redirect_uri must match configuration' }
        });

        const b = await getCode(em, PEOPLE.acmeApi);
        await rejects(
            oauth2(em, 'acme').requestToken(b.code, { code_verifier: b.verifier }),
            'invalid_grant',
            'invalid authorization code'
        );

        const c = await getCode(em, PEOPLE.acmeApi);
        em.state.advanceTime(15 * 60_000 + 1);
        await rejects(oauth2(em).requestToken(c.code, { code_verifier: c.verifier }), 'invalid_grant', 'expired authorization code');
    });

    it('authenticates the client', async () => {
        const a = await getCode(em, PEOPLE.acmeApi);
        const bad = oauth2(em, 'production', { ...CLIENT, clientSecret: 'nope' });
        await rejects(bad.requestToken(a.code, { code_verifier: a.verifier }), 'invalid_client', 'invalid client credentials');
        const unknown = oauth2(em, 'production', { ...CLIENT, clientId: 'who' });
        await rejects(unknown.requestToken('x'), 'invalid_client_id', 'client identifier invalid');
        const r = await tokenPost(em.origins.production, {
            grant_type: 'password',
            client_id: CLIENT.clientId,
            client_secret: CLIENT.clientSecret
        });
        assert.deepEqual(r.body, { error: 'unsupported_grant_type', error_description: 'grant type not supported' });
    });

    it('shows an error page, never a redirect, for an unknown client or a mismatched redirect_uri', async () => {
        const unknown = authorizeUrl(em, 'production', {}, { ...CLIENT, clientId: 'nobody' });
        await assert.rejects(
            authorizeInEmulator(unknown, PEOPLE.acmeApi),
            /error=invalid_client_id&error_description=client identifier invalid/
        );
        const mismatch = authorizeUrl(em, 'production', {}, { ...CLIENT, redirectUris: ['http://evil.test/cb'] });
        const res = await fetch(mismatch, { redirect: 'manual' });
        assert.equal(res.status, 400);
        assert.equal(res.headers.get('location'), null);
        assert.match(await res.text(), /error=redirect_uri_mismatch/);
    });

    it('redirects parameter errors to the client once the redirect_uri is trusted', async () => {
        const res = await fetch(
            authorizeUrl(em, 'production', { state: 's1', code_challenge: 'x'.repeat(43), code_challenge_method: 'S512' }),
            { redirect: 'manual' }
        );
        assert.equal(res.status, 302);
        const loc = new URL(res.headers.get('location')!);
        assert.equal(loc.searchParams.get('error'), 'invalid_request');
        assert.equal(loc.searchParams.get('state'), 's1');
    });

    it('redirects with access_denied when the person clicks Deny', async () => {
        const final = await authorizeInEmulator(authorizeUrl(em, 'production', { state: 'st' }), { ...PEOPLE.acmeApi, decision: 'deny' });
        assert.equal(final.searchParams.get('error'), 'access_denied');
        assert.equal(final.searchParams.get('error_description'), 'end-user denied authorization');
        assert.equal(final.searchParams.get('state'), 'st');
        assert.equal(final.searchParams.get('code'), null);
        assert.equal(em.state.tokensFor(PEOPLE.acmeApi.username), 0);
    });
});

describe('login page', () => {
    it('refuses a wrong password, then an inactive or frozen user', async () => {
        const url = authorizeUrl(em, 'production', {});
        await assert.rejects(
            authorizeInEmulator(url, { ...PEOPLE.acmeApi, password: 'wrong' }),
            /login failed: Please check your username and password/
        );
        em.state.setUserActive(PEOPLE.acmeApi.username, false);
        await assert.rejects(authorizeInEmulator(url, PEOPLE.acmeApi), /inactive/);
        em.state.setUserActive(PEOPLE.acmeApi.username, true);
        em.state.setUserFrozen(PEOPLE.acmeApi.username, true);
        await assert.rejects(authorizeInEmulator(url, PEOPLE.acmeApi), /frozen/);
    });

    it('accepts only the users each host serves', async () => {
        await assert.rejects(authorizeInEmulator(authorizeUrl(em, 'acme', {}), PEOPLE.uatApi), /login failed/);
        await assert.rejects(authorizeInEmulator(authorizeUrl(em, 'sandbox', {}), PEOPLE.acmeApi), /login failed/);
        await assert.rejects(authorizeInEmulator(authorizeUrl(em, 'production', {}), PEOPLE.uatApi), /login failed/);
        const viaMyDomain = await link(em, PEOPLE.acmeApi, 'acme');
        assert.equal(viaMyDomain.id, `${em.origins.acme}/id/${SEED.orgs.acme.orgId}/${SEED.users.acmeApi.userId}`);
        const uat = await link(em, PEOPLE.uatApi, 'sandbox');
        assert.equal(uat.instance_url, em.origins.acmeUat);
        assert.equal(uat.id, `${em.origins.sandbox}/id/${SEED.orgs.acmeUat.orgId}/${SEED.users.uatApi.userId}`);
    });

    it('keeps a session per listener, forces the login page with prompt=login, and guards forms with CSRF tokens', async () => {
        const base = authorizeUrl(em, 'production', {}).replace(/&prompt=login/, '');
        const first = await fetch(base);
        const cookies = first.headers
            .getSetCookie()
            .map((c) => c.split(';')[0])
            .join('; ');
        const html = await first.text();
        assert.match(html, /name="username"/);
        assert.match(html, /Log In/);
        assert.match(html, /not Salesforce/);
        const field = (name: string): string => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)![1]!.replace(/&amp;/g, '&');
        const form = new URLSearchParams();
        for (const k of ['response_type', 'client_id', 'redirect_uri', 'scope']) form.set(k, field(k));
        form.set('_action', 'login');
        form.set('username', PEOPLE.acmeApi.username);
        form.set('password', PEOPLE.acmeApi.password);
        const noCsrf = await fetch(`${em.origins.production}/services/oauth2/authorize`, {
            method: 'POST',
            body: form,
            headers: { cookie: cookies }
        });
        assert.match(await noCsrf.text(), /expired/);
        form.set('_csrf', field('_csrf'));
        const loggedIn = await fetch(`${em.origins.production}/services/oauth2/authorize`, {
            method: 'POST',
            body: form,
            headers: { cookie: cookies }
        });
        assert.match(await loggedIn.text(), /Allow Access\?/);
        const session = loggedIn.headers
            .getSetCookie()
            .map((c) => c.split(';')[0])
            .join('; ');
        const port = new URL(em.origins.production).port;
        assert.match(session, new RegExp(`^sfem_sid_${port}=`));
        const jar = `${cookies}; ${session}`;
        const again = await (await fetch(base, { headers: { cookie: jar } })).text();
        assert.match(again, /Allow Access\?/);
        const forced = await (await fetch(`${base}&prompt=login`, { headers: { cookie: jar } })).text();
        assert.match(forced, /name="password"/);
        const otherListener = await (
            await fetch(base.replace(em.origins.production, em.origins.acme), { headers: { cookie: jar } })
        ).text();
        assert.match(otherListener, /name="password"/);
    });
});

describe('approvals', () => {
    it('keeps five approvals per user and client: a sixth revokes the oldest', async () => {
        const tokens = [];
        for (let i = 0; i < 5; i++) tokens.push(await link(em, PEOPLE.acmeApi));
        assert.equal(em.state.tokensFor(PEOPLE.acmeApi.username), 5);
        const sixth = await link(em, PEOPLE.acmeApi);
        assert.equal(em.state.tokensFor(PEOPLE.acmeApi.username), 5);
        await rejects(oauth2(em).refreshToken(tokens[0]!.refresh_token!), 'invalid_grant', 'expired access/refresh token');
        assert.equal((await restGet(`${em.origins.acme}/services/data/v62.0/limits`, tokens[0]!.access_token)).status, 401);
        for (const t of [...tokens.slice(1), sixth]) assert.ok((await oauth2(em).refreshToken(t.refresh_token!)).access_token);
        // other users and clients are counted apart
        await link(em, PEOPLE.acmeAdmin);
        assert.equal(em.state.tokensFor(PEOPLE.acmeApi.username), 5);
    });
});

describe('refresh', () => {
    it('returns a new access token and keeps the refresh token without rotation', async () => {
        em.state.setRotateRefreshTokens(false);
        const t = await link(em, PEOPLE.acmeApi);
        const r = await oauth2(em).refreshToken(t.refresh_token!);
        assert.notEqual(r.access_token, t.access_token);
        assert.equal(r.refresh_token, undefined);
        assert.equal(r.instance_url, em.origins.acme);
        assert.equal(
            r.signature,
            createHmac('sha256', CLIENT.clientSecret)
                .update(r.id + r.issued_at)
                .digest('base64')
        );
        assert.ok((await oauth2(em).refreshToken(t.refresh_token!)).access_token);
        assert.equal((await restGet(`${em.origins.acme}/services/data/v62.0/limits`, t.access_token)).status, 200);
    });

    it('rotates when asked, and a reused rotated token revokes the whole family', async () => {
        em.state.setRotateRefreshTokens(true);
        const t = await link(em, PEOPLE.acmeApi);
        const r1 = await oauth2(em).refreshToken(t.refresh_token!);
        assert.ok(r1.refresh_token && r1.refresh_token !== t.refresh_token);
        await rejects(oauth2(em).refreshToken(t.refresh_token!), 'invalid_grant', 'expired access/refresh token');
        await rejects(oauth2(em).refreshToken(r1.refresh_token), 'invalid_grant', 'expired access/refresh token');
        assert.equal((await restGet(`${em.origins.acme}/services/data/v62.0/limits`, r1.access_token)).status, 401);
        assert.equal(em.state.tokensFor(PEOPLE.acmeApi.username), 0);
    });

    it('refuses a refresh of a token whose refresh is in flight', async () => {
        const t = await link(em, PEOPLE.acmeApi);
        em.state.setLatency(250);
        const [a, b] = await Promise.allSettled([oauth2(em).refreshToken(t.refresh_token!), oauth2(em).refreshToken(t.refresh_token!)]);
        const outcomes = [a, b]
            .map((x) => (x.status === 'fulfilled' ? 'ok' : `${(x.reason as Error).name}: ${(x.reason as Error).message}`))
            .sort();
        assert.deepEqual(outcomes, ['invalid_request: token request is already being processed', 'ok']);
    });

    it('answers inactive user for a deactivated or frozen user, and works again once restored', async () => {
        const t = await link(em, PEOPLE.acmeApi);
        em.state.setUserActive(PEOPLE.acmeApi.username, false);
        await rejects(oauth2(em).refreshToken(t.refresh_token!), 'invalid_grant', 'inactive user');
        assert.equal((await restGet(`${em.origins.acme}/services/data/v62.0/limits`, t.access_token)).status, 401);
        em.state.setUserActive(PEOPLE.acmeApi.username, true);
        em.state.setUserFrozen(PEOPLE.acmeApi.username, true);
        await rejects(oauth2(em).refreshToken(t.refresh_token!), 'invalid_grant', 'inactive user');
        em.state.setUserFrozen(PEOPLE.acmeApi.username, false);
        assert.ok((await oauth2(em).refreshToken(t.refresh_token!)).access_token);
    });

    it('refreshes only where the token can be served', async () => {
        const t = await link(em, PEOPLE.acmeApi);
        await rejects(oauth2(em, 'sandbox').refreshToken(t.refresh_token!), 'invalid_grant');
        await rejects(oauth2(em, 'acmeUat').refreshToken(t.refresh_token!), 'invalid_grant');
        const viaMyDomain = await oauth2(em, 'acme').refreshToken(t.refresh_token!);
        assert.equal(viaMyDomain.id.startsWith(em.origins.acme), true);
    });
});

describe('revoke', () => {
    it('revokes a refresh token with its access tokens', async () => {
        const t = await link(em, PEOPLE.acmeApi);
        await oauth2(em).revokeToken(t.refresh_token!);
        assert.equal(em.state.tokensFor(PEOPLE.acmeApi.username), 0);
        assert.equal((await restGet(`${em.origins.acme}/services/data/v62.0/limits`, t.access_token)).status, 401);
        await assert.rejects(oauth2(em).revokeToken(t.refresh_token!), /invalid_token/);
    });

    it('revokes a single access token and leaves the refresh token alive', async () => {
        const t = await link(em, PEOPLE.acmeApi);
        await oauth2(em).revokeToken(t.access_token);
        assert.equal((await restGet(`${em.origins.acme}/services/data/v62.0/limits`, t.access_token)).status, 401);
        assert.ok((await oauth2(em).refreshToken(t.refresh_token!)).access_token);
    });

    it('answers 400 invalid_token for an unknown token', async () => {
        const res = await fetch(`${em.origins.production}/services/oauth2/revoke`, {
            method: 'POST',
            body: new URLSearchParams({ token: 'nope' })
        });
        assert.equal(res.status, 400);
        assert.equal(((await res.json()) as { error: string }).error, 'invalid_token');
    });

    it('revokeUserTokens revokes every approval of the user', async () => {
        await link(em, PEOPLE.acmeApi);
        await link(em, PEOPLE.acmeApi);
        assert.equal(em.state.revokeUserTokens(PEOPLE.acmeApi.username), 2);
        assert.equal(em.state.tokensFor(PEOPLE.acmeApi.username), 0);
    });
});

describe('identity', () => {
    it('serves the identity URL and userinfo for the token of that user', async () => {
        const t = await link(em, PEOPLE.acmeApi);
        const id = await restGet(t.id, t.access_token);
        assert.equal(id.status, 200);
        assert.equal(id.body.user_id, SEED.users.acmeApi.userId);
        assert.equal(id.body.organization_id, SEED.orgs.acme.orgId);
        assert.equal(id.body.username, 'api@acme.example');
        assert.equal(id.body.display_name, 'Contact Center Integration');
        assert.equal(id.body.user_type, 'STANDARD');
        assert.equal(id.body.active, true);
        assert.equal(id.body.urls.rest, `${em.origins.acme}/services/data/v{version}/`);
        assert.equal(id.body.urls.custom_domain, em.origins.acme);
        const ui = await restGet(`${em.origins.production}/services/oauth2/userinfo`, t.access_token);
        assert.equal(ui.body.preferred_username, 'api@acme.example');
        assert.equal(ui.body.organization_id, SEED.orgs.acme.orgId);

        const admin = await link(em, PEOPLE.acmeAdmin);
        assert.equal((await restGet(t.id, admin.access_token)).status, 403);
        assert.equal((await restGet(t.id, 'garbage')).status, 401);
    });
});

describe('uninstalled apps (blocked since September 2025)', () => {
    const blocked = async (person: { username: string; password: string }, origin: 'production' | 'acme' = 'production'): Promise<URL> =>
        authorizeInEmulator(authorizeUrl(em, origin, { state: 'st-1' }), person);

    it('sends a user without the permissions back with invalid_client, per org, and issues nothing', async () => {
        em.state.setAppInstalled('acme', CLIENT.clientId, false);
        for (const origin of ['production', 'acme'] as const) {
            const final = await blocked(PEOPLE.acmeApi, origin);
            assert.equal(final.searchParams.get('error'), 'invalid_client');
            assert.equal(final.searchParams.get('error_description'), 'app must be installed into org');
            assert.equal(final.searchParams.get('state'), 'st-1');
            assert.equal(final.searchParams.get('code'), null);
        }
        assert.equal(em.state.tokensFor(PEOPLE.acmeApi.username), 0);
        assert.deepEqual(em.state.org('acme').uninstalledApps, [CLIENT.clientId]);
        // The other org installed it: its API user links.
        assert.ok((await link(em, PEOPLE.uatApi, 'sandbox')).refresh_token);
    });

    it('lets a user with "Approve Uninstalled Connected Apps" or "Use Any API Client" through', async () => {
        em.state.setAppInstalled('acme', CLIENT.clientId, false);
        assert.ok((await link(em, PEOPLE.acmeAdmin)).refresh_token, 'System Administrator has Approve Uninstalled Connected Apps');
        em.state.updatePermissions('acme', 'Contact_Center_API_User', { permissions: { UseAnyApiClient: true } });
        assert.ok((await link(em, PEOPLE.acmeApi)).refresh_token);
        em.state.updatePermissions('acme', 'Contact_Center_API_User', {
            permissions: { UseAnyApiClient: false, CanApproveUninstalledApps: true }
        });
        assert.ok((await link(em, PEOPLE.acmeApi)).refresh_token);
    });

    it('keeps approvals made before the block, and lets the user in again once the org installs the app', async () => {
        const earlier = await link(em, PEOPLE.acmeApi);
        em.state.setAppInstalled('acme', CLIENT.clientId, false);
        const refreshed = await oauth2(em).refreshToken(earlier.refresh_token!);
        assert.ok(refreshed.access_token);
        assert.equal((await blocked(PEOPLE.acmeApi)).searchParams.get('error'), 'invalid_client');
        const reported = await restGet(earlier.id, refreshed.access_token);
        assert.equal(reported.body.is_app_installed, false);
        em.state.setAppInstalled('acme', CLIENT.clientId, true);
        assert.ok((await link(em, PEOPLE.acmeApi)).refresh_token);
    });

    it("lists the app's packaged custom permission (CustomPermission) while the org has the app installed, and not after", async () => {
        em.state.removeClient(CLIENT.clientId);
        const marker = { namespacePrefix: 'ccl', developerName: 'Test_App_Installed', label: 'Test app installed' };
        em.state.registerClient({ ...CLIENT, packagedCustomPermissions: [marker] });
        const admin = await link(em, PEOPLE.acmeAdmin);
        const soql = encodeURIComponent(
            "SELECT DeveloperName, NamespacePrefix FROM CustomPermission WHERE DeveloperName = 'Test_App_Installed'"
        );
        const query = async (): Promise<Array<Record<string, unknown>>> => {
            const res = await restGet(`${admin.instance_url}/services/data/v62.0/query?q=${soql}`, admin.access_token);
            assert.equal(res.status, 200, JSON.stringify(res.body));
            return (res.body as { records: Array<Record<string, unknown>> }).records;
        };
        assert.deepEqual(
            (await query()).map(({ DeveloperName, NamespacePrefix }) => ({ DeveloperName, NamespacePrefix })),
            [{ DeveloperName: 'Test_App_Installed', NamespacePrefix: 'ccl' }]
        );
        em.state.setAppInstalled('acme', CLIENT.clientId, false);
        assert.deepEqual(await query(), [], 'uninstalling the package takes its custom permission');
        em.state.setAppInstalled('acme', CLIENT.clientId, true);
        assert.equal((await query()).length, 1);
        em.state.refreshSandbox('acmeUat');
        assert.equal(em.state.orgModel('acmeUat').customPermissions?.length, 1, 'a refreshed sandbox keeps the installed package');
    });

    it('is controlled over HTTP, and refuses unknown orgs and clients', async () => {
        const post = (path: string) => fetch(`${em.origins.production}/__emulator/${path}`, { method: 'POST' });
        assert.equal((await post(`orgs/acme/apps/${CLIENT.clientId}/uninstall`)).status, 200);
        assert.equal(em.state.appInstalled('acme', CLIENT.clientId), false);
        assert.equal((await post(`orgs/acme/apps/${CLIENT.clientId}/install`)).status, 200);
        assert.equal(em.state.appInstalled('acme', CLIENT.clientId), true);
        assert.equal((await post('orgs/acme/apps/nope/uninstall')).status, 400);
        assert.equal((await post(`orgs/globex/apps/${CLIENT.clientId}/uninstall`)).status, 400);
    });
});

describe("the admin's browser session on the My Domain", () => {
    /** A browser: one cookie jar, redirects followed by hand. */
    async function browse(jar: CookieJar, url: string, init: RequestInit = {}): Promise<{ url: URL; html: string }> {
        let target = new URL(url);
        let request = init;
        for (let hop = 0; hop < 5; hop++) {
            const headers = new Headers(request.headers);
            const cookies = jar.header(target);
            if (cookies) headers.set('cookie', cookies);
            const res = await fetch(target, { ...request, headers, redirect: 'manual' });
            jar.store(target, res);
            const location = res.headers.get('location');
            if (res.status >= 300 && res.status < 400 && location) {
                await res.arrayBuffer();
                target = new URL(location, target);
                request = {};
                continue;
            }
            return { url: target, html: await res.text() };
        }
        throw new Error('too many redirects');
    }
    const field = (html: string, name: string): string => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)![1]!;
    async function uiLogin(jar: CookieJar, person: { username: string; password: string }): Promise<string> {
        const page = await browse(jar, `${em.origins.acme}/lightning/setup/SetupOneHome/home`);
        const form = new URLSearchParams({
            username: person.username,
            password: person.password,
            startURL: field(page.html, 'startURL'),
            _csrf: field(page.html, '_csrf')
        });
        return (await browse(jar, `${em.origins.acme}/login`, { method: 'POST', body: form })).html;
    }

    it('shows Setup to the admin, and ends that session when the same browser logs in as the API user in the popup', async () => {
        const adminBrowser = new CookieJar();
        assert.match(await uiLogin(adminBrowser, PEOPLE.acmeAdmin), /Logged in as <strong>Ada Admin<\/strong>/);
        const otherBrowser = new CookieJar();
        assert.match(await uiLogin(otherBrowser, PEOPLE.acmeAdmin), /Setup Home/);

        const final = await authorizeInEmulator(authorizeUrl(em, 'acme', { state: 's' }), PEOPLE.acmeApi, adminBrowser);
        assert.ok(final.searchParams.get('code'));

        const after = await browse(adminBrowser, `${em.origins.acme}/lightning/setup/SetupOneHome/home`);
        assert.match(after.html, /Your session has ended/);
        assert.doesNotMatch(after.html, /Setup Home/);
        // Another browser (a private window) keeps its own session.
        assert.match((await browse(otherBrowser, `${em.origins.acme}/lightning/setup/SetupOneHome/home`)).html, /Ada Admin/);
    });

    it('keeps the admin session when the popup logs in on another host (login.salesforce.com), and refuses API-only users the UI', async () => {
        const browser = new CookieJar();
        await uiLogin(browser, PEOPLE.acmeAdmin);
        assert.ok(
            (await authorizeInEmulator(authorizeUrl(em, 'production', { state: 's' }), PEOPLE.acmeApi, browser)).searchParams.get('code')
        );
        assert.match((await browse(browser, `${em.origins.acme}/lightning/setup/SetupOneHome/home`)).html, /Ada Admin/);
        assert.match(await uiLogin(new CookieJar(), PEOPLE.acmeApi), /API-only/);
        assert.match(await uiLogin(new CookieJar(), { ...PEOPLE.acmeAdmin, password: 'wrong' }), /check your username and password/);
    });
});
