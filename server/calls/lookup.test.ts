import assert from 'node:assert/strict';
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
