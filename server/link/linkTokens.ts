import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomToken, type Sealed, type TokenCipher } from '../crypto.ts';
import type { Logger } from '../logger.ts';
import { SalesforceError, type SalesforceGateway } from '../salesforce/gateway.ts';
import type { Store } from '../store/store.ts';
import type { LinkRecord, OAuthLinkRecord } from '../store/types.ts';
import type { Clock } from '../clock.ts';
import {
    describeDeadGrant,
    ipNotAllowed,
    ipNotAllowedReason,
    isIpRefusal,
    linkStopped,
    needsRelink,
    notLinkedWithOAuth,
    refreshHeldElsewhere
} from './messages.ts';
import type { LinkEvents, LinkStatusChange } from './events.ts';
import { queueStatusEvent } from './outbox.ts';

export interface LiveSession {
    accessToken: string;
    instanceUrl: string;
    identityUrl: string;
    userId: string;
}

/**
 * How long one instance may hold a link's refresh: the refresh's own timeout (SF_HTTP_TIMEOUT_MS, up to 120 s) plus
 * this, for the store's read before it and the compare-and-set after, so only a crashed holder lets it lapse.
 */
export const REFRESH_LEASE_MARGIN_MS = 15_000;
export const refreshLeaseMs = (refreshTimeoutMs: number): number => refreshTimeoutMs + REFRESH_LEASE_MARGIN_MS;
/** How often an instance waiting for another's refresh looks again. */
const LEASE_POLL_MS = 40;

export const sealSession = (cipher: TokenCipher, accountId: string, session: LiveSession): Sealed =>
    cipher.seal(
        JSON.stringify({
            accessToken: session.accessToken,
            instanceUrl: session.instanceUrl,
            identityUrl: session.identityUrl,
            userId: session.userId
        }),
        {
            purpose: 'access_session',
            owner: accountId
        }
    );

/** A refresh's outcome: the session, and the link's row as the refresh left it (its refresh token is the one to compare with). */
export interface Refreshed {
    session: LiveSession;
    link: OAuthLinkRecord;
}

export interface RefreshOptions {
    /** The access token Salesforce just refused: a stored token other than it is used as it is, without a refresh. */
    failed?: string;
    /** Refresh even when a stored token would do (Verify, the health sweep: proving the grant is alive keeps it alive). */
    force?: boolean;
    retryDeadLink?: boolean;
    /** What the link's error (and its webhook) says when the grant turns out dead, when the caller knows better than Salesforce's answer why. */
    deadReason?: string;
}

/**
 * Owns the access tokens of the links. An OAuth link's latest access token is stored sealed in its row, so every
 * backend instance acts with the same one; a refresh runs once per link at a time across instances (Salesforce
 * rejects parallel refreshes of one refresh token): in this process callers share it, across instances a lease in
 * the store admits one, and whoever waited re-reads the stored token first and uses it. Rotated refresh tokens are
 * saved before they are used. Legacy links' SOAP sessions stay in this process.
 */
export class LinkTokens {
    /** Opened sessions, each beside the sealed value it came from: a session stored since (here, elsewhere, a relink) is opened at the next read. */
    readonly #opened = new Map<string, { from: string; session: LiveSession }>();
    readonly #legacy = new Map<string, LiveSession>();
    readonly #refreshing = new Map<string, Promise<Refreshed>>();
    /** Who holds a refresh lease: this process. */
    readonly holder = `${hostname()}:${process.pid}:${randomToken(4)}`;
    readonly #leaseMs: number;

    constructor(
        private readonly store: Store,
        private readonly cipher: TokenCipher,
        private readonly gateway: SalesforceGateway,
        private readonly clock: Clock,
        private readonly logger: Logger,
        private readonly events: LinkEvents,
        /** The gateway's time limit on a refresh request (SF_HTTP_TIMEOUT_MS): the lease outlasts it. */
        refreshTimeoutMs: number,
        /** Where this backend reaches Salesforce from (SF_EGRESS_ADDRESSES): named when Salesforce refuses the address. */
        private readonly egressAddresses: readonly string[] = []
    ) {
        this.#leaseMs = refreshLeaseMs(refreshTimeoutMs);
    }

    /** The session to act with: an OAuth link's stored access token, a legacy link's session in this process; undefined when there is none yet. */
    current(accountId: string, link: LinkRecord): LiveSession | undefined {
        if (link.method === 'legacy') return this.#legacy.get(accountId);
        if (!link.session) return undefined;
        const opened = this.#opened.get(accountId);
        if (opened?.from === link.session.data) return opened.session;
        let session: LiveSession;
        try {
            session = JSON.parse(this.cipher.open(link.session, { purpose: 'access_session', owner: accountId })) as LiveSession;
        } catch (error) {
            // Sealed with a key no longer listed, say: a refresh replaces it.
            this.logger.warn({ accountId, err: (error as Error).message }, 'could not open the stored access token; refreshing instead');
            return undefined;
        }
        this.#opened.set(accountId, { from: link.session.data, session });
        return session;
    }

    /** A legacy link's new SOAP session. */
    rememberLegacy(accountId: string, session: LiveSession): void {
        this.#legacy.set(accountId, session);
    }

    forget(accountId: string): void {
        this.#opened.delete(accountId);
        this.#legacy.delete(accountId);
    }

    /** A fresh access token for the OAuth link (see the class comment); concurrent callers in this process share one. */
    async refresh(accountId: string, options: RefreshOptions = {}): Promise<LiveSession> {
        return (await this.refreshLink(accountId, options)).session;
    }

    /**
     * The same, with the link's row as the refresh left it: with rotation its refresh token is a new one, so a caller
     * that writes after the refresh compares with this row, never with the one it read before.
     */
    refreshLink(accountId: string, options: RefreshOptions = {}): Promise<Refreshed> {
        const running = this.#refreshing.get(accountId);
        if (running) return running;
        const work = this.#leased(accountId, options).finally(() => this.#refreshing.delete(accountId));
        this.#refreshing.set(accountId, work);
        return work;
    }

    async #leased(accountId: string, options: RefreshOptions): Promise<Refreshed> {
        const key = `refresh:${accountId}`;
        const giveUpAt = this.clock.now().getTime() + this.#leaseMs + 5_000;
        for (;;) {
            const link = await this.#oauthLink(accountId, options.retryDeadLink ?? false);
            const known = this.current(accountId, link);
            const stored = options.force ? undefined : known;
            if (stored && stored.accessToken !== options.failed) return { session: stored, link };
            const now = this.clock.now();
            if (
                await this.store.leases.acquire(key, this.holder, {
                    now: now.toISOString(),
                    until: new Date(now.getTime() + this.#leaseMs).toISOString()
                })
            ) {
                try {
                    return await this.#refresh(accountId, options, false);
                } finally {
                    await this.store.leases
                        .release(key, this.holder)
                        .catch((error: unknown) =>
                            this.logger.warn(
                                { accountId, err: (error as Error).message },
                                'could not release a refresh lease; it lapses by itself'
                            )
                        );
                }
            }
            // Another instance is refreshing this link: its token lands in the row, the next turn uses it.
            if (now.getTime() > giveUpAt) throw refreshHeldElsewhere();
            await sleep(LEASE_POLL_MS);
            // A forced refresh that waited for another one is satisfied by it.
            options = { ...options, force: false, failed: options.force ? known?.accessToken : options.failed };
        }
    }

    async #refresh(accountId: string, options: RefreshOptions, retried: boolean): Promise<Refreshed> {
        // Under the lease: what another instance stored while this one waited is used as it is.
        const link = await this.#oauthLink(accountId, options.retryDeadLink ?? false);
        const stored = options.force ? undefined : this.current(accountId, link);
        if (stored && stored.accessToken !== options.failed) return { session: stored, link };
        const refreshToken = this.cipher.open(link.refreshToken, { purpose: 'refresh_token', owner: accountId });
        try {
            const tokens = await this.gateway.refresh(link.loginUrl, refreshToken);
            const session: LiveSession = {
                accessToken: tokens.accessToken,
                instanceUrl: tokens.instanceUrl,
                identityUrl: tokens.identityUrl,
                userId: tokens.userId
            };
            const sealedSession = sealSession(this.cipher, accountId, session);
            const rotated =
                tokens.refreshToken && tokens.refreshToken !== refreshToken
                    ? this.cipher.seal(tokens.refreshToken, { purpose: 'refresh_token', owner: accountId })
                    : undefined;
            const lastRefreshedAt = this.clock.now().toISOString();
            const patch = { session: sealedSession, lastRefreshedAt, ...(rotated ? { refreshToken: rotated } : {}) };
            const saved = await this.store.transaction(async (tx) => {
                // Compare-and-set: a relink that landed meanwhile keeps its own tokens.
                const current = await tx.links.get(accountId, { forUpdate: true });
                if (current?.method !== 'oauth' || current.refreshToken.data !== link.refreshToken.data) return undefined;
                await tx.links.patch(accountId, patch);
                return { ...current, ...patch };
            });
            this.#opened.set(accountId, { from: sealedSession.data, session });
            // Not saved (a relink replaced the link): the row as this refresh would have left it, which no stored row matches.
            return { session, link: saved ?? { ...link, ...patch } };
        } catch (error) {
            if (!(error instanceof SalesforceError) || !error.isDeadGrant) throw error;
            // The stored token may have changed under us (a relink): try that one before giving up.
            const now = await this.#oauthLinkOrNull(accountId);
            if (!retried && now && now.refreshToken.data !== link.refreshToken.data)
                return this.#refresh(accountId, { ...options, force: true }, true);
            // The address, not the grant: nothing was used up, and only the admin's allowlist brings the link back.
            if (isIpRefusal(error)) {
                await this.markNeedsRelink(accountId, link, ipNotAllowedReason(this.egressAddresses), 'IP_NOT_ALLOWED');
                throw ipNotAllowed(this.egressAddresses);
            }
            const reason = options.deadReason ?? describeDeadGrant(error);
            await this.markNeedsRelink(accountId, link, reason);
            throw needsRelink(reason);
        }
    }

    /** `code`: what the link's error says, NEEDS_RELINK or the more precise IP_NOT_ALLOWED. */
    async markNeedsRelink(
        accountId: string,
        link: LinkRecord,
        message: string,
        code: 'NEEDS_RELINK' | 'IP_NOT_ALLOWED' = 'NEEDS_RELINK'
    ): Promise<void> {
        this.forget(accountId);
        const at = this.clock.now().toISOString();
        const change = await this.store.transaction(async (tx) => {
            const stored = await tx.links.get(accountId, { forUpdate: true });
            // Only the link whose token died: a relink that landed meanwhile stays as it is.
            if (!stored || stored.refreshToken?.data !== link.refreshToken?.data) return undefined;
            await tx.links.patch(accountId, {
                status: 'needs_relink',
                lastError: { code, message, at },
                ...(stored.method === 'oauth' ? { session: null } : {})
            });
            if (stored.status !== 'needs_relink') {
                await tx.audit.append({
                    at,
                    accountId,
                    action: 'status_changed',
                    outcome: 'needs_relink',
                    orgId: stored.orgId,
                    username: stored.username,
                    detail: message
                });
            }
            const change: LinkStatusChange = {
                accountId,
                from: stored.status,
                to: 'needs_relink',
                at,
                orgId: link.orgId,
                username: link.username,
                reason: message
            };
            await queueStatusEvent(tx, change);
            return change;
        });
        if (change) this.events.statusChanged(change);
        this.logger.warn({ accountId, orgId: link.orgId }, 'link needs relink');
    }

    async #oauthLinkOrNull(accountId: string): Promise<OAuthLinkRecord | undefined> {
        const link = await this.store.links.get(accountId);
        return link?.method === 'oauth' ? link : undefined;
    }

    async #oauthLink(accountId: string, allowDead: boolean): Promise<OAuthLinkRecord> {
        const link = await this.#oauthLinkOrNull(accountId);
        if (!link) throw notLinkedWithOAuth();
        if (link.status === 'needs_relink' && !allowDead) throw linkStopped(link);
        return link;
    }
}
