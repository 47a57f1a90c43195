import type { TokenCipher } from '../crypto.ts';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { SalesforceError, type SalesforceGateway } from '../salesforce/gateway.ts';
import type { Store } from '../store/store.ts';
import type { LinkRecord, OAuthLinkRecord } from '../store/types.ts';
import type { Clock } from '../clock.ts';
import { describeDeadGrant } from './deadGrant.ts';
import type { LinkEvents } from './events.ts';

export interface LiveSession {
    accessToken: string;
    instanceUrl: string;
    identityUrl: string;
    userId: string;
}

/**
 * Owns the access tokens of every OAuth link: kept in memory only, refreshed once per link at a
 * time (Salesforce rejects parallel refreshes of one refresh token), rotated tokens saved first.
 */
export class LinkTokens {
    readonly #sessions = new Map<string, LiveSession>();
    readonly #refreshing = new Map<string, Promise<LiveSession>>();

    constructor(
        private readonly store: Store,
        private readonly cipher: TokenCipher,
        private readonly gateway: SalesforceGateway,
        private readonly clock: Clock,
        private readonly logger: Logger,
        private readonly events: LinkEvents
    ) {}

    current(accountId: string): LiveSession | undefined {
        return this.#sessions.get(accountId);
    }

    remember(accountId: string, session: LiveSession): void {
        this.#sessions.set(accountId, session);
    }

    forget(accountId: string): void {
        this.#sessions.delete(accountId);
    }

    /**
     * Refreshes the link's access token; concurrent callers share one refresh. `deadReason`: what the link's error (and
     * its webhook) says when the grant turns out dead, when the caller knows better than Salesforce's answer why.
     */
    refresh(accountId: string, options: { retryDeadLink?: boolean; deadReason?: string } = {}): Promise<LiveSession> {
        const running = this.#refreshing.get(accountId);
        if (running) return running;
        const work = this.#refresh(accountId, false, options.retryDeadLink ?? false, options.deadReason).finally(() => this.#refreshing.delete(accountId));
        this.#refreshing.set(accountId, work);
        return work;
    }

    async #refresh(accountId: string, retried: boolean, retryDeadLink: boolean, deadReason?: string): Promise<LiveSession> {
        const link = await this.#oauthLink(accountId, retryDeadLink);
        const refreshToken = this.cipher.open(link.refreshToken, { purpose: 'refresh_token', owner: accountId });
        try {
            const tokens = await this.gateway.refresh(link.loginUrl, refreshToken);
            if (tokens.refreshToken && tokens.refreshToken !== refreshToken) {
                const sealed = this.cipher.seal(tokens.refreshToken, { purpose: 'refresh_token', owner: accountId });
                await this.store.transaction(async (tx) => {
                    // Compare-and-set: a relink that landed meanwhile keeps its own token.
                    const stored = await tx.links.get(accountId, { forUpdate: true });
                    if (stored && stored.refreshToken?.data === link.refreshToken.data) await tx.links.patch(accountId, { refreshToken: sealed });
                });
            }
            const session = { accessToken: tokens.accessToken, instanceUrl: tokens.instanceUrl, identityUrl: tokens.identityUrl, userId: tokens.userId };
            this.#sessions.set(accountId, session);
            return session;
        } catch (error) {
            if (!(error instanceof SalesforceError) || !error.isDeadGrant) throw error;
            // The stored token may have changed under us (relink, rotation elsewhere): try that one before giving up.
            const now = await this.#oauthLinkOrNull(accountId);
            if (!retried && now && now.refreshToken.data !== link.refreshToken.data) return this.#refresh(accountId, true, retryDeadLink, deadReason);
            const reason = deadReason ?? describeDeadGrant(error);
            await this.markNeedsRelink(accountId, link, reason);
            throw new AppError('NEEDS_RELINK', reason, 409);
        }
    }

    async markNeedsRelink(accountId: string, link: LinkRecord, message: string): Promise<void> {
        this.#sessions.delete(accountId);
        const at = this.clock.now().toISOString();
        const from = await this.store.transaction(async (tx) => {
            const stored = await tx.links.get(accountId, { forUpdate: true });
            // Only the link whose token died: a relink that landed meanwhile stays as it is.
            if (!stored || stored.refreshToken?.data !== link.refreshToken?.data) return undefined;
            await tx.links.patch(accountId, { status: 'needs_relink', lastError: { code: 'NEEDS_RELINK', message, at } });
            if (stored.status !== 'needs_relink') {
                await tx.audit.append({ at, accountId, action: 'status_changed', outcome: 'needs_relink', orgId: stored.orgId, username: stored.username, detail: message });
            }
            return stored.status;
        });
        if (from) this.events.statusChanged({ accountId, from, to: 'needs_relink', at, orgId: link.orgId, username: link.username, reason: message });
        this.logger.warn({ accountId, orgId: link.orgId }, 'link needs relink');
    }

    async #oauthLinkOrNull(accountId: string): Promise<OAuthLinkRecord | undefined> {
        const link = await this.store.links.get(accountId);
        return link?.method === 'oauth' ? link : undefined;
    }

    async #oauthLink(accountId: string, allowDead: boolean): Promise<OAuthLinkRecord> {
        const link = await this.#oauthLinkOrNull(accountId);
        if (!link) throw new AppError('NOT_LINKED', 'This account is not linked to Salesforce with OAuth. Link it from the Contact Center Link card.', 409);
        if (link.status === 'needs_relink' && !allowDead) throw new AppError('NEEDS_RELINK', link.lastError?.message ?? 'The link stopped working. Relink it from the Contact Center Link card.', 409);
        return link;
    }
}
