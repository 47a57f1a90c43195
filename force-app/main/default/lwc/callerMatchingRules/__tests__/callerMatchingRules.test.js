import {
    MATCH_RULES,
    draftOf,
    matchingOf,
    moved,
    searchedNow,
    withField,
    withTypedFields,
    withoutField
} from 'c/callerMatchingRules';

const SAVED = {
    objects: [
        {
            sobjectType: 'Contact',
            customFields: ['Direct_Line__c'],
            searchedFields: ['Phone', 'MobilePhone', 'Direct_Line__c']
        },
        { sobjectType: 'Lead', customFields: [] },
        {
            sobjectType: 'Account',
            customFields: ['Cell__pc'],
            searchedFields: ['Phone', 'PersonMobilePhone']
        }
    ],
    order: ['ownedByAgent', 'objectType'],
    objectOrder: ['Lead', 'Contact', 'Account'],
    region: 'GB',
    isDefault: false,
    checkedAt: '2026-03-01T09:00:00.000Z',
    personAccounts: true
};

describe('c/callerMatchingRules', () => {
    it('makes the draft from the saved settings: the rules in use first, then those left out', () => {
        const draft = draftOf(SAVED);
        expect(draft.fields).toEqual({
            Contact: ['Direct_Line__c'],
            Lead: [],
            Account: ['Cell__pc']
        });
        expect(draft.rules).toEqual([
            { name: 'ownedByAgent', used: true },
            { name: 'objectType', used: true },
            { name: 'lastModified', used: false }
        ]);
        expect(draft.objectOrder).toEqual(['Lead', 'Contact', 'Account']);
        expect(draft.region).toBe('GB');
    });

    it('falls back to every rule and object for what it does not know, and drops unknown names', () => {
        const draft = draftOf({
            order: ['byMood', 'lastModified'],
            objectOrder: ['Case', 'Account']
        });
        expect(draft.rules.map((r) => [r.name, r.used])).toEqual([
            ['lastModified', true],
            ['objectType', false],
            ['ownedByAgent', false]
        ]);
        expect(draft.objectOrder).toEqual(['Account', 'Contact', 'Lead']);
        expect(draftOf(undefined).rules.map((r) => r.name)).toEqual(
            MATCH_RULES
        );
    });

    it('adds the typed field once, trimmed; refuses an empty name and a name listed already in any case', () => {
        let draft = draftOf(SAVED);
        draft.typed.Lead = '  Alt_Phone__c ';
        const added = withField(draft, 'Lead');
        expect(added.draft.fields.Lead).toEqual(['Alt_Phone__c']);
        expect(added.draft.typed.Lead).toBe('');
        expect(draft.fields.Lead).toEqual([]);
        draft = added.draft;
        expect(withField(draft, 'Lead')).toEqual({ problem: 'empty' });
        draft.typed.Contact = 'direct_line__C';
        expect(withField(draft, 'Contact')).toEqual({
            problem: 'twice',
            field: 'direct_line__C'
        });
        expect(
            withoutField(draft, 'Contact', 'Direct_Line__c').fields.Contact
        ).toEqual([]);
    });

    it('keeps on Save the names typed but not added, each once', () => {
        const draft = draftOf(SAVED);
        draft.typed = {
            Contact: 'DIRECT_LINE__C',
            Lead: ' Alt_Phone__c',
            Account: ''
        };
        const kept = withTypedFields(draft);
        expect(kept.fields).toEqual({
            Contact: ['Direct_Line__c'],
            Lead: ['Alt_Phone__c'],
            Account: ['Cell__pc']
        });
        expect(kept.typed.Lead).toBe('');
    });

    it('moves an item up or down, and leaves the list as it is at either end', () => {
        const list = ['Contact', 'Account', 'Lead'];
        expect(moved(list, 2, -1)).toEqual(['Contact', 'Lead', 'Account']);
        expect(moved(list, 0, 1)).toEqual(['Account', 'Contact', 'Lead']);
        expect(moved(list, 0, -1)).toBe(list);
        expect(moved(list, 2, 1)).toBe(list);
        expect(list).toEqual(['Contact', 'Account', 'Lead']);
    });

    it('sends every key in the backend’s shape: the rules in use in their order, the region in capitals', () => {
        const draft = draftOf(SAVED);
        draft.rules = moved(draft.rules, 2, -1);
        draft.rules[1] = { ...draft.rules[1], used: true };
        draft.region = ' fr ';
        expect(matchingOf(draft)).toEqual({
            customPhoneFields: {
                Contact: ['Direct_Line__c'],
                Lead: [],
                Account: ['Cell__pc']
            },
            order: ['ownedByAgent', 'lastModified', 'objectType'],
            objectOrder: ['Lead', 'Contact', 'Account'],
            region: 'FR'
        });
        draft.region = '  ';
        expect(matchingOf(draft)).not.toHaveProperty('region');
    });

    it('tells what a lookup searches now per object, and nothing before the org’s fields were read', () => {
        expect(searchedNow(SAVED)).toEqual([
            {
                sobjectType: 'Contact',
                searched: true,
                fields: 'Phone, MobilePhone, Direct_Line__c'
            },
            { sobjectType: 'Lead', searched: false, fields: '' },
            {
                sobjectType: 'Account',
                searched: true,
                fields: 'Phone, PersonMobilePhone'
            }
        ]);
        expect(searchedNow({ ...SAVED, checkedAt: undefined })).toBeUndefined();
        expect(searchedNow(undefined)).toBeUndefined();
    });
});
