import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { phoneFieldsFromPreflight, phoneFieldsOf } from './phoneFields.ts';

const AT = '2026-03-01T09:00:00.000Z';
const describe_ = (fields: Array<[string, string]>, extra: object = {}) => ({
    queryable: true,
    searchable: true,
    fields: fields.map(([name, type]) => ({ name, type })),
    ...extra
});

describe('the phone fields a lookup may ask for', () => {
    test('every phone-type field the describe lists (custom ones too), and the answer fields it has', () => {
        const facts = phoneFieldsOf(
            {
                Contact: describe_([
                    ['Id', 'id'],
                    ['Name', 'string'],
                    ['AccountId', 'reference'],
                    ['OwnerId', 'reference'],
                    ['LastModifiedDate', 'datetime'],
                    ['Phone', 'phone'],
                    ['MobilePhone', 'phone'],
                    ['Direct_Line__c', 'phone'],
                    ['Notes__c', 'string']
                ]),
                Lead: describe_([
                    ['Company', 'string'],
                    ['Phone', 'phone']
                ]),
                Account: describe_([['Phone', 'phone']])
            },
            AT
        );
        assert.deepEqual(facts, {
            checkedAt: AT,
            personAccounts: false,
            objects: {
                Contact: { phone: ['Phone', 'MobilePhone', 'Direct_Line__c'], answer: ['AccountId', 'OwnerId', 'LastModifiedDate'] },
                Lead: { phone: ['Phone'], answer: ['Company'] },
                Account: { phone: ['Phone'], answer: [] }
            }
        });
    });

    test('Person Accounts: Account describes IsPersonAccount and PersonContactId', () => {
        const account = describe_([
            ['IsPersonAccount', 'boolean'],
            ['PersonContactId', 'reference'],
            ['PersonMobilePhone', 'phone']
        ]);
        assert.equal(phoneFieldsOf({ Account: account }, AT).personAccounts, true);
        assert.equal(phoneFieldsOf({ Account: describe_([['IsPersonAccount', 'boolean']]) }, AT).personAccounts, false);
    });

    test('an object the user cannot query or search, or that was not described, is left out', () => {
        const facts = phoneFieldsOf(
            { Contact: describe_([['Phone', 'phone']], { searchable: false }), Lead: { message: 'no' }, Account: null },
            AT
        );
        assert.deepEqual(facts.objects, {});
    });

    test('from the preflight’s Composite answers: a refused describe is no object', () => {
        const results = new Map([
            ['Contact', { status: 200, body: describe_([['HomePhone', 'phone']]) }],
            ['Lead', { status: 403, body: [{ errorCode: 'INSUFFICIENT_ACCESS' }] }],
            ['Task', { status: 200, body: describe_([['Phone', 'phone']]) }]
        ]);
        assert.deepEqual(phoneFieldsFromPreflight(results, AT).objects, { Contact: { phone: ['HomePhone'], answer: [] } });
    });
});
