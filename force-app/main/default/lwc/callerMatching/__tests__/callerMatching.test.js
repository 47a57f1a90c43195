import { createElement } from '@lwc/engine-dom';
import CallerMatching from 'c/callerMatching';

jest.mock(
    '@salesforce/label/c.Ccl_CallerMatchingFieldTwice',
    () => ({ default: '{0} is in the list already.' }),
    { virtual: true }
);
jest.mock(
    '@salesforce/label/c.Ccl_CallerMatchingFieldEmpty',
    () => ({ default: 'Type the API name of a {0} field first.' }),
    { virtual: true }
);
jest.mock(
    '@salesforce/label/c.Ccl_CallerMatchingNotSearched',
    () => ({ default: 'Not searched.' }),
    { virtual: true }
);

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
            customFields: [],
            searchedFields: ['Phone']
        }
    ],
    order: ['objectType', 'ownedByAgent', 'lastModified'],
    objectOrder: ['Contact', 'Account', 'Lead'],
    region: 'US',
    isDefault: false,
    checkedAt: '2026-03-01T09:00:00.000Z',
    personAccounts: false
};

function render(props) {
    const element = createElement('c-caller-matching', {
        is: CallerMatching
    });
    Object.assign(element, props);
    document.body.appendChild(element);
    return element;
}

const find = (element, selector) =>
    element.shadowRoot.querySelector(
        selector.startsWith('[') ? selector : `[data-id="${selector}"]`
    );
const findAll = (element, id) => [
    ...element.shadowRoot.querySelectorAll(`[data-id="${id}"]`)
];
/** An entry's up or down arrow, inside its c-order-buttons. */
const moveArrow = (buttons, direction) =>
    buttons.shadowRoot.querySelector(`[data-id="order-${direction}"]`);
const forObject = (element, id, object) =>
    find(element, `[data-id="${id}"][data-object="${object}"]`);

async function flush() {
    await Promise.resolve();
    await Promise.resolve();
}

function type(input, value) {
    input.value = value;
    input.dispatchEvent(new CustomEvent('change', { detail: { value } }));
}

describe('c-caller-matching', () => {
    afterEach(() => {
        while (document.body.firstChild) {
            document.body.removeChild(document.body.firstChild);
        }
    });

    it('shows what a lookup searches now, per object, with Person Accounts and when the fields were read', async () => {
        const element = render({ matching: SAVED });
        await flush();
        expect(
            forObject(element, 'caller-matching-searched-fields', 'Contact')
                .textContent
        ).toContain('Phone, MobilePhone, Direct_Line__c');
        expect(
            forObject(element, 'caller-matching-searched-fields', 'Lead')
                .textContent
        ).toContain('Not searched.');
        expect(find(element, 'caller-matching-person-accounts')).not.toBeNull();
        expect(
            find(element, 'caller-matching-checked').querySelector(
                'lightning-formatted-date-time'
            ).value
        ).toBe('2026-03-01T09:00:00.000Z');
        expect(find(element, 'caller-matching-not-read')).toBeNull();
        expect(find(element, 'caller-matching-default')).toBeNull();
        expect(
            findAll(element, 'caller-matching-field').map((li) =>
                li.textContent.trim()
            )
        ).toEqual(['Direct_Line__c']);
        await expect(element).toBeAccessible();
    });

    it('says when the org’s fields were never read', async () => {
        const element = render({
            matching: { ...SAVED, checkedAt: undefined, isDefault: true }
        });
        await flush();
        expect(find(element, 'caller-matching-not-read')).not.toBeNull();
        expect(find(element, 'caller-matching-searched')).toBeNull();
        expect(find(element, 'caller-matching-default')).not.toBeNull();
    });

    it('raises savecallermatching with the edited settings: a field added and one removed, rules and objects moved, the region', async () => {
        const element = render({ matching: SAVED });
        const saved = jest.fn();
        element.addEventListener('savecallermatching', saved);
        await flush();
        type(
            forObject(element, 'caller-matching-new-field', 'Lead'),
            'Alt_Phone__c'
        );
        forObject(element, 'caller-matching-add-field', 'Lead').click();
        await flush();
        find(
            element,
            '[data-id="caller-matching-remove-field"][data-name="Direct_Line__c"]'
        ).click();
        await flush();
        moveArrow(
            findAll(element, 'caller-matching-rule-arrows')[1],
            'up'
        ).click();
        await flush();
        const lastModified = findAll(element, 'caller-matching-rule-used')[2];
        lastModified.checked = false;
        lastModified.dispatchEvent(
            new CustomEvent('change', { detail: { checked: false } })
        );
        moveArrow(
            findAll(element, 'caller-matching-object-arrows')[0],
            'down'
        ).click();
        await flush();
        type(find(element, 'caller-matching-region'), 'gb');
        type(
            forObject(element, 'caller-matching-new-field', 'Account'),
            'Cell__pc'
        );
        find(element, 'caller-matching-save').click();
        expect(saved).toHaveBeenCalledTimes(1);
        expect(saved.mock.calls[0][0].detail.matching).toEqual({
            customPhoneFields: {
                Contact: [],
                Lead: ['Alt_Phone__c'],
                Account: ['Cell__pc']
            },
            order: ['ownedByAgent', 'objectType'],
            objectOrder: ['Account', 'Contact', 'Lead'],
            region: 'GB'
        });
        expect(
            findAll(element, 'caller-matching-ordered-object').map((li) =>
                li.textContent.trim()
            )
        ).toEqual(['1. Account', '2. Contact', '3. Lead']);
    });

    it('says inline what to fix: a field listed twice, or the backend’s refusal; the draft stays', async () => {
        const element = render({ matching: SAVED });
        const saved = jest.fn();
        element.addEventListener('savecallermatching', saved);
        await flush();
        forObject(element, 'caller-matching-add-field', 'Account').click();
        await flush();
        expect(find(element, 'caller-matching-error-message').textContent).toBe(
            'Type the API name of a Account field first.'
        );
        type(
            forObject(element, 'caller-matching-new-field', 'Contact'),
            'direct_line__c'
        );
        forObject(element, 'caller-matching-add-field', 'Contact').click();
        await flush();
        expect(find(element, 'caller-matching-error-message').textContent).toBe(
            'Contact.direct_line__c is in the list already.'
        );
        type(
            forObject(element, 'caller-matching-new-field', 'Contact'),
            'Nope__c'
        );
        forObject(element, 'caller-matching-add-field', 'Contact').click();
        element.error = {
            code: 'PHONE_FIELD_REFUSED',
            message:
                'The custom phone field Contact.Nope__c cannot be searched: the org has no such field, or the API user cannot read it.',
            subjects: ['Contact.Nope__c']
        };
        find(element, 'caller-matching-save').click();
        await flush();
        expect(saved).toHaveBeenCalledTimes(1);
        expect(
            find(element, 'caller-matching-error').getAttribute('role')
        ).toBe('alert');
        expect(
            find(element, 'caller-matching-error-message').textContent
        ).toContain('Contact.Nope__c cannot be searched');
        expect(
            findAll(element, 'caller-matching-field').map((li) =>
                li.textContent.trim()
            )
        ).toEqual(['Direct_Line__c', 'Nope__c']);
        // The refused field is the one marked; the one the org has is not.
        const names = findAll(element, 'caller-matching-field-name');
        expect(names.map((n) => n.dataset.refused)).toEqual(['false', 'true']);
        expect(names[1].classList).toContain('slds-text-color_error');
        expect(names[0].classList).not.toContain('slds-text-color_error');
        await expect(element).toBeAccessible();
    });

    it('a saved answer replaces the draft; Use the defaults raises null; the buttons wait while saving', async () => {
        const element = render({ matching: SAVED, saving: true });
        const saved = jest.fn();
        element.addEventListener('savecallermatching', saved);
        await flush();
        expect(find(element, 'caller-matching-save').disabled).toBe(true);
        element.saving = false;
        element.matching = {
            ...SAVED,
            objects: [{ sobjectType: 'Contact', customFields: [] }],
            isDefault: true
        };
        await flush();
        expect(findAll(element, 'caller-matching-field')).toHaveLength(0);
        expect(find(element, 'caller-matching-default')).not.toBeNull();
        find(element, 'caller-matching-reset').click();
        expect(saved.mock.calls[0][0].detail).toEqual({ matching: null });
    });

    it('says when the settings could not be read', async () => {
        const element = render({
            loadError: 'The backend could not be reached.'
        });
        await flush();
        expect(
            find(element, 'caller-matching-load-error').textContent
        ).toContain('The backend could not be reached.');
        expect(find(element, 'caller-matching-save')).toBeNull();
    });
});
