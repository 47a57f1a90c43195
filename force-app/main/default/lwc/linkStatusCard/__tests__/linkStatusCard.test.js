import { createElement } from '@lwc/engine-dom';
import LightningConfirm from 'lightning/confirm';
import LinkStatusCard from 'c/linkStatusCard';

// Labels with placeholders get their real text, so the filled-in values show.
jest.mock(
    '@salesforce/label/c.Ccl_AccountCount',
    () => ({ default: '{0} of {1}' }),
    { virtual: true }
);
jest.mock(
    '@salesforce/label/c.Ccl_ThisOrgItem',
    () => ({ default: '{0} (this org)' }),
    { virtual: true }
);
jest.mock(
    '@salesforce/label/c.Ccl_OtherOrgConfirmMessage',
    () => ({ default: 'This org is a {0} org. Choosing {1} links another.' }),
    { virtual: true }
);

jest.mock(
    '@salesforce/label/c.Ccl_ApiUsageCount',
    () => ({ default: '{0} of {1} requests' }),
    { virtual: true }
);
jest.mock(
    '@salesforce/label/c.Ccl_HelpUrl',
    () => ({ default: 'https://docs.example.com/contact-center-link/install' }),
    { virtual: true }
);

jest.mock(
    '@salesforce/label/c.Ccl_OrgNameAndId',
    () => ({ default: '{0} ({1})' }),
    { virtual: true }
);
jest.mock(
    '@salesforce/label/c.Ccl_ReasonSandboxRefreshed',
    () => ({
        default:
            'This sandbox was refreshed on {0}: the link still points at {1}, the org it was copied from. Relink it.'
    }),
    { virtual: true }
);
jest.mock(
    '@salesforce/label/c.Ccl_ReasonOtherOrg',
    () => ({
        default: 'This card runs in {0}, but the account is linked to {1}.'
    }),
    { virtual: true }
);
jest.mock(
    '@salesforce/label/c.Ccl_DeliveryChange',
    () => ({ default: '{0} → {1}' }),
    { virtual: true }
);
jest.mock(
    '@salesforce/label/c.Ccl_DeliveryAttempts',
    () => ({ default: 'Attempts: {0}' }),
    { virtual: true }
);
jest.mock(
    '@salesforce/label/c.Ccl_DeliveryHttpStatus',
    () => ({ default: 'HTTP {0}' }),
    { virtual: true }
);
jest.mock(
    '@salesforce/label/c.Ccl_DeliveriesLoadFailed',
    () => ({ default: 'The webhook deliveries could not be read: {0}' }),
    { virtual: true }
);
const HELP = 'https://docs.example.com/contact-center-link/install';

const STATUS_UNLINKED = require('./data/statusUnlinked.json');
const STATUS_LINKED = require('./data/statusLinked.json');
const STATUS_LEGACY = require('./data/statusLegacy.json');
const STATUS_NEEDS_RELINK = require('./data/statusNeedsRelink.json');
const WEBHOOK_DELIVERIES = require('./data/webhookDeliveries.json');

async function flushPromises() {
    for (let i = 0; i < 5; i++) {
        // eslint-disable-next-line no-await-in-loop
        await Promise.resolve();
    }
}

function createCard(props = {}) {
    const element = createElement('c-link-status-card', {
        is: LinkStatusCard
    });
    Object.assign(element, props);
    document.body.appendChild(element);
    return element;
}

function query(element, dataId) {
    return element.shadowRoot.querySelector(`[data-id="${dataId}"]`);
}

/** A part of one of the card's event lists (c-link-event-list): 'activity' or 'webhook-deliveries'. */
function listPart(element, list, dataId) {
    const host = query(element, list);
    return host ? host.shadowRoot.querySelector(`[data-id="${dataId}"]`) : null;
}

function detailValue(element, key) {
    const row = query(element, key);
    return row ? row.querySelector('dd') : null;
}

function selectEnvironment(element, environment) {
    query(element, 'link-menu').dispatchEvent(
        new CustomEvent('select', { detail: { value: environment } })
    );
}

describe('c-link-status-card', () => {
    afterEach(() => {
        while (document.body.firstChild) {
            document.body.removeChild(document.body.firstChild);
        }
        jest.restoreAllMocks();
    });

    describe('status rendering', () => {
        it('shows Unlinked with Link and no Verify or Unlink', () => {
            const element = createCard({ status: STATUS_UNLINKED });

            expect(query(element, 'badge').label).toBe('c.Ccl_StatusUnlinked');
            expect(query(element, 'status-help').textContent).toContain(
                'c.Ccl_UnlinkedHelp'
            );
            expect(query(element, 'link-menu').label).toBe('c.Ccl_Link');
            expect(query(element, 'verify')).toBeNull();
            expect(query(element, 'unlink')).toBeNull();
            expect(query(element, 'details')).toBeNull();
            expect(query(element, 'account').textContent).toContain(
                'Acme Support'
            );
        });

        it('shows Linked with the link details, account count and checks', () => {
            const element = createCard({ status: STATUS_LINKED });

            const badge = query(element, 'badge');
            expect(badge.label).toBe('c.Ccl_StatusLinked');
            expect(badge.className).toContain('slds-theme_success');
            expect(query(element, 'link-menu').label).toBe('c.Ccl_Relink');
            expect(query(element, 'verify')).not.toBeNull();
            expect(query(element, 'unlink')).not.toBeNull();

            expect(detailValue(element, 'username').textContent).toBe(
                'api@acme.example'
            );
            expect(detailValue(element, 'displayName').textContent).toBe(
                'Acme API User'
            );
            expect(detailValue(element, 'orgId').textContent).toBe(
                '00D5g000004AcmeEAC'
            );
            expect(detailValue(element, 'environment').textContent).toBe(
                'c.Ccl_Production'
            );
            expect(detailValue(element, 'instanceUrl').textContent).toBe(
                'https://acme.my.salesforce.com'
            );
            expect(
                detailValue(element, 'linkedAt').querySelector(
                    'lightning-formatted-date-time'
                ).value
            ).toBe('2024-05-01T10:00:00.000Z');
            expect(detailValue(element, 'linkedBy').textContent).toBe(
                'admin@acme.example'
            );
            expect(
                detailValue(element, 'lastVerifiedAt').querySelector(
                    'lightning-formatted-date-time'
                ).value
            ).toBe('2024-05-02T09:30:00.000Z');
            expect(detailValue(element, 'apiUserAccounts').textContent).toBe(
                '2 of 5'
            );

            const checks = query(element, 'checks').querySelectorAll('li');
            expect(checks).toHaveLength(4);
            const icon = (id) =>
                query(element, id).querySelector('lightning-icon');
            expect(icon('api_enabled').iconName).toBe('utility:success');
            expect(icon('api_enabled').alternativeText).toBe(
                'c.Ccl_CheckPassed'
            );
            expect(icon('view_all_data').iconName).toBe('utility:warning');
            expect(icon('view_all_data').alternativeText).toBe(
                'c.Ccl_CheckWarning'
            );
            expect(icon('task_call_fields').iconName).toBe('utility:error');
            expect(icon('task_call_fields').alternativeText).toBe(
                'c.Ccl_CheckFailed'
            );
            expect(query(element, 'task_call_fields').textContent).toContain(
                'CallDisposition is not editable.'
            );
        });

        it('shows Legacy with the relink recommendation', () => {
            const element = createCard({ status: STATUS_LEGACY });

            const badge = query(element, 'badge');
            expect(badge.label).toBe('c.Ccl_StatusLegacy');
            expect(badge.className).toContain('slds-theme_warning');
            expect(query(element, 'status-help').textContent).toContain(
                'c.Ccl_LegacyHelp'
            );
            expect(query(element, 'link-menu').label).toBe('c.Ccl_Relink');
            expect(query(element, 'verify')).not.toBeNull();
            expect(query(element, 'unlink')).not.toBeNull();
            expect(query(element, 'linkedBy')).toBeNull();
            expect(query(element, 'checks')).toBeNull();
            expect(detailValue(element, 'apiUserAccounts').textContent).toBe(
                '1 of 5'
            );
        });

        it('shows Needs relink with the last error, Relink and Unlink only', () => {
            const element = createCard({ status: STATUS_NEEDS_RELINK });

            const badge = query(element, 'badge');
            expect(badge.label).toBe('c.Ccl_StatusNeedsRelink');
            expect(badge.className).toContain('slds-theme_error');
            expect(query(element, 'last-error').textContent).toContain(
                'Salesforce revoked the refresh token: the API user was frozen.'
            );
            expect(query(element, 'link-menu').label).toBe('c.Ccl_Relink');
            expect(query(element, 'verify')).toBeNull();
            expect(query(element, 'unlink')).not.toBeNull();
        });

        it('shows the guidance for admins in every state', () => {
            const element = createCard({ status: STATUS_UNLINKED });

            const guidance = query(element, 'guidance').textContent;
            expect(guidance).toContain('c.Ccl_GuidanceLoginDirectly');
            expect(guidance).toContain('c.Ccl_GuidanceFiveAccounts');
        });

        it('offers Link and shows no badge before the status arrives', () => {
            const element = createCard({ loading: true });

            expect(query(element, 'badge')).toBeNull();
            expect(query(element, 'link-menu').label).toBe('c.Ccl_Link');
            expect(query(element, 'spinner')).not.toBeNull();
            expect(query(element, 'link-menu').disabled).toBe(true);
        });

        it('shows no badge for a status it does not know', () => {
            const element = createCard({
                status: { ...STATUS_UNLINKED, status: 'constructor' }
            });

            expect(query(element, 'badge')).toBeNull();
            expect(query(element, 'link-menu').label).toBe('c.Ccl_Link');
            expect(query(element, 'verify')).toBeNull();
        });

        it('disables the actions while loading or waiting', async () => {
            const element = createCard({ status: STATUS_LINKED });
            expect(query(element, 'verify').disabled).toBe(false);

            element.loading = true;
            await flushPromises();
            expect(query(element, 'verify').disabled).toBe(true);
            expect(query(element, 'unlink').disabled).toBe(true);

            element.loading = false;
            element.waiting = true;
            await flushPromises();
            expect(query(element, 'spinner')).toBeNull();
            expect(query(element, 'link-menu').disabled).toBe(true);
            expect(query(element, 'waiting').textContent).toContain(
                'c.Ccl_Waiting'
            );
        });

        it('shows the error and the notice it is given', () => {
            const element = createCard({
                status: STATUS_UNLINKED,
                errorMessage: 'You logged in to a different org.',
                notice: 'The login window was not completed in time.'
            });

            const error = query(element, 'error');
            expect(error.getAttribute('role')).toBe('alert');
            expect(error.textContent).toContain(
                'You logged in to a different org.'
            );
            expect(query(element, 'notice').textContent).toContain(
                'The login window was not completed in time.'
            );
            expect(query(element, 'status').getAttribute('aria-live')).toBe(
                'polite'
            );
        });

        it('offers a link to the login when the popup was blocked', () => {
            const element = createCard({
                status: STATUS_UNLINKED,
                waiting: true,
                blockedUrl: 'https://ccl.example.com/oauth/start/ls_1'
            });

            const link = query(element, 'popup-link');
            expect(link.href).toBe('https://ccl.example.com/oauth/start/ls_1');
            expect(link.target).toBe('_blank');
            expect(link.textContent).toBe('c.Ccl_PopupBlockedLink');
            expect(query(element, 'popup-blocked').textContent).toContain(
                'c.Ccl_PopupBlocked'
            );
        });
    });

    describe('the Link menu', () => {
        it('marks the item of this org environment', () => {
            const element = createCard({ status: STATUS_UNLINKED });

            expect(query(element, 'production').label).toBe(
                'c.Ccl_Production (this org)'
            );
            expect(query(element, 'sandbox').label).toBe('c.Ccl_Sandbox');
        });

        it('marks the sandbox item in a sandbox', () => {
            const element = createCard({
                status: {
                    ...STATUS_UNLINKED,
                    thisOrg: {
                        ...STATUS_UNLINKED.thisOrg,
                        environment: 'sandbox'
                    }
                }
            });

            expect(query(element, 'production').label).toBe('c.Ccl_Production');
            expect(query(element, 'sandbox').label).toBe(
                'c.Ccl_Sandbox (this org)'
            );
        });

        it('links this org environment without asking', async () => {
            const confirm = jest.spyOn(LightningConfirm, 'open');
            const element = createCard({ status: STATUS_UNLINKED });
            const handler = jest.fn();
            element.addEventListener('link', handler);

            selectEnvironment(element, 'production');
            await flushPromises();

            expect(confirm).not.toHaveBeenCalled();
            expect(handler).toHaveBeenCalledTimes(1);
            expect(handler.mock.calls[0][0].detail).toEqual({
                environment: 'production'
            });
        });

        it('asks before linking the other environment, and links when confirmed', async () => {
            const confirm = jest
                .spyOn(LightningConfirm, 'open')
                .mockResolvedValue(true);
            const element = createCard({ status: STATUS_LINKED });
            const handler = jest.fn();
            element.addEventListener('link', handler);

            selectEnvironment(element, 'sandbox');
            await flushPromises();

            expect(confirm).toHaveBeenCalledTimes(1);
            expect(confirm.mock.calls[0][0]).toMatchObject({
                label: 'c.Ccl_OtherOrgConfirmTitle',
                message:
                    'This org is a c.Ccl_Production org. Choosing c.Ccl_Sandbox links another.',
                theme: 'warning'
            });
            expect(handler).toHaveBeenCalledTimes(1);
            expect(handler.mock.calls[0][0].detail).toEqual({
                environment: 'sandbox'
            });
        });

        it('does not link the other environment when the admin cancels', async () => {
            jest.spyOn(LightningConfirm, 'open').mockResolvedValue(false);
            const element = createCard({ status: STATUS_UNLINKED });
            const handler = jest.fn();
            element.addEventListener('link', handler);

            selectEnvironment(element, 'sandbox');
            await flushPromises();

            expect(handler).not.toHaveBeenCalled();
        });

        it('ignores values that are not environments', async () => {
            const confirm = jest.spyOn(LightningConfirm, 'open');
            const element = createCard({ status: STATUS_UNLINKED });
            const handler = jest.fn();
            element.addEventListener('link', handler);

            selectEnvironment(element, 'staging');
            selectEnvironment(element, 'constructor');
            await flushPromises();

            expect(confirm).not.toHaveBeenCalled();
            expect(handler).not.toHaveBeenCalled();
        });
    });

    describe('Verify, Unlink and Cancel', () => {
        it('raises verify', () => {
            const element = createCard({ status: STATUS_LINKED });
            const handler = jest.fn();
            element.addEventListener('verify', handler);

            query(element, 'verify').click();

            expect(handler).toHaveBeenCalledTimes(1);
        });

        it('raises unlink once the admin confirms', async () => {
            const confirm = jest
                .spyOn(LightningConfirm, 'open')
                .mockResolvedValue(true);
            const element = createCard({ status: STATUS_NEEDS_RELINK });
            const handler = jest.fn();
            element.addEventListener('unlink', handler);

            query(element, 'unlink').click();
            await flushPromises();

            expect(confirm.mock.calls[0][0]).toMatchObject({
                label: 'c.Ccl_UnlinkConfirmTitle',
                message: 'c.Ccl_UnlinkConfirmMessage'
            });
            expect(handler).toHaveBeenCalledTimes(1);
        });

        it('does not unlink when the admin cancels', async () => {
            jest.spyOn(LightningConfirm, 'open').mockResolvedValue(false);
            const element = createCard({ status: STATUS_LINKED });
            const handler = jest.fn();
            element.addEventListener('unlink', handler);

            query(element, 'unlink').click();
            await flushPromises();

            expect(handler).not.toHaveBeenCalled();
        });

        it('raises cancel while waiting', () => {
            const element = createCard({
                status: STATUS_UNLINKED,
                waiting: true
            });
            const handler = jest.fn();
            element.addEventListener('cancel', handler);

            query(element, 'cancel').click();

            expect(handler).toHaveBeenCalledTimes(1);
        });
    });

    describe('API usage', () => {
        const withUsage = (apiUsage) => ({ ...STATUS_LINKED, apiUsage });

        it('shows used of allowance and when Salesforce reported it', () => {
            const element = createCard({ status: STATUS_LINKED });

            const usage = query(element, 'api-usage');
            expect(query(element, 'api-usage-count').textContent).toBe(
                `${new Intl.NumberFormat().format(1234)} of ${new Intl.NumberFormat().format(15000)} requests`
            );
            expect(query(element, 'api-usage-at').value).toBe(
                '2024-05-02T09:35:00.000Z'
            );
            expect(usage.className).not.toContain('slds-text-color_error');
            expect(query(element, 'api-usage-warning')).toBeNull();
        });

        it('warns in the error colour, with words, from 80% of the daily limit', () => {
            const below = createCard({
                status: withUsage({ used: 11999, max: 15000, at: 'x' })
            });
            expect(query(below, 'api-usage-warning')).toBeNull();

            const near = createCard({
                status: withUsage({
                    used: 12000,
                    max: 15000,
                    at: '2024-05-02T09:35:00.000Z'
                })
            });
            expect(query(near, 'api-usage').className).toContain(
                'slds-text-color_error'
            );
            expect(query(near, 'api-usage-warning').textContent).toContain(
                'c.Ccl_ApiUsageNearLimit'
            );
        });

        it('shows nothing when Salesforce has not reported usage, or reported it in another shape', () => {
            for (const apiUsage of [
                undefined,
                null,
                { used: '1234', max: 15000 },
                { used: 10, max: 0 },
                { used: 1.5, max: 15000 }
            ]) {
                const element = createCard({ status: withUsage(apiUsage) });
                expect(query(element, 'api-usage')).toBeNull();
                document.body.removeChild(element);
            }
        });

        it('follows a new status', async () => {
            const element = createCard({ status: STATUS_LINKED });
            element.status = withUsage({ used: 14990, max: 15000, at: 'y' });
            await flushPromises();

            expect(query(element, 'api-usage-warning')).not.toBeNull();
        });
    });

    describe('webhook deliveries', () => {
        function deliveries(element) {
            return query(element, 'webhook-deliveries')
                ? [
                      ...query(
                          element,
                          'webhook-deliveries'
                      ).shadowRoot.querySelectorAll('[data-id="entry"]')
                  ]
                : [];
        }

        function part(entry, dataId) {
            return entry.querySelector(`[data-id="${dataId}"]`);
        }

        it('lists each delivery: its state, the change, when, the attempts and the last HTTP status or error', () => {
            const element = createCard({
                status: STATUS_LINKED,
                webhookDeliveries: WEBHOOK_DELIVERIES
            });

            const [pending, delivered, failed] = deliveries(element);
            expect(deliveries(element)).toHaveLength(3);

            expect(pending.dataset.state).toBe('pending');
            expect(part(pending, 'title').textContent).toBe(
                'c.Ccl_DeliveryState_pending'
            );
            expect(part(pending, 'note').textContent).toBe(
                'c.Ccl_StatusLinked → c.Ccl_StatusNeedsRelink'
            );
            expect(part(pending, 'extra').textContent).toBe('Attempts: 1');
            expect(part(pending, 'next').textContent).toContain(
                'c.Ccl_DeliveryNextAttempt'
            );
            expect(
                part(pending, 'next').querySelector(
                    'lightning-formatted-date-time'
                ).value
            ).toBe('2024-05-03T10:00:05.000Z');
            expect(part(pending, 'detail').textContent).toBe(
                'The webhook answered HTTP 500.'
            );
            expect(part(pending, 'detail').className).toContain(
                'slds-text-color_error'
            );
            expect(
                pending.querySelector('lightning-formatted-date-time').value
            ).toBe('2024-05-03T10:00:00.000Z');

            expect(part(delivered, 'title').textContent).toBe(
                'c.Ccl_DeliveryState_delivered'
            );
            expect(part(delivered, 'title').className).toContain(
                'slds-text-color_success'
            );
            expect(part(delivered, 'note').textContent).toBe(
                'c.Ccl_StatusUnlinked → c.Ccl_StatusLinked'
            );
            expect(part(delivered, 'detail').textContent).toBe('HTTP 200');
            expect(part(delivered, 'detail').className).not.toContain(
                'slds-text-color_error'
            );
            expect(part(delivered, 'next')).toBeNull();

            expect(part(failed, 'title').textContent).toBe(
                'c.Ccl_DeliveryState_failed'
            );
            expect(part(failed, 'title').className).toContain(
                'slds-text-color_error'
            );
            expect(part(failed, 'extra').textContent).toBe('Attempts: 2');
            expect(part(failed, 'detail').textContent).toBe(
                'The webhook was removed before this event was delivered.'
            );
            expect(part(failed, 'next')).toBeNull();

            expect(listPart(element, 'webhook-deliveries', 'empty')).toBeNull();
            expect(listPart(element, 'webhook-deliveries', 'error')).toBeNull();
        });

        it('shows a state or status it does not know as the backend names it', () => {
            const element = createCard({
                webhookDeliveries: {
                    allowed: true,
                    deliveries: [
                        {
                            id: 'd1',
                            createdAt: '2024-05-03T10:00:00.000Z',
                            fromStatus: 'linked',
                            toStatus: 'paused',
                            state: 'queued'
                        }
                    ]
                }
            });

            const [entry] = deliveries(element);
            expect(part(entry, 'title').textContent).toBe('queued');
            expect(part(entry, 'note').textContent).toBe(
                'c.Ccl_StatusLinked → paused'
            );
            expect(part(entry, 'extra').textContent).toBe('Attempts: 0');
            expect(part(entry, 'detail')).toBeNull();
        });

        it('says so when there are no webhook events yet', () => {
            const element = createCard({
                status: STATUS_LINKED,
                webhookDeliveries: { allowed: true, deliveries: [] }
            });

            expect(query(element, 'webhook-deliveries')).not.toBeNull();
            expect(
                listPart(element, 'webhook-deliveries', 'empty').textContent
            ).toContain('c.Ccl_DeliveriesEmpty');
            expect(deliveries(element)).toHaveLength(0);
        });

        it.each([
            [
                'the org key may not read them',
                { allowed: false, deliveries: [] }
            ],
            [
                'the org key may not read them, even when reading again failed',
                { allowed: false, deliveries: [], errorMessage: 'Timed out.' }
            ],
            ['they are being read for the first time', { loading: true }],
            ['the container has not read them', undefined]
        ])('leaves the section out when %s', (name, webhookDeliveries) => {
            const element = createCard({
                status: STATUS_LINKED,
                webhookDeliveries
            });

            expect(query(element, 'webhook-deliveries')).toBeNull();
            expect(
                listPart(element, 'webhook-deliveries', 'refresh')
            ).toBeNull();
            expect(element.shadowRoot.textContent).not.toContain(
                'c.Ccl_DeliveriesHeading'
            );
        });

        it('says in the section, in small, why they could not be read, and keeps those shown', () => {
            const element = createCard({
                status: STATUS_LINKED,
                webhookDeliveries: {
                    deliveries: [],
                    errorMessage: 'The contact center could not be reached.'
                }
            });

            expect(
                listPart(element, 'webhook-deliveries', 'error').textContent
            ).toContain(
                'The webhook deliveries could not be read: The contact center could not be reached.'
            );
            expect(listPart(element, 'webhook-deliveries', 'empty')).toBeNull();
            expect(query(element, 'error')).toBeNull();

            element.webhookDeliveries = {
                ...WEBHOOK_DELIVERIES,
                errorMessage: 'Timed out.'
            };
            return flushPromises().then(() => {
                expect(deliveries(element)).toHaveLength(3);
                expect(
                    listPart(element, 'webhook-deliveries', 'error').textContent
                ).toContain('Timed out.');
            });
        });

        it('asks the container to read them again, not while it reads', async () => {
            const element = createCard({
                webhookDeliveries: WEBHOOK_DELIVERIES
            });
            const handler = jest.fn();
            element.addEventListener('refreshwebhookdeliveries', handler);

            const refresh = listPart(element, 'webhook-deliveries', 'refresh');
            expect(refresh.alternativeText).toBe('c.Ccl_DeliveriesRefresh');
            expect(refresh.disabled).toBe(false);
            refresh.click();
            expect(handler).toHaveBeenCalledTimes(1);

            element.webhookDeliveries = {
                ...WEBHOOK_DELIVERIES,
                loading: true
            };
            await flushPromises();
            expect(
                listPart(element, 'webhook-deliveries', 'refresh').disabled
            ).toBe(true);
            expect(deliveries(element)).toHaveLength(3);
        });
    });

    describe('derived once per status', () => {
        it('reads the status for its details and checks when it changes, not on every render', async () => {
            let permissionReads = 0;
            const status = { ...STATUS_LINKED };
            Object.defineProperty(status, 'permissions', {
                enumerable: true,
                get() {
                    permissionReads++;
                    return STATUS_LINKED.permissions;
                }
            });
            const element = createCard({ status });
            const readsAfterFirstRender = permissionReads;
            expect(readsAfterFirstRender).toBeGreaterThan(0);

            for (const loading of [true, false, true, false]) {
                element.loading = loading;
                // eslint-disable-next-line no-await-in-loop
                await flushPromises();
            }

            expect(permissionReads).toBe(readsAfterFirstRender);
            expect(
                query(element, 'checks').querySelectorAll('li')
            ).toHaveLength(4);
        });
    });

    describe('setup', () => {
        const STEPS = [
            { id: 'oauthPackage', state: 'todo' },
            { id: 'endpoint', state: 'done' },
            { id: 'permittedUsers', state: 'check' }
        ];

        it('shows the setup checklist it is given, with its help section', () => {
            const element = createCard({
                status: STATUS_UNLINKED,
                setupSteps: STEPS
            });

            const checklist = query(element, 'setup-checklist');
            expect(checklist.steps.map(({ id }) => id)).toEqual([
                'oauthPackage',
                'endpoint',
                'permittedUsers'
            ]);
            expect(checklist.helpUrl).toBe(`${HELP}#the-setup-checklist`);
        });

        it('shows no checklist without steps', () => {
            const element = createCard({ status: STATUS_UNLINKED });
            expect(query(element, 'setup-checklist')).toBeNull();
        });

        it('warns before any popup when the org answered that the OAuth package is missing, not once linked', async () => {
            const missing = {
                appName: 'Contact Center Link',
                oauthApp: 'not_installed',
                apiUser: 'assigned'
            };
            const element = createCard({
                status: STATUS_UNLINKED,
                setup: missing
            });
            expect(query(element, 'app-not-installed').textContent).toContain(
                'c.Ccl_AppNotInstalledTitle'
            );

            element.status = STATUS_LINKED;
            await flushPromises();
            expect(query(element, 'app-not-installed')).toBeNull();

            element.status = STATUS_UNLINKED;
            element.setup = { ...missing, oauthApp: 'installed' };
            await flushPromises();
            expect(query(element, 'app-not-installed')).toBeNull();
        });
    });

    describe('help at hand', () => {
        it('links to the help page on creating the API user', () => {
            const element = createCard({ status: STATUS_UNLINKED });

            const link = query(element, 'help-setup');
            expect(link.href).toBe(`${HELP}#6-create-the-api-user`);
            expect(link.target).toBe('_blank');
            expect(link.rel).toContain('noopener');
        });

        it('links Needs relink to its section, and no other status', () => {
            const needsRelink = createCard({ status: STATUS_NEEDS_RELINK });
            expect(query(needsRelink, 'help-needs-relink').href).toBe(
                `${HELP}#needs-relink`
            );

            const linked = createCard({ status: STATUS_LINKED });
            expect(query(linked, 'help-needs-relink')).toBeNull();
        });

        it('links an error without a known code to the troubleshooting section', () => {
            const element = createCard({
                status: STATUS_LINKED,
                errorMessage: 'Could not reach the service.',
                errorCode: 'SERVICE_UNREACHABLE'
            });

            expect(query(element, 'error-action')).toBeNull();
            expect(query(element, 'help-error').href).toBe(
                `${HELP}#when-something-goes-wrong`
            );
        });
    });

    describe('acting on the error code', () => {
        it.each([
            [
                'API_USER_LIMIT_REACHED',
                'c.Ccl_ErrorActionApiUserLimit',
                '6-create-the-api-user'
            ],
            ['NEEDS_RELINK', 'c.Ccl_ErrorActionNeedsRelink', 'needs-relink'],
            [
                'APP_NOT_INSTALLED',
                'c.Ccl_ErrorActionAppNotInstalled',
                'the-oauth-app'
            ]
        ])(
            '%s: says what to do and links its section',
            (code, action, section) => {
                const element = createCard({
                    status: STATUS_UNLINKED,
                    errorMessage: 'The backend says why.',
                    errorCode: code
                });

                const error = query(element, 'error');
                expect(error.getAttribute('role')).toBe('alert');
                expect(error.textContent).toContain('The backend says why.');
                expect(query(element, 'error-action').textContent).toBe(action);
                expect(query(element, 'help-error').href).toBe(
                    `${HELP}#${section}`
                );
            }
        );

        it('suggests nothing for a code it does not know, even an inherited name', () => {
            for (const errorCode of ['constructor', 'toString', undefined]) {
                const element = createCard({
                    status: STATUS_UNLINKED,
                    errorMessage: 'Something.',
                    errorCode
                });
                expect(query(element, 'error-action')).toBeNull();
                document.body.removeChild(element);
            }
        });
    });

    describe('the org: its name, and why it is not the linked one', () => {
        const SANDBOX_LINK = {
            ...STATUS_NEEDS_RELINK.link,
            environment: 'sandbox',
            orgId: '00D5g000004UatOEAS',
            orgName: 'Acme UAT',
            instanceUrl: 'https://acme--uat.sandbox.my.salesforce.com',
            loginUrl: 'https://acme--uat.sandbox.my.salesforce.com'
        };

        it('shows the linked org by its name and id', () => {
            const element = createCard({
                status: {
                    ...STATUS_LINKED,
                    link: { ...STATUS_LINKED.link, orgName: 'Acme' }
                }
            });

            expect(detailValue(element, 'orgId').textContent).toBe(
                'Acme (00D5g000004AcmeEAC)'
            );
            expect(query(element, 'org-reason')).toBeNull();
        });

        it('says the sandbox was refreshed, and when, when this sandbox on the link’s host has a new org id', async () => {
            const element = createCard({
                status: {
                    ...STATUS_NEEDS_RELINK,
                    link: SANDBOX_LINK,
                    thisOrg: {
                        orgId: '00D5g000004UatNEWX',
                        environment: 'sandbox',
                        domainUrl:
                            'https://acme--uat.sandbox.my.salesforce.com',
                        name: 'Acme UAT',
                        createdDate: '2024-06-03T05:00:00.000Z'
                    }
                }
            });

            const reason = query(element, 'org-reason');
            expect(reason.dataset.kind).toBe('sandboxRefreshed');
            expect(reason.textContent).toContain(
                'This sandbox was refreshed on Jun 3, 2024: the link still points at Acme UAT (00D5g000004UatOEAS)'
            );
            expect(reason.className).toContain('slds-text-color_error');
            await expect(element).toBeAccessible();
        });

        it('names both orgs when the card runs in another org than the linked one', () => {
            const element = createCard({
                status: {
                    ...STATUS_LINKED,
                    link: { ...STATUS_LINKED.link, orgName: 'Acme' },
                    thisOrg: {
                        orgId: '00D5g000004UatOEAS',
                        environment: 'sandbox',
                        domainUrl:
                            'https://acme--uat.sandbox.my.salesforce.com',
                        name: 'Acme UAT',
                        createdDate: '2024-06-03T05:00:00.000Z'
                    }
                }
            });

            const reason = query(element, 'org-reason');
            expect(reason.dataset.kind).toBe('otherOrg');
            expect(reason.textContent).toContain(
                'This card runs in Acme UAT (00D5g000004UatOEAS), but the account is linked to Acme (00D5g000004AcmeEAC).'
            );
            expect(reason.className).toContain('slds-text-color_weak');
        });

        it('takes a 15-character org id for the same org, and says nothing without thisOrg', () => {
            const same = createCard({
                status: {
                    ...STATUS_LINKED,
                    thisOrg: {
                        ...STATUS_LINKED.thisOrg,
                        orgId: '00D5g000004Acme'
                    }
                }
            });
            expect(query(same, 'org-reason')).toBeNull();
            const unknown = createCard({
                status: { ...STATUS_LINKED, thisOrg: undefined }
            });
            expect(query(unknown, 'org-reason')).toBeNull();
        });
    });

    describe('accessibility', () => {
        it('is accessible with API usage near the limit and an error it acts on', async () => {
            const element = createCard({
                status: {
                    ...STATUS_LINKED,
                    apiUsage: { used: 14900, max: 15000, at: 'x' }
                },
                errorMessage: 'This API user already serves five accounts.',
                errorCode: 'API_USER_LIMIT_REACHED'
            });

            await expect(element).toBeAccessible();
        });

        it.each([
            ['unlinked', STATUS_UNLINKED],
            ['linked', STATUS_LINKED],
            ['legacy', STATUS_LEGACY],
            ['needs_relink', STATUS_NEEDS_RELINK]
        ])('is accessible when %s', async (name, status) => {
            const element = createCard({ status });

            await expect(element).toBeAccessible();
        });

        it('is accessible with webhook deliveries in every state', async () => {
            const element = createCard({
                status: STATUS_LINKED,
                webhookDeliveries: WEBHOOK_DELIVERIES
            });

            await expect(element).toBeAccessible();
        });

        it('is accessible with no webhook events and with a read that failed', async () => {
            const empty = createCard({
                status: STATUS_LINKED,
                webhookDeliveries: { allowed: true, deliveries: [] }
            });
            await expect(empty).toBeAccessible();

            const failed = createCard({
                status: STATUS_LINKED,
                webhookDeliveries: { deliveries: [], errorMessage: 'Down.' }
            });
            await expect(failed).toBeAccessible();
        });

        it('is accessible while loading', async () => {
            const element = createCard({ loading: true });

            await expect(element).toBeAccessible();
        });

        it('is accessible while waiting with a blocked popup and an error', async () => {
            const element = createCard({
                status: STATUS_LINKED,
                waiting: true,
                blockedUrl: 'https://ccl.example.com/oauth/start/ls_1',
                errorMessage: 'The link failed.',
                notice: 'Try again.'
            });

            await expect(element).toBeAccessible();
        });
    });

    describe('the refresh token, the IP allowlist and the org key', () => {
        const IP_REFUSED = {
            ...STATUS_NEEDS_RELINK,
            link: {
                ...STATUS_NEEDS_RELINK.link,
                lastError: {
                    code: 'IP_NOT_ALLOWED',
                    message:
                        'Salesforce refused the backend’s address. Add 203.0.113.10 to the refresh token IP allowlist, then click Verify.',
                    at: '2024-05-03T08:00:00.000Z'
                }
            },
            egressAddresses: ['203.0.113.10']
        };
        const KEY_SET = {
            keyState: 'set',
            backendUrl: 'https://ccl.example.com',
            canManage: true,
            environment: 'production',
            admins: []
        };

        it('shows when the link’s refresh token was last used', () => {
            const element = createCard({
                status: {
                    ...STATUS_LINKED,
                    link: {
                        ...STATUS_LINKED.link,
                        lastRefreshedAt: '2024-05-02T09:00:00.000Z'
                    }
                }
            });
            expect(
                query(element, 'lastRefreshedAt').querySelector('dt')
                    .textContent
            ).toContain('c.Ccl_FieldLastRefreshed');
            expect(
                detailValue(element, 'lastRefreshedAt').querySelector(
                    'lightning-formatted-date-time'
                ).value
            ).toBe('2024-05-02T09:00:00.000Z');
            const never = createCard({ status: STATUS_LINKED });
            expect(query(never, 'lastRefreshedAt')).toBeNull();
        });

        it('lists the backend’s addresses to allow, and none when the operator named none', () => {
            const element = createCard({
                status: {
                    ...STATUS_LINKED,
                    egressAddresses: ['203.0.113.10', '2001:db8::/64']
                }
            });
            expect(query(element, 'egress-section').egress).toEqual({
                addresses: ['203.0.113.10', '2001:db8::/64'],
                refused: false
            });
            expect(
                query(createCard({ status: STATUS_LINKED }), 'egress-section')
            ).toBeNull();
        });

        it('a link refused for the backend’s address says why, marks the addresses refused and offers Verify', async () => {
            const element = createCard({
                status: IP_REFUSED,
                errorCode: 'IP_NOT_ALLOWED',
                errorMessage: IP_REFUSED.link.lastError.message
            });
            expect(query(element, 'last-error').textContent).toContain(
                '203.0.113.10'
            );
            expect(query(element, 'egress-section').egress.refused).toBe(true);
            expect(query(element, 'verify')).not.toBeNull();
            expect(query(element, 'status-help').textContent).toContain(
                'c.Ccl_IpRefusedHelp'
            );
            expect(query(element, 'help-needs-relink').href).toBe(
                `${HELP}#the-ip-allowlist-for-tokens`
            );
            expect(query(element, 'help-needs-relink').textContent).toBe(
                'c.Ccl_HelpIpAllowlistLink'
            );
            expect(query(element, 'error-action').textContent).toBe(
                'c.Ccl_ErrorActionIpNotAllowed'
            );
            expect(query(element, 'help-error').href).toBe(
                `${HELP}#the-ip-allowlist-for-tokens`
            );
            await expect(element).toBeAccessible();
        });

        it('with the key missing (no status to show) the org-key section explains the UNAUTHORIZED status read instead of the error', async () => {
            const element = createCard({
                orgKey: {
                    ...KEY_SET,
                    keyState: 'missing',
                    environment: 'sandbox'
                },
                errorCode: 'UNAUTHORIZED',
                errorMessage: 'The API key is missing or not valid.'
            });
            await flushPromises();
            const sections = [
                ...element.shadowRoot.querySelectorAll(
                    '[data-id="org-key-section"]'
                )
            ];
            expect(sections).toHaveLength(1);
            expect(query(element, 'error')).toBeNull();
            const body = element.shadowRoot.querySelector(
                '.slds-card__body_inner'
            );
            expect(body.querySelector('c-link-org-key')).toBe(sections[0]);
            expect(
                sections[0].compareDocumentPosition(
                    query(element, 'guidance')
                ) & Node.DOCUMENT_POSITION_FOLLOWING
            ).toBeTruthy();
            await expect(element).toBeAccessible();
        });

        it('another error still shows beside a missing key', () => {
            const element = createCard({
                orgKey: { ...KEY_SET, keyState: 'missing' },
                errorCode: 'SERVICE_UNREACHABLE',
                errorMessage: 'The backend could not be reached.'
            });
            expect(query(element, 'error')).not.toBeNull();
        });

        it('once set, the org-key section follows the details and raises saveorgkey from its field', async () => {
            const element = createCard({
                status: STATUS_LINKED,
                orgKey: KEY_SET
            });
            await flushPromises();
            const section = query(element, 'org-key-section');
            expect(
                section.compareDocumentPosition(query(element, 'details')) &
                    Node.DOCUMENT_POSITION_PRECEDING
            ).toBeTruthy();
            const handler = jest.fn();
            element.addEventListener('saveorgkey', handler);
            section.dispatchEvent(
                new CustomEvent('saveorgkey', { detail: { key: 'ccl_abc' } })
            );
            expect(handler.mock.calls[0][0].detail).toEqual({ key: 'ccl_abc' });
        });
    });
});
