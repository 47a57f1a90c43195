// The preview's stand-in for the Apex class ContactCenterLinkController (with ContactCenterLinkClient):
// the same methods, inputs, outputs (getStatus and verify add `thisOrg`) and error messages. Errors
// reach the components as the platform delivers an AuraHandledException: { body: { message } }.
// Where the Apex calls callout:ContactCenterLink/api/v1 with the account key from the Named
// Credential, this module calls the demo backend's /api/v1 with the demo account's key.

import { formatLabel } from 'c/labelFormat';
import { previewContext } from 'preview/context';
import ERROR_INVALID_ENVIRONMENT from '@salesforce/label/c.Ccl_ErrorInvalidEnvironment';
import ERROR_INVALID_SESSION_ID from '@salesforce/label/c.Ccl_ErrorInvalidSessionId';
import ERROR_NO_PERMISSION from '@salesforce/label/c.Ccl_ErrorNoPermission';
import ERROR_UNEXPECTED_RESPONSE from '@salesforce/label/c.Ccl_ErrorUnexpectedResponse';
import ERROR_UNREACHABLE from '@salesforce/label/c.Ccl_ErrorUnreachable';

const ENVIRONMENTS = new Set(['production', 'sandbox']);
const SESSION_ID = /^[A-Za-z0-9_-]{1,128}$/;
const LINK_STATUSES = new Set(['unlinked', 'linked', 'legacy', 'needs_relink']);

/** What an AuraHandledException looks like to the component that called the method. */
function auraError(message) {
    return {
        ok: false,
        status: 500,
        statusText: 'Server Error',
        headers: {},
        body: { message, exceptionType: 'AuraHandledException' }
    };
}

/** ContactCenterLinkException: a message a person can act on. */
class ClientError extends Error {}

function unexpected(status) {
    return new ClientError(
        formatLabel(ERROR_UNEXPECTED_RESPONSE, String(status))
    );
}

/** Like Apex JSON.deserialize: null when the body is blank or not a JSON object. */
function parseObject(text) {
    if (!text || !text.trim()) {
        return null;
    }
    try {
        const value = JSON.parse(text);
        return value && typeof value === 'object' && !Array.isArray(value)
            ? value
            : null;
    } catch {
        return null;
    }
}

async function send(method, path, body) {
    const { apiKey, apiBase } = await previewContext();
    const headers = {
        Accept: 'application/json',
        Authorization: `Bearer ${apiKey}`
    };
    if (body !== undefined) {
        headers['Content-Type'] = 'application/json';
    }
    let response;
    try {
        response = await fetch(`${apiBase}${path}`, {
            method,
            headers,
            body: body === undefined ? undefined : JSON.stringify(body),
            cache: 'no-store',
            credentials: 'omit'
        });
    } catch (error) {
        throw new ClientError(
            formatLabel(ERROR_UNREACHABLE, error?.message || 'network error')
        );
    }
    const text = await response.text();
    if (response.status < 200 || response.status > 299) {
        const parsed = parseObject(text);
        const message = parsed?.error?.message;
        if (typeof message !== 'string' || !message.trim()) {
            throw unexpected(response.status);
        }
        throw new ClientError(message);
    }
    return { status: response.status, text };
}

async function parseLinkStatus(responsePromise) {
    const { status, text } = await responsePromise;
    const parsed = parseObject(text);
    if (!parsed || !LINK_STATUSES.has(parsed.status)) {
        throw unexpected(status);
    }
    return parsed;
}

function pickError(error) {
    if (!error || typeof error !== 'object') {
        return undefined;
    }
    const { code, message, at } = error;
    return withoutEmpty({ code, message, at });
}

function withoutEmpty(object) {
    return Object.fromEntries(
        Object.entries(object).filter(([, value]) => value != null)
    );
}

/** The LinkSession Apex class: only its @AuraEnabled fields reach the component. */
function linkSession(parsed) {
    return withoutEmpty({
        id: parsed.id,
        authorizeUrl: parsed.authorizeUrl,
        expiresAt: parsed.expiresAt,
        state: parsed.state,
        error: pickError(parsed.error)
    });
}

async function thisOrg() {
    const { org } = await previewContext();
    return org;
}

async function requirePermission() {
    const org = await thisOrg();
    if (!org.user?.canManageLink) {
        throw auraError(ERROR_NO_PERMISSION);
    }
    return org;
}

/** The running admin (UserInfo.getUserId(), UserInfo.getUserName()). */
function currentUser(org) {
    return { userId: org.user.userId, username: org.user.username };
}

function withThisOrg(status, org) {
    return {
        ...status,
        thisOrg: {
            orgId: org.orgId,
            environment: org.environment,
            domainUrl: org.domainUrl
        }
    };
}

/** Runs a call the way the Apex methods do: a ContactCenterLinkException becomes an AuraHandledException. */
async function asAura(work) {
    try {
        return await work();
    } catch (error) {
        if (error instanceof ClientError) {
            throw auraError(error.message);
        }
        if (error && typeof error === 'object' && error.body) {
            throw error;
        }
        throw auraError(
            formatLabel(ERROR_UNREACHABLE, error?.message || String(error))
        );
    }
}

/** getStatus(): the backend's link status body plus thisOrg { orgId, environment, domainUrl }. */
export async function getStatus() {
    const org = await asAura(requirePermission);
    return asAura(async () =>
        withThisOrg(await parseLinkStatus(send('GET', '/link')), org)
    );
}

/**
 * startLink({ environment }): { id, authorizeUrl, expiresAt }. When the environment is this org's own,
 * the login goes through this org's My Domain and must land in this org (loginUrl, expectedOrgId).
 */
export async function startLink(params) {
    const org = await asAura(requirePermission);
    const environment = params?.environment;
    if (environment == null || !ENVIRONMENTS.has(environment)) {
        throw auraError(ERROR_INVALID_ENVIRONMENT);
    }
    const request = { environment };
    if (environment === org.environment) {
        request.loginUrl = org.domainUrl;
        request.expectedOrgId = org.orgId;
    }
    request.initiatedBy = currentUser(org);
    return asAura(async () => {
        const { status, text } = await send('POST', '/link-sessions', request);
        const parsed = parseObject(text);
        if (!parsed) {
            throw unexpected(status);
        }
        const session = linkSession(parsed);
        if (!session.id || !session.authorizeUrl) {
            throw unexpected(status);
        }
        return session;
    });
}

/** getLinkSession({ sessionId }): { id, state, error? }. */
export async function getLinkSession(params) {
    await asAura(requirePermission);
    const sessionId = params?.sessionId;
    if (sessionId == null || !SESSION_ID.test(sessionId)) {
        throw auraError(ERROR_INVALID_SESSION_ID);
    }
    return asAura(async () => {
        const { status, text } = await send(
            'GET',
            `/link-sessions/${encodeURIComponent(sessionId)}`
        );
        const parsed = parseObject(text);
        if (!parsed) {
            throw unexpected(status);
        }
        const session = linkSession(parsed);
        if (!session.state) {
            throw unexpected(status);
        }
        return session;
    });
}

/**
 * verify(): refreshes the link and re-checks the API user's permissions, naming the admin who asked (the backend's
 * audit trail); returns what getStatus returns.
 */
export async function verify() {
    const org = await asAura(requirePermission);
    const body = { actor: currentUser(org) };
    return asAura(async () =>
        withThisOrg(
            await parseLinkStatus(send('POST', '/link/verify', body)),
            org
        )
    );
}

/** unlink(): revokes and deletes the link; { status: 'unlinked', revoked }. */
export async function unlink() {
    await asAura(requirePermission);
    return asAura(async () => {
        const { status, text } = await send('DELETE', '/link');
        const parsed = parseObject(text);
        if (!parsed || !parsed.status) {
            throw unexpected(status);
        }
        return withoutEmpty({ status: parsed.status, revoked: parsed.revoked });
    });
}
