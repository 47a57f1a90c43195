import { createElement } from '@lwc/engine-dom';
import KeptCalls from 'c/keptCalls';

jest.mock(
    '@salesforce/label/c.Ccl_KeptSummary',
    () => ({
        default: '{0} calls wait to be logged in Salesforce. Oldest call:'
    }),
    {
        virtual: true
    }
);
jest.mock('@salesforce/label/c.Ccl_KeptWhy', () => ({ default: 'Why: {0}.' }), {
    virtual: true
});
jest.mock(
    '@salesforce/label/c.Ccl_KeptReason_api_limit',
    () => ({ default: 'the org used up its daily API requests' }),
    {
        virtual: true
    }
);
jest.mock(
    '@salesforce/label/c.Ccl_KeptReason_needs_relink',
    () => ({ default: 'the link needs a relink' }),
    { virtual: true }
);
jest.mock(
    '@salesforce/label/c.Ccl_KeptAwaitingChoice',
    () => ({ default: '{0} of them were kept for another org ({1}).' }),
    {
        virtual: true
    }
);
jest.mock(
    '@salesforce/label/c.Ccl_KeptConfirmDrop',
    () => ({ default: 'Drop these {0} calls?' }),
    { virtual: true }
);
jest.mock(
    '@salesforce/label/c.Ccl_KeptBound',
    () => ({ default: 'Up to {0} calls wait, for at most {1} days.' }),
    {
        virtual: true
    }
);
jest.mock(
    '@salesforce/label/c.Ccl_GuardMessage',
    () => ({ default: '{0} of {1} left, under {2}.' }),
    { virtual: true }
);

const KEPT = {
    count: 3,
    awaitingChoice: 0,
    oldestCallAt: '2026-03-01T09:00:00.000Z',
    apiLimit: 1,
    needsRelink: 2,
    maxPerAccount: 10000,
    maxAgeDays: 14
};

function mount(status, busy = false) {
    const element = createElement('c-kept-calls', { is: KeptCalls });
    element.status = status;
    element.busy = busy;
    document.body.appendChild(element);
    return element;
}
const find = (element, id) =>
    element.shadowRoot.querySelector(`[data-id="${id}"]`);
const text = (element, id) =>
    find(element, id)?.textContent.replace(/\s+/g, ' ').trim();

describe('c-kept-calls', () => {
    afterEach(() => {
        while (document.body.firstChild)
            document.body.removeChild(document.body.firstChild);
    });

    it('shows nothing while no call waits and the guard does not hold', async () => {
        const element = mount({ status: 'linked' });
        await Promise.resolve();
        expect(find(element, 'kept-calls')).toBeNull();
        expect(find(element, 'api-guard')).toBeNull();
        await expect(element).toBeAccessible();
    });

    it('says how many calls wait, the oldest, why, that they will be logged, and the bound', async () => {
        const element = mount({ status: 'linked', keptTasks: KEPT });
        await Promise.resolve();
        expect(text(element, 'kept-summary')).toContain(
            '3 calls wait to be logged in Salesforce. Oldest call:'
        );
        expect(
            find(element, 'kept-summary').querySelector(
                'lightning-formatted-date-time'
            ).value
        ).toBe('2026-03-01T09:00:00.000Z');
        expect(text(element, 'kept-why')).toBe(
            'Why: the link needs a relink; the org used up its daily API requests.'
        );
        expect(find(element, 'kept-will-be-logged')).not.toBeNull();
        expect(text(element, 'kept-bound')).toBe(
            'Up to 10000 calls wait, for at most 14 days.'
        );
        expect(find(element, 'kept-make')).toBeNull();
        await expect(element).toBeAccessible();
    });

    it('offers to make or drop the calls kept for another org, and confirms a drop first', async () => {
        const element = mount({
            status: 'linked',
            keptTasks: {
                ...KEPT,
                awaitingChoice: 3,
                awaitingOrgId: '00D000000000002AAA'
            }
        });
        const choices = [];
        element.addEventListener('keptchoice', (event) =>
            choices.push(event.detail.choice)
        );
        await Promise.resolve();
        expect(text(element, 'kept-awaiting')).toBe(
            '3 of them were kept for another org (00D000000000002AAA).'
        );
        expect(find(element, 'kept-will-be-logged')).toBeNull();
        find(element, 'kept-make').click();
        expect(choices).toEqual(['make']);
        find(element, 'kept-drop').click();
        await Promise.resolve();
        expect(text(element, 'kept-confirm-drop')).toBe('Drop these 3 calls?');
        expect(choices).toEqual(['make']);
        find(element, 'kept-cancel').click();
        await Promise.resolve();
        expect(find(element, 'kept-confirm-drop')).toBeNull();
        find(element, 'kept-drop').click();
        await Promise.resolve();
        find(element, 'kept-confirm-drop-button').click();
        expect(choices).toEqual(['make', 'drop']);
        await expect(element).toBeAccessible();
    });

    it('asks to link first when the link does not work, and disables the buttons while busy', async () => {
        const kept = { ...KEPT, awaitingChoice: 1 };
        const unlinked = mount({ status: 'needs_relink', keptTasks: kept });
        await Promise.resolve();
        expect(find(unlinked, 'kept-make')).toBeNull();
        expect(find(unlinked, 'kept-link-first')).not.toBeNull();
        const busy = mount({ status: 'linked', keptTasks: kept }, true);
        await Promise.resolve();
        expect(find(busy, 'kept-make').disabled).toBe(true);
        expect(find(busy, 'kept-drop').disabled).toBe(true);
    });

    it('says the guard holds screen-pop lookups back, with the numbers', async () => {
        const element = mount({
            status: 'linked',
            apiGuard: {
                remaining: 40,
                max: 15000,
                reserve: 1500,
                since: '2026-03-01T09:00:00.000Z'
            }
        });
        await Promise.resolve();
        expect(text(element, 'api-guard-message')).toBe(
            '40 of 15000 left, under 1500.'
        );
        await expect(element).toBeAccessible();
    });
});
