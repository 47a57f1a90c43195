import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Connection } from 'jsforce';
import { SEED, type Emulator } from '../index.ts';
import { PEOPLE, start } from './helpers.ts';

let em: Emulator;
before(async () => {
    em = await start();
});
after(() => em.close());
beforeEach(() => em.state.reset());

const soapLogin = (origin: string, username: string, password: string) =>
    new Connection({ loginUrl: origin, version: '62.0' }).loginBySoap(username, password);

async function rawLogin(origin: string, body: string): Promise<{ status: number; text: string }> {
    const res = await fetch(`${origin}/services/Soap/u/62.0`, {
        method: 'POST',
        headers: { 'content-type': 'text/xml', SOAPAction: '""' },
        body
    });
    return { status: res.status, text: await res.text() };
}

describe('SOAP login()', () => {
    it('logs in with username and password; the session works as a REST Bearer token', async () => {
        const conn = new Connection({ loginUrl: em.origins.production, version: '62.0' });
        const info = await conn.loginBySoap(PEOPLE.acmeApi.username, PEOPLE.acmeApi.password);
        assert.equal(info.id, SEED.users.acmeApi.userId);
        assert.equal(info.organizationId, SEED.orgs.acme.orgId);
        assert.equal(conn.instanceUrl, em.origins.acme);
        const rest = new Connection({ instanceUrl: conn.instanceUrl, accessToken: conn.accessToken!, version: '62.0' });
        assert.equal((await rest.query('SELECT Id FROM Contact')).totalSize, 5);
        assert.equal(em.state.requestCounts('acme')['soap-login'], 1);
        assert.equal(em.state.org('acme').apiUsage.used, 1, 'login() itself does not count against the daily API requests');
    });

    it('answers the partner API response shape', async () => {
        const { status, text } = await rawLogin(
            em.origins.production,
            `<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Body><n1:login xmlns:n1="urn:partner.soap.sforce.com"><n1:username>${PEOPLE.acmeApi.username}</n1:username><n1:password>${PEOPLE.acmeApi.password}</n1:password></n1:login></env:Body></env:Envelope>`
        );
        assert.equal(status, 200);
        for (const tag of ['serverUrl', 'sessionId', 'userId', 'organizationId', 'passwordExpired', 'sandbox', 'userName'])
            assert.match(text, new RegExp(`<${tag}>[^<]+</${tag}>`), tag);
        assert.match(text, new RegExp(`<serverUrl>${em.origins.acme}/services/Soap/u/62.0/${SEED.orgs.acme.orgId}</serverUrl>`));
    });

    it('answers SOAP faults: INVALID_LOGIN, API_CURRENTLY_DISABLED, wrong host, security token', async () => {
        await assert.rejects(
            soapLogin(em.origins.production, PEOPLE.acmeApi.username, 'wrong'),
            /^Error: INVALID_LOGIN: Invalid username, password, security token; or user locked out\.$/
        );
        await assert.rejects(soapLogin(em.origins.production, 'nobody@acme.example', 'x'), /INVALID_LOGIN/);
        await assert.rejects(
            soapLogin(em.origins.sandbox, PEOPLE.acmeApi.username, PEOPLE.acmeApi.password),
            /INVALID_LOGIN/,
            'a production user does not log in at test.salesforce.com'
        );
        await assert.rejects(
            soapLogin(em.origins.production, PEOPLE.acmeNoApi.username, PEOPLE.acmeNoApi.password),
            /API_CURRENTLY_DISABLED/
        );
        em.state.setUserActive(PEOPLE.acmeApi.username, false);
        await assert.rejects(soapLogin(em.origins.production, PEOPLE.acmeApi.username, PEOPLE.acmeApi.password), /INVALID_LOGIN/);
        em.state.setUserActive(PEOPLE.acmeApi.username, true);
        em.state.setUserSecurityToken(PEOPLE.acmeApi.username, 'TOKEN123');
        await assert.rejects(
            soapLogin(em.origins.production, PEOPLE.acmeApi.username, PEOPLE.acmeApi.password),
            /INVALID_LOGIN/,
            'the token is required once set'
        );
        await soapLogin(em.origins.acme, PEOPLE.acmeApi.username, `${PEOPLE.acmeApi.password}TOKEN123`);
        const { status, text } = await rawLogin(
            em.origins.production,
            '<Envelope><Body><login><username>api@acme.example</username><password>bad</password></login></Body></Envelope>'
        );
        assert.equal(status, 500);
        assert.match(text, /<faultcode>sf:INVALID_LOGIN<\/faultcode>/);
        assert.match(text, /<sf:exceptionCode>INVALID_LOGIN<\/sf:exceptionCode>/);
    });

    it('sessions expire and die with the user’s tokens', async () => {
        const conn = new Connection({ loginUrl: em.origins.production, version: '62.0' });
        await conn.loginBySoap(PEOPLE.acmeApi.username, PEOPLE.acmeApi.password);
        const rest = new Connection({ instanceUrl: conn.instanceUrl, accessToken: conn.accessToken!, version: '62.0' });
        em.state.expireAccessTokens(PEOPLE.acmeApi.username);
        await assert.rejects(Promise.resolve(rest.query('SELECT Id FROM Contact')), /INVALID_SESSION_ID|Session expired/);
    });
});
