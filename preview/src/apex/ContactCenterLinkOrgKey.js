// The preview's stand-in for the Apex class ContactCenterLinkOrgKey: the same methods, inputs, outputs (OrgKeyState)
// and errors. Where the Apex calls ConnectApi.NamedCredentials (getCredential, createCredential, updateCredential,
// getNamedCredential) on the package's credentials, this module calls the demo's stand-in for them
// (/preview/connect/ORG/…), which acts on the emulated org's credentials; FeatureManagement.checkPermission and the
// query for the admins to ask are answered by the preview configuration (what the org answers the page's user).

import { formatLabel } from 'c/labelFormat';
import { PREVIEW_HEADERS, previewContext } from 'preview/context';
import { auraError } from './ContactCenterLinkController.js';
import ERROR_NO_PERMISSION from '@salesforce/label/c.Ccl_ErrorNoPermission';
import ORG_KEY_INVALID from '@salesforce/label/c.Ccl_OrgKeyInvalid';
import ORG_KEY_NOT_SAVED from '@salesforce/label/c.Ccl_OrgKeyNotSaved';

/** ContactCenterLinkOrgKey's constants. */
const PARAMETER = 'ApiKey';
const ORG_KEY = /^ccl_[A-Za-z0-9_-]{20,200}$/;
const HIDDEN = '[the key]';
const CODE_FORBIDDEN = 'FORBIDDEN';
const CODE_VALIDATION_FAILED = 'VALIDATION_FAILED';
const CODE_KEY_NOT_SAVED = 'KEY_NOT_SAVED';

/** ConnectApi refused: the PlatformCredentials class's ContactCenterLinkException, with Salesforce's message. */
class Refused extends Error {}

/** One ConnectApi.NamedCredentials call on the page's org. */
async function connect(method, resource, credentials) {
    const { org } = await previewContext();
    const response = await fetch(`/preview/connect/${encodeURIComponent(org.key)}/${resource}`, {
        method,
        headers: {
            Accept: 'application/json',
            ...PREVIEW_HEADERS,
            ...(credentials === undefined ? {} : { 'Content-Type': 'application/json' })
        },
        body: credentials === undefined ? undefined : JSON.stringify({ credentials }),
        cache: 'no-store',
        credentials: 'omit'
    });
    const answer = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
    if (!response.ok || answer.error !== undefined) {
        throw new Refused(answer.error?.message ?? answer.error ?? `HTTP ${response.status}`);
    }
    return answer.result;
}

/** ContactCenterLinkOrgKey.hasKey: the ApiKey parameter is there, whatever the status says. */
function hasKey(credential) {
    return Boolean(credential?.credentials && Object.hasOwn(credential.credentials, PARAMETER));
}

async function currentState() {
    const { org } = await previewContext();
    const canManage = org.user?.canManageLink === true;
    let keyState;
    try {
        keyState = hasKey(await connect('GET', 'credential')) ? 'set' : 'missing';
    } catch (error) {
        if (!(error instanceof Refused)) throw error;
        keyState = 'unknown';
    }
    let backendUrl = null;
    try {
        backendUrl = (await connect('GET', 'named-credential')).calloutUrl ?? null;
    } catch (error) {
        if (!(error instanceof Refused)) throw error;
    }
    const sandbox = org.environment === 'sandbox';
    return {
        keyState,
        backendUrl,
        canManage,
        environment: sandbox ? 'sandbox' : 'production',
        refreshedAt: sandbox ? (org.createdDate ?? null) : null,
        admins: canManage ? [] : (org.user?.linkAdmins ?? null)
    };
}

/** getOrgKeyState(): { keyState, backendUrl, canManage, environment, refreshedAt, admins }. */
export async function getOrgKeyState() {
    return currentState();
}

/** saveOrgKey({ orgKey }): admins only; stored through ConnectApi (create when missing, else update); the new state. */
export async function saveOrgKey(params) {
    const { org } = await previewContext();
    if (org.user?.canManageLink !== true) {
        throw auraError(CODE_FORBIDDEN, ERROR_NO_PERMISSION);
    }
    const key = typeof params?.orgKey === 'string' ? params.orgKey.trim() : '';
    if (!ORG_KEY.test(key)) {
        throw auraError(CODE_VALIDATION_FAILED, ORG_KEY_INVALID);
    }
    const input = { [PARAMETER]: { value: key, encrypted: true } };
    try {
        const credential = await connect('GET', 'credential');
        await connect(hasKey(credential) ? 'PATCH' : 'POST', 'credential', input);
    } catch (error) {
        if (!(error instanceof Refused)) throw error;
        throw auraError(CODE_KEY_NOT_SAVED, formatLabel(ORG_KEY_NOT_SAVED, error.message.split(key).join(HIDDEN)));
    }
    return currentState();
}
