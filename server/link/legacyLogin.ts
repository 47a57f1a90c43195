import type { TokenCipher } from '../crypto.ts';
import { AppError } from '../errors.ts';
import type { LinkTokens, LiveSession } from './linkTokens.ts';
import type { Logger } from '../logger.ts';
import type { Store } from '../store/store.ts';
import { classify } from '../salesforce/gateway.ts';
import { isSalesforceOrigin, type LoginHostPolicy } from '../salesforce/loginHosts.ts';
import { SalesforceUnavailable } from './orgClient.ts';
import { requestSignal, sendRequest } from '../salesforce/transport.ts';

export interface LegacyLoginDeps {
    store: Store;
    tokens: LinkTokens;
    cipher: TokenCipher;
    hosts: LoginHostPolicy;
    logger: Logger;
    apiVersion: string;
    timeoutMs: number;
}

/** Faults that say the stored username, password and token will not work again: the link needs a relink. */
const SOAP_DEAD = new Set([
    'INVALID_LOGIN',
    'LOGIN_MUST_USE_SECURITY_TOKEN',
    'PASSWORD_LOCKOUT',
    'INVALID_OPERATION_WITH_EXPIRED_PASSWORD',
    'LOGIN_DURING_RESTRICTED_TIME',
    'LOGIN_DURING_RESTRICTED_DOMAIN',
    'USER_FROZEN',
    'API_CURRENTLY_DISABLED',
    'API_DISABLED_FOR_ORG'
]);

/**
 * A legacy link's SOAP `login()` (username, password + security token): one login per link at a time, its session
 * kept in `LinkTokens` like an OAuth access token. OrgClient logs in with it when a call needs a session; LinkService
 * with it when an admin verifies a legacy link.
 */
export class LegacyLogin {
    readonly #running = new Map<string, Promise<LiveSession>>();

    constructor(private readonly deps: LegacyLoginDeps) {}

    /** A fresh session for the link; callers that arrive while a login runs share it (and the first caller's deadline). */
    login(accountId: string, signal?: AbortSignal): Promise<LiveSession> {
        const running = this.#running.get(accountId);
        if (running) return running;
        const work = this.#login(accountId, signal).finally(() => this.#running.delete(accountId));
        this.#running.set(accountId, work);
        return work;
    }

    /** Logs in again now, proving the stored credentials still work (Verify). */
    async verify(accountId: string, signal?: AbortSignal): Promise<void> {
        this.deps.tokens.forget(accountId);
        await this.login(accountId, signal);
    }

    async #login(accountId: string, signal?: AbortSignal): Promise<LiveSession> {
        const { store, cipher, tokens, hosts, logger } = this.deps;
        const found = await store.links.get(accountId);
        const link = found?.method === 'legacy' ? found : undefined;
        if (!link) throw new AppError('NOT_LINKED', 'This account is no longer linked the old way. Try the call again.', 409);
        if (link.status === 'needs_relink')
            throw new AppError('NEEDS_RELINK', link.lastError?.message ?? 'The link stopped working. Relink it from the card.', 409);
        const sealed = link.legacyCredentials;
        const { password, securityToken } = JSON.parse(cipher.open(sealed, { purpose: 'legacy_credentials', owner: link.accountId })) as {
            password: string;
            securityToken?: string;
        };
        const answer = await this.#send(link.loginUrl, link.username, password + (securityToken ?? ''), signal);
        if ('fault' in answer) {
            const { code, message } = answer.fault;
            if (SOAP_DEAD.has(code)) {
                const reason = `Salesforce refused the stored username, password and security token (${code}: ${message}). Relink with OAuth from the Contact Center Link card.`;
                await tokens.markNeedsRelink(accountId, link, reason);
                throw new AppError('NEEDS_RELINK', reason, 409);
            }
            throw new AppError('SALESFORCE_ERROR', `Salesforce refused the login (${code}: ${message}).`, 502);
        }
        const { session } = answer;
        if (!isSalesforceOrigin(hosts, session.instanceUrl))
            throw new AppError('SALESFORCE_ERROR', 'The Salesforce login answered with a server that is not Salesforce.', 502);
        // A relink that landed meanwhile owns the session slot now.
        const unchanged = (await store.links.get(accountId))?.legacyCredentials?.data === sealed.data;
        if (unchanged) tokens.rememberLegacy(accountId, session);
        logger.debug({ accountId }, 'legacy link logged in');
        return session;
    }

    /** The partner API's login call; a fault comes back as its code and message, anything unreadable as SalesforceUnavailable. */
    async #send(
        loginUrl: string,
        username: string,
        password: string,
        signal?: AbortSignal
    ): Promise<{ session: LiveSession } | { fault: { code: string; message: string } }> {
        const { apiVersion, timeoutMs } = this.deps;
        const envelope =
            '<se:Envelope xmlns:se="http://schemas.xmlsoap.org/soap/envelope/"><se:Header/><se:Body>' +
            `<login xmlns="urn:partner.soap.sforce.com"><username>${escapeXml(username)}</username><password>${escapeXml(password)}</password></login>` +
            '</se:Body></se:Envelope>';
        let body: string;
        let status: number;
        try {
            const response = await sendRequest(
                {
                    method: 'POST',
                    url: `${loginUrl.replace(/\/$/, '')}/services/Soap/u/${apiVersion}`,
                    body: envelope,
                    headers: { 'content-type': 'text/xml', soapaction: '""' }
                },
                requestSignal(timeoutMs, signal)
            );
            ({ body, statusCode: status } = response);
        } catch (error) {
            throw new SalesforceUnavailable(
                `Salesforce could not be reached to log in: ${classify(error).message} Try again in a minute.`,
                false
            );
        }
        const fault = /<faultstring>([A-Z][A-Z_]+): ([^<]*)<\/faultstring>/.exec(body);
        if (fault) return { fault: { code: fault[1]!, message: unescapeXml(fault[2]!.trim()) } };
        // Salesforce answers an expired password with a restricted session that cannot call the API.
        if (/<passwordExpired>true<\/passwordExpired>/.test(body))
            return { fault: { code: 'INVALID_OPERATION_WITH_EXPIRED_PASSWORD', message: 'The API user’s password has expired.' } };
        const field = (name: string) => new RegExp(`<${name}>([^<]+)</${name}>`).exec(body)?.[1];
        const [serverUrl, sessionId, userId, orgId] = [field('serverUrl'), field('sessionId'), field('userId'), field('organizationId')];
        if (status >= 400 || !serverUrl || !sessionId || !userId || !orgId || !URL.canParse(serverUrl)) {
            throw new SalesforceUnavailable(
                `Salesforce could not be reached to log in: no usable answer to the login request (HTTP ${status}). Try again in a minute.`,
                false
            );
        }
        return {
            session: {
                accessToken: unescapeXml(sessionId),
                instanceUrl: new URL(serverUrl).origin,
                identityUrl: `${loginUrl.replace(/\/$/, '')}/id/${orgId}/${userId}`,
                userId
            }
        };
    }
}

const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
const escapeXml = (text: string): string => text.replace(/[&<>"']/g, (c) => XML_ESCAPES[c]!);
const unescapeXml = (text: string): string =>
    text.replace(/&(amp|lt|gt|quot|apos);/g, (_, name: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" })[name]!);
