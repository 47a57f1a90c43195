import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { orderMatches, searchPlan } from './matching.ts';
import { returningClause } from './lookup.ts';
import type { PhoneFieldFacts } from '../store/types.ts';

const FACTS: PhoneFieldFacts = {
    checkedAt: '2026-03-01T09:00:00.000Z',
    personAccounts: true,
    objects: {
        Contact: { phone: ['Phone', 'MobilePhone', 'Fax', 'Direct_Line__c'], answer: ['AccountId', 'IsPersonAccount'] },
        Account: { phone: ['Phone', 'Fax', 'PersonMobilePhone', 'PersonHomePhone'], answer: ['IsPersonAccount', 'PersonContactId'] }
    }
};

describe('the search plan', () => {
    test('standard, Person Account and chosen custom fields, each only if the API user could read it', () => {
        const plan = searchPlan(FACTS, { customPhoneFields: { Contact: ['direct_line__c', 'Gone__c'] } });
        assert.deepEqual(plan, {
            Contact: { phone: ['Phone', 'MobilePhone', 'Direct_Line__c'], answer: ['AccountId', 'IsPersonAccount'] },
            Account: { phone: ['Phone', 'PersonMobilePhone', 'PersonHomePhone'], answer: ['IsPersonAccount', 'PersonContactId'] }
        });
        assert.equal(
            returningClause(plan),
            'Contact(Id, Name, AccountId, IsPersonAccount, Phone, MobilePhone, Direct_Line__c), Account(Id, Name, IsPersonAccount, PersonContactId, Phone, PersonMobilePhone, PersonHomePhone)',
            'Lead, which the API user cannot search, is not named'
        );
    });

    test('a name that is not a Salesforce field name never reaches the statement', () => {
        const odd: PhoneFieldFacts = { ...FACTS, objects: { Lead: { phone: ['Phone', 'X) , User(Id'], answer: ['Company'] } } };
        assert.deepEqual(searchPlan(odd, undefined), { Lead: { phone: ['Phone'], answer: ['Company'] } });
    });

    test('before the org’s fields were read: Phone, as lookups always asked', () => {
        assert.equal(
            returningClause(searchPlan(undefined, undefined)),
            'Contact(Id, Name, AccountId, Phone), Lead(Id, Name, Company, Phone), Account(Id, Name, Phone)'
        );
    });
});

describe('the order of several matches', () => {
    const m = (sobjectType: 'Contact' | 'Lead' | 'Account', name: string, ownerId?: string, lastModifiedDate?: string) => ({
        sobjectType,
        name,
        ...(ownerId ? { ownerId } : {}),
        ...(lastModifiedDate ? { lastModifiedDate } : {})
    });
    const agent = '005000000000009AAA';
    const matches = [
        m('Lead', 'lead', agent, '2026-01-03T00:00:00Z'),
        m('Account', 'account', undefined, '2026-01-02T00:00:00Z'),
        m('Contact', 'old contact', undefined, '2026-01-01T00:00:00Z'),
        m('Contact', 'new contact', undefined, '2026-01-04T00:00:00Z'),
        m('Contact', 'undated contact')
    ];
    const names = (list: Array<{ name: string }>) => list.map((x) => x.name);

    test('by default: object (Contact, Account, Lead), then the agent’s own, then the newest', () => {
        assert.deepEqual(names(orderMatches(matches, undefined, agent)), [
            'new contact',
            'old contact',
            'undated contact',
            'account',
            'lead'
        ]);
    });
    test('the agent’s own first, compared on 15 characters', () => {
        const order = { order: ['ownedByAgent', 'objectType'] };
        assert.deepEqual(names(orderMatches(matches, order, agent.slice(0, 15))), [
            'lead',
            'old contact',
            'new contact',
            'undated contact',
            'account'
        ]);
        assert.deepEqual(names(orderMatches(matches, order)), ['old contact', 'new contact', 'undated contact', 'account', 'lead']);
    });
    test('another object order; no rule at all keeps Salesforce’s order', () => {
        assert.deepEqual(names(orderMatches(matches, { objectOrder: ['Lead', 'Account', 'Contact'], order: ['objectType'] })), [
            'lead',
            'account',
            'old contact',
            'new contact',
            'undated contact'
        ]);
        assert.deepEqual(names(orderMatches(matches, { order: [] })), names(matches));
    });
});
