import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Connection } from 'jsforce';
import { normalizeId, SEED, to18, type Emulator } from '../index.ts';
import { CLIENT, link, oauth2, PEOPLE, restGet, start, tokenPost } from './helpers.ts';

let em: Emulator;
before(async () => {
    em = await start();
});
after(() => em.close());
beforeEach(() => em.state.reset());

async function control(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    const res = await fetch(`${em.origins.production}/__emulator/${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body)
    });
    return { status: res.status, body: await res.json() };
}

describe('ids', () => {
    it('computes the 18-character checksum and restores case from it', () => {
        assert.equal(to18('ABCDEabcde01234'), 'ABCDEabcde012345AA');
        assert.equal(to18('001000000000001'), '001000000000001AAA');
        assert.equal(normalizeId('abcdeabcde01234' + '5AA'), 'ABCDEabcde012345AA');
        assert.equal(normalizeId('abcdeabcde012345aa'), 'ABCDEabcde012345AA');
        assert.equal(normalizeId('001000000000001'), '001000000000001AAA');
        assert.equal(normalizeId('0010000000000015AA'), null); // a digit cannot be flagged upper case
        assert.equal(normalizeId('short'), null);
        for (const id of [SEED.orgs.acme.orgId, SEED.orgs.acmeUat.orgId, SEED.users.acmeApi.userId]) {
            assert.equal(id.length, 18);
            assert.equal(to18(id.slice(0, 15)), id);
        }
        assert.ok(SEED.orgs.acme.orgId.startsWith('00D'));
        assert.ok(SEED.users.uatApi.userId.startsWith('005'));
    });
});

describe('sandbox refresh', () => {
    it('gives the sandbox a new org id and kills its tokens; users keep working with the new id', async () => {
        const t = await link(em, PEOPLE.uatApi, 'sandbox');
        const prod = await link(em, PEOPLE.acmeApi);
        const oldId = em.state.org('acmeUat').id;
        const info = em.state.refreshSandbox('acmeUat');
        assert.notEqual(info.orgId, oldId);
        assert.equal(normalizeId(info.orgId), info.orgId);
        assert.ok(info.orgId.startsWith('00D'));
        await assert.rejects(oauth2(em, 'sandbox').refreshToken(t.refresh_token!), {
            name: 'invalid_grant',
            message: 'expired access/refresh token'
        });
        assert.equal((await restGet(`${em.origins.acmeUat}/services/data/v62.0/limits`, t.access_token)).status, 401);
        assert.ok((await oauth2(em).refreshToken(prod.refresh_token!)).access_token, 'production is untouched');
        const again = await link(em, PEOPLE.uatApi, 'sandbox');
        assert.equal(again.id, `${em.origins.sandbox}/id/${info.orgId}/${SEED.users.uatApi.userId}`);
        const conn = new Connection({ instanceUrl: again.instance_url, accessToken: again.access_token, version: '62.0' });
        assert.equal((await conn.query<any>('SELECT Id FROM Organization')).records[0].Id, info.orgId);
        assert.throws(() => em.state.refreshSandbox('acme'), /production/);
    });
});

describe('control API over HTTP', () => {
    it('offers the controls on every listener', async () => {
        const summary = await control('GET', '');
        assert.equal(summary.body.origins.acme, em.origins.acme);
        const viaAcme = await fetch(`${em.origins.acme}/__emulator/orgs/acme`);
        assert.equal(((await viaAcme.json()) as { orgId: string }).orgId, SEED.orgs.acme.orgId);

        assert.equal(
            (await control('POST', 'clients', { clientId: 'other', clientSecret: 's', redirectUris: ['http://o.test/cb'] })).status,
            201
        );
        assert.equal((await control('POST', 'clients', { clientId: 'broken' })).status, 400);
        // A field that must be text is refused when it is not, rather than read as "[object Object]".
        for (const [path, body, field] of [
            ['clients', { clientId: { id: 'x' }, clientSecret: 's', redirectUris: ['http://o.test/cb'] }, 'clientId'],
            ['orgs/acme/sharing', { object: ['Contact'], model: 'Private' }, 'object'],
            ['fail', { kind: 'limits', how: 'http503', orgKey: { key: 'acme' } }, 'orgKey']
        ] as const) {
            const refused = await control('POST', path, body);
            assert.deepEqual([refused.status, refused.body], [400, { error: `${field} must be a string` }], path);
        }

        const t = await link(em, PEOPLE.acmeApi);
        await control('POST', `users/${encodeURIComponent(PEOPLE.acmeApi.username)}/deactivate`);
        await assert.rejects(oauth2(em).refreshToken(t.refresh_token!), { name: 'invalid_grant', message: 'inactive user' });
        await control('POST', `users/${encodeURIComponent(PEOPLE.acmeApi.username)}/activate`);
        assert.ok((await oauth2(em).refreshToken(t.refresh_token!)).access_token);
        const tokens = await control('GET', `users/${encodeURIComponent(PEOPLE.acmeApi.username)}/tokens`);
        // deactivation killed the first access token; the refresh made a new one
        assert.deepEqual(tokens.body, { refreshTokens: 1, accessTokens: 1, byClient: { [CLIENT.clientId]: 1 } });
        assert.equal((await control('POST', `users/${encodeURIComponent(PEOPLE.acmeApi.username)}/revoke-tokens`)).body.revoked, 1);
        assert.equal(em.state.tokensFor(PEOPLE.acmeApi.username), 0);

        const t2 = await link(em, PEOPLE.acmeApi);
        assert.deepEqual((await control('POST', 'orgs/acme/api-limit', { max: 10, used: 10 })).body, { used: 10, max: 10 });
        const limited = await restGet(`${em.origins.acme}/services/data/v62.0/limits`, t2.access_token);
        assert.equal(limited.status, 403);
        assert.deepEqual(limited.body, [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }]);
        const counts = await control('GET', 'orgs/acme/counts');
        assert.equal(counts.body.limits, 1);
        assert.equal(counts.body.token, 2);
        await control('POST', 'counts/reset');
        assert.equal((await control('GET', 'orgs/acme/counts')).body.token, 0);

        const refreshed = await control('POST', 'orgs/acmeUat/refresh-sandbox');
        assert.notEqual(refreshed.body.orgId, SEED.orgs.acmeUat.orgId);
        assert.equal((await control('POST', 'orgs/nowhere/api-limit', { max: 1 })).status, 400);
        assert.equal((await control('POST', 'latency', { ms: 5 })).status, 200);
        assert.equal(em.state.latency(), 5);
        await control('POST', 'reset');
        assert.equal(em.state.latency(), 0);
        assert.equal(em.state.org('acmeUat').orgId, SEED.orgs.acmeUat.orgId);
        assert.equal(em.state.client('other'), undefined);
        assert.equal((await control('GET', 'nothing-here')).status, 404);
    });
});

describe('fault injection', () => {
    it('fails the next matching requests with 5xx, bad JSON, resets or delays', async () => {
        const t = await link(em, PEOPLE.acmeApi);
        const limitsUrl = `${em.origins.acme}/services/data/v62.0/limits`;
        em.state.failNext('limits', 'http503');
        const r503 = await restGet(limitsUrl, t.access_token);
        assert.equal(r503.status, 503);
        assert.equal(r503.body[0].errorCode, 'SERVER_UNAVAILABLE');
        assert.equal((await restGet(limitsUrl, t.access_token)).status, 200, 'only the next one fails');

        em.state.failNext('rest', 'reset');
        await assert.rejects(fetch(limitsUrl, { headers: { authorization: `Bearer ${t.access_token}` } }));

        em.state.failNext('refresh', 'malformed');
        // jsforce swallows the parse error of a 200 and hands back no token at all
        assert.equal((await oauth2(em).refreshToken(t.refresh_token!))?.access_token, undefined);

        em.state.failNext('oauth', 'html503');
        const html = await tokenPost(em.origins.production, {
            grant_type: 'refresh_token',
            refresh_token: t.refresh_token!,
            client_id: CLIENT.clientId,
            client_secret: CLIENT.clientSecret
        }).catch((e: Error) => e);
        assert.ok(html instanceof Error, 'an HTML page is not JSON');

        em.state.failNext('refresh', 'http500', { count: 2 });
        await assert.rejects(oauth2(em).refreshToken(t.refresh_token!), { name: 'server_error' });
        await assert.rejects(oauth2(em).refreshToken(t.refresh_token!), { name: 'server_error' });
        assert.ok((await oauth2(em).refreshToken(t.refresh_token!)).access_token);

        em.state.failNext('query', 'slow', { delayMs: 150, orgKey: 'acme' });
        const started = Date.now();
        const conn = new Connection({ instanceUrl: t.instance_url, accessToken: t.access_token, version: '62.0' });
        await conn.query('SELECT Id FROM Organization');
        assert.ok(Date.now() - started >= 140);

        assert.equal(em.state.requestCounts('acme').refresh, 5, 'faulted requests are still counted');
    });
});
