import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createSalesforceGateway, issuedAtMs, SalesforceError } from './gateway.ts';

const SECRET = 'client-secret-0123456789';
const ORG = '00D5g000004ABCDEAZ';
const USER = '0055g00000ABCDEAAZ';

/** A token endpoint that answers what the test sets; the checks under test are the real host rules, not an allow-list. */
describe('the token response is trusted only when signed and pointing at Salesforce (real host rules)', () => {
    let server: Server;
    let tokenOrigin: string;
    let answer: Record<string, unknown> = {};
    before(async () => {
        server = createServer((req, res) => {
            req.resume();
            req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer)));
        });
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        tokenOrigin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    // Only the token endpoint is a listed origin (it stands in for login.salesforce.com); what it hands back must pass the real rules.
    const gateway = () =>
        createSalesforceGateway({
            clientId: 'client',
            clientSecret: SECRET,
            redirectUri: 'https://ccl.example.com/oauth/callback',
            apiVersion: '62.0',
            timeoutMs: 5000,
            hosts: {
                productionUrl: 'https://login.salesforce.com',
                sandboxUrl: 'https://test.salesforce.com',
                allowedOrigins: [tokenOrigin]
            }
        });
    const respond = (fields: { instance_url: string; id: string; signature?: string }) => {
        const issuedAt = String(Date.now());
        answer = {
            access_token: 'access',
            refresh_token: 'refresh',
            issued_at: issuedAt,
            signature:
                fields.signature ??
                createHmac('sha256', SECRET)
                    .update(fields.id + issuedAt)
                    .digest('base64'),
            token_type: 'Bearer',
            ...fields
        };
    };
    const refused = async (code: string) => {
        await assert.rejects(
            gateway().exchangeCode(tokenOrigin, 'code', 'verifier'),
            (error: unknown) => error instanceof SalesforceError && error.code === code
        );
    };

    test('a My Domain instance and identity URL are accepted', async () => {
        respond({ instance_url: 'https://acme.my.salesforce.com', id: `https://login.salesforce.com/id/${ORG}/${USER}` });
        const tokens = await gateway().exchangeCode(tokenOrigin, 'code', 'verifier');
        assert.equal(tokens.instanceUrl, 'https://acme.my.salesforce.com');
        assert.equal(tokens.orgId, ORG);
    });

    test('a bad signature is refused', async () => {
        respond({
            instance_url: 'https://acme.my.salesforce.com',
            id: `https://login.salesforce.com/id/${ORG}/${USER}`,
            signature: 'bm90IHRoZSBzaWduYXR1cmU='
        });
        await refused('INVALID_SIGNATURE');
    });

    for (const instance of [
        'https://evil.example',
        'https://acme.my.salesforce.com.evil.example',
        'http://acme.my.salesforce.com',
        'https://acme.lightning.force.com',
        'https://acme.my.salesforce.com:8443',
        'https://user@acme.my.salesforce.com'
    ]) {
        test(`an instance_url off Salesforce's hosts is refused: ${instance}`, async () => {
            respond({ instance_url: instance, id: `https://login.salesforce.com/id/${ORG}/${USER}` });
            await refused('UNTRUSTED_HOST');
        });
    }

    for (const identity of [
        `https://evil.example/id/${ORG}/${USER}`,
        `https://login.salesforce.com.evil.example/id/${ORG}/${USER}`,
        `http://login.salesforce.com/id/${ORG}/${USER}`
    ]) {
        test(`an identity URL off Salesforce's hosts is refused: ${identity}`, async () => {
            respond({ instance_url: 'https://acme.my.salesforce.com', id: identity });
            await refused('UNTRUSTED_HOST');
        });
    }

    test('an identity URL that is not /id/<org>/<user> is refused', async () => {
        respond({ instance_url: 'https://acme.my.salesforce.com', id: 'https://login.salesforce.com/services/oauth2/userinfo' });
        await refused('INVALID_IDENTITY_URL');
    });
});

describe('issued_at, the approval time a link keeps', () => {
    test('milliseconds are kept; seconds, as Salesforce’s pages describe it, become milliseconds', () => {
        assert.equal(issuedAtMs('1278448384422'), 1278448384422);
        assert.equal(issuedAtMs('1278448384'), 1278448384000);
    });

    test('anything that is not a count is unknown, never a wrong time', () => {
        for (const bad of ['', '-5', '1.5e12', '12abc', ' 1278448384422', '9'.repeat(16)]) assert.equal(issuedAtMs(bad), undefined, bad);
    });
});
