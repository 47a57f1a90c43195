import { createElement } from '@lwc/engine-dom';
import LinkOrgKey from 'c/linkOrgKey';

jest.mock(
    '@salesforce/label/c.Ccl_OrgKeyAskAdmins',
    () => ({
        default: 'Ask a Contact Center Link admin to enter the key: {0}.'
    }),
    { virtual: true }
);
jest.mock(
    '@salesforce/label/c.Ccl_OrgKeySandboxCleared',
    () => ({
        default:
            "A sandbox create or refresh clears it. Salesforce: “Sensitive values in named credentials—including access tokens, API keys, and passwords—aren't copied from production environments when you create, refresh, or clone a sandbox org.”"
    }),
    { virtual: true }
);

const KEY = 'ccl_Sandbox0Account0Key_0123456789abcdefghijkl';
const BACKEND = 'https://ccl.example.com';
const MISSING_IN_SANDBOX = {
    keyState: 'missing',
    backendUrl: BACKEND,
    canManage: true,
    environment: 'sandbox',
    refreshedAt: '2024-05-03T08:00:00.000Z',
    admins: []
};

function render(props) {
    const element = createElement('c-link-org-key', { is: LinkOrgKey });
    Object.assign(element, props);
    document.body.appendChild(element);
    return element;
}

const find = (element, id) =>
    element.shadowRoot.querySelector(`[data-id="${id}"]`);

async function flush() {
    await Promise.resolve();
    await Promise.resolve();
}

describe('c-link-org-key', () => {
    afterEach(() => {
        while (document.body.firstChild) {
            document.body.removeChild(document.body.firstChild);
        }
    });

    it('says a refreshed sandbox has no key, in Salesforce’s words, and which backend the Named Credential calls', async () => {
        const element = render({ orgKey: MISSING_IN_SANDBOX });
        await flush();
        expect(find(element, 'org-key-missing')).not.toBeNull();
        expect(find(element, 'org-key-sandbox').textContent).toContain(
            "aren't copied from production environments when you create, refresh, or clone a sandbox org"
        );
        expect(
            find(element, 'org-key-refreshed').querySelector(
                'lightning-formatted-date-time'
            ).value
        ).toBe('2024-05-03T08:00:00.000Z');
        expect(find(element, 'org-key-backend').textContent).toContain(BACKEND);
        expect(find(element, 'org-key-state')).toBeNull();
        await expect(element).toBeAccessible();
    });

    it('says nothing of sandboxes in production', async () => {
        const element = render({
            orgKey: {
                ...MISSING_IN_SANDBOX,
                environment: 'production',
                refreshedAt: null
            }
        });
        await flush();
        expect(find(element, 'org-key-missing')).not.toBeNull();
        expect(find(element, 'org-key-sandbox')).toBeNull();
    });

    it('an admin pastes the key: the card raises saveorgkey with it, trimmed, and empties the field at once', async () => {
        const element = render({ orgKey: MISSING_IN_SANDBOX });
        await flush();
        const handler = jest.fn();
        element.addEventListener('saveorgkey', handler);
        const input = find(element, 'org-key-input');
        expect(input.type).toBe('password');
        expect(find(element, 'org-key-save').disabled).toBe(true);
        input.value = `  ${KEY} `;
        input.dispatchEvent(new CustomEvent('change'));
        await flush();
        expect(find(element, 'org-key-save').disabled).toBe(false);
        find(element, 'org-key-save').click();
        await flush();
        expect(handler).toHaveBeenCalledTimes(1);
        expect(handler.mock.calls[0][0].detail).toEqual({ key: KEY });
        expect(find(element, 'org-key-input').value).toBe('');
        expect(element.shadowRoot.textContent).not.toContain(KEY);
    });

    it('someone without the admin permission gets no field, only whom to ask', async () => {
        const element = render({
            orgKey: {
                ...MISSING_IN_SANDBOX,
                canManage: false,
                admins: ['Ada Admin', 'Bo Builder']
            }
        });
        await flush();
        expect(find(element, 'org-key-form')).toBeNull();
        expect(find(element, 'org-key-input')).toBeNull();
        expect(find(element, 'org-key-ask').textContent).toBe(
            'Ask a Contact Center Link admin to enter the key: Ada Admin, Bo Builder.'
        );
        await expect(element).toBeAccessible();
    });

    it('without the admins’ names it says who they are', async () => {
        const element = render({
            orgKey: { ...MISSING_IN_SANDBOX, canManage: false, admins: null }
        });
        await flush();
        expect(find(element, 'org-key-ask').textContent).toBe(
            'c.Ccl_OrgKeyAskAnyAdmin'
        );
    });

    it('a key that is set shows as set; an admin may replace it, and cancel', async () => {
        const element = render({
            orgKey: { ...MISSING_IN_SANDBOX, keyState: 'set' }
        });
        await flush();
        expect(find(element, 'org-key-missing')).toBeNull();
        expect(find(element, 'org-key-state').textContent).toContain(
            'c.Ccl_OrgKeySet'
        );
        expect(find(element, 'org-key-form')).toBeNull();
        find(element, 'org-key-replace').click();
        await flush();
        expect(find(element, 'org-key-form')).not.toBeNull();
        find(element, 'org-key-cancel').click();
        await flush();
        expect(find(element, 'org-key-form')).toBeNull();
        expect(find(element, 'org-key-ask')).toBeNull();
    });

    it('an UNAUTHORIZED status read counts as a missing key when the org could not tell', async () => {
        const element = render({
            orgKey: {
                ...MISSING_IN_SANDBOX,
                keyState: 'unknown',
                backendUrl: null
            },
            statusErrorCode: 'UNAUTHORIZED'
        });
        await flush();
        expect(find(element, 'org-key-missing')).not.toBeNull();
        expect(find(element, 'org-key-backend').textContent).toContain(
            'c.Ccl_OrgKeyBackendUnknown'
        );
    });

    it('an unknown key state says so, and still lets an admin enter a key', async () => {
        const element = render({
            orgKey: { ...MISSING_IN_SANDBOX, keyState: 'unknown' }
        });
        await flush();
        expect(find(element, 'org-key-unknown')).not.toBeNull();
        expect(find(element, 'org-key-form')).not.toBeNull();
    });

    it('while saving the field and button are disabled, and a failure is shown under them', async () => {
        const element = render({
            orgKey: MISSING_IN_SANDBOX,
            saving: true,
            errorMessage:
                'Salesforce did not store the key: insufficient access.'
        });
        await flush();
        expect(find(element, 'org-key-input').disabled).toBe(true);
        expect(find(element, 'org-key-save').disabled).toBe(true);
        expect(find(element, 'org-key-error').textContent).toContain(
            'insufficient access'
        );
    });
});
