import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Connection } from 'jsforce';
import { PACKAGE_CREDENTIAL, SEED, type Emulator } from '../index.ts';
import { CLIENT, control, link, PEOPLE, refreshPost, restGet, start } from './helpers.ts';

let em: Emulator;
before(async () => {
    em = await start();
});
after(() => em.close());
beforeEach(() => em.state.reset());

const EC = PACKAGE_CREDENTIAL.externalCredential;
const PRINCIPAL = PACKAGE_CREDENTIAL.principal;
const credPath = (org: string): string => `orgs/${org}/credentials/${EC}/${PRINCIPAL}`;
const KEY = { ApiKey: { value: 'ccl_live_0123456789abcdef', encrypted: true } };

describe('a sandbox refresh from its production org', () => {
    it('makes a new org on the same URLs with production’s users (sandbox suffix) and refuses the old sandbox’s tokens', async () => {
        const old = await link(em, PEOPLE.uatApi, 'sandbox');
        const before = em.state.org('acmeUat');
        const info = em.state.refreshSandbox('acmeUat');
        assert.notEqual(info.orgId, before.orgId);
        assert.equal(info.instanceUrl, before.instanceUrl);
        assert.equal(info.loginUrl, before.loginUrl);
        assert.equal(info.productionOrg, 'acme');
        assert.ok(Math.abs(Date.parse(info.createdDate) - em.state.now()) < 5000, 'CreatedDate is the refresh');
        assert.deepEqual(await refreshPost(em, old.refresh_token!, 'sandbox'), {
            status: 400,
            body: { error: 'invalid_grant', error_description: 'expired access/refresh token' }
        });
        assert.equal((await restGet(`${em.origins.acmeUat}/services/data/v62.0/limits`, old.access_token)).status, 401);
        // every production user, with the sandbox's suffix; users the sandbox had keep their ids
        assert.equal(em.state.user(PEOPLE.uatApi.username).userId, SEED.users.uatApi.userId);
        assert.equal(em.state.user('noapi@acme.example.uat').orgKey, 'acmeUat');
        assert.equal(em.state.user('noapi@acme.example.uat').profile, SEED.profiles.standard);
        const again = await link(em, PEOPLE.uatApi, 'sandbox');
        const conn = new Connection({ instanceUrl: again.instance_url, accessToken: again.access_token, version: '62.0' });
        const users = await conn.query<{ Username: string }>('SELECT Username FROM User ORDER BY Username');
        assert.deepEqual(
            users.records.map((u) => u.Username),
            ['admin@acme.example.uat', 'api@acme.example.uat', 'noapi@acme.example.uat']
        );
    });

    it('copies production’s passwords, permissions, sharing and installed apps as they are at the refresh', async () => {
        em.state.setUserPassword(PEOPLE.acmeApi.username, 'new-prod-pass');
        em.state.updatePermissions('acme', SEED.permissionSets.apiUser, { fields: { 'Task.CallObject': { read: true, edit: false } } });
        em.state.setSharingModel('acme', 'Contact', 'Private');
        em.state.setAppInstalled('acme', CLIENT.clientId, false);
        // the sandbox's own changes are lost
        em.state.updatePermissions('acmeUat', SEED.permissionSets.apiUser, { permissions: { ViewAllData: true } });
        em.state.refreshSandbox('acmeUat');
        await assert.rejects(link(em, PEOPLE.uatApi, 'sandbox'), /login failed/);
        await assert.rejects(
            link(em, { ...PEOPLE.uatApi, password: 'new-prod-pass' }, 'sandbox'),
            /error=invalid_client&error_description=app\+must\+be\+installed\+into\+org/,
            'production had uninstalled the app'
        );
        em.state.setAppInstalled('acmeUat', CLIENT.clientId, true);
        const ok = await link(em, { ...PEOPLE.uatApi, password: 'new-prod-pass' }, 'sandbox');
        const conn = new Connection({ instanceUrl: ok.instance_url, accessToken: ok.access_token, version: '62.0' });
        const d = await conn.sobject('Task').describe();
        assert.equal(d.fields.find((f) => f.name === 'CallObject')!.createable, false);
        assert.equal((await conn.query<any>('SELECT DefaultContactAccess FROM Organization')).records[0].DefaultContactAccess, 'Private');
        assert.equal(
            (await conn.query<any>(`SELECT PermissionsViewAllData FROM PermissionSet WHERE Name = '${SEED.permissionSets.apiUser}'`))
                .records[0].PermissionsViewAllData,
            false
        );
    });

    it('keeps the Named Credential’s URL and clears the External Credential principal’s key', () => {
        em.state.setNamedCredentialUrl('acme', PACKAGE_CREDENTIAL.namedCredential, 'https://ccl.example.net');
        em.state.createCredential('acme', EC, PRINCIPAL, KEY);
        em.state.createCredential('acmeUat', EC, PRINCIPAL, { ApiKey: { value: 'ccl_sandbox_key', encrypted: true } });
        em.state.refreshSandbox('acmeUat');
        assert.deepEqual(em.state.credential('acmeUat', EC, PRINCIPAL)['credentials'], {});
        assert.equal(em.state.credentialParameter('acmeUat', EC, PRINCIPAL, 'ApiKey'), null);
        assert.equal(em.state.namedCredential('acmeUat', PACKAGE_CREDENTIAL.namedCredential)['calloutUrl'], 'https://ccl.example.net');
        assert.equal(em.state.credentialParameter('acme', EC, PRINCIPAL, 'ApiKey'), KEY.ApiKey.value, 'production keeps its key');
    });

    it('copies production’s settings, record types and custom fields with the same ids', async () => {
        em.state.setOrgSettings('acme', { personAccounts: true });
        const rt = em.state.addRecordType('acme', { sobjectType: 'Task', developerName: 'Call_Log' });
        em.state.addCustomField('acme', 'Contact', { name: 'Direct_Line__c', type: 'phone' });
        const info = em.state.refreshSandbox('acmeUat');
        assert.deepEqual(info.settings, { personAccounts: true });
        const t = await link(em, PEOPLE.uatApi, 'sandbox');
        const conn = new Connection({ instanceUrl: t.instance_url, accessToken: t.access_token, version: '62.0' });
        const rts = await conn.query<any>("SELECT Id, DeveloperName FROM RecordType WHERE SobjectType = 'Task'");
        assert.deepEqual(
            rts.records.map((r: any) => [r.Id, r.DeveloperName]),
            [[rt.id, 'Call_Log']]
        );
        assert.ok((await conn.sobject('Contact').describe()).fields.some((f) => f.name === 'Direct_Line__c'));
        assert.equal((await conn.query('SELECT Id FROM Account WHERE IsPersonAccount = true')).totalSize, 3);
    });

    it('is refused for a production org, and offered over HTTP', async () => {
        assert.throws(() => em.state.refreshSandbox('acme'), /production/);
        assert.equal((await control(em, 'POST', 'orgs/acme/refresh-sandbox')).status, 400);
        const r = await control(em, 'POST', 'orgs/acmeUat/refresh-sandbox');
        assert.equal(r.status, 200);
        assert.equal(r.body.refreshes, 1);
    });
});

describe("the package's External Credential (as ConnectApi.NamedCredentials sees it)", () => {
    it('answers a principal with no parameter as an empty credentials map, with the Custom protocol’s Unknown status', async () => {
        const got = await control(em, 'GET', credPath('acme'));
        assert.deepEqual(got, {
            status: 200,
            body: {
                authenticationProtocol: 'Custom',
                authenticationProtocolVariant: null,
                authenticationStatus: 'Unknown',
                credentials: {},
                externalCredential: EC,
                principalName: PRINCIPAL,
                principalType: 'NamedPrincipal'
            }
        });
        assert.deepEqual((await control(em, 'GET', `${credPath('acme')}/parameters/ApiKey`)).body, { value: null });
        // getExternalCredential shows the definition and principal alike with or without a key
        const before = await control(em, 'GET', `orgs/acme/external-credentials/${EC}`);
        assert.equal(before.status, 200);
        assert.deepEqual(before.body.principals, [
            {
                authenticationStatus: 'Unknown',
                parameters: [],
                principalName: PRINCIPAL,
                principalType: 'NamedPrincipal',
                sequenceNumber: 1
            }
        ]);
        assert.deepEqual(before.body.customHeaders, [
            { headerName: 'Authorization', headerValue: 'Bearer {!$Credential.ContactCenterLink.ApiKey}', sequenceNumber: 1 }
        ]);
        assert.deepEqual(before.body.relatedNamedCredentials, [{ developerName: 'ContactCenterLink', masterLabel: 'Contact Center Link' }]);
        em.state.createCredential('acme', EC, PRINCIPAL, KEY);
        assert.deepEqual((await control(em, 'GET', `orgs/acme/external-credentials/${EC}`)).body, before.body);
        assert.equal((await control(em, 'GET', 'orgs/acme/external-credentials/Other')).status, 400);
    });

    it('stores a key with createCredential, never reads an encrypted one back, and updates or deletes it', async () => {
        const created = await control(em, 'POST', credPath('acme'), { credentials: KEY });
        assert.equal(created.status, 201);
        assert.deepEqual(created.body.credentials, { ApiKey: { encrypted: true, value: null } });
        assert.equal((await control(em, 'POST', credPath('acme'), { credentials: KEY })).status, 400, 'create twice is refused');
        assert.deepEqual((await control(em, 'GET', `${credPath('acme')}/parameters/ApiKey`)).body, { value: KEY.ApiKey.value });
        const updated = await control(em, 'PATCH', credPath('acme'), {
            credentials: { ApiKey: { value: 'ccl_live_rotated', encrypted: true } }
        });
        assert.equal(updated.status, 200);
        assert.equal(em.state.credentialParameter('acme', EC, PRINCIPAL, 'ApiKey'), 'ccl_live_rotated');
        assert.equal(em.state.credentialParameter('acmeUat', EC, PRINCIPAL, 'ApiKey'), null, 'per org');
        assert.equal((await control(em, 'DELETE', credPath('acme'))).status, 200);
        assert.deepEqual(em.state.credential('acme', EC, PRINCIPAL)['credentials'], {});
        assert.equal((await control(em, 'PATCH', credPath('acme'), { credentials: KEY })).status, 400, 'update needs a credential');
    });

    it('refuses bad input and unknown credentials', async () => {
        for (const body of [
            {},
            { credentials: {} },
            { credentials: { ApiKey: { value: '', encrypted: true } } },
            { credentials: { ApiKey: { value: 'x' } } },
            { credentials: { 'Api Key': { value: 'x', encrypted: true } } }
        ]) {
            assert.equal((await control(em, 'POST', credPath('acme'), body)).status, 400, JSON.stringify(body));
        }
        assert.equal(
            (await control(em, 'POST', credPath('acme'), { credentials: { ApiKey: { value: 'x', encrypted: 'yes' } } })).status,
            400
        );
        assert.equal((await control(em, 'GET', `orgs/acme/credentials/Other/${PRINCIPAL}`)).status, 400);
        assert.equal((await control(em, 'GET', `orgs/acme/credentials/${EC}/Nobody`)).status, 400);
        assert.equal((await control(em, 'GET', `orgs/nowhere/credentials/${EC}/${PRINCIPAL}`)).status, 400);
    });

    it('holds the Named Credential’s URL, settable over HTTP', async () => {
        const path = `orgs/acme/named-credentials/${PACKAGE_CREDENTIAL.namedCredential}`;
        assert.deepEqual((await control(em, 'GET', path)).body, {
            developerName: 'ContactCenterLink',
            masterLabel: 'Contact Center Link',
            type: 'SecuredEndpoint',
            calloutUrl: PACKAGE_CREDENTIAL.placeholderUrl,
            externalCredentials: [{ developerName: EC }]
        });
        assert.equal((await control(em, 'POST', path, { url: 'http://127.0.0.1:3000/' })).body.calloutUrl, 'http://127.0.0.1:3000');
        assert.equal((await control(em, 'POST', path, { url: 'http://backend.example.com' })).status, 400);
        assert.equal((await control(em, 'POST', path, { url: 'not a url' })).status, 400);
        assert.equal((await control(em, 'GET', 'orgs/acme/named-credentials/Other')).status, 400);
    });
});
