// Every My Domain format Salesforce documents, the environment each one implies, and what is refused.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AppError } from '../errors.ts';
import { describeLoginHost, isSalesforceOrigin, MY_DOMAIN_FORMATS, resolveLoginUrl, type LoginHostPolicy } from './loginHosts.ts';
import { startHarness, type Harness } from '../test/harness.ts';

const policy: LoginHostPolicy = {
    productionUrl: 'https://login.salesforce.com',
    sandboxUrl: 'https://test.salesforce.com',
    allowedOrigins: ['http://127.0.0.1:3103']
};

const refused = (environment: 'production' | 'sandbox', url: string, code: string, message: RegExp): void => {
    assert.throws(
        () => resolveLoginUrl(policy, environment, url),
        (error: unknown) => error instanceof AppError && error.code === code && message.test(error.message),
        `${environment} ${url}`
    );
};

describe('login hosts', () => {
    // host, kind, environment: the rows of Salesforce's "My Domain URL formats" with enhanced domains.
    const hosts: Array<[string, string, 'production' | 'sandbox']> = [
        ['login.salesforce.com', 'the production login host', 'production'],
        ['test.salesforce.com', 'the sandbox login host', 'sandbox'],
        ['acme.my.salesforce.com', 'a production org', 'production'],
        ['acme--uat.sandbox.my.salesforce.com', 'a sandbox', 'sandbox'],
        ['acme-dev-ed.develop.my.salesforce.com', 'a Developer Edition org', 'production'],
        ['power-fun-1234-dev-ed.scratch.my.salesforce.com', 'a scratch org', 'sandbox'],
        ['acme.patch.my.salesforce.com', 'a patch org', 'production'],
        ['curious-bear-1a2b3c.trailblaze.my.salesforce.com', 'a Trailhead Playground', 'production'],
        ['acme.demo.my.salesforce.com', 'a demo org', 'production'],
        ['acme.free.my.salesforce.com', 'a free org', 'production'],
        ['acme--uat.my.salesforce.com', 'a sandbox', 'sandbox'],
        ['ACME.My.Salesforce.COM', 'a production org', 'production']
    ];

    it('knows every documented format and derives the environment from the host', () => {
        for (const [host, kind, environment] of hosts) {
            assert.deepEqual(describeLoginHost(host), { kind, environment }, host);
            assert.equal(resolveLoginUrl(policy, environment, `https://${host}`), `https://${host.toLowerCase()}`);
            assert.equal(resolveLoginUrl(policy, environment, `https://${host}/`), `https://${host.toLowerCase()}`);
            assert.ok(isSalesforceOrigin(policy, `https://${host}/id/00Dxx/005xx`), host);
        }
        // Each table row is exercised, and its example is what the row says.
        for (const format of MY_DOMAIN_FORMATS) {
            assert.ok(
                hosts.some(([host]) => host.split('.')[1] === (format.partition ?? 'my')),
                format.kind
            );
            assert.equal(describeLoginHost(format.example)?.environment, format.environment, format.example);
        }
    });

    it('says which environment to pick when the host and the choice disagree', () => {
        refused(
            'sandbox',
            'https://acme.my.salesforce.com',
            'VALIDATION_FAILED',
            /My Domain of a production org.*asked for Sandbox\. Choose Production/
        );
        refused(
            'production',
            'https://acme--uat.sandbox.my.salesforce.com',
            'VALIDATION_FAILED',
            /My Domain of a sandbox.*asked for Production\. Choose Sandbox/
        );
        refused(
            'sandbox',
            'https://curious-bear-1a2b3c.trailblaze.my.salesforce.com',
            'VALIDATION_FAILED',
            /a Trailhead Playground, which signs in like login\.salesforce\.com.*Choose Production/
        );
        refused('production', 'https://x-dev-ed.scratch.my.salesforce.com', 'VALIDATION_FAILED', /a scratch org.*Choose Sandbox/);
        refused(
            'sandbox',
            'https://login.salesforce.com',
            'VALIDATION_FAILED',
            /is the production login host, but the link was asked for Sandbox/
        );
        refused('production', 'https://test.salesforce.com', 'VALIDATION_FAILED', /is the sandbox login host.*Choose Sandbox/);
    });

    it('refuses what is not a documented Salesforce login host, with a hint for the Lightning address', () => {
        refused(
            'production',
            'https://acme.lightning.force.com',
            'LOGIN_HOST_NOT_ALLOWED',
            /Use its My Domain URL instead: https:\/\/acme\.my\.salesforce\.com$/
        );
        refused(
            'production',
            'https://bear-1.trailblaze.lightning.force.com',
            'LOGIN_HOST_NOT_ALLOWED',
            /https:\/\/bear-1\.trailblaze\.my\.salesforce\.com$/
        );
        refused(
            'sandbox',
            'https://acme--uat.sandbox.lightning.force.com',
            'LOGIN_HOST_NOT_ALLOWED',
            /https:\/\/acme--uat\.sandbox\.my\.salesforce\.com$/
        );
        for (const url of [
            'https://acme.internal.my.salesforce.com',
            'https://a.b.sandbox.my.salesforce.com',
            'https://-acme.my.salesforce.com',
            'https://acme-.my.salesforce.com',
            'https://my.salesforce.com',
            'https://.my.salesforce.com',
            'https://acme.my.salesforce.com.evil.example',
            'https://acme.my.salesforce.mil',
            'https://evil.example.com',
            'https://login.salesforce.com.evil.example',
            'https://acme.sandbox.lightning.force.com.evil.example'
        ]) {
            refused('production', url, 'LOGIN_HOST_NOT_ALLOWED', /not a Salesforce login host/);
            assert.equal(isSalesforceOrigin(policy, url), false, url);
        }
        refused('production', 'http://acme.trailblaze.my.salesforce.com', 'LOGIN_HOST_NOT_ALLOWED', /bare https origin/);
        refused('production', 'https://acme.my.salesforce.com:8443', 'LOGIN_HOST_NOT_ALLOWED', /bare https origin/);
        refused('production', 'https://acme.my.salesforce.com/services/oauth2/authorize', 'LOGIN_HOST_NOT_ALLOWED', /bare https origin/);
        refused('production', 'not a url', 'LOGIN_HOST_NOT_ALLOWED', /not a URL/);
    });

    it('accepts the instance URLs Salesforce hands back, and the operator’s listed origins', () => {
        for (const url of [
            'https://na224.salesforce.com',
            'https://cs42.salesforce.com',
            'https://usa4-s.salesforce.com',
            'https://acme--uat.sandbox.my.salesforce.com'
        ]) {
            assert.ok(isSalesforceOrigin(policy, url), url);
        }
        assert.equal(isSalesforceOrigin(policy, 'http://na224.salesforce.com'), false);
        assert.equal(resolveLoginUrl(policy, 'production', 'http://127.0.0.1:3103'), 'http://127.0.0.1:3103');
        assert.equal(resolveLoginUrl(policy, 'sandbox'), 'https://test.salesforce.com');
    });
});

describe('a link session on every My Domain format', () => {
    let h: Harness;
    before(async () => {
        h = await startHarness();
    });
    after(() => h.close());

    for (const format of MY_DOMAIN_FORMATS) {
        it(`${format.kind} (${format.example}) starts a login on its own host, as ${format.environment}`, async () => {
            const { key } = await h.newAccount(format.kind);
            const other = format.environment === 'production' ? 'sandbox' : 'production';
            const refused = await h
                .api(key)
                .post('/api/v1/link-sessions', { environment: other, loginUrl: `https://${format.example}` })
                .expect(400);
            assert.equal(refused.body.error.code, 'VALIDATION_FAILED');
            assert.match(
                refused.body.error.message,
                new RegExp(`Choose ${format.environment === 'production' ? 'Production' : 'Sandbox'}`)
            );

            const created = await h
                .api(key)
                .post('/api/v1/link-sessions', { environment: format.environment, loginUrl: `https://${format.example}/` })
                .expect(201);
            const { redirectTo } = await h.services.authorization.startAuthorization(created.body.id, 'consent-of-one-popup');
            const authorize = new URL(redirectTo);
            assert.equal(authorize.origin, `https://${format.example}`);
            assert.equal(authorize.pathname, '/services/oauth2/authorize');
            assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
        });
    }
});
