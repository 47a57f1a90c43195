import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Connection } from 'jsforce';
import { PERSON_ACCOUNT_SEEDS, SEED, type Emulator } from '../index.ts';
import type { Person } from '../driver.ts';
import { connectAs, control, link, PEOPLE, start } from './helpers.ts';

let em: Emulator;
before(async () => {
    em = await start();
});
after(() => em.close());
beforeEach(() => em.state.reset());

const connect = (person: Person = PEOPLE.acmeApi): Promise<Connection> => connectAs(em, person);

type Found = { searchRecords: Array<Record<string, unknown>> };
const names = (r: Found): string[] => r.searchRecords.map((x) => `${(x['attributes'] as { type: string }).type}:${String(x['Name'])}`);
const find = (conn: Connection, term: string, returning: string): Promise<Found> =>
    conn.search(`FIND {${term}} IN PHONE FIELDS RETURNING ${returning}`);
const ALL = 'Contact(Id, Name), Lead(Id, Name), Account(Id, Name)';

describe('phone fields and SOSL IN PHONE FIELDS', () => {
    it('searches every standard phone field: Phone, MobilePhone, HomePhone, OtherPhone, AssistantPhone and Fax', async () => {
        const fields = {
            Phone: '16285550101',
            MobilePhone: '16285550102',
            HomePhone: '16285550103',
            OtherPhone: '16285550104',
            AssistantPhone: '16285550105',
            Fax: '16285550106'
        };
        for (const [field, number] of Object.entries(fields))
            em.state.insertRecord('acme', 'Contact', { LastName: field, [field]: number });
        em.state.insertRecord('acme', 'Lead', { LastName: 'LeadMobile', Company: 'X', MobilePhone: '(628) 555-0107' });
        em.state.insertRecord('acme', 'Lead', { LastName: 'LeadFax', Company: 'X', Fax: '628.555.0108' });
        em.state.insertRecord('acme', 'Account', { Name: 'AccountFax', Fax: '+1 628 555 0109' });
        const conn = await connect();
        for (const [field, number] of Object.entries(fields))
            assert.deepEqual(names(await find(conn, number.slice(1), ALL)), [`Contact:${field}`]);
        assert.deepEqual(names(await find(conn, '6285550107', ALL)), ['Lead:LeadMobile']);
        assert.deepEqual(names(await find(conn, '6285550108', ALL)), ['Lead:LeadFax']);
        assert.deepEqual(names(await find(conn, '\\+16285550109', ALL)), ['Account:AccountFax']);
    });

    it('matches numbers stored in any shape, an extension ignored', async () => {
        const shapes = [
            '(628) 555-0134',
            '+1 628-555-0134',
            '628.555.0134',
            '1 628 555 0134',
            '+16285550134',
            '(628) 555-0134 ext. 12',
            '628-555-0134 x345',
            '+1 628 555 0134 #9'
        ];
        shapes.forEach((phone, i) => em.state.insertRecord('acme', 'Contact', { LastName: `Shape${i}`, Phone: phone }));
        em.state.insertRecord('acme', 'Contact', { LastName: 'Other', Phone: '(628) 555-0135' });
        const conn = await connect();
        const expected = shapes.map((_, i) => `Contact:Shape${i}`);
        assert.deepEqual(names(await find(conn, '6285550134', 'Contact(Id, Name)')), expected);
        assert.deepEqual(names(await find(conn, '\\+16285550134', 'Contact(Id, Name)')), expected);
        assert.deepEqual(names(await find(conn, '16285550134 OR 6285550134', 'Contact(Id, Name)')), expected);
    });

    it('searches custom phone fields (type phone) per org, under field-level security', async () => {
        em.state.addCustomField('acme', 'Contact', { name: 'Direct_Line__c', label: 'Direct Line', type: 'phone' });
        em.state.addCustomField('acme', 'Lead', { name: 'Notes__c', type: 'string' });
        em.state.insertRecord('acme', 'Contact', { LastName: 'Custom', Direct_Line__c: '+1 (628) 555-0150' });
        em.state.insertRecord('acme', 'Lead', { LastName: 'NotAPhone', Company: 'X', Notes__c: '6285550150' });
        const conn = await connect();
        assert.deepEqual(names(await find(conn, '6285550150', ALL)), ['Contact:Custom']);
        const r = await find(conn, '6285550150', 'Contact(Id, Name, Direct_Line__c)');
        assert.equal(r.searchRecords[0]!['Direct_Line__c'], '+1 (628) 555-0150');
        const field = (await conn.sobject('Contact').describe()).fields.find((f) => f.name === 'Direct_Line__c')!;
        assert.deepEqual([field.type, field.custom, field.length, field.label], ['phone', true, 40, 'Direct Line']);
        // the API user's profile loses the field: it is neither described nor searched
        em.state.updatePermissions('acme', SEED.profiles.apiOnly, { fields: { 'Contact.Direct_Line__c': { read: false, edit: false } } });
        assert.deepEqual(names(await find(conn, '6285550150', ALL)), []);
        assert.equal(
            (await conn.sobject('Contact').describe()).fields.some((f) => f.name === 'Direct_Line__c'),
            false
        );
        // another org has no such field
        const uat = await link(em, PEOPLE.uatApi, 'sandbox');
        const uconn = new Connection({ instanceUrl: uat.instance_url, accessToken: uat.access_token, version: '62.0' });
        await assert.rejects(Promise.resolve(uconn.query('SELECT Direct_Line__c FROM Contact')), { name: 'INVALID_FIELD' });
    });

    it('searches custom phone fields of Lead and Account, and a person account’s __pc copy of a Contact one', async () => {
        em.state.addCustomField('acme', 'Lead', { name: 'Second_Line__c', type: 'phone' });
        em.state.addCustomField('acme', 'Account', { name: 'Switchboard__c', type: 'phone' });
        em.state.addCustomField('acme', 'Contact', { name: 'Direct_Line__c', type: 'phone' });
        em.state.setOrgSettings('acme', { personAccounts: true });
        em.state.insertRecord('acme', 'Lead', { LastName: 'LeadCustom', Company: 'X', Second_Line__c: '628-555-0161' });
        em.state.insertRecord('acme', 'Account', { Name: 'AccountCustom', Switchboard__c: '(628) 555-0162 x 10' });
        em.state.insertRecord('acme', 'Account', {
            FirstName: 'Pat',
            LastName: 'Person',
            IsPersonAccount: true,
            Direct_Line__pc: '+1 628 555 0163'
        });
        const conn = await connect();
        assert.deepEqual(names(await find(conn, '6285550161', ALL)), ['Lead:LeadCustom']);
        assert.deepEqual(names(await find(conn, '\\+16285550162', ALL)), ['Account:AccountCustom']);
        const person = await find(
            conn,
            '6285550163',
            'Contact(Id, Name, IsPersonAccount, Direct_Line__c), Account(Id, Name, Direct_Line__pc)'
        );
        assert.deepEqual(names(person), ['Contact:Pat Person', 'Account:Pat Person'], 'the person account and its person contact');
        assert.equal(person.searchRecords[1]!['Direct_Line__pc'], '+1 628 555 0163');
    });

    it('keeps OwnerId and LastModifiedDate on records, settable by the control API, for ordering', async () => {
        const conn = await connect();
        const [jane] = (await conn.query<any>("SELECT Id, OwnerId, LastModifiedDate FROM Contact WHERE LastName = 'Doe'")).records;
        assert.equal(jane.OwnerId, SEED.users.acmeAdmin.userId);
        const later = new Date(em.state.now() + 60_000).toISOString();
        const res = await control(em, 'PATCH', `orgs/acme/records/Contact/${jane.Id}`, {
            OwnerId: SEED.users.acmeApi.userId,
            LastModifiedDate: later
        });
        assert.equal(res.status, 200);
        const ordered = await conn.query<any>('SELECT Name, OwnerId FROM Contact ORDER BY LastModifiedDate DESC LIMIT 1');
        assert.deepEqual([ordered.records[0].Name, ordered.records[0].OwnerId], ['Jane Doe', SEED.users.acmeApi.userId]);
        assert.equal((await control(em, 'PATCH', 'orgs/acme/records/Contact/003000000000000AAA', {})).status, 400);
        // a REST update moves LastModifiedDate
        em.state.advanceTime(120_000);
        await conn.sobject('Task').create({ Subject: 'x' });
        const [task] = em.state.tasks('acme');
        await conn.sobject('Task').update({ Id: String(task!['Id']), Subject: 'y' });
        assert.ok(Date.parse(String(em.state.tasks('acme')[0]!['LastModifiedDate'])) > Date.parse(later));
    });
});

describe('Person Accounts', () => {
    it('are off by default: Account has no person fields and the seeds answer as before', async () => {
        const conn = await connect();
        const d = await conn.sobject('Account').describe();
        assert.equal(
            d.fields.some((f) => f.name === 'PersonMobilePhone' || f.name === 'IsPersonAccount'),
            false
        );
        await assert.rejects(Promise.resolve(conn.query('SELECT PersonMobilePhone FROM Account')), { name: 'INVALID_FIELD' });
        assert.deepEqual(names(await find(conn, '4155551212', ALL)), [
            'Contact:Jane Doe',
            'Contact:John Roe',
            'Lead:Sam Lee',
            'Account:Globex Corporation'
        ]);
    });

    it('once on, add the person fields, record types and seeds; every phone field of a person account is searched', async () => {
        assert.deepEqual((await control(em, 'POST', 'orgs/acme/settings', { personAccounts: true })).body, { personAccounts: true });
        const conn = await connect();
        const d = await conn.sobject('Account').describe();
        for (const name of [
            'IsPersonAccount',
            'PersonContactId',
            'FirstName',
            'LastName',
            'PersonMobilePhone',
            'PersonHomePhone',
            'PersonOtherPhone',
            'PersonAssistantPhone',
            'RecordTypeId'
        ])
            assert.ok(
                d.fields.some((f) => f.name === name),
                name
            );
        assert.equal(d.fields.find((f) => f.name === 'PersonMobilePhone')!.type, 'phone');
        assert.ok((await conn.sobject('Contact').describe()).fields.some((f) => f.name === 'IsPersonAccount'));
        const rts = await conn.query<any>(
            "SELECT DeveloperName, IsPersonType FROM RecordType WHERE SobjectType = 'Account' ORDER BY DeveloperName"
        );
        assert.deepEqual(
            rts.records.map((r: any) => [r.DeveloperName, r.IsPersonType]),
            [
                ['Business_Account', false],
                ['PersonAccount', true]
            ]
        );
        const people = await conn.query<any>(
            'SELECT Name, IsPersonAccount, PersonContactId, PersonMobilePhone FROM Account WHERE IsPersonAccount = true ORDER BY Name'
        );
        assert.deepEqual(
            people.records.map((r: any) => r.Name),
            PERSON_ACCOUNT_SEEDS.map((s) => `${s.FirstName} ${s.LastName}`).sort()
        );
        assert.equal((await conn.query('SELECT Id FROM Account WHERE IsPersonAccount = false')).totalSize, 3, 'the business accounts');
        // the demo number is now also Lena Fischer's other phone: her account and her person contact
        assert.deepEqual(names(await find(conn, '4155551212', ALL)), [
            'Contact:Jane Doe',
            'Contact:John Roe',
            'Contact:Lena Fischer',
            'Lead:Sam Lee',
            'Account:Globex Corporation',
            'Account:Lena Fischer'
        ]);
        const maria = await find(
            conn,
            '\\+14155550175',
            'Account(Id, Name, IsPersonAccount, PersonMobilePhone, PersonContactId), Contact(Id, Name, IsPersonAccount, AccountId, MobilePhone)'
        );
        const [account, contact] = maria.searchRecords as any[];
        assert.equal(account.IsPersonAccount, true);
        assert.equal(account.PersonMobilePhone, '+1 (415) 555-0175');
        assert.equal(contact.Id, account.PersonContactId);
        assert.equal(contact.AccountId, account.Id);
        assert.equal(contact.IsPersonAccount, true);
        assert.equal(contact.MobilePhone, '+1 (415) 555-0175');
        assert.deepEqual(names(await find(conn, '4155550176', 'Account(Id, Name)')), ['Account:Maria Garcia'], 'PersonHomePhone');
        assert.deepEqual(names(await find(conn, '4155550190', 'Account(Id, Name)')), ['Account:Lena Fischer'], 'PersonAssistantPhone');
    });

    it('are created over REST with the person account record type, their person contact following', async () => {
        em.state.setOrgSettings('acme', { personAccounts: true });
        const admin = await connect(PEOPLE.acmeAdmin);
        const [person] = (await admin.query<any>("SELECT Id FROM RecordType WHERE SobjectType = 'Account' AND IsPersonType = true"))
            .records;
        await assert.rejects(admin.sobject('Account').create({ RecordTypeId: person.Id, FirstName: 'No' }), (e: Error) => {
            assert.equal(e.name, 'REQUIRED_FIELD_MISSING');
            assert.match(e.message, /\[LastName\]/);
            return true;
        });
        const res = await admin
            .sobject('Account')
            .create({ RecordTypeId: person.Id, FirstName: 'Ada', LastName: 'Lovelace', PersonMobilePhone: '07700 900456' });
        const [acc] = (await admin.query<any>(`SELECT Name, IsPersonAccount, PersonContactId FROM Account WHERE Id = '${res.id}'`)).records;
        assert.deepEqual([acc.Name, acc.IsPersonAccount], ['Ada Lovelace', true]);
        const [pc] = (
            await admin.query<any>(`SELECT Name, MobilePhone, IsPersonAccount, AccountId FROM Contact WHERE Id = '${acc.PersonContactId}'`)
        ).records;
        assert.deepEqual([pc.Name, pc.MobilePhone, pc.IsPersonAccount, pc.AccountId], ['Ada Lovelace', '07700 900456', true, res.id]);
        await admin.sobject('Account').update({ Id: res.id!, PersonMobilePhone: '07700 900457' });
        assert.equal(
            (await admin.query<any>(`SELECT MobilePhone FROM Contact WHERE Id = '${acc.PersonContactId}'`)).records[0].MobilePhone,
            '07700 900457'
        );
        const business = await admin.sobject('Account').create({ Name: 'Business Co' });
        assert.equal(
            (await admin.query<any>(`SELECT IsPersonAccount FROM Account WHERE Id = '${business.id}'`)).records[0].IsPersonAccount,
            false
        );
        await assert.rejects(admin.sobject('Account').create({ LastName: 'Nameless' }), { name: 'REQUIRED_FIELD_MISSING' });
    });

    it('follow the Contact fields’ field-level security and carry Contact custom fields as __pc', async () => {
        em.state.setOrgSettings('acme', { personAccounts: true });
        em.state.addCustomField('acme', 'Contact', { name: 'Direct_Line__c', type: 'phone' });
        const conn = await connect();
        const d = await conn.sobject('Account').describe();
        assert.ok(d.fields.some((f) => f.name === 'Direct_Line__pc'));
        em.state.updatePermissions('acme', SEED.permissionSets.apiUser, { fields: { 'Contact.MobilePhone': { read: false } } });
        assert.equal(
            (await conn.sobject('Account').describe()).fields.some((f) => f.name === 'PersonMobilePhone'),
            false
        );
        assert.deepEqual(names(await find(conn, '4155550175', 'Account(Id, Name)')), [], 'Maria’s mobile is not searched for this user');
        assert.deepEqual(names(await find(conn, '4155550176', 'Account(Id, Name)')), ['Account:Maria Garcia']);
    });

    it('cannot be turned off, and the setting is checked', async () => {
        em.state.setOrgSettings('acme', { personAccounts: true });
        assert.throws(() => em.state.setOrgSettings('acme', { personAccounts: false }), /cannot be turned off/);
        assert.equal((await control(em, 'POST', 'orgs/acme/settings', { personAccounts: 'yes' })).status, 400);
        assert.deepEqual(em.state.org('acmeUat').settings, { personAccounts: false });
    });
});
