import {
    RELATE_CHOICES,
    draftOf,
    mappingOf,
    newLine
} from 'c/taskMappingRules';

const SAVED = {
    subject: '{direction} call: {disposition}',
    recordType: 'Support_Call',
    recordTypeId: '012000000000001AAA',
    relateContact: 'who_and_account',
    relateLead: 'who',
    relateAccount: 'none',
    isDefault: false,
    placeholders: ['{direction}', '{disposition}'],
    lines: [
        { disposition: null, field: 'Type', value: 'Call', kind: 'text' },
        { disposition: null, field: 'Rating__c', value: '5', kind: 'number' },
        {
            disposition: 'Voicemail',
            field: 'Status',
            value: 'Not Started',
            kind: 'text'
        },
        {
            disposition: 'Voicemail',
            field: 'Outcome__c',
            value: '',
            kind: 'text'
        }
    ]
};

describe('c/taskMappingRules', () => {
    it('makes the editor’s draft from the saved mapping, each line with its own key', () => {
        const draft = draftOf(SAVED);
        expect(draft.subject).toBe(SAVED.subject);
        expect(draft.recordType).toBe('Support_Call');
        expect(draft.relateContact).toBe('who_and_account');
        expect(draft.relateAccount).toBe('none');
        expect(
            draft.lines.map((l) => [l.disposition, l.field, l.value])
        ).toEqual([
            ['', 'Type', 'Call'],
            ['', 'Rating__c', '5'],
            ['Voicemail', 'Status', 'Not Started'],
            ['Voicemail', 'Outcome__c', '']
        ]);
        expect(new Set(draft.lines.map((l) => l.key)).size).toBe(4);
    });

    it('falls back to the default choices for what it does not know', () => {
        const draft = draftOf({ relateContact: 'everything' });
        expect(draft.subject).toBe('{direction} call');
        expect(draft.recordType).toBe('');
        expect(draft.relateContact).toBe(RELATE_CHOICES.contact[0]);
        expect(draft.lines).toEqual([]);
    });

    it('sends the draft back in the backend’s shape: the default row, one row per disposition, no record type as null', () => {
        const draft = draftOf(SAVED);
        draft.recordType = '  ';
        draft.lines.push(
            newLine('voicemail', 'CallDisposition', 'Left voicemail'),
            newLine('', 'Priority', ''),
            newLine()
        );
        expect(mappingOf(draft)).toEqual({
            mapping: {
                subject: SAVED.subject,
                defaultFields: { Type: 'Call', Rating__c: '5' },
                dispositions: [
                    {
                        disposition: 'Voicemail',
                        fields: {
                            Status: 'Not Started',
                            Outcome__c: '',
                            CallDisposition: 'Left voicemail'
                        }
                    }
                ],
                recordType: null,
                relate: {
                    contact: 'who_and_account',
                    lead: 'who',
                    account: 'none'
                }
            }
        });
    });

    it('refuses a value without its field', () => {
        const draft = draftOf(SAVED);
        draft.lines.push(newLine('Resolved', '', 'Solved'));
        expect(mappingOf(draft)).toEqual({ problem: 'field' });
    });
});
