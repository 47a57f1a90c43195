import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Connection } from 'jsforce';
import { SEED, type Emulator } from '../index.ts';
import { link, oauth2, PEOPLE, restGet, start } from './helpers.ts';

let em: Emulator;
before(async () => {
    em = await start();
});
after(() => em.close());
beforeEach(() => em.state.reset());

type Person = (typeof PEOPLE)[keyof typeof PEOPLE];

async function connect(person: Person = PEOPLE.acmeApi, origin: 'production' | 'sandbox' = 'production'): Promise<Connection> {
    const t = await link(em, person, origin);
    return new Connection({
        oauth2: oauth2(em, origin),
        instanceUrl: t.instance_url,
        accessToken: t.access_token,
        refreshToken: t.refresh_token,
        version: '62.0'
    });
}

const sfError = async (p: PromiseLike<unknown>, code: string, message?: RegExp): Promise<void> => {
    await assert.rejects(Promise.resolve(p), (err: Error & { errorCode?: string }) => {
        assert.equal(err.name, code, `${err.name}: ${err.message}`);
        if (message) assert.match(err.message, message);
        return true;
    });
};

describe('sessions and access', () => {
    it('answers 401 INVALID_SESSION_ID for a missing or expired token, and jsforce refreshes by itself', async () => {
        const t = await link(em, PEOPLE.acmeApi);
        const none = await restGet(`${em.origins.acme}/services/data/v62.0/limits`, '');
        assert.equal(none.status, 401);
        assert.deepEqual(none.body, [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]);
        em.state.expireAccessTokens(PEOPLE.acmeApi.username);
        assert.equal((await restGet(`${em.origins.acme}/services/data/v62.0/limits`, t.access_token)).status, 401);

        const conn = new Connection({
            oauth2: oauth2(em),
            instanceUrl: t.instance_url,
            accessToken: t.access_token,
            refreshToken: t.refresh_token,
            version: '62.0'
        });
        const refreshed: string[] = [];
        conn.on('refresh', (token: string) => refreshed.push(token));
        const res = await conn.query('SELECT Id FROM Organization');
        assert.equal(res.totalSize, 1);
        assert.equal(refreshed.length, 1);
        assert.equal(conn.accessToken, refreshed[0]);
        assert.equal(em.state.requestCounts('acme').refresh, 1);
    });

    it('expires access tokens after the configured lifetime', async () => {
        const t = await link(em, PEOPLE.acmeApi);
        em.state.advanceTime(7200_000 + 1);
        assert.equal((await restGet(`${em.origins.acme}/services/data/v62.0/limits`, t.access_token)).status, 401);
    });

    it('accepts tokens only at their own org instance and with the api scope', async () => {
        const t = await link(em, PEOPLE.acmeApi);
        assert.equal((await restGet(`${em.origins.acmeUat}/services/data/v62.0/limits`, t.access_token)).status, 401);
        const idOnly = await link(em, PEOPLE.acmeApi, 'production', { scope: 'id refresh_token' });
        const r = await restGet(`${em.origins.acme}/services/data/v62.0/limits`, idOnly.access_token);
        assert.equal(r.status, 401);
        assert.equal(r.body[0].message, 'This session is not valid for use with the REST API');
    });

    it('refuses users without API Enabled with 403 API_CURRENTLY_DISABLED', async () => {
        const t = await link(em, PEOPLE.acmeNoApi);
        const conn = new Connection({ instanceUrl: t.instance_url, accessToken: t.access_token, version: '62.0' });
        await sfError(conn.query('SELECT Id FROM Organization'), 'API_CURRENTLY_DISABLED', /API is disabled for this User/);
        // the identity URL is not the REST API, so it still answers
        assert.equal((await restGet(t.id, t.access_token)).body.username, 'noapi@acme.example');
    });

    it('lists versions and refuses unknown versions and resources', async () => {
        const t = await link(em, PEOPLE.acmeApi);
        const versions = await (await fetch(`${em.origins.acme}/services/data/`)).json();
        assert.deepEqual((versions as Array<{ version: string }>).at(-1), {
            label: "Winter '25",
            url: '/services/data/v62.0',
            version: '62.0'
        });
        assert.equal((await restGet(`${em.origins.acme}/services/data/v63.0/limits`, t.access_token)).status, 404);
        const nf = await restGet(`${em.origins.acme}/services/data/v62.0/nothing`, t.access_token);
        assert.deepEqual(nf.body, [{ message: 'The requested resource does not exist', errorCode: 'NOT_FOUND' }]);
    });
});

describe('limits', () => {
    it('reports usage in Sforce-Limit-Info and /limits, and refuses calls over the limit', async () => {
        const t = await link(em, PEOPLE.acmeApi);
        em.state.setApiLimit('acme', { max: 100, used: 40 });
        const r = await restGet(`${em.origins.acme}/services/data/v62.0/limits`, t.access_token);
        assert.equal(r.headers.get('sforce-limit-info'), 'api-usage=41/100');
        assert.deepEqual(r.body.DailyApiRequests, { Max: 100, Remaining: 59 });
        em.state.setApiLimit('acme', { max: 42 });
        const conn = new Connection({ instanceUrl: t.instance_url, accessToken: t.access_token, version: '62.0' });
        await conn.query('SELECT Id FROM Organization');
        assert.deepEqual(conn.limitInfo.apiUsage, { used: 42, limit: 42 });
        await sfError(conn.query('SELECT Id FROM Organization'), 'REQUEST_LIMIT_EXCEEDED', /TotalRequests Limit exceeded\./);
        assert.equal(em.state.org('acme').apiUsage.used, 42);
    });
});

describe('SOQL', () => {
    it('selects fields with parent relationships, filters, sorts and limits', async () => {
        const conn = await connect();
        const me = await conn.query<any>(
            `SELECT Id, Username, Profile.Name, Profile.PermissionsApiEnabled, Profile.PermissionsApiUserOnly, Profile.UserLicense.Name FROM User WHERE Username = 'API@acme.example'`
        );
        assert.equal(me.totalSize, 1);
        const u = me.records[0];
        assert.deepEqual(Object.keys(u), ['attributes', 'Id', 'Username', 'Profile']);
        assert.equal(u.attributes.type, 'User');
        assert.equal(u.attributes.url, `/services/data/v62.0/sobjects/User/${SEED.users.acmeApi.userId}`);
        assert.equal(u.Profile.Name, 'Minimum Access - API Only Integrations');
        assert.equal(u.Profile.PermissionsApiEnabled, true);
        assert.equal(u.Profile.PermissionsApiUserOnly, true);
        assert.equal(u.Profile.UserLicense.Name, 'Salesforce Integration');

        const org = await conn.query<any>(
            'SELECT Id, Name, IsSandbox, OrganizationType, InstanceName, DefaultContactAccess FROM Organization'
        );
        assert.equal(org.records[0].Id, SEED.orgs.acme.orgId);
        assert.equal(org.records[0].IsSandbox, false);
        assert.equal(org.records[0].DefaultContactAccess, 'Edit');

        const contacts = await conn.query<any>(
            `SELECT Name, Account.Name FROM Contact WHERE (LastName LIKE 'D%' OR LastName IN ('Roe', 'Smith')) AND Account.Name != null ORDER BY LastName DESC LIMIT 2`
        );
        assert.deepEqual(
            contacts.records.map((r: any) => [r.Name, r.Account.Name]),
            [
                ['Olivia Smith', 'Initech UK'],
                ['John Roe', 'Globex Corporation']
            ]
        );
        const nina = await conn.query<any>(`SELECT Name, Account.Name FROM Contact WHERE AccountId = null`);
        assert.equal(nina.records[0].Account, null);
        const count = await conn.query("SELECT COUNT() FROM Lead WHERE NOT Company LIKE '%Labs'");
        assert.equal(count.totalSize, 2);
        assert.equal(count.records.length, 0);
        const escaped = await conn.query<any>(`SELECT Name FROM Lead WHERE Company = 'Jones & Sons' OR Company = 'O\\'Brien'`);
        assert.equal(escaped.records[0].Name, 'Harry Jones');
        const by15 = await conn.query(`SELECT Id FROM User WHERE Id = '${SEED.users.acmeApi.userId.slice(0, 15)}'`);
        assert.equal(by15.totalSize, 1);
    });

    it('reports malformed queries, unknown fields and unknown objects as Salesforce does', async () => {
        const conn = await connect();
        await sfError(conn.query('SELECT Id FROM'), 'MALFORMED_QUERY', /unexpected token/);
        await sfError(
            conn.query("SELECT Id FROM Lead WHERE Name = 'a' AND Company = 'b' OR Status = 'c'"),
            'MALFORMED_QUERY',
            /unexpected token: 'OR'/
        );
        await sfError(
            conn.query('SELECT Id, Foo FROM Contact'),
            'INVALID_FIELD',
            /ERROR at Row:1:Column:12\nNo such column 'Foo' on entity 'Contact'/
        );
        await sfError(conn.query('SELECT Id FROM Widget__c'), 'INVALID_TYPE', /sObject type 'Widget__c' is not supported/);
        await sfError(conn.query('SELECT Nope.Name FROM Contact'), 'INVALID_FIELD', /Didn't understand relationship 'Nope'/);
        await sfError(
            conn.query("SELECT Id FROM User WHERE IsActive = 'true'"),
            'INVALID_QUERY_FILTER_OPERATOR',
            /must be of type boolean/
        );
        await sfError(conn.query("SELECT Id FROM User WHERE Id = 'xyz'"), 'INVALID_QUERY_FILTER_OPERATOR', /invalid ID field: xyz/);
        await sfError(conn.query("SELECT Id FROM Lead WHERE Company = 'unterminated"), 'MALFORMED_QUERY');
    });

    it('follows object and field permissions', async () => {
        const conn = await connect();
        em.state.updatePermissions('acme', SEED.permissionSets.apiUser, {
            objects: { Lead: { read: false } },
            fields: { 'Contact.Email': { read: false } }
        });
        await sfError(conn.query('SELECT Id FROM Lead'), 'INVALID_TYPE');
        await sfError(conn.query('SELECT Email FROM Contact'), 'INVALID_FIELD');
        em.state.setSharingModel('acme', 'Contact', 'Private');
        assert.equal((await conn.query('SELECT Id FROM Contact')).totalSize, 0);
    });
});

describe('SOSL phone search', () => {
    const RETURNING = 'RETURNING Contact(Id, Name, Phone, AccountId), Lead(Id, Name, Phone, Company), Account(Id, Name, Phone)';
    const names = (r: { searchRecords: Array<Record<string, unknown>> }): string[] =>
        r.searchRecords.map((x) => `${(x['attributes'] as { type: string }).type}:${String(x['Name'])}`);

    it('finds every stored shape of a number', async () => {
        const conn = await connect();
        const expected = ['Contact:Jane Doe', 'Contact:John Roe', 'Lead:Sam Lee', 'Account:Globex Corporation'];
        assert.deepEqual(names(await conn.search(`FIND {4155551212} IN PHONE FIELDS ${RETURNING}`)), expected);
        assert.deepEqual(names(await conn.search(`FIND {\\+14155551212} IN PHONE FIELDS ${RETURNING}`)), expected);
        assert.deepEqual(names(await conn.search(`FIND {"(415) 555\\-1212"} IN PHONE FIELDS ${RETURNING}`)), expected);
        const first = (await conn.search(`FIND {4155551212} IN PHONE FIELDS ${RETURNING}`)).searchRecords[0]!;
        assert.deepEqual(Object.keys(first), ['attributes', 'Id', 'Name', 'Phone', 'AccountId']);
    });

    it('matches international and national forms as the digit model says, with OR and limits', async () => {
        const conn = await connect();
        assert.deepEqual(names(await conn.search(`FIND {\\+442079460958} IN PHONE FIELDS ${RETURNING}`)), ['Contact:Olivia Smith']);
        assert.deepEqual(names(await conn.search(`FIND {02079460958} IN PHONE FIELDS ${RETURNING}`)), ['Lead:Harry Jones']);
        assert.deepEqual(names(await conn.search(`FIND {\\+442079460958 OR 02079460958} IN PHONE FIELDS ${RETURNING}`)), [
            'Contact:Olivia Smith',
            'Lead:Harry Jones'
        ]);
        assert.deepEqual(names(await conn.search(`FIND {2079460958} IN PHONE FIELDS ${RETURNING}`)), [
            'Contact:Olivia Smith',
            'Lead:Harry Jones'
        ]);
        assert.deepEqual(names(await conn.search(`FIND {5551212} IN PHONE FIELDS ${RETURNING}`)), []);
        assert.deepEqual(
            names(await conn.search(`FIND {4155551212} IN PHONE FIELDS RETURNING Contact(Id, Name LIMIT 1), Lead(Id, Name)`)),
            ['Contact:Jane Doe', 'Lead:Sam Lee']
        );
        assert.equal((await conn.search(`FIND {4155551212} IN PHONE FIELDS ${RETURNING} LIMIT 2`)).searchRecords.length, 2);
    });

    it('refuses unescaped reserved characters with MALFORMED_SEARCH', async () => {
        const conn = await connect();
        await sfError(conn.search(`FIND {+14155551212} IN PHONE FIELDS ${RETURNING}`), 'MALFORMED_SEARCH', /reserved character '\+'/);
        await sfError(conn.search(`FIND {415-555-1212} IN PHONE FIELDS ${RETURNING}`), 'MALFORMED_SEARCH', /reserved character '-'/);
        await sfError(conn.search(`FIND 4155551212 IN PHONE FIELDS`), 'MALFORMED_SEARCH', /enclosed in braces/);
        await sfError(conn.search(`FIND {4155551212} IN PHONE FIELDS RETURNING Gadget(Id)`), 'INVALID_TYPE');
    });
});

describe('sObjects', () => {
    const callTask = {
        Subject: 'Inbound call',
        Status: 'Completed',
        ActivityDate: '2025-01-15',
        TaskSubtype: 'Call',
        Type: 'Call',
        CallType: 'Inbound',
        CallDurationInSeconds: 95,
        CallObject: 'call-123',
        CallDisposition: 'Resolved',
        Description: 'Caller asked about billing.'
    };

    it('creates a Task with the call fields and derives what Salesforce derives', async () => {
        const conn = await connect();
        const [jane] = (await conn.query<any>("SELECT Id, AccountId FROM Contact WHERE LastName = 'Doe'")).records;
        const res = await conn.sobject('Task').create({ ...callTask, WhoId: jane.Id });
        assert.equal(res.success, true);
        assert.match(res.id, /^00T[A-Za-z0-9]{15}$/);
        const stored = em.state.tasks('acme');
        assert.equal(stored.length, 1);
        assert.equal(stored[0]!['OwnerId'], SEED.users.acmeApi.userId);
        assert.equal(stored[0]!['IsClosed'], true);
        assert.equal(stored[0]!['AccountId'], jane.AccountId);
        const found = await conn.query<any>("SELECT Id, CallObject, Who.Name, Owner.Username FROM Task WHERE CallObject = 'call-123'");
        assert.equal(found.records[0].Who.Name, 'Jane Doe');
        assert.equal(found.records[0].Owner.Username, 'api@acme.example');
        const got = await conn.sobject('Task').retrieve(res.id);
        assert.equal((got as any).CallDurationInSeconds, 95);
        await conn.sobject('Task').update({ Id: res.id, CallDisposition: 'Escalated' });
        assert.equal(em.state.tasks('acme')[0]!['CallDisposition'], 'Escalated');
    });

    it('validates like Salesforce', async () => {
        const conn = await connect();
        const task = conn.sobject('Task');
        await sfError(task.create({ Subject: 'x', Foo__c: 1 }), 'INVALID_FIELD', /No such column 'Foo__c' on sobject of type Task/);
        await sfError(
            task.create({ Subject: 'x', CallType: 'Sideways' }),
            'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
            /Call Type: bad value for restricted picklist field: Sideways/
        );
        await sfError(task.create({ CallObject: 'x'.repeat(256) }), 'STRING_TOO_LONG', /max length=255/);
        await sfError(task.create({ WhoId: 'not-an-id' }), 'MALFORMED_ID');
        const [acct] = (await conn.query<any>('SELECT Id FROM Account LIMIT 1')).records;
        await sfError(task.create({ WhoId: acct.Id }), 'FIELD_INTEGRITY_EXCEPTION');
        await sfError(task.create({ Status: null }), 'REQUIRED_FIELD_MISSING', /Required fields are missing: \[Status\]/);
        await sfError(task.create({ IsClosed: true }), 'INVALID_FIELD_FOR_INSERT_UPDATE');
        await sfError(task.create({ CallDurationInSeconds: 'long' }), 'JSON_PARSER_ERROR');
        await sfError(conn.sobject('Contact').create({ LastName: 'New' }), 'INSUFFICIENT_ACCESS_OR_READONLY');
        const admin = await connect(PEOPLE.acmeAdmin);
        await sfError(admin.sobject('Contact').create({ FirstName: 'No' }), 'REQUIRED_FIELD_MISSING', /\[LastName\]/);
        em.state.setUserActive(PEOPLE.acmeNoApi.username, false);
        await sfError(admin.sobject('Task').create({ OwnerId: SEED.users.acmeNoApi.userId }), 'INACTIVE_OWNER_OR_USER');
        assert.equal(em.state.tasks('acme').length, 0);
    });

    it('describes objects as the user may use them', async () => {
        const conn = await connect();
        let d = await conn.sobject('Task').describe();
        assert.equal(d.name, 'Task');
        assert.equal(d.keyPrefix, '00T');
        assert.equal(d.createable, true);
        const callType = d.fields.find((f) => f.name === 'CallType')!;
        assert.equal(callType.createable, true);
        assert.equal(callType.type, 'picklist');
        assert.equal(callType.restrictedPicklist, true);
        assert.deepEqual(d.fields.find((f) => f.name === 'WhoId')!.referenceTo, ['Contact', 'Lead']);
        em.state.updatePermissions('acme', SEED.permissionSets.apiUser, {
            permissions: { EditTask: false },
            fields: { 'Task.CallObject': { read: false, edit: false }, 'Task.CallType': { edit: false } }
        });
        d = await conn.sobject('Task').describe();
        assert.equal(d.createable, false);
        assert.equal(
            d.fields.some((f) => f.name === 'CallObject'),
            false
        );
        assert.equal(d.fields.find((f) => f.name === 'CallType')!.createable, false);
        await sfError(conn.sobject('Task').create({ Subject: 'x' }), 'INSUFFICIENT_ACCESS_OR_READONLY');
        const contact = await conn.sobject('Contact').describe();
        assert.equal(contact.queryable, true);
        assert.equal(contact.createable, false);
        const global = await conn.describeGlobal();
        assert.ok(global.sobjects.some((s) => s.name === 'Lead' && s.queryable));
    });
});

describe('composite and counts', () => {
    it('runs subrequests with references, counts the composite as one call, and rolls back with allOrNone', async () => {
        const conn = await connect();
        const before = em.state.org('acme').apiUsage.used;
        em.state.resetCounts();
        const res = await conn.requestPost<any>('/services/data/v62.0/composite', {
            allOrNone: true,
            compositeRequest: [
                { method: 'GET', url: "/services/data/v62.0/query?q=SELECT+Id+FROM+Contact+WHERE+LastName='Doe'", referenceId: 'who' },
                {
                    method: 'POST',
                    url: '/services/data/v62.0/sobjects/Task',
                    referenceId: 'task',
                    body: { Subject: 'Call', WhoId: '@{who.records[0].Id}' }
                },
                { method: 'GET', url: '/services/data/v62.0/sobjects/Task/@{task.id}?fields=Subject,WhoId', referenceId: 'check' }
            ]
        });
        assert.deepEqual(
            res.compositeResponse.map((r: any) => r.httpStatusCode),
            [200, 201, 200]
        );
        assert.equal(res.compositeResponse[2].body.Subject, 'Call');
        const counts = em.state.requestCounts('acme');
        assert.equal(counts.composite, 1);
        assert.equal(counts.rest, 1);
        assert.equal(counts['sobject-create'], 0);
        assert.equal(em.state.org('acme').apiUsage.used, before + 1);

        const failed = await conn.requestPost<any>('/services/data/v62.0/composite', {
            allOrNone: true,
            compositeRequest: [
                { method: 'POST', url: '/services/data/v62.0/sobjects/Task', referenceId: 'ok', body: { Subject: 'kept?' } },
                { method: 'POST', url: '/services/data/v62.0/sobjects/Task', referenceId: 'bad', body: { CallType: 'Nope' } }
            ]
        });
        assert.deepEqual(
            failed.compositeResponse.map((r: any) => r.httpStatusCode),
            [400, 400]
        );
        assert.equal(failed.compositeResponse[0].body[0].errorCode, 'PROCESSING_HALTED');
        assert.equal(em.state.tasks('acme').length, 1);
    });

    it('counts every request by kind, per org', async () => {
        const conn = await connect();
        em.state.resetCounts();
        await conn.query('SELECT Id FROM Organization');
        await conn.search('FIND {4155551212} IN PHONE FIELDS RETURNING Contact(Id)');
        await conn.sobject('Task').create({ Subject: 'x' });
        await conn.sobject('Task').describe();
        await conn.limits();
        await conn.identity();
        const c = em.state.requestCounts('acme');
        assert.equal(c.query, 1);
        assert.equal(c.search, 1);
        assert.equal(c['sobject-create'], 1);
        assert.equal(c.describe, 1);
        assert.equal(c.limits, 1);
        assert.equal(c.identity, 1);
        assert.equal(c.rest, 6); // identity() first asks the version root for its URL
        assert.equal(em.state.requestCounts('acmeUat').rest, 0);
    });
});

describe('sandbox', () => {
    it('serves the sandbox org on its own instance', async () => {
        const conn = await connect(PEOPLE.uatApi, 'sandbox');
        const org = await conn.query<any>('SELECT Id, IsSandbox, Name FROM Organization');
        assert.deepEqual([org.records[0].Id, org.records[0].IsSandbox, org.records[0].Name], [SEED.orgs.acmeUat.orgId, true, 'Acme UAT']);
        assert.equal(conn.instanceUrl, em.origins.acmeUat);
    });
});
