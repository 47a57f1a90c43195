// Long on purpose: the screen pop end to end through the HTTP API against one emulated org: formats, the fields searched,
// Person Accounts, custom fields, the order of several matches, the matching settings and their refusals, one API call each.
import assert from 'node:assert/strict';
import request from 'supertest';
import type { Snapshot } from '../store/types.ts';
import { after, before, describe, test } from 'node:test';
import { SEED } from '../../emulator/index.ts';
import { escapeSosl, phoneSearch, phoneTerms } from './phone.ts';
import { lookupResponse } from './schemas.ts';
import { linkStatusResponse } from '../http/openapi.ts';
import { ACME, startCallsHarness, total, type CallsHarness } from '../test/callsHarness.ts';

const names = (body: { matches: Array<{ sobjectType: string; name: string }> }): string[] =>
    body.matches.map((m) => `${m.sobjectType}:${m.name}`);
const JANE_AND_CO = ['Contact:Jane Doe', 'Contact:John Roe', 'Account:Globex Corporation', 'Lead:Sam Lee'];

describe('phone numbers and SOSL', () => {
    test('every SOSL reserved character is escaped', () => {
        assert.equal(escapeSosl('a?&|!{}[]()^~*:\\"\'+-b'), 'a\\?\\&\\|\\!\\{\\}\\[\\]\\(\\)\\^\\~\\*\\:\\\\\\"\\\'\\+\\-b');
        assert.equal(escapeSosl('4155551212'), '4155551212');
    });

    test('numbers are normalised to E.164 and the national form', () => {
        for (const shape of ['(415) 555-1212', '+1 415 555 1212', '415.555.1212', '4155551212', '1-415-555-1212']) {
            assert.deepEqual(phoneTerms(shape, 'US'), { e164: '+14155551212', national: '4155551212' }, shape);
        }
        assert.deepEqual(phoneTerms('020 7946 0958', 'GB'), { e164: '+442079460958', national: '02079460958' });
        assert.deepEqual(phoneTerms('+44 20 7946 0958', 'US'), { e164: '+442079460958', national: '02079460958' });
        assert.equal(
            phoneSearch(phoneTerms('+44 20 7946 0958', 'US')),
            'FIND {\\+442079460958 OR 02079460958} IN PHONE FIELDS RETURNING Contact(Id, Name, Phone, AccountId), Lead(Id, Name, Phone, Company), Account(Id, Name, Phone)'
        );
    });
});

describe('POST /api/v1/calls/lookup', () => {
    let c: CallsHarness;
    before(async () => {
        c = await startCallsHarness();
    });
    after(() => c.close());

    for (const phone of ['(415) 555-1212', '+1 415 555 1212', '415.555.1212', '4155551212']) {
        test(`finds the Contacts, Lead and Account stored in every shape, from ${phone}`, async () => {
            c.mark();
            const res = await c.lookup({ phone }).expect(200);
            assert.deepEqual(names(res.body), JANE_AND_CO);
            lookupResponse.parse(res.body);
            const jane = res.body.matches[0];
            assert.equal(jane.phone, '(415) 555-1212');
            assert.match(jane.accountId, /^001/);
            assert.equal(res.body.matches[3].company, 'Lee Logistics');
            assert.equal(res.body.matches[2].accountId, undefined);
            assert.equal(c.spent().search, 1, 'one SOSL search');
            assert.equal(total(c.spent()), 1, 'and nothing else');
        });
    }

    test('UK numbers: national with region GB, international from anywhere', async () => {
        assert.deepEqual(names((await c.lookup({ phone: '020 7946 0958', region: 'GB' }).expect(200)).body), [
            'Contact:Olivia Smith',
            'Lead:Harry Jones'
        ]);
        assert.deepEqual(names((await c.lookup({ phone: '+44 20 7946 0958' }).expect(200)).body), [
            'Contact:Olivia Smith',
            'Lead:Harry Jones'
        ]);
        assert.deepEqual(names((await c.lookup({ phone: '+44 (0)20 7946 0958', region: 'GB' }).expect(200)).body), [
            'Contact:Olivia Smith',
            'Lead:Harry Jones'
        ]);
    });

    test('no match is an empty list', async () => {
        const res = await c.lookup({ phone: '+1 (555) 010-9999' }).expect(200);
        assert.deepEqual(res.body, { matches: [] });
    });

    test('a Contact added in the org is found at once (nothing is cached)', async () => {
        c.h.emulator.state.insertRecord(ACME, 'Contact', { FirstName: 'New', LastName: 'Caller', MobilePhone: '+1 303 555 0142' });
        assert.deepEqual(names((await c.lookup({ phone: '303-555-0142' }).expect(200)).body), ['Contact:New Caller']);
    });

    const hostile: Array<[string, unknown]> = [
        ['SOSL injection closing the braces', { phone: '4155551212} RETURNING User(Id' }],
        ['SOSL injection with OR', { phone: '4155551212 OR *' }],
        ['a wildcard', { phone: '415*' }],
        ['a quote', { phone: "415'555" }],
        ['a backslash', { phone: '415\\}555' }],
        ['10 kB of digits', { phone: '4'.repeat(10_000) }],
        ['10 kB of text', { phone: 'x'.repeat(10_000) }],
        ['unicode digits', { phone: '４１５５５５１２１２' }],
        ['an emoji', { phone: '📞 415 555 1212' }],
        ['letters', { phone: '1-800-FLOWERS' }],
        ['an empty string', { phone: '' }],
        ['blanks', { phone: '   ' }],
        ['too short', { phone: '12' }],
        ['a JSON number', { phone: 4155551212 }],
        ['null', { phone: null }],
        ['an array', { phone: ['4155551212'] }],
        ['no phone', {}],
        ['an unknown field', { phone: '4155551212', q: 'FIND {x}' }],
        ['an unknown region', { phone: '4155551212', region: 'XX' }],
        ['a lower-case region', { phone: '4155551212', region: 'gb' }],
        ['a body that is an array', ['4155551212']]
    ];
    for (const [what, body] of hostile) {
        test(`refuses ${what} with 400 and asks Salesforce nothing`, async () => {
            c.mark();
            const res = await c.lookup(body).expect(400);
            assert.equal(res.body.error.code, 'VALIDATION_FAILED');
            assert.match(res.body.error.message, /phone|region|request body/);
            assert.ok(!JSON.stringify(res.body).includes('x'.repeat(100)), 'the input is not echoed back');
            assert.equal(total(c.spent()), 0);
        });
    }

    test('a body over the limit is refused before anything else', async () => {
        const res = await c.lookup({ phone: '1'.repeat(200_000) }).expect(413);
        assert.equal(res.body.error.code, 'PAYLOAD_TOO_LARGE');
    });

    test('apiUsage from Sforce-Limit-Info shows in GET /api/v1/link', async () => {
        await c.lookup({ phone: '4155551212' }).expect(200);
        const status = await c.get('/api/v1/link').expect(200);
        linkStatusResponse.parse(status.body);
        assert.equal(status.body.apiUsage.max, SEED.defaultApiLimit);
        assert.ok(status.body.apiUsage.used >= 1 && status.body.apiUsage.used <= c.h.emulator.state.org(ACME).apiUsage.used);
        assert.ok(!Number.isNaN(Date.parse(status.body.apiUsage.at)));
    });

    test('API usage is saved at most every five seconds per link, not on every call', async () => {
        c.h.clock.advance(6000);
        await c.lookup({ phone: '4155551212' }).expect(200);
        const saved = ((db: Snapshot) => structuredClone(db.links.find((l) => l.accountId === c.accountId)!.apiUsage!))(
            await c.h.services.store.dump()
        );
        assert.equal(saved.used, c.h.emulator.state.org(ACME).apiUsage.used);
        for (let i = 0; i < 5; i++) await c.lookup({ phone: '4155551212' }).expect(200);
        const later = ((db: Snapshot) => db.links.find((l) => l.accountId === c.accountId)!.apiUsage!)(await c.h.services.store.dump());
        assert.deepEqual(later, saved, 'unchanged in the store within five seconds');
        assert.equal(c.h.emulator.state.org(ACME).apiUsage.used, saved.used + 5);
    });

    test('a missing field permission is 403 PERMISSION_MISSING naming the permission set', async () => {
        c.h.emulator.state.updatePermissions(ACME, SEED.permissionSets.apiUser, { fields: { 'Lead.Phone': { read: false } } });
        try {
            const res = await c.lookup({ phone: '4155551212' }).expect(403);
            assert.equal(res.body.error.code, 'PERMISSION_MISSING');
            assert.match(res.body.error.message, /Contact_Center_API_User/);
        } finally {
            c.h.emulator.state.updatePermissions(ACME, SEED.permissionSets.apiUser, { fields: { 'Lead.Phone': { read: true } } });
        }
    });

    test('an account without a link: 409 NOT_LINKED, nothing asked', async () => {
        const other = await c.h.newAccount('Not linked');
        c.mark();
        const res = await c.lookup({ phone: '4155551212' }, other.key).expect(409);
        assert.equal(res.body.error.code, 'NOT_LINKED');
        assert.equal(total(c.spent()), 0);
    });

    test('without an API key: 401', async () => {
        const res = await c.lookup({ phone: '4155551212' }, 'ccl_wrong').expect(401);
        assert.equal(res.body.error.code, 'UNAUTHORIZED');
    });
});

describe('callers matched the way each org stores phones', () => {
    let c: CallsHarness;
    before(async () => {
        c = await startCallsHarness();
    });
    after(() => c.close());

    const settings = (body: unknown) =>
        request(c.server)
            .put('/api/v1/calls/settings')
            .set('Authorization', `Bearer ${c.key}`)
            .send(body as object);
    const idOf = (type: string, name: string): string =>
        String(c.h.emulator.state.records(ACME, type).find((r) => r['Name'] === name)!['Id']);
    let usedAtMark = 0;
    const mark = (): void => {
        c.mark();
        usedAtMark = c.h.emulator.state.org(ACME).apiUsage.used;
    };
    /** Since mark(): one SOSL search, no other request, and one API call charged to the org's daily allowance. */
    const oneCall = (): void => {
        assert.equal(c.spent().search, 1, 'one SOSL search');
        assert.equal(total(c.spent()), 1, 'and nothing else');
        assert.equal(c.h.emulator.state.org(ACME).apiUsage.used - usedAtMark, 1, 'one API call charged');
    };

    test('each match says why it matched: the fields that hold the number, their values as stored', async () => {
        mark();
        const res = await c.lookup({ phone: '+1 415 555 1212' }).expect(200);
        lookupResponse.parse(res.body);
        oneCall();
        const why = Object.fromEntries(res.body.matches.map((m: { name: string; matchedOn: unknown }) => [m.name, m.matchedOn]));
        assert.deepEqual(why, {
            'Jane Doe': [{ field: 'Phone', value: '(415) 555-1212' }],
            'John Roe': [{ field: 'MobilePhone', value: '4155551212' }],
            'Globex Corporation': [{ field: 'Phone', value: '415.555.1212' }],
            'Sam Lee': [{ field: 'Phone', value: '+1 415 555 1212' }]
        });
        const john = res.body.matches.find((m: { name: string }) => m.name === 'John Roe');
        assert.equal(john.phone, '(650) 555-0101', 'phone stays the record’s Phone');
        assert.match(john.ownerId, /^005/);
        assert.ok(!Number.isNaN(Date.parse(john.lastModifiedDate)));
    });

    test('numbers stored in any format match on the normalised number; a record SOSL returns without a matching field is dropped', async () => {
        c.h.emulator.state.insertRecord(ACME, 'Contact', { LastName: 'Extension', HomePhone: '(628) 555-0177 ext. 7' });
        c.h.emulator.state.insertRecord(ACME, 'Contact', { LastName: 'Dashes', AssistantPhone: '1-628-555-0177' });
        c.h.emulator.state.insertRecord(ACME, 'Contact', { LastName: 'Faxed', Fax: '628 555 0177' });
        c.h.emulator.state.insertRecord(ACME, 'Lead', { LastName: 'Spaced', Company: 'S', MobilePhone: '+1 628 555 0177' });
        mark();
        const res = await c.lookup({ phone: '+16285550177' }).expect(200);
        oneCall();
        // Which matches and why, not their order (the two Contacts differ in LastModifiedDate by the clock's luck).
        assert.deepEqual(
            res.body.matches
                .map((m: { name: string; matchedOn: unknown }) => [m.name, m.matchedOn])
                .sort((a: [string], b: [string]) => a[0].localeCompare(b[0])),
            [
                ['Dashes', [{ field: 'AssistantPhone', value: '1-628-555-0177' }]],
                ['Extension', [{ field: 'HomePhone', value: '(628) 555-0177 ext. 7' }]],
                ['Spaced', [{ field: 'MobilePhone', value: '+1 628 555 0177' }]]
            ],
            'the Fax SOSL also searched is no field the lookup matches on'
        );
        assert.deepEqual(names((await c.lookup({ phone: '(628) 555-0177 x 7' }).expect(200)).body).length, 3);
    });

    test('a custom phone field is ignored until the account chooses it, then searched, still in one call', async () => {
        c.h.emulator.state.addCustomField(ACME, 'Contact', { name: 'Direct_Line__c', label: 'Direct Line', type: 'phone' });
        c.h.emulator.state.insertRecord(ACME, 'Contact', { LastName: 'Direct', Direct_Line__c: '+1 (628) 555-0150' });
        assert.deepEqual((await c.lookup({ phone: '628-555-0150' }).expect(200)).body, { matches: [] });
        c.mark();
        const saved = await settings({ matching: { customPhoneFields: { Contact: ['Direct_Line__c'] } } }).expect(200);
        assert.equal(c.spent().composite, 1, 'the save reads the describes in one Composite request');
        assert.deepEqual(saved.body.matching.customPhoneFields, { Contact: ['Direct_Line__c'], Lead: [], Account: [] });
        assert.deepEqual(saved.body.matching.searched.fields.Contact, [
            'Phone',
            'MobilePhone',
            'HomePhone',
            'OtherPhone',
            'AssistantPhone',
            'Direct_Line__c'
        ]);
        assert.equal(saved.body.lookupReservePercent, 10, 'the reserve is untouched');
        mark();
        const res = await c.lookup({ phone: '628-555-0150' }).expect(200);
        oneCall();
        assert.deepEqual(res.body.matches[0].matchedOn, [{ field: 'Direct_Line__c', value: '+1 (628) 555-0150' }]);
        // The API user loses the field: a Verify reads it, and lookups no longer ask for it (they would fail)
        c.h.emulator.state.updatePermissions(ACME, SEED.profiles.apiOnly, {
            fields: { 'Contact.Direct_Line__c': { read: false, edit: false } }
        });
        await c.h.api(c.key).post('/api/v1/link/verify', {}).expect(200);
        assert.ok(!(await c.get('/api/v1/calls/settings').expect(200)).body.matching.searched.fields.Contact.includes('Direct_Line__c'));
        assert.deepEqual((await c.lookup({ phone: '628-555-0150' }).expect(200)).body, { matches: [] });
        c.h.emulator.state.updatePermissions(ACME, SEED.profiles.apiOnly, {
            fields: { 'Contact.Direct_Line__c': { read: true, edit: true } }
        });
        await c.h.api(c.key).post('/api/v1/link/verify', {}).expect(200);
        assert.equal((await c.lookup({ phone: '628-555-0150' }).expect(200)).body.matches.length, 1);
    });

    test('custom fields the org cannot search are refused with the field named and the fix, and nothing is saved', async () => {
        c.h.emulator.state.addCustomField(ACME, 'Lead', { name: 'Notes__c', type: 'string' });
        c.h.emulator.state.addCustomField(ACME, 'Account', {
            name: 'Hidden_Line__c',
            type: 'phone',
            access: { [SEED.profiles.apiOnly]: { read: false, edit: false } }
        });
        const before = (await c.get('/api/v1/calls/settings').expect(200)).body;
        const refusals: Array<[unknown, RegExp]> = [
            [
                { Contact: ['Direct_Line__c', 'No_Such__c'] },
                /Contact\.No_Such__c .*no such field, or the API user cannot read it.*Object Manager/
            ],
            [{ Lead: ['Notes__c'] }, /Lead\.Notes__c .*string field, not a Phone field/],
            [{ Account: ['Hidden_Line__c'] }, /Account\.Hidden_Line__c .*field-level security/]
        ];
        for (const [customPhoneFields, message] of refusals) {
            const res = await settings({ matching: { customPhoneFields } }).expect(422);
            assert.equal(res.body.error.code, 'PHONE_FIELD_REFUSED');
            assert.match(res.body.error.message, message);
        }
        assert.deepEqual((await c.get('/api/v1/calls/settings').expect(200)).body, before, 'nothing changed');
    });

    test('a custom field of an object the API user cannot read is refused, naming the object access to grant', async () => {
        const revoke = (read: boolean) => {
            for (const set of [SEED.permissionSets.apiUser, SEED.profiles.apiOnly])
                c.h.emulator.state.updatePermissions(ACME, set, { objects: { Lead: { read } } });
        };
        revoke(false);
        try {
            c.mark();
            const res = await settings({ matching: { customPhoneFields: { Lead: ['Second_Line__c'] } } }).expect(422);
            assert.equal(res.body.error.code, 'PHONE_FIELD_REFUSED');
            assert.match(res.body.error.message, /Lead\.Second_Line__c .*cannot search Lead\. Grant read access on Lead/);
            assert.equal(res.body.error.field, 'Lead.Second_Line__c');
            assert.equal(total(c.spent()), 1, 'one Composite request');
        } finally {
            revoke(true);
        }
    });

    const invalid: Array<[string, unknown, RegExp]> = [
        ['a standard field as a custom one', { customPhoneFields: { Contact: ['Phone'] } }, /custom phone field/],
        ['SOSL in a field name', { customPhoneFields: { Contact: ['X__c) , User(Id'] } }, /custom phone field/],
        ['an unknown object', { customPhoneFields: { Case: ['X__c'] } }, /unknown fields: Case/],
        ['a field named twice', { customPhoneFields: { Lead: ['A__c', 'a__c'] } }, /twice/],
        ['a wrong order name', { order: ['objectType', 'byOwner'] }, /order\.1 must be one of objectType, ownedByAgent, lastModified/],
        ['a rule twice', { order: ['lastModified', 'lastModified'] }, /twice/],
        ['an object order missing one', { objectOrder: ['Lead', 'Contact'] }, /Contact, Lead and Account, each once/],
        ['an unknown region', { region: 'XX' }, /region/],
        ['an unknown key', { prefer: 'Contact' }, /unknown fields: prefer/]
    ];
    for (const [what, matching, message] of invalid) {
        test(`settings refuse ${what}: 400 VALIDATION_FAILED, asking Salesforce nothing`, async () => {
            c.mark();
            const res = await settings({ matching }).expect(400);
            assert.equal(res.body.error.code, 'VALIDATION_FAILED');
            assert.match(res.body.error.message, message);
            assert.equal(total(c.spent()), 0);
        });
    }

    test('lookups refuse a bad agentUserId', async () => {
        for (const agentUserId of ['0035e00000AbCdE', 'not-a-user', '00500000000000', '005000000000001ZZZ', 42]) {
            const res = await c.lookup({ phone: '4155551212', agentUserId }).expect(400);
            assert.equal(res.body.error.code, 'VALIDATION_FAILED');
            assert.match(res.body.error.message, /agentUserId (must be a User id|is not a well-formed Salesforce id)/);
        }
    });

    test('several matches come in the configured order: object order, most recently modified, owned by the agent', async () => {
        const order = async (body: object) => names((await c.lookup({ phone: '4155551212', ...body }).expect(200)).body);
        await settings({ matching: null }).expect(200);
        assert.deepEqual(await order({}), ['Contact:Jane Doe', 'Contact:John Roe', 'Account:Globex Corporation', 'Lead:Sam Lee']);
        await settings({ matching: { objectOrder: ['Lead', 'Account', 'Contact'] } }).expect(200);
        assert.deepEqual(await order({}), ['Lead:Sam Lee', 'Account:Globex Corporation', 'Contact:Jane Doe', 'Contact:John Roe']);
        // John Roe modified last: first among Contacts by default, first of all by lastModified alone
        c.h.clock.advance(1000);
        c.h.emulator.state.updateRecord(ACME, 'Contact', idOf('Contact', 'John Roe'), {
            LastModifiedDate: new Date(c.h.emulator.state.now() + 60_000).toISOString()
        });
        await settings({ matching: null }).expect(200);
        assert.deepEqual(await order({}), ['Contact:John Roe', 'Contact:Jane Doe', 'Account:Globex Corporation', 'Lead:Sam Lee']);
        // The agent owns Sam Lee: first once ownedByAgent leads, and only for that agent
        const agent = SEED.users.acmeApi.userId;
        c.h.emulator.state.updateRecord(ACME, 'Lead', idOf('Lead', 'Sam Lee'), {
            OwnerId: agent,
            LastModifiedDate: '2020-01-01T00:00:00.000Z'
        });
        await settings({ matching: { order: ['ownedByAgent', 'lastModified'] } }).expect(200);
        assert.deepEqual(await order({ agentUserId: agent.slice(0, 15) }), [
            'Lead:Sam Lee',
            'Contact:John Roe',
            'Contact:Jane Doe',
            'Account:Globex Corporation'
        ]);
        assert.deepEqual(await order({}), ['Contact:John Roe', 'Contact:Jane Doe', 'Account:Globex Corporation', 'Lead:Sam Lee']);
        const owned = (await c.lookup({ phone: '4155551212', agentUserId: agent }).expect(200)).body.matches[0];
        assert.equal(owned.ownerId, agent);
        const got = await c.get('/api/v1/calls/settings').expect(200);
        assert.deepEqual(got.body.matching.order, ['ownedByAgent', 'lastModified']);
        assert.equal(got.body.matching.isDefault, false);
        await settings({ matching: null }).expect(200);
        assert.equal((await c.get('/api/v1/calls/settings').expect(200)).body.matching.isDefault, true);
    });

    test('the region: numbers written without a country code are read in the account’s region unless the request names one', async () => {
        const inUs = await c.lookup({ phone: '020 7946 0958' });
        assert.equal(inUs.status, 400, 'not a possible US number');
        assert.match(inUs.body.error.message, /region US/);
        await settings({ matching: { region: 'GB' } }).expect(200);
        assert.deepEqual(names((await c.lookup({ phone: '020 7946 0958' }).expect(200)).body), [
            'Contact:Olivia Smith',
            'Lead:Harry Jones'
        ]);
        await settings({ matching: null }).expect(200);
    });

    test('Person Accounts: matched as Accounts once the backend has read the org’s fields, on their person phone fields', async () => {
        c.h.emulator.state.setOrgSettings(ACME, { personAccounts: true });
        // Read at link time, before the org had them: Maria's mobile is found only through her person contact
        assert.deepEqual(names((await c.lookup({ phone: '+1 415 555 0175' }).expect(200)).body), ['Contact:Maria Garcia']);
        await c.h.api(c.key).post('/api/v1/link/verify', {}).expect(200);
        const view = (await c.get('/api/v1/calls/settings').expect(200)).body.matching.searched;
        assert.equal(view.personAccounts, true);
        assert.deepEqual(view.fields.Account, [
            'Phone',
            'PersonMobilePhone',
            'PersonHomePhone',
            'PersonOtherPhone',
            'PersonAssistantPhone'
        ]);
        mark();
        const res = await c.lookup({ phone: '+1 415 555 0175' }).expect(200);
        oneCall();
        lookupResponse.parse(res.body);
        assert.equal(res.body.matches.length, 1, 'once, as the Account');
        const maria = res.body.matches[0];
        const account = c.h.emulator.state.records(ACME, 'Account').find((r) => r['Name'] === 'Maria Garcia')!;
        assert.deepEqual(
            { ...maria, lastModifiedDate: undefined, ownerId: undefined },
            {
                sobjectType: 'Account',
                id: account['Id'],
                name: 'Maria Garcia',
                isPersonAccount: true,
                personContactId: account['PersonContactId'],
                matchedOn: [{ field: 'PersonMobilePhone', value: '+1 (415) 555-0175' }],
                lastModifiedDate: undefined,
                ownerId: undefined
            }
        );
        // Lena Fischer's other phone is the demo number: she joins the others, as an Account
        assert.ok(names((await c.lookup({ phone: '4155551212' }).expect(200)).body).includes('Account:Lena Fischer'));
        assert.ok(!names((await c.lookup({ phone: '4155551212' }).expect(200)).body).includes('Contact:Lena Fischer'));
    });

    test('without a link: custom fields are refused (NOT_LINKED), the order and region are saved', async () => {
        const other = await c.h.newAccount('Unlinked matching');
        const put = (body: object) =>
            request(c.server).put('/api/v1/calls/settings').set('Authorization', `Bearer ${other.key}`).send(body);
        const refused = await put({ matching: { customPhoneFields: { Contact: ['Direct_Line__c'] } } }).expect(409);
        assert.equal(refused.body.error.code, 'NOT_LINKED');
        assert.match(refused.body.error.message, /Link it from the Contact Center Link card/);
        const saved = await put({ matching: { order: ['lastModified'], region: 'GB' } }).expect(200);
        assert.deepEqual(
            [saved.body.matching.order, saved.body.matching.region, saved.body.matching.searched],
            [['lastModified'], 'GB', undefined]
        );
        assert.equal((await put({}).expect(400)).body.error.code, 'VALIDATION_FAILED');
        assert.deepEqual((await put({ lookupReservePercent: 5 }).expect(200)).body.matching.order, ['lastModified'], 'the matching stays');
    });
});
