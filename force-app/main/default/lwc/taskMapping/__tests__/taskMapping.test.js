import { createElement } from '@lwc/engine-dom';
import TaskMapping from 'c/taskMapping';

jest.mock(
    '@salesforce/label/c.Ccl_TaskMappingSubjectHelp',
    () => ({ default: 'Placeholders: {0}' }),
    { virtual: true }
);
jest.mock(
    '@salesforce/label/c.Ccl_TaskMappingLineIncomplete',
    () => ({ default: 'Name the Task field of each value.' }),
    { virtual: true }
);

const SAVED = {
    subject: '{direction} call',
    recordType: null,
    relateContact: 'who',
    relateLead: 'who',
    relateAccount: 'what',
    isDefault: true,
    placeholders: ['{direction}', '{disposition}', '{phone}'],
    lines: [
        {
            disposition: null,
            field: 'CallDisposition',
            value: '{disposition}',
            kind: 'text'
        },
        { disposition: null, field: 'Type', value: 'Call', kind: 'text' }
    ]
};

function render(props) {
    const element = createElement('c-task-mapping', { is: TaskMapping });
    Object.assign(element, props);
    document.body.appendChild(element);
    return element;
}

const find = (element, id) =>
    element.shadowRoot.querySelector(`[data-id="${id}"]`);
const findAll = (element, id) => [
    ...element.shadowRoot.querySelectorAll(`[data-id="${id}"]`)
];

async function flush() {
    await Promise.resolve();
    await Promise.resolve();
}

function type(input, value) {
    input.value = value;
    input.dispatchEvent(new CustomEvent('change', { detail: { value } }));
}

describe('c-task-mapping', () => {
    afterEach(() => {
        while (document.body.firstChild) {
            document.body.removeChild(document.body.firstChild);
        }
    });

    it('shows the saved mapping: the Subject, its placeholders, the lines, that the default is in use', async () => {
        const element = render({ mapping: SAVED });
        await flush();
        expect(find(element, 'task-subject').value).toBe('{direction} call');
        expect(find(element, 'task-placeholders').textContent).toContain(
            '{direction}, {disposition}, {phone}'
        );
        expect(find(element, 'task-mapping-default')).not.toBeNull();
        expect(findAll(element, 'task-line-field').map((i) => i.value)).toEqual(
            ['CallDisposition', 'Type']
        );
        expect(find(element, 'task-relate-account').value).toBe('what');
        expect(find(element, 'task-mapping-error')).toBeNull();
        await expect(element).toBeAccessible();
    });

    it('raises savetaskmapping with the edited mapping in the backend’s shape', async () => {
        const element = render({ mapping: SAVED });
        const saved = jest.fn();
        element.addEventListener('savetaskmapping', saved);
        await flush();
        type(find(element, 'task-subject'), '{direction} call: {disposition}');
        type(find(element, 'task-record-type'), 'Support_Call');
        const contact = find(element, 'task-relate-contact');
        contact.value = 'who_and_account';
        contact.dispatchEvent(new CustomEvent('change'));
        find(element, 'task-add-line').click();
        await flush();
        const last = (id) => findAll(element, id).at(-1);
        type(last('task-line-disposition'), 'Voicemail');
        type(last('task-line-field'), 'Outcome__c');
        type(last('task-line-value'), 'No answer');
        findAll(element, 'task-line-remove')[1].click();
        await flush();
        find(element, 'task-mapping-save').click();
        expect(saved).toHaveBeenCalledTimes(1);
        expect(saved.mock.calls[0][0].detail.mapping).toEqual({
            subject: '{direction} call: {disposition}',
            defaultFields: { CallDisposition: '{disposition}' },
            dispositions: [
                {
                    disposition: 'Voicemail',
                    fields: { Outcome__c: 'No answer' }
                }
            ],
            recordType: 'Support_Call',
            relate: { contact: 'who_and_account', lead: 'who', account: 'what' }
        });
    });

    it('says inline what to fix: a value without its field, or the backend’s refusal; the draft stays', async () => {
        const element = render({ mapping: SAVED });
        const saved = jest.fn();
        element.addEventListener('savetaskmapping', saved);
        await flush();
        find(element, 'task-add-line').click();
        await flush();
        type(findAll(element, 'task-line-value').at(-1), 'Solved');
        find(element, 'task-mapping-save').click();
        await flush();
        expect(saved).not.toHaveBeenCalled();
        expect(find(element, 'task-mapping-error-message').textContent).toBe(
            'Name the Task field of each value.'
        );
        type(findAll(element, 'task-line-field').at(-1), 'Outcome__c');
        element.error = {
            code: 'TASK_FIELD_NOT_SETTABLE',
            message:
                'The API user cannot set Task.Outcome__c: give the API user edit access to Task.Outcome__c in its permission set.',
            subjects: ['Task.Outcome__c']
        };
        find(element, 'task-mapping-save').click();
        await flush();
        expect(saved).toHaveBeenCalledTimes(1);
        expect(find(element, 'task-mapping-error').getAttribute('role')).toBe(
            'alert'
        );
        expect(
            find(element, 'task-mapping-error-message').textContent
        ).toContain('give the API user edit access to Task.Outcome__c');
        expect(findAll(element, 'task-line-field').at(-1).value).toBe(
            'Outcome__c'
        );
        // The refused field's input is the one in an error state; the others and the record type are not.
        const fields = findAll(element, 'task-line-field');
        expect(fields.at(-1).dataset.refused).toBe('true');
        expect(
            fields.slice(0, -1).every((f) => f.dataset.refused !== 'true')
        ).toBe(true);
        expect(find(element, 'task-record-type').dataset.refused).not.toBe(
            'true'
        );
        // Changed by the admin, the field leaves the error state.
        type(fields.at(-1), 'Outcome2__c');
        await flush();
        expect(fields.at(-1).dataset.refused).toBe('false');
        await expect(element).toBeAccessible();
    });

    it('a saved mapping replaces the draft; Use the default raises null; the buttons wait while saving', async () => {
        const element = render({ mapping: SAVED, saving: true });
        const saved = jest.fn();
        element.addEventListener('savetaskmapping', saved);
        await flush();
        expect(find(element, 'task-mapping-save').disabled).toBe(true);
        element.saving = false;
        element.mapping = {
            ...SAVED,
            isDefault: false,
            checkedAt: '2026-03-01T09:00:00.000Z',
            lines: []
        };
        await flush();
        expect(findAll(element, 'task-line')).toHaveLength(0);
        expect(find(element, 'task-mapping-default')).toBeNull();
        expect(
            find(element, 'task-mapping-checked').querySelector(
                'lightning-formatted-date-time'
            ).value
        ).toBe('2026-03-01T09:00:00.000Z');
        find(element, 'task-mapping-reset').click();
        expect(saved.mock.calls[0][0].detail).toEqual({ mapping: null });
    });

    it('says when the mapping could not be read', async () => {
        const element = render({
            loadError: 'The backend could not be reached.'
        });
        await flush();
        expect(find(element, 'task-mapping-load-error').textContent).toContain(
            'The backend could not be reached.'
        );
        expect(find(element, 'task-subject')).toBeNull();
    });
});
