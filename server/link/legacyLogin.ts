import type { TokenCipher } from '../crypto.ts';
import { AppError } from '../errors.ts';
import type { LinkTokens, LiveSession } from './linkTokens.ts';
import { legacyLoginRefusedReason, linkStopped, needsRelink, notLinkedTheOldWay } from './messages.ts';
import type { Logger } from '../logger.ts';
import type { Store } from '../store/store.ts';
import { isSalesforceOrigin, type LoginHostPolicy } from '../salesforce/loginHosts.ts';
import { soapLogin } from '../salesforce/soapLogin.ts';

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
 * A legacy link's SOAP `login()` (salesforce/soapLogin.ts) with its stored username, password + security token: one login per link at a time, its session
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
        if (!link) throw notLinkedTheOldWay();
        if (link.status === 'needs_relink') throw linkStopped(link);
        const sealed = link.legacyCredentials;
        const { password, securityToken } = JSON.parse(cipher.open(sealed, { purpose: 'legacy_credentials', owner: link.accountId })) as {
            password: string;
            securityToken?: string;
        };
        const { apiVersion, timeoutMs } = this.deps;
        const answer = await soapLogin(
            { loginUrl: link.loginUrl, username: link.username, password: password + (securityToken ?? ''), apiVersion, timeoutMs },
            signal
        );
        if ('fault' in answer) {
            const { code, message } = answer.fault;
            if (SOAP_DEAD.has(code)) {
                const reason = legacyLoginRefusedReason(code, message);
                await tokens.markNeedsRelink(accountId, link, reason);
                throw needsRelink(reason);
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
}
