import { createElement } from '@lwc/engine-dom';
import LightningConfirm from 'lightning/confirm';
import ContactCenterLink from 'c/contactCenterLink';
import getStatus from '@salesforce/apex/ContactCenterLinkController.getStatus';
import startLink from '@salesforce/apex/ContactCenterLinkController.startLink';
import getLinkSession from '@salesforce/apex/ContactCenterLinkController.getLinkSession';
import verifyLink from '@salesforce/apex/ContactCenterLinkController.verify';
import unlinkOrg from '@salesforce/apex/ContactCenterLinkController.unlink';
import getActivity from '@salesforce/apex/ContactCenterLinkController.getActivity';
import getWebhookDeliveries from '@salesforce/apex/ContactCenterLinkController.getWebhookDeliveries';
import getSetupState from '@salesforce/apex/ContactCenterLinkSetup.getSetupState';
import getOrgKeyState from '@salesforce/apex/ContactCenterLinkOrgKey.getOrgKeyState';
import saveOrgKey from '@salesforce/apex/ContactCenterLinkOrgKey.saveOrgKey';
import decideKeptTasks from '@salesforce/apex/ContactCenterLinkController.decideKeptTasks';
import getTaskMapping from '@salesforce/apex/ContactCenterLinkController.getTaskMapping';
import saveTaskMapping from '@salesforce/apex/ContactCenterLinkController.saveTaskMapping';
import getCallerMatching from '@salesforce/apex/ContactCenterLinkController.getCallerMatching';
import saveCallerMatching from '@salesforce/apex/ContactCenterLinkController.saveCallerMatching';

jest.mock(
    '@salesforce/apex/ContactCenterLinkController.getCallerMatching',
    () => ({ default: jest.fn() }),
    { virtual: true }
);
jest.mock(
    '@salesforce/apex/ContactCenterLinkController.saveCallerMatching',
    () => ({ default: jest.fn() }),
    { virtual: true }
);

jest.mock(
    '@salesforce/apex/ContactCenterLinkController.getTaskMapping',
    () => ({ default: jest.fn() }),
    { virtual: true }
);
jest.mock(
    '@salesforce/apex/ContactCenterLinkController.saveTaskMapping',
    () => ({ default: jest.fn() }),
    { virtual: true }
);

jest.mock(
    '@salesforce/apex/ContactCenterLinkController.getStatus',
    () => ({ default: jest.fn() }),
    { virtual: true }
);
jest.mock(
    '@salesforce/apex/ContactCenterLinkController.startLink',
    () => ({ default: jest.fn() }),
    { virtual: true }
);
jest.mock(
    '@salesforce/apex/ContactCenterLinkController.getLinkSession',
    () => ({ default: jest.fn() }),
    { virtual: true }
);
jest.mock(
    '@salesforce/apex/ContactCenterLinkController.verify',
    () => ({ default: jest.fn() }),
    { virtual: true }
);
jest.mock(
    '@salesforce/apex/ContactCenterLinkController.unlink',
    () => ({ default: jest.fn() }),
    { virtual: true }
);
jest.mock(
    '@salesforce/apex/ContactCenterLinkController.getActivity',
    () => ({ default: jest.fn() }),
    { virtual: true }
);
jest.mock(
    '@salesforce/apex/ContactCenterLinkController.getWebhookDeliveries',
    () => ({ default: jest.fn() }),
    { virtual: true }
);
jest.mock(
    '@salesforce/apex/ContactCenterLinkController.decideKeptTasks',
    () => ({ default: jest.fn() }),
    { virtual: true }
);
jest.mock(
    '@salesforce/label/c.Ccl_ToastKeptDroppedMessage',
    () => ({ default: '{0} calls were dropped.' }),
    { virtual: true }
);
jest.mock(
    '@salesforce/label/c.Ccl_DeliveriesLoadFailed',
    () => ({ default: 'The webhook deliveries could not be read: {0}' }),
    { virtual: true }
);
jest.mock('@salesforce/label/c.Ccl_ActivityBy', () => ({ default: 'by {0}' }), {
    virtual: true
});
jest.mock(
    '@salesforce/label/c.Ccl_ActivityLoadFailed',
    () => ({ default: 'The activity could not be read: {0}' }),
    { virtual: true }
);
jest.mock(
    '@salesforce/apex/ContactCenterLinkSetup.getSetupState',
    () => ({ default: jest.fn() }),
    { virtual: true }
);
jest.mock(
    '@salesforce/label/c.Ccl_OrgKeyAskAdmins',
    () => ({
        default: 'Ask a Contact Center Link admin to enter the key: {0}.'
    }),
    { virtual: true }
);
jest.mock(
    '@salesforce/apex/ContactCenterLinkOrgKey.getOrgKeyState',
    () => ({ default: jest.fn() }),
    { virtual: true }
);
jest.mock(
    '@salesforce/apex/ContactCenterLinkOrgKey.saveOrgKey',
    () => ({ default: jest.fn() }),
    { virtual: true }
);
jest.mock(
    '@salesforce/label/c.Ccl_AppNotInstalled',
    () => ({ default: 'The {0} OAuth package is not installed in this org.' }),
    { virtual: true }
);
jest.mock(
    '@salesforce/label/c.Ccl_GuidanceOwnSession',
    () => ({ default: 'Linking this org signs in to {0} as the API user.' }),
    { virtual: true }
);
jest.mock(
    '@salesforce/label/c.Ccl_ToastLinkedMessage',
    () => ({ default: 'Now linked as {0}.' }),
    { virtual: true }
);

const STATUS_UNLINKED = require('../../linkStatusCard/__tests__/data/statusUnlinked.json');
const STATUS_LINKED = require('../../linkStatusCard/__tests__/data/statusLinked.json');
const STATUS_NEEDS_RELINK = require('../../linkStatusCard/__tests__/data/statusNeedsRelink.json');
const STATUS_LEGACY = require('../../linkStatusCard/__tests__/data/statusLegacy.json');
const LINK_SESSION = require('./data/linkSession.json');
const SESSION_PENDING = require('./data/sessionPending.json');
const SESSION_LINKED = require('./data/sessionLinked.json');
const SESSION_FAILED = require('./data/sessionFailed.json');
const SESSION_EXPIRED = require('./data/sessionExpired.json');
const UNLINK_REVOKED = require('./data/unlinkRevoked.json');
const UNLINK_NOT_REVOKED = require('./data/unlinkNotRevoked.json');
const ACTIVITY_FIRST_PAGE = require('./data/activityFirstPage.json');
const ACTIVITY_LAST_PAGE = require('./data/activityLastPage.json');
const WEBHOOK_DELIVERIES = require('../../linkStatusCard/__tests__/data/webhookDeliveries.json');
/** What ContactCenterLinkOrgKey.getOrgKeyState answers in an org whose External Credential holds the key. */
const KEY_SET = {
    keyState: 'set',
    backendUrl: 'https://ccl.example.com',
    canManage: true,
    environment: 'production',
    refreshedAt: null,
    admins: []
};
/** ...and in a sandbox just refreshed, which has none. */
const KEY_MISSING_IN_SANDBOX = {
    ...KEY_SET,
    keyState: 'missing',
    environment: 'sandbox',
    refreshedAt: '2024-05-01T08:00:00.000Z'
};
const SANDBOX_KEY = 'ccl_Sandbox0Account0Key_0123456789abcdefghijkl';
/** What getWebhookDeliveries answers when the org's key may not read them (the account has a platform key). */
const DELIVERIES_NOT_ALLOWED = { allowed: false, deliveries: [] };

// The fixtures' link session was created at 10:00 and expires at 10:10.
const NOW = Date.parse('2024-05-01T10:00:00.000Z');
const AUTHORIZE_ORIGIN = 'https://ccl.example.com';
const POLL_MS = 2000;

function apexError(message) {
    return { body: { message }, status: 500 };
}

/** What ContactCenterLinkController throws: an AuraHandledException whose message is {"code","message"}. */
function codedApexError(code, message) {
    return apexError(JSON.stringify({ code, message }));
}

async function flushPromises() {
    for (let i = 0; i < 10; i++) {
        // eslint-disable-next-line no-await-in-loop
        await Promise.resolve();
    }
}

async function advance(ms) {
    await jest.advanceTimersByTimeAsync(ms);
    await flushPromises();
}

async function createComponent() {
    const element = createElement('c-contact-center-link', {
        is: ContactCenterLink
    });
    const toasts = jest.fn();
    element.addEventListener('lightning__showtoast', toasts);
    document.body.appendChild(element);
    await flushPromises();
    return { element, toasts };
}

function card(element) {
    return element.shadowRoot.querySelector('c-link-status-card');
}

function cardPart(element, dataId) {
    return card(element).shadowRoot.querySelector(`[data-id="${dataId}"]`);
}

/** A part of one of the card's event lists (c-link-event-list): 'activity' or 'webhook-deliveries'. */
function listPart(element, list, dataId) {
    const host = cardPart(element, list);
    return host ? host.shadowRoot.querySelector(`[data-id="${dataId}"]`) : null;
}

function listEntries(element, list) {
    const host = cardPart(element, list);
    return host
        ? [...host.shadowRoot.querySelectorAll('[data-id="entry"]')]
        : [];
}

async function chooseEnvironment(element, environment) {
    cardPart(element, 'link-menu').dispatchEvent(
        new CustomEvent('select', { detail: { value: environment } })
    );
    await flushPromises();
}

async function postFromCallback(origin, data) {
    window.dispatchEvent(new MessageEvent('message', { origin, data }));
    await flushPromises();
}

function lastToast(toasts) {
    const calls = toasts.mock.calls;
    return calls.length ? calls[calls.length - 1][0].detail : undefined;
}

const DEFAULT_MAPPING = {
    subject: '{direction} call',
    recordType: null,
    relateContact: 'who',
    relateLead: 'who',
    relateAccount: 'what',
    isDefault: true,
    placeholders: ['{direction}'],
    lines: [
        {
            disposition: null,
            field: 'Type',
            value: 'Call',
            kind: 'text'
        }
    ]
};

const DEFAULT_MATCHING = {
    objects: [
        {
            sobjectType: 'Contact',
            customFields: [],
            searchedFields: ['Phone', 'MobilePhone']
        },
        { sobjectType: 'Lead', customFields: [] },
        { sobjectType: 'Account', customFields: [] }
    ],
    order: ['objectType', 'ownedByAgent', 'lastModified'],
    objectOrder: ['Contact', 'Account', 'Lead'],
    region: 'US',
    isDefault: true,
    checkedAt: '2024-05-01T10:00:00.000Z',
    personAccounts: false
};

describe('c-contact-center-link', () => {
    let openWindow;

    beforeEach(() => {
        jest.useFakeTimers({ now: NOW });
        openWindow = jest.spyOn(window, 'open').mockReturnValue({});
        getStatus.mockResolvedValue(STATUS_UNLINKED);
        startLink.mockResolvedValue(LINK_SESSION);
        getSetupState.mockResolvedValue({
            appName: 'Contact Center Link',
            oauthApp: 'installed',
            apiUser: 'assigned'
        });
        getActivity.mockResolvedValue({ entries: [] });
        getWebhookDeliveries.mockResolvedValue(DELIVERIES_NOT_ALLOWED);
        getOrgKeyState.mockResolvedValue(KEY_SET);
    });

    afterEach(() => {
        while (document.body.firstChild) {
            document.body.removeChild(document.body.firstChild);
        }
        jest.useRealTimers();
        jest.clearAllMocks();
        jest.restoreAllMocks();
    });

    describe('status', () => {
        it('loads the status through Apex and hands it to the card', async () => {
            getStatus.mockResolvedValue(STATUS_LINKED);

            const { element } = await createComponent();

            expect(getStatus).toHaveBeenCalledTimes(1);
            expect(card(element).status).toEqual(STATUS_LINKED);
            expect(cardPart(element, 'badge').label).toBe('c.Ccl_StatusLinked');
            expect(cardPart(element, 'spinner')).toBeNull();
        });

        it('shows why the status could not be loaded', async () => {
            getStatus.mockRejectedValue(
                apexError('You need the Manage Contact Center Link permission.')
            );

            const { element } = await createComponent();

            expect(cardPart(element, 'error').textContent).toContain(
                'You need the Manage Contact Center Link permission.'
            );
            expect(cardPart(element, 'spinner')).toBeNull();
        });
    });

    describe('calls kept for another org', () => {
        const KEPT_STATUS = {
            ...STATUS_LINKED,
            keptTasks: {
                count: 2,
                awaitingChoice: 2,
                awaitingOrgId: '00D000000000002AAA',
                oldestCallAt: '2026-03-01T09:00:00.000Z',
                needsRelink: 2
            }
        };
        const kept = (element) =>
            element.shadowRoot.querySelector('c-kept-calls');
        const keptPart = (element, id) =>
            kept(element).shadowRoot.querySelector(`[data-id="${id}"]`);

        it('hands the status to c-kept-calls in the card, sends the admin’s drop, toasts and reads the status again', async () => {
            getStatus.mockResolvedValue(KEPT_STATUS);
            decideKeptTasks.mockResolvedValue({
                choice: 'drop',
                count: 2,
                waiting: 0
            });
            const { element, toasts } = await createComponent();
            expect(kept(element).status).toEqual(KEPT_STATUS);
            expect(kept(element).slot).toBe('calls');
            getStatus.mockResolvedValue(STATUS_LINKED);

            keptPart(element, 'kept-drop').click();
            await flushPromises();
            keptPart(element, 'kept-confirm-drop-button').click();
            await flushPromises();

            expect(decideKeptTasks).toHaveBeenCalledWith({ choice: 'drop' });
            expect(lastToast(toasts)).toMatchObject({
                message: '2 calls were dropped.',
                variant: 'success'
            });
            expect(getStatus).toHaveBeenCalledTimes(2);
            expect(keptPart(element, 'kept-calls')).toBeNull();
        });

        it('shows the backend’s refusal, and keeps the choice open', async () => {
            getStatus.mockResolvedValue(KEPT_STATUS);
            decideKeptTasks.mockRejectedValue(
                apexError('Relink to the org they should go to first.')
            );
            const { element } = await createComponent();

            keptPart(element, 'kept-make').click();
            await flushPromises();

            expect(decideKeptTasks).toHaveBeenCalledWith({ choice: 'make' });
            expect(cardPart(element, 'error').textContent).toContain(
                'Relink to the org they should go to first.'
            );
            expect(keptPart(element, 'kept-make').disabled).toBe(false);
        });
    });

    // The two editors in the card's settings slot behave alike: offered while Linked, a refusal shown inline, a read failure said.
    describe.each([
        {
            name: 'task mapping',
            tag: 'c-task-mapping',
            read: getTaskMapping,
            save: saveTaskMapping,
            property: 'mapping',
            value: DEFAULT_MAPPING,
            prefix: 'task-mapping',
            refusal: {
                code: 'TASK_FIELD_NOT_SETTABLE',
                message:
                    'The API user cannot set Task.Outcome__c: give the API user edit access to Task.Outcome__c in its permission set.',
                shown: 'give the API user edit access to Task.Outcome__c'
            }
        },
        {
            name: 'caller matching',
            tag: 'c-caller-matching',
            read: getCallerMatching,
            save: saveCallerMatching,
            property: 'matching',
            value: DEFAULT_MATCHING,
            prefix: 'caller-matching',
            refusal: {
                code: 'PHONE_FIELD_REFUSED',
                message:
                    'The custom phone field Contact.Nope__c cannot be searched: the org has no such field, or the API user cannot read it.',
                shown: 'Contact.Nope__c cannot be searched'
            }
        }
    ])(
        'the $name editor',
        ({ tag, read, save, property, value, prefix, refusal }) => {
            const editor = (element) => element.shadowRoot.querySelector(tag);
            const editorPart = (element, id) =>
                editor(element).shadowRoot.querySelector(`[data-id="${id}"]`);

            it('is offered only while Linked, in the card’s settings slot, with what it edits read through Apex', async () => {
                read.mockResolvedValue(value);
                const unlinked = await createComponent();
                expect(editor(unlinked.element)).toBeNull();
                expect(read).not.toHaveBeenCalled();
                document.body.removeChild(unlinked.element);

                getStatus.mockResolvedValue(STATUS_LINKED);
                const { element } = await createComponent();
                expect(editor(element).slot).toBe('settings');
                expect(editor(element)[property]).toEqual(value);
            });

            it('shows the backend’s refusal inline, in the editor, with its code, and keeps what it had', async () => {
                getStatus.mockResolvedValue(STATUS_LINKED);
                read.mockResolvedValue(value);
                save.mockRejectedValue(
                    codedApexError(refusal.code, refusal.message)
                );
                const { element, toasts } = await createComponent();

                editorPart(element, `${prefix}-save`).click();
                await flushPromises();

                expect(editor(element).error.code).toBe(refusal.code);
                expect(
                    editorPart(element, `${prefix}-error-message`).textContent
                ).toContain(refusal.shown);
                expect(editor(element).saving).toBe(false);
                expect(editor(element)[property]).toEqual(value);
                expect(lastToast(toasts)).toBeUndefined();
            });

            it('says in the editor when what it edits could not be read', async () => {
                getStatus.mockResolvedValue(STATUS_LINKED);
                read.mockRejectedValue(
                    codedApexError(
                        'SERVICE_UNREACHABLE',
                        'The backend could not be reached.'
                    )
                );
                const { element } = await createComponent();
                expect(editor(element).loadError).toBe(
                    'The backend could not be reached.'
                );
            });
        }
    );

    describe('task mapping', () => {
        const editor = (element) =>
            element.shadowRoot.querySelector('c-task-mapping');
        const editorPart = (element, id) =>
            editor(element).shadowRoot.querySelector(`[data-id="${id}"]`);

        it('saves the edited mapping as JSON, toasts, and hands the saved mapping back', async () => {
            getStatus.mockResolvedValue(STATUS_LINKED);
            getTaskMapping.mockResolvedValue(DEFAULT_MAPPING);
            const saved = {
                ...DEFAULT_MAPPING,
                isDefault: false,
                checkedAt: '2024-05-01T10:00:00.000Z'
            };
            saveTaskMapping.mockResolvedValue(saved);
            const { element, toasts } = await createComponent();

            editorPart(element, 'task-mapping-save').click();
            await flushPromises();

            const sent = JSON.parse(saveTaskMapping.mock.calls[0][0].mapping);
            expect(sent.defaultFields).toEqual({ Type: 'Call' });
            expect(sent.relate).toEqual({
                contact: 'who',
                lead: 'who',
                account: 'what'
            });
            expect(lastToast(toasts)).toMatchObject({ variant: 'success' });
            expect(editor(element).mapping).toEqual(saved);
            expect(editor(element).error).toBeUndefined();
        });
    });

    describe('caller matching', () => {
        const editor = (element) =>
            element.shadowRoot.querySelector('c-caller-matching');
        const editorPart = (element, id) =>
            editor(element).shadowRoot.querySelector(`[data-id="${id}"]`);

        it('saves the edited settings as JSON, toasts, and hands the saved settings back', async () => {
            getStatus.mockResolvedValue(STATUS_LINKED);
            getCallerMatching.mockResolvedValue(DEFAULT_MATCHING);
            const saved = { ...DEFAULT_MATCHING, isDefault: false };
            saveCallerMatching.mockResolvedValue(saved);
            const { element, toasts } = await createComponent();

            editorPart(element, 'caller-matching-save').click();
            await flushPromises();

            expect(
                JSON.parse(saveCallerMatching.mock.calls[0][0].matching)
            ).toEqual({
                customPhoneFields: { Contact: [], Lead: [], Account: [] },
                order: ['objectType', 'ownedByAgent', 'lastModified'],
                objectOrder: ['Contact', 'Account', 'Lead'],
                region: 'US'
            });
            expect(lastToast(toasts)).toMatchObject({ variant: 'success' });
            expect(editor(element).matching).toEqual(saved);
            expect(editor(element).error).toBeUndefined();
        });

        it('reads what a lookup searches again after Verify', async () => {
            getStatus.mockResolvedValue(STATUS_LINKED);
            verifyLink.mockResolvedValue(STATUS_LINKED);
            getCallerMatching.mockResolvedValue(DEFAULT_MATCHING);
            const { element } = await createComponent();
            const reread = { ...DEFAULT_MATCHING, personAccounts: true };
            getCallerMatching.mockResolvedValueOnce(reread);

            cardPart(element, 'verify').click();
            await flushPromises();

            expect(getCallerMatching).toHaveBeenCalledTimes(2);
            expect(editor(element).matching).toEqual(reread);
        });
    });
    describe('activity', () => {
        function activityTexts(element) {
            return listEntries(element, 'activity').map(
                (entry) => entry.textContent
            );
        }

        it('shows the newest ten, then the next page with Show more, and hides Show more on the last page', async () => {
            getStatus.mockResolvedValue(STATUS_LINKED);
            getActivity
                .mockResolvedValueOnce(ACTIVITY_FIRST_PAGE)
                .mockResolvedValueOnce(ACTIVITY_LAST_PAGE);

            const { element } = await createComponent();

            expect(getActivity).toHaveBeenCalledWith({ cursor: null });
            let texts = activityTexts(element);
            expect(texts).toHaveLength(2);
            expect(texts[0]).toContain('c.Ccl_ActivityAction_verify');
            expect(texts[0]).toContain('needs_relink');
            expect(texts[0]).toContain('by admin@acme.example');
            expect(texts[1]).toContain('c.Ccl_ActivityAction_link');
            expect(texts[1]).not.toContain('ok');
            expect(listPart(element, 'activity', 'note').className).toContain(
                'slds-text-color_error'
            );

            listPart(element, 'activity', 'more').click();
            await flushPromises();

            expect(getActivity).toHaveBeenLastCalledWith({ cursor: '41' });
            texts = activityTexts(element);
            expect(texts).toHaveLength(3);
            expect(texts[2]).toContain('ACCESS_DENIED');
            expect(texts[2]).toContain(
                'Access was denied in Salesforce, so nothing was linked.'
            );
            expect(listPart(element, 'activity', 'more')).toBeNull();
            jest.useRealTimers();
            await expect(element).toBeAccessible();
        });

        it('says so when nothing happened yet', async () => {
            const { element } = await createComponent();

            expect(listPart(element, 'activity', 'empty')).not.toBeNull();
            expect(listPart(element, 'activity', 'more')).toBeNull();
        });

        it('says why the activity could not be read, keeps the entries shown and the status usable', async () => {
            getStatus.mockResolvedValue(STATUS_LINKED);
            getActivity
                .mockResolvedValueOnce(ACTIVITY_FIRST_PAGE)
                .mockRejectedValueOnce(
                    codedApexError('FORBIDDEN', 'This key may not do this.')
                );

            const { element } = await createComponent();
            listPart(element, 'activity', 'more').click();
            await flushPromises();

            expect(
                listPart(element, 'activity', 'error').textContent
            ).toContain(
                'The activity could not be read: This key may not do this.'
            );
            expect(activityTexts(element)).toHaveLength(2);
            expect(listPart(element, 'activity', 'more')).not.toBeNull();
            expect(cardPart(element, 'badge').label).toBe('c.Ccl_StatusLinked');
            expect(cardPart(element, 'error')).toBeNull();
        });

        it('reads the newest page again after Verify', async () => {
            getStatus.mockResolvedValue(STATUS_LINKED);
            verifyLink.mockResolvedValue(STATUS_LINKED);
            const { element } = await createComponent();
            getActivity.mockResolvedValueOnce(ACTIVITY_FIRST_PAGE);

            cardPart(element, 'verify').click();
            await flushPromises();

            expect(getActivity).toHaveBeenCalledTimes(2);
            expect(getActivity).toHaveBeenLastCalledWith({ cursor: null });
            expect(activityTexts(element)).toHaveLength(2);
        });
    });

    describe('webhook deliveries', () => {
        function deliveryStates(element) {
            return listEntries(element, 'webhook-deliveries').map(
                (entry) => entry.dataset.state
            );
        }

        it('reads the latest deliveries with the status and shows them', async () => {
            getStatus.mockResolvedValue(STATUS_LINKED);
            getWebhookDeliveries.mockResolvedValue(WEBHOOK_DELIVERIES);

            const { element, toasts } = await createComponent();

            expect(getWebhookDeliveries).toHaveBeenCalledTimes(1);
            expect(deliveryStates(element)).toEqual([
                'pending',
                'delivered',
                'failed'
            ]);
            expect(toasts).not.toHaveBeenCalled();
            jest.useRealTimers();
            await expect(element).toBeAccessible();
        });

        it.each([
            ['the org key may not read them', DELIVERIES_NOT_ALLOWED],
            ['Apex answers nothing', null],
            [
                'the answer does not say they are allowed',
                { deliveries: WEBHOOK_DELIVERIES.deliveries }
            ]
        ])(
            'leaves the section out, with no error nor toast, when %s',
            async (name, answer) => {
                getStatus.mockResolvedValue(STATUS_LINKED);
                getWebhookDeliveries.mockResolvedValue(answer);

                const { element, toasts } = await createComponent();

                expect(cardPart(element, 'webhook-deliveries')).toBeNull();
                expect(cardPart(element, 'error')).toBeNull();
                expect(toasts).not.toHaveBeenCalled();
                expect(cardPart(element, 'activity')).not.toBeNull();
            }
        );

        it('says in the section why they could not be read, with no toast, and the status stays usable', async () => {
            getStatus.mockResolvedValue(STATUS_LINKED);
            getWebhookDeliveries.mockRejectedValue(
                codedApexError(
                    'SERVICE_UNREACHABLE',
                    'The contact center could not be reached.'
                )
            );

            const { element, toasts } = await createComponent();

            expect(
                listPart(element, 'webhook-deliveries', 'error').textContent
            ).toContain(
                'The webhook deliveries could not be read: The contact center could not be reached.'
            );
            expect(cardPart(element, 'error')).toBeNull();
            expect(toasts).not.toHaveBeenCalled();
            expect(cardPart(element, 'badge').label).toBe('c.Ccl_StatusLinked');
        });

        it('reads them again on Refresh and after Verify, keeping those shown meanwhile', async () => {
            getStatus.mockResolvedValue(STATUS_LINKED);
            verifyLink.mockResolvedValue(STATUS_LINKED);
            const pendingOnly = {
                allowed: true,
                deliveries: [WEBHOOK_DELIVERIES.deliveries[0]]
            };
            getWebhookDeliveries.mockResolvedValueOnce(pendingOnly);
            const { element } = await createComponent();
            expect(deliveryStates(element)).toEqual(['pending']);

            let answer;
            getWebhookDeliveries.mockReturnValueOnce(
                new Promise((resolve) => {
                    answer = resolve;
                })
            );
            listPart(element, 'webhook-deliveries', 'refresh').click();
            await flushPromises();
            expect(getWebhookDeliveries).toHaveBeenCalledTimes(2);
            expect(deliveryStates(element)).toEqual(['pending']);
            expect(
                listPart(element, 'webhook-deliveries', 'refresh').disabled
            ).toBe(true);
            answer(WEBHOOK_DELIVERIES);
            await flushPromises();
            expect(deliveryStates(element)).toEqual([
                'pending',
                'delivered',
                'failed'
            ]);

            getWebhookDeliveries.mockResolvedValueOnce({
                allowed: true,
                deliveries: []
            });
            cardPart(element, 'verify').click();
            await flushPromises();
            expect(getWebhookDeliveries).toHaveBeenCalledTimes(3);
            expect(deliveryStates(element)).toEqual([]);
            expect(
                listPart(element, 'webhook-deliveries', 'empty')
            ).not.toBeNull();
        });

        it('shows the newest answer when an older read ends last', async () => {
            getStatus.mockResolvedValue(STATUS_LINKED);
            let older;
            getWebhookDeliveries.mockReturnValueOnce(
                new Promise((resolve) => {
                    older = resolve;
                })
            );
            verifyLink.mockResolvedValue(STATUS_LINKED);
            const { element } = await createComponent();

            getWebhookDeliveries.mockResolvedValueOnce(WEBHOOK_DELIVERIES);
            cardPart(element, 'verify').click();
            await flushPromises();
            older({ allowed: true, deliveries: [] });
            await flushPromises();

            expect(deliveryStates(element)).toEqual([
                'pending',
                'delivered',
                'failed'
            ]);
        });
    });

    describe('the link flow', () => {
        it('opens the login window, polls every 2 s and reloads the status when linked', async () => {
            getLinkSession
                .mockResolvedValueOnce(SESSION_PENDING)
                .mockResolvedValueOnce(SESSION_LINKED);
            const { element, toasts } = await createComponent();
            getStatus.mockResolvedValue(STATUS_LINKED);

            await chooseEnvironment(element, 'production');

            expect(startLink).toHaveBeenCalledWith({
                environment: 'production'
            });
            expect(openWindow).toHaveBeenCalledWith(
                LINK_SESSION.authorizeUrl,
                'contactCenterLink',
                expect.stringMatching(/^popup,width=\d+,height=\d+$/)
            );
            expect(card(element).waiting).toBe(true);
            expect(cardPart(element, 'waiting')).not.toBeNull();
            expect(cardPart(element, 'popup-link')).toBeNull();
            expect(getLinkSession).not.toHaveBeenCalled();

            await advance(POLL_MS);
            expect(getLinkSession).toHaveBeenCalledTimes(1);
            expect(getLinkSession).toHaveBeenCalledWith({
                sessionId: LINK_SESSION.id
            });
            expect(card(element).waiting).toBe(true);

            await advance(POLL_MS);
            expect(getLinkSession).toHaveBeenCalledTimes(2);
            expect(getStatus).toHaveBeenCalledTimes(2);
            expect(card(element).waiting).toBe(false);
            expect(cardPart(element, 'badge').label).toBe('c.Ccl_StatusLinked');
            expect(lastToast(toasts)).toEqual({
                title: 'c.Ccl_ToastLinkedTitle',
                message: 'Now linked as api@acme.example.',
                variant: 'success'
            });

            await advance(POLL_MS * 5);
            expect(getLinkSession).toHaveBeenCalledTimes(2);
        });

        it('toasts the error of a failed link and keeps it in the card', async () => {
            getLinkSession.mockResolvedValue(SESSION_FAILED);
            const { element, toasts } = await createComponent();

            await chooseEnvironment(element, 'production');
            await advance(POLL_MS);

            expect(lastToast(toasts)).toEqual({
                title: 'c.Ccl_ToastLinkFailedTitle',
                message: SESSION_FAILED.error.message,
                variant: 'error'
            });
            expect(cardPart(element, 'error').textContent).toContain(
                SESSION_FAILED.error.message
            );
            expect(card(element).waiting).toBe(false);
            expect(getStatus).toHaveBeenCalledTimes(1);

            await advance(POLL_MS * 3);
            expect(getLinkSession).toHaveBeenCalledTimes(1);
        });

        it('says so when the backend reports the session expired', async () => {
            getLinkSession.mockResolvedValue(SESSION_EXPIRED);
            const { element, toasts } = await createComponent();

            await chooseEnvironment(element, 'production');
            await advance(POLL_MS);

            expect(cardPart(element, 'notice').textContent).toContain(
                'c.Ccl_LinkExpired'
            );
            expect(lastToast(toasts)).toMatchObject({
                title: 'c.Ccl_ToastExpiredTitle',
                variant: 'warning'
            });
            expect(card(element).waiting).toBe(false);
        });

        it('stops polling once the session expiry time has passed', async () => {
            startLink.mockResolvedValue({
                ...LINK_SESSION,
                expiresAt: new Date(NOW + 7000).toISOString()
            });
            getLinkSession.mockResolvedValue(SESSION_PENDING);
            const { element, toasts } = await createComponent();

            await chooseEnvironment(element, 'production');
            await advance(POLL_MS * 6);

            expect(getLinkSession).toHaveBeenCalledTimes(3);
            expect(card(element).waiting).toBe(false);
            expect(cardPart(element, 'notice').textContent).toContain(
                'c.Ccl_LinkExpired'
            );
            expect(lastToast(toasts).variant).toBe('warning');

            await advance(POLL_MS * 5);
            expect(getLinkSession).toHaveBeenCalledTimes(3);
        });

        it('offers a link when the browser blocks the login window, and keeps polling', async () => {
            openWindow.mockReturnValue(null);
            getLinkSession.mockResolvedValue(SESSION_PENDING);
            const { element } = await createComponent();

            await chooseEnvironment(element, 'production');

            const link = cardPart(element, 'popup-link');
            expect(link.href).toBe(LINK_SESSION.authorizeUrl);
            expect(link.target).toBe('_blank');

            await advance(POLL_MS);
            expect(getLinkSession).toHaveBeenCalledTimes(1);
        });

        it('opens the login window from the offered link when a click allows it, so the window can close itself', async () => {
            openWindow.mockReturnValueOnce(null).mockReturnValueOnce({});
            getLinkSession.mockResolvedValue(SESSION_PENDING);
            const { element } = await createComponent();
            await chooseEnvironment(element, 'production');

            const click = new MouseEvent('click', {
                bubbles: true,
                cancelable: true
            });
            cardPart(element, 'popup-link').dispatchEvent(click);
            await flushPromises();

            expect(openWindow).toHaveBeenCalledTimes(2);
            expect(openWindow).toHaveBeenLastCalledWith(
                LINK_SESSION.authorizeUrl,
                'contactCenterLink',
                expect.stringMatching(/^popup,/)
            );
            expect(click.defaultPrevented).toBe(true);
            expect(cardPart(element, 'popup-link')).toBeNull();
            expect(card(element).waiting).toBe(true);
        });

        it('lets the offered link open a tab when the window is still refused', async () => {
            openWindow.mockReturnValue(null);
            getLinkSession.mockResolvedValue(SESSION_PENDING);
            const { element } = await createComponent();
            await chooseEnvironment(element, 'production');

            const click = new MouseEvent('click', {
                bubbles: true,
                cancelable: true
            });
            cardPart(element, 'popup-link').dispatchEvent(click);
            await flushPromises();

            expect(openWindow).toHaveBeenCalledTimes(2);
            expect(click.defaultPrevented).toBe(false);
            expect(cardPart(element, 'popup-link')).not.toBeNull();
        });

        it('stops with a message when polling fails', async () => {
            getLinkSession.mockRejectedValue(
                apexError('Could not reach the Contact Center Link service.')
            );
            const { element, toasts } = await createComponent();

            await chooseEnvironment(element, 'production');
            await advance(POLL_MS);

            expect(card(element).waiting).toBe(false);
            expect(card(element).loading).toBe(false);
            expect(cardPart(element, 'error').textContent).toContain(
                'Could not reach the Contact Center Link service.'
            );
            expect(lastToast(toasts)).toMatchObject({ variant: 'error' });

            await advance(POLL_MS * 3);
            expect(getLinkSession).toHaveBeenCalledTimes(1);
        });

        it('opens no window when the link session cannot be started', async () => {
            startLink.mockRejectedValue(
                apexError('This API user already serves five accounts.')
            );
            const { element, toasts } = await createComponent();

            await chooseEnvironment(element, 'production');

            expect(openWindow).not.toHaveBeenCalled();
            expect(card(element).waiting).toBe(false);
            expect(card(element).loading).toBe(false);
            expect(cardPart(element, 'error').textContent).toContain(
                'This API user already serves five accounts.'
            );
            expect(lastToast(toasts)).toEqual({
                title: 'c.Ccl_ToastErrorTitle',
                message: 'This API user already serves five accounts.',
                variant: 'error'
            });
        });

        it('links the other environment once the admin confirms', async () => {
            jest.spyOn(LightningConfirm, 'open').mockResolvedValue(true);
            getLinkSession.mockResolvedValue(SESSION_PENDING);
            const { element } = await createComponent();

            await chooseEnvironment(element, 'sandbox');

            expect(LightningConfirm.open).toHaveBeenCalledTimes(1);
            expect(startLink).toHaveBeenCalledWith({ environment: 'sandbox' });
        });

        it('stops waiting when the admin cancels', async () => {
            getLinkSession.mockResolvedValue(SESSION_PENDING);
            const { element } = await createComponent();

            await chooseEnvironment(element, 'production');
            cardPart(element, 'cancel').click();
            await advance(POLL_MS * 3);

            expect(getLinkSession).not.toHaveBeenCalled();
            expect(card(element).waiting).toBe(false);
        });
    });

    describe("the callback page's message", () => {
        it('ignores messages from another origin', async () => {
            getLinkSession.mockResolvedValue(SESSION_LINKED);
            const { element } = await createComponent();
            await chooseEnvironment(element, 'production');

            await postFromCallback('https://evil.example.com', {
                type: 'ccl:link',
                sessionId: LINK_SESSION.id,
                state: 'linked'
            });

            expect(getLinkSession).not.toHaveBeenCalled();
            expect(card(element).waiting).toBe(true);
        });

        it('ignores messages about another session or of another kind', async () => {
            getLinkSession.mockResolvedValue(SESSION_LINKED);
            const { element } = await createComponent();
            await chooseEnvironment(element, 'production');

            await postFromCallback(AUTHORIZE_ORIGIN, {
                type: 'ccl:link',
                sessionId: 'ls_other',
                state: 'linked'
            });
            await postFromCallback(AUTHORIZE_ORIGIN, {
                type: 'something-else',
                sessionId: LINK_SESSION.id
            });
            await postFromCallback(AUTHORIZE_ORIGIN, 'ccl:link');

            expect(getLinkSession).not.toHaveBeenCalled();
            expect(card(element).waiting).toBe(true);
        });

        it('fetches the session at once when the message comes from the authorize origin', async () => {
            getLinkSession.mockResolvedValue(SESSION_LINKED);
            const { element, toasts } = await createComponent();
            await chooseEnvironment(element, 'production');
            getStatus.mockResolvedValue(STATUS_LINKED);

            await postFromCallback(AUTHORIZE_ORIGIN, {
                type: 'ccl:link',
                sessionId: LINK_SESSION.id,
                state: 'linked'
            });

            expect(getLinkSession).toHaveBeenCalledTimes(1);
            expect(card(element).waiting).toBe(false);
            expect(lastToast(toasts).variant).toBe('success');

            await advance(POLL_MS * 3);
            expect(getLinkSession).toHaveBeenCalledTimes(1);
        });

        it('ignores messages when no link is in progress', async () => {
            await createComponent();

            await postFromCallback(AUTHORIZE_ORIGIN, {
                type: 'ccl:link',
                sessionId: LINK_SESSION.id
            });

            expect(getLinkSession).not.toHaveBeenCalled();
        });

        it('tells its own popup, and only it, that this card opened it', async () => {
            const { element } = await createComponent();
            await chooseEnvironment(element, 'production');
            const popup = { postMessage: jest.fn() };
            const ask = async (origin, sessionId) => {
                const event = new MessageEvent('message', {
                    origin,
                    data: { type: 'ccl:opener-check', sessionId }
                });
                Object.defineProperty(event, 'source', { value: popup });
                window.dispatchEvent(event);
                await flushPromises();
            };

            await ask('https://evil.example.com', LINK_SESSION.id);
            await ask(AUTHORIZE_ORIGIN, 'ls_other');
            expect(popup.postMessage).not.toHaveBeenCalled();

            await ask(AUTHORIZE_ORIGIN, LINK_SESSION.id);
            expect(popup.postMessage).toHaveBeenCalledWith(
                { type: 'ccl:opener', sessionId: LINK_SESSION.id },
                AUTHORIZE_ORIGIN
            );
            expect(getLinkSession).not.toHaveBeenCalled();
        });
    });

    describe('Verify', () => {
        it('shows the verified status and toasts success', async () => {
            getStatus.mockResolvedValue(STATUS_LINKED);
            verifyLink.mockResolvedValue(STATUS_LINKED);
            const { element, toasts } = await createComponent();

            cardPart(element, 'verify').click();
            await flushPromises();

            expect(verifyLink).toHaveBeenCalledTimes(1);
            expect(lastToast(toasts)).toEqual({
                title: 'c.Ccl_ToastVerifiedTitle',
                message: 'c.Ccl_ToastVerifiedMessage',
                variant: 'success'
            });
            expect(card(element).loading).toBe(false);
        });

        it('warns with the last error when the link needs relinking', async () => {
            getStatus.mockResolvedValue(STATUS_LINKED);
            verifyLink.mockResolvedValue(STATUS_NEEDS_RELINK);
            const { element, toasts } = await createComponent();

            cardPart(element, 'verify').click();
            await flushPromises();

            expect(cardPart(element, 'badge').label).toBe(
                'c.Ccl_StatusNeedsRelink'
            );
            expect(lastToast(toasts)).toEqual({
                title: 'c.Ccl_ToastVerifyProblemTitle',
                message: STATUS_NEEDS_RELINK.link.lastError.message,
                variant: 'warning'
            });
        });

        it('confirms a legacy link that still works', async () => {
            getStatus.mockResolvedValue(STATUS_LEGACY);
            verifyLink.mockResolvedValue(STATUS_LEGACY);
            const { element, toasts } = await createComponent();

            cardPart(element, 'verify').click();
            await flushPromises();

            expect(lastToast(toasts).variant).toBe('success');
            expect(cardPart(element, 'status-help').textContent).toContain(
                'c.Ccl_LegacyHelp'
            );
        });

        it('shows the error of a failed Verify', async () => {
            getStatus.mockResolvedValue(STATUS_LINKED);
            verifyLink.mockRejectedValue(
                apexError('This account is not linked.')
            );
            const { element, toasts } = await createComponent();

            cardPart(element, 'verify').click();
            await flushPromises();

            expect(cardPart(element, 'error').textContent).toContain(
                'This account is not linked.'
            );
            expect(lastToast(toasts).variant).toBe('error');
            expect(card(element).loading).toBe(false);
        });
    });

    describe('Unlink', () => {
        it('unlinks after confirmation and reloads the status', async () => {
            jest.spyOn(LightningConfirm, 'open').mockResolvedValue(true);
            getStatus.mockResolvedValue(STATUS_LINKED);
            unlinkOrg.mockResolvedValue(UNLINK_REVOKED);
            const { element, toasts } = await createComponent();
            getStatus.mockResolvedValue(STATUS_UNLINKED);

            cardPart(element, 'unlink').click();
            await flushPromises();

            expect(unlinkOrg).toHaveBeenCalledTimes(1);
            expect(getStatus).toHaveBeenCalledTimes(2);
            expect(cardPart(element, 'badge').label).toBe(
                'c.Ccl_StatusUnlinked'
            );
            expect(lastToast(toasts)).toEqual({
                title: 'c.Ccl_ToastUnlinkedTitle',
                message: 'c.Ccl_ToastUnlinkedMessage',
                variant: 'success'
            });
        });

        it('warns when Salesforce did not confirm the revocation', async () => {
            jest.spyOn(LightningConfirm, 'open').mockResolvedValue(true);
            getStatus.mockResolvedValue(STATUS_LINKED);
            unlinkOrg.mockResolvedValue(UNLINK_NOT_REVOKED);
            const { element, toasts } = await createComponent();

            cardPart(element, 'unlink').click();
            await flushPromises();

            expect(lastToast(toasts)).toEqual({
                title: 'c.Ccl_ToastUnlinkedTitle',
                message: 'c.Ccl_ToastUnlinkedNotRevoked',
                variant: 'warning'
            });
        });

        it('does nothing when the admin cancels', async () => {
            jest.spyOn(LightningConfirm, 'open').mockResolvedValue(false);
            getStatus.mockResolvedValue(STATUS_LINKED);
            const { element } = await createComponent();

            cardPart(element, 'unlink').click();
            await flushPromises();

            expect(unlinkOrg).not.toHaveBeenCalled();
        });

        it('shows the error of a failed Unlink', async () => {
            jest.spyOn(LightningConfirm, 'open').mockResolvedValue(true);
            getStatus.mockResolvedValue(STATUS_LINKED);
            unlinkOrg.mockRejectedValue(
                apexError('Salesforce did not answer.')
            );
            const { element } = await createComponent();

            cardPart(element, 'unlink').click();
            await flushPromises();

            expect(cardPart(element, 'error').textContent).toContain(
                'Salesforce did not answer.'
            );
            expect(getStatus).toHaveBeenCalledTimes(1);
            expect(card(element).loading).toBe(false);
        });
    });

    describe('errors', () => {
        it('reads messages from every error shape', async () => {
            getStatus.mockResolvedValue(STATUS_LINKED);
            const { element } = await createComponent();
            const shapes = [
                [
                    { body: [{ message: 'First.' }, { message: 'Second.' }] },
                    'First. Second.'
                ],
                [new Error('Plain error.'), 'Plain error.'],
                [
                    { body: { pageErrors: [{ message: 'Page error.' }] } },
                    'Page error.'
                ],
                [
                    {
                        body: {
                            fieldErrors: { Phone: [{ message: 'Bad phone.' }] }
                        }
                    },
                    'Bad phone.'
                ],
                [codedApexError('NOT_LINKED', 'Not linked.'), 'Not linked.'],
                [{}, 'c.Ccl_UnknownError'],
                [undefined, 'c.Ccl_UnknownError']
            ];
            for (const [error, expected] of shapes) {
                verifyLink.mockRejectedValueOnce(error);
                cardPart(element, 'verify').click();
                // eslint-disable-next-line no-await-in-loop
                await flushPromises();
                expect(card(element).errorMessage).toBe(expected);
            }
        });
    });

    describe('help links', () => {
        it('shows none while the Ccl_HelpUrl label holds no http(s) URL', async () => {
            // Here the label is its name, as sfdx-lwc-jest resolves an unmocked label.
            getStatus.mockResolvedValue(STATUS_NEEDS_RELINK);
            startLink.mockRejectedValueOnce(
                codedApexError('SALESFORCE_UNAVAILABLE', 'Try again.')
            );
            const { element } = await createComponent();
            await chooseEnvironment(element, 'production');

            expect(cardPart(element, 'error')).not.toBeNull();
            expect(cardPart(element, 'help-setup')).toBeNull();
            expect(cardPart(element, 'help-needs-relink')).toBeNull();
            expect(cardPart(element, 'help-error')).toBeNull();
        });
    });

    describe('acting on the error code', () => {
        it('reloads the status after NEEDS_RELINK, so the card offers Relink, and keeps the error shown', async () => {
            getStatus.mockResolvedValueOnce(STATUS_LINKED);
            const { element } = await createComponent();
            getStatus.mockResolvedValueOnce(STATUS_NEEDS_RELINK);
            verifyLink.mockRejectedValueOnce(
                codedApexError(
                    'NEEDS_RELINK',
                    'Salesforce revoked the link: relink it.'
                )
            );

            cardPart(element, 'verify').click();
            await flushPromises();

            expect(getStatus).toHaveBeenCalledTimes(2);
            expect(cardPart(element, 'badge').label).toBe(
                'c.Ccl_StatusNeedsRelink'
            );
            expect(cardPart(element, 'link-menu').label).toBe('c.Ccl_Relink');
            expect(card(element).errorCode).toBe('NEEDS_RELINK');
            expect(cardPart(element, 'error').textContent).toContain(
                'Salesforce revoked the link: relink it.'
            );
            expect(cardPart(element, 'error-action').textContent).toBe(
                'c.Ccl_ErrorActionNeedsRelink'
            );
        });

        it('after API_USER_LIMIT_REACHED says to use another API user, and does not reload', async () => {
            startLink.mockRejectedValueOnce(
                codedApexError(
                    'API_USER_LIMIT_REACHED',
                    'This API user already serves five accounts.'
                )
            );
            const { element, toasts } = await createComponent();

            await chooseEnvironment(element, 'production');

            expect(getStatus).toHaveBeenCalledTimes(1);
            expect(card(element).errorMessage).toBe(
                'This API user already serves five accounts.'
            );
            expect(cardPart(element, 'error-action').textContent).toBe(
                'c.Ccl_ErrorActionApiUserLimit'
            );
            expect(lastToast(toasts)).toMatchObject({
                message: 'This API user already serves five accounts.',
                variant: 'error'
            });
        });

        it('a sign-in superseded by a newer one for this account shows the link that stayed, and says why without an error', async () => {
            const superseded =
                'A newer sign-in for this account, as api@acme.example, finished while this one did: that link stays, and this approval was withdrawn in Salesforce. There is nothing else to do.';
            getLinkSession.mockResolvedValue({
                id: LINK_SESSION.id,
                state: 'failed',
                error: { code: 'LINK_SUPERSEDED', message: superseded }
            });
            const { element, toasts } = await createComponent();
            expect(getStatus).toHaveBeenCalledTimes(1);

            await chooseEnvironment(element, 'production');
            getStatus.mockResolvedValue(STATUS_LINKED);
            await advance(POLL_MS);

            expect(getStatus).toHaveBeenCalledTimes(2);
            expect(card(element).status.status).toBe('linked');
            expect(card(element).errorMessage).toBeUndefined();
            expect(lastToast(toasts)).toMatchObject({
                message: superseded,
                variant: 'info'
            });
        });

        it('after a login refused with APP_NOT_INSTALLED warns before the next popup', async () => {
            getLinkSession.mockResolvedValue({
                id: LINK_SESSION.id,
                state: 'failed',
                error: {
                    code: 'APP_NOT_INSTALLED',
                    message: 'This org has not installed the app.'
                }
            });
            const { element } = await createComponent();
            expect(cardPart(element, 'app-not-installed')).toBeNull();

            await chooseEnvironment(element, 'production');
            await advance(POLL_MS);

            expect(
                cardPart(element, 'app-not-installed').textContent
            ).toContain(
                'The Contact Center Link OAuth package is not installed in this org.'
            );
            expect(cardPart(element, 'error-action').textContent).toBe(
                'c.Ccl_ErrorActionAppNotInstalled'
            );
        });

        it('clears the code with the message on the next action', async () => {
            getStatus.mockResolvedValue(STATUS_LINKED);
            const { element } = await createComponent();
            verifyLink.mockRejectedValueOnce(
                codedApexError('SALESFORCE_UNAVAILABLE', 'Try again.')
            );
            cardPart(element, 'verify').click();
            await flushPromises();
            expect(card(element).errorCode).toBe('SALESFORCE_UNAVAILABLE');

            verifyLink.mockResolvedValueOnce(STATUS_LINKED);
            cardPart(element, 'verify').click();
            await flushPromises();

            expect(card(element).errorCode).toBeUndefined();
            expect(cardPart(element, 'error')).toBeNull();
        });

        it('is accessible while it shows what to do about a code', async () => {
            startLink.mockRejectedValueOnce(
                codedApexError(
                    'API_USER_LIMIT_REACHED',
                    'This API user already serves five accounts.'
                )
            );
            const { element } = await createComponent();
            await chooseEnvironment(element, 'production');
            jest.useRealTimers();

            await expect(element).toBeAccessible();
        });
    });

    describe('cleanup', () => {
        it('removes its listener and stops polling when removed', async () => {
            const removeListener = jest.spyOn(window, 'removeEventListener');
            getLinkSession.mockResolvedValue(SESSION_PENDING);
            const { element } = await createComponent();
            await chooseEnvironment(element, 'production');

            document.body.removeChild(element);
            await advance(POLL_MS * 3);
            await postFromCallback(AUTHORIZE_ORIGIN, {
                type: 'ccl:link',
                sessionId: LINK_SESSION.id
            });

            expect(removeListener).toHaveBeenCalledWith(
                'message',
                expect.any(Function)
            );
            expect(getLinkSession).not.toHaveBeenCalled();
        });
    });

    describe('the setup checklist', () => {
        function checklistStates(element) {
            const host = cardPart(element, 'setup-checklist');
            return Object.fromEntries(
                [...host.shadowRoot.querySelectorAll('li')].map((step) => [
                    step.dataset.id,
                    step.dataset.state
                ])
            );
        }

        it('marks what the org and the backend answered, and leaves the app’s policies to check in Setup', async () => {
            const { element } = await createComponent();

            expect(getSetupState).toHaveBeenCalledTimes(1);
            expect(checklistStates(element)).toEqual({
                oauthPackage: 'done',
                endpoint: 'done',
                apiUser: 'done',
                permittedUsers: 'check',
                refreshToken: 'check',
                ipRelaxation: 'check'
            });
        });

        it('marks the OAuth package and the API user to do when the org has neither', async () => {
            getSetupState.mockResolvedValue({
                appName: 'Contact Center Link',
                oauthApp: 'not_installed',
                apiUser: 'unassigned'
            });
            const { element } = await createComponent();

            expect(checklistStates(element)).toMatchObject({
                oauthPackage: 'todo',
                apiUser: 'todo'
            });
        });

        it('marks the endpoint to do when the status cannot be read, and done once it can', async () => {
            getStatus.mockRejectedValueOnce(
                codedApexError(
                    'SERVICE_UNREACHABLE',
                    'Could not reach the Contact Center Link service.'
                )
            );
            const { element } = await createComponent();
            expect(checklistStates(element).endpoint).toBe('todo');

            getStatus.mockResolvedValue(STATUS_LINKED);
            verifyLink.mockResolvedValue(STATUS_LINKED);
            card(element).dispatchEvent(new CustomEvent('verify'));
            await flushPromises();
            expect(checklistStates(element).endpoint).toBe('done');
        });

        it('asks to check in Setup what the org may not tell this admin', async () => {
            getSetupState.mockRejectedValue(apexError('No access.'));
            const { element } = await createComponent();

            expect(checklistStates(element)).toMatchObject({
                oauthPackage: 'check',
                apiUser: 'check'
            });
        });

        it('is accessible with every kind of step', async () => {
            getSetupState.mockResolvedValue({
                appName: 'Contact Center Link',
                oauthApp: 'not_installed',
                apiUser: 'assigned'
            });
            const { element } = await createComponent();
            jest.useRealTimers();

            await expect(element).toBeAccessible();
        });
    });

    describe('what the org can tell before the popup', () => {
        it('warns on the card, before any popup, when the org lists no installed app', async () => {
            getSetupState.mockResolvedValue({
                appName: 'Contact Center Link',
                oauthApp: 'not_installed',
                apiUser: 'unassigned'
            });

            const { element } = await createComponent();

            expect(getSetupState).toHaveBeenCalledTimes(1);
            expect(
                cardPart(element, 'app-not-installed').textContent
            ).toContain(
                'The Contact Center Link OAuth package is not installed in this org.'
            );
            expect(openWindow).not.toHaveBeenCalled();
        });

        it('drops the warning once linked: the login worked', async () => {
            getSetupState.mockResolvedValue({
                appName: 'Contact Center Link',
                oauthApp: 'not_installed',
                apiUser: 'unassigned'
            });
            getStatus.mockResolvedValue(STATUS_LINKED);

            const { element } = await createComponent();

            expect(cardPart(element, 'badge').label).toBe('c.Ccl_StatusLinked');
            expect(cardPart(element, 'app-not-installed')).toBeNull();
        });

        it('says nothing when the app is installed, or when the org cannot tell', async () => {
            const installed = await createComponent();
            expect(cardPart(installed.element, 'app-not-installed')).toBeNull();
            document.body.removeChild(installed.element);

            getSetupState.mockResolvedValue({
                appName: 'Contact Center Link',
                oauthApp: 'unknown',
                apiUser: 'unknown'
            });
            const unknown = await createComponent();
            expect(cardPart(unknown.element, 'app-not-installed')).toBeNull();
            document.body.removeChild(unknown.element);

            getSetupState.mockRejectedValue(apexError('No access.'));
            const refused = await createComponent();
            expect(cardPart(refused.element, 'app-not-installed')).toBeNull();
            expect(cardPart(refused.element, 'error')).toBeNull();
        });

        it("says before the popup that this org's login ends the admin's own session", async () => {
            const { element } = await createComponent();

            expect(cardPart(element, 'guidance-own-session').textContent).toBe(
                'Linking this org signs in to https://acme.my.salesforce.com as the API user.'
            );
        });
    });

    describe("the admin's own session", () => {
        let writeText;

        beforeEach(() => {
            writeText = jest.fn().mockResolvedValue(undefined);
            Object.defineProperty(navigator, 'clipboard', {
                value: { writeText },
                configurable: true
            });
        });

        it('offers the login link for a private window, keeps polling, and says afterwards that the session may have ended', async () => {
            getLinkSession
                .mockResolvedValueOnce(SESSION_PENDING)
                .mockResolvedValueOnce(SESSION_LINKED);
            const { element } = await createComponent();

            await chooseEnvironment(element, 'production');

            expect(cardPart(element, 'private-window-link').value).toBe(
                LINK_SESSION.authorizeUrl
            );
            expect(cardPart(element, 'link-copied')).toBeNull();
            cardPart(element, 'copy-link').click();
            await flushPromises();
            expect(writeText).toHaveBeenCalledWith(LINK_SESSION.authorizeUrl);
            expect(cardPart(element, 'link-copied')).not.toBeNull();

            getStatus.mockResolvedValue(STATUS_LINKED);
            await advance(POLL_MS);
            expect(card(element).waiting).toBe(true);
            await advance(POLL_MS);
            expect(card(element).waiting).toBe(false);
            expect(cardPart(element, 'private-window')).toBeNull();
            expect(cardPart(element, 'notice').textContent).toContain(
                'c.Ccl_OwnSessionEnded'
            );
        });

        it('keeps the link selectable when the clipboard is refused', async () => {
            writeText.mockRejectedValue(new Error('denied'));
            getLinkSession.mockResolvedValue(SESSION_PENDING);
            const { element } = await createComponent();

            await chooseEnvironment(element, 'production');
            cardPart(element, 'copy-link').click();
            await flushPromises();

            expect(cardPart(element, 'link-copied')).toBeNull();
            expect(cardPart(element, 'private-window-link').value).toBe(
                LINK_SESSION.authorizeUrl
            );
        });

        it('offers no private-window link for a login into another org', async () => {
            jest.spyOn(LightningConfirm, 'open').mockResolvedValue(true);
            getLinkSession
                .mockResolvedValueOnce(SESSION_PENDING)
                .mockResolvedValueOnce(SESSION_LINKED);
            const { element } = await createComponent();

            await chooseEnvironment(element, 'sandbox');

            expect(card(element).waiting).toBe(true);
            expect(cardPart(element, 'private-window')).toBeNull();
            await advance(POLL_MS * 2);
            expect(cardPart(element, 'notice')).toBeNull();
        });

        it('is accessible while offering the private-window link', async () => {
            getLinkSession.mockResolvedValue(SESSION_PENDING);
            getSetupState.mockResolvedValue({
                appName: 'Contact Center Link',
                oauthApp: 'not_installed',
                apiUser: 'unassigned'
            });
            const { element } = await createComponent();
            await chooseEnvironment(element, 'production');
            jest.useRealTimers();

            await expect(element).toBeAccessible();
        });
    });

    describe('accessibility', () => {
        it('is accessible while waiting for a blocked login window', async () => {
            openWindow.mockReturnValue(null);
            getLinkSession.mockResolvedValue(SESSION_PENDING);
            const { element } = await createComponent();
            await chooseEnvironment(element, 'production');
            jest.useRealTimers();

            await expect(element).toBeAccessible();
        });

        it('is accessible after a failed link', async () => {
            getLinkSession.mockResolvedValue(SESSION_FAILED);
            const { element } = await createComponent();
            await chooseEnvironment(element, 'production');
            await advance(POLL_MS);
            jest.useRealTimers();

            await expect(element).toBeAccessible();
        });

        it('is accessible when linked', async () => {
            getStatus.mockResolvedValue(STATUS_LINKED);
            const { element } = await createComponent();
            jest.useRealTimers();

            await expect(element).toBeAccessible();
        });
    });

    describe('the org key', () => {
        function orgKeyPart(element, dataId) {
            const section = cardPart(element, 'org-key-section');
            return section
                ? section.shadowRoot.querySelector(`[data-id="${dataId}"]`)
                : null;
        }

        it('reads the org key’s state and hands it to the card', async () => {
            getStatus.mockResolvedValue(STATUS_LINKED);
            const { element } = await createComponent();
            expect(getOrgKeyState).toHaveBeenCalledTimes(1);
            expect(card(element).orgKey).toEqual(KEY_SET);
            expect(
                orgKeyPart(element, 'org-key-backend').textContent
            ).toContain('https://ccl.example.com');
        });

        it('a refreshed sandbox without its key: the card says why instead of the refused status, an admin stores the key, the status is read again', async () => {
            getOrgKeyState.mockResolvedValue(KEY_MISSING_IN_SANDBOX);
            getStatus
                .mockRejectedValueOnce(
                    codedApexError(
                        'UNAUTHORIZED',
                        'The API key is missing or not valid.'
                    )
                )
                .mockResolvedValue(STATUS_UNLINKED);
            saveOrgKey.mockResolvedValue({
                ...KEY_MISSING_IN_SANDBOX,
                keyState: 'set'
            });
            const { element, toasts } = await createComponent();
            expect(orgKeyPart(element, 'org-key-missing')).not.toBeNull();
            expect(cardPart(element, 'error')).toBeNull();
            // The history and the deliveries would fail the same way: not asked, not shown.
            expect(getActivity).not.toHaveBeenCalled();
            expect(getWebhookDeliveries).not.toHaveBeenCalled();
            expect(cardPart(element, 'activity')).toBeNull();

            const input = orgKeyPart(element, 'org-key-input');
            input.value = SANDBOX_KEY;
            input.dispatchEvent(new CustomEvent('change'));
            await flushPromises();
            orgKeyPart(element, 'org-key-save').click();
            await flushPromises();

            expect(saveOrgKey).toHaveBeenCalledWith({ orgKey: SANDBOX_KEY });
            expect(lastToast(toasts)).toEqual(
                expect.objectContaining({
                    variant: 'success',
                    title: 'c.Ccl_ToastOrgKeySavedTitle'
                })
            );
            expect(getStatus).toHaveBeenCalledTimes(2);
            expect(getActivity).toHaveBeenCalledTimes(1);
            expect(cardPart(element, 'badge').label).toBe(
                'c.Ccl_StatusUnlinked'
            );
            expect(card(element).orgKey.keyState).toBe('set');
            expect(element.shadowRoot.textContent).not.toContain(SANDBOX_KEY);
        });

        it('a key Salesforce would not store: the reason under the field, the key gone from it', async () => {
            getOrgKeyState.mockResolvedValue(KEY_MISSING_IN_SANDBOX);
            saveOrgKey.mockRejectedValue(
                codedApexError(
                    'KEY_NOT_SAVED',
                    'Salesforce did not store the key: insufficient access.'
                )
            );
            const { element } = await createComponent();
            const input = orgKeyPart(element, 'org-key-input');
            input.value = SANDBOX_KEY;
            input.dispatchEvent(new CustomEvent('change'));
            await flushPromises();
            orgKeyPart(element, 'org-key-save').click();
            await flushPromises();
            expect(orgKeyPart(element, 'org-key-error').textContent).toContain(
                'insufficient access'
            );
            expect(orgKeyPart(element, 'org-key-input').value).toBe('');
            expect(getStatus).toHaveBeenCalledTimes(1);
        });

        it('without the admin permission: whom to ask, and no field to store a key in', async () => {
            getOrgKeyState.mockResolvedValue({
                ...KEY_MISSING_IN_SANDBOX,
                canManage: false,
                admins: ['Ada Admin']
            });
            getStatus.mockRejectedValue(
                codedApexError(
                    'FORBIDDEN',
                    'You need the Manage Contact Center Link permission to do this.'
                )
            );
            const { element } = await createComponent();
            expect(orgKeyPart(element, 'org-key-input')).toBeNull();
            expect(orgKeyPart(element, 'org-key-ask').textContent).toContain(
                'Ada Admin'
            );
            expect(saveOrgKey).not.toHaveBeenCalled();
        });

        it('a class the user may not call leaves the section out', async () => {
            getOrgKeyState.mockRejectedValue(
                apexError(
                    'You do not have access to the Apex class named ContactCenterLinkOrgKey.'
                )
            );
            getStatus.mockResolvedValue(STATUS_LINKED);
            const { element } = await createComponent();
            expect(cardPart(element, 'org-key-section')).toBeNull();
            expect(cardPart(element, 'badge').label).toBe('c.Ccl_StatusLinked');
        });
    });
});
