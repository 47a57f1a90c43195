import type { TokenCipher } from '../crypto.ts';
import { isAppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Clock } from '../clock.ts';
import { sameSalesforceId } from '../salesforceIds.ts';
import { SalesforceError, type SalesforceGateway, type TokenSet } from '../salesforce/gateway.ts';
import { ReadCache } from '../store/readCache.ts';
import { accountLock, apiUserKey, type Store } from '../store/store.ts';
import type { Actor, AuditEntry, LegacyLinkRecord, LinkRecord, PermissionCheck, PhoneFieldFacts } from '../store/types.ts';
import type { LinkEvents, LinkStatusChange } from './events.ts';
import { stopIfPast, untilDeadline } from './deadline.ts';
import type { LegacyLogin } from './legacyLogin.ts';
import { accountNames } from './limits.ts';
import type { LinkTokens, Refreshed } from './linkTokens.ts';
import {
    deadlineExceeded,
    lostToSixthApprovalReason,
    notLinked,
    notLinkedWithOAuth,
    sandboxRefreshedReason,
    toLinkError,
    USER_INACTIVE_REASON
} from './messages.ts';
import { queueStatusEvent } from './outbox.ts';
import { evaluatePreflight, runPreflight } from './preflight.ts';
import { phoneFieldsFromPreflight } from './phoneFields.ts';
import { statusView, type KeptTasksBound, type LinkStatusView } from './statusView.ts';

/** One entry of the link's history as the API shows it: the account's own entries only, so its id is left out. */
export type ActivityEntry = Omit<AuditEntry, 'accountId'>;

export interface ActivityPage {
    entries: ActivityEntry[];
    nextCursor?: string;
}

export interface LinkServiceDeps {
    store: Store;
    cipher: TokenCipher;
    gateway: SalesforceGateway;
    tokens: LinkTokens;
    clock: Clock;
    logger: Logger;
    events: LinkEvents;
    /** Verify proves a legacy link's stored password with it (the call actions log in with the same unit). */
    legacyLogin: LegacyLogin;
    /** Where this backend reaches Salesforce from (SF_EGRESS_ADDRESSES): the card shows them for the app's IP policies. */
    egressAddresses?: readonly string[];
    /** The bound on kept call Tasks, shown in the status beside them. */
    keptBound?: KeptTasksBound;
}

/**
 * The link once made (link/authorization.ts makes it): the status the card shows and its history, Verify, the health
 * checks of the sweep, unlink, and the re-check of an API user's links after Salesforce saw a sixth approval.
 */
export class LinkService {
    /** Each account's status, until the store says its account, link or kept Tasks (or its API user's links) changed. */
    readonly #views: ReadCache<LinkStatusView>;

    constructor(private readonly deps: LinkServiceDeps) {
        this.#views = new ReadCache(deps.store.changes);
    }

    /**
     * What the card shows. Every instance answers alike: a view is kept only while the store tells this process of
     * every change to what it shows (store/readCache.ts), so a change made on any instance is seen on every other.
     * The view is frozen (shared by every caller).
     */
    async status(accountId: string): Promise<LinkStatusView> {
        const view = await this.#views.get(accountId, async () => {
            const fresh = await statusView(this.deps.store, accountId, this.deps.keptBound ?? { maxPerAccount: 10_000, maxAgeDays: 14 });
            const egress = this.deps.egressAddresses ?? [];
            const value = egress.length ? { ...fresh, egressAddresses: [...egress] } : fresh;
            const link = fresh.link?.method === 'oauth' && fresh.link.orgId && fresh.link.userId ? fresh.link : undefined;
            return { value, tags: { accountId, ...(link ? { apiUser: apiUserKey(link.orgId!, link.userId!) } : {}) } };
        });
        return view!;
    }

    /** The account's audit entries, newest first, a page at a time. */
    async activity(accountId: string, options: { limit: number; cursor?: string }): Promise<ActivityPage> {
        const page = await this.deps.store.audit.page(accountId, options);
        const entries = page.entries.map(({ accountId: _own, ...entry }): ActivityEntry => entry);
        return { entries, ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
    }

    /** `deadline`: the caller's request budget; when it runs out, Verify answers DEADLINE_EXCEEDED and changes nothing after. */
    async verify(accountId: string, actor?: Actor, deadline?: AbortSignal): Promise<LinkStatusView> {
        const link = await this.deps.store.links.get(accountId);
        if (!link) throw notLinked();
        if (link.method === 'legacy') return this.#verifyLegacy(accountId, link, actor, deadline);
        let outcome: string;
        try {
            outcome = await this.checkHealth(accountId, { preflight: true, retryDeadLink: true, deadline });
        } catch (error) {
            const appError = deadline?.aborted ? deadlineExceeded() : toLinkError(error);
            await this.#audit({ accountId, action: 'verify', outcome: appError.code, orgId: link.orgId, username: link.username, actor });
            throw appError;
        }
        await this.#audit({ accountId, action: 'verify', outcome, orgId: link.orgId, username: link.username, actor });
        return this.status(accountId);
    }

    /** A legacy link is verified by logging in with what it stored; a refused login marks it needs_relink. */
    async #verifyLegacy(accountId: string, link: LinkRecord, actor?: Actor, deadline?: AbortSignal): Promise<LinkStatusView> {
        let outcome = 'ok';
        try {
            await this.deps.legacyLogin.verify(accountId, deadline);
            stopIfPast(deadline);
            const at = this.deps.clock.now().toISOString();
            await this.deps.store.transaction(async (tx) => {
                const stored = await tx.links.get(accountId, { forUpdate: true });
                if (stored?.method === 'legacy') await tx.links.patch(accountId, { lastVerifiedAt: at });
            });
        } catch (error) {
            if (!isAppError(error, 'NEEDS_RELINK')) {
                const appError = deadline?.aborted ? deadlineExceeded() : toLinkError(error);
                await this.#audit({ accountId, action: 'verify', outcome: appError.code, username: link.username, actor });
                throw appError;
            }
            outcome = 'needs_relink';
        }
        await this.#audit({ accountId, action: 'verify', outcome, username: link.username, actor });
        return this.status(accountId);
    }

    /**
     * Refreshes the link's access token and re-reads the identity (and, for Verify, the permissions).
     * A dead grant, an inactive user or another org marks the link `needs_relink`; a network
     * failure throws and changes nothing.
     */
    async checkHealth(
        accountId: string,
        options: { preflight?: boolean; retryDeadLink?: boolean; deadline?: AbortSignal } = {}
    ): Promise<'healthy' | 'needs_relink' | 'not_due'> {
        const { deadline } = options;
        const { store, tokens, gateway, clock } = this.deps;
        const found = await store.links.get(accountId);
        if (found?.method === 'legacy' && found.status === 'legacy') return this.#checkLegacyHealth(found);
        if (found?.method !== 'oauth') throw notLinkedWithOAuth();
        let refreshed: Refreshed;
        try {
            // The refresh is shared and may rotate the token, so it is not cancelled (it saves what it gets); Verify only stops waiting.
            refreshed = await untilDeadline(tokens.refreshLink(accountId, { force: true, retryDeadLink: options.retryDeadLink }), deadline);
        } catch (error) {
            if (isAppError(error, 'NEEDS_RELINK') || isAppError(error, 'IP_NOT_ALLOWED')) return 'needs_relink';
            throw error;
        }
        // With rotation the refresh stored a new refresh token: what follows compares with the row it left, not the one read before.
        const { session, link } = refreshed;
        const identity = await gateway.identity(session, deadline);
        stopIfPast(deadline);
        if (!identity.active) {
            await tokens.markNeedsRelink(accountId, link, USER_INACTIVE_REASON);
            return 'needs_relink';
        }
        if (!sameSalesforceId(identity.orgId, link.orgId)) {
            await tokens.markNeedsRelink(accountId, link, sandboxRefreshedReason(identity.orgId, link.orgId));
            return 'needs_relink';
        }
        const { permissions, phoneFields } = options.preflight ? await this.#preflight(accountId, session, deadline) : {};
        // Past the deadline the caller has its answer already: nothing is written.
        stopIfPast(deadline);
        const at = clock.now().toISOString();
        const change = await store.transaction(async (tx) => {
            // Compare-and-set: only the link whose token was just used; a relink that landed meanwhile stays as it is.
            const stored = await tx.links.get(accountId, { forUpdate: true });
            if (!stored || stored.refreshToken?.data !== link.refreshToken?.data) return undefined;
            // Back from needs_relink (an IP allowlist fixed, say): the call Tasks kept for this org are due now, as after a relink.
            if (stored.status === 'needs_relink') await tx.kept.relinked(accountId, link.orgId, at);
            await tx.links.patch(accountId, {
                status: 'linked',
                lastVerifiedAt: at,
                lastError: null,
                username: identity.username,
                displayName: identity.displayName,
                ...(permissions ? { permissions, phoneFields } : {})
            });
            const change: LinkStatusChange = {
                accountId,
                from: stored.status,
                to: 'linked',
                at,
                orgId: link.orgId,
                username: identity.username
            };
            await queueStatusEvent(tx, change);
            return change;
        });
        if (change) this.deps.events.statusChanged(change);
        return 'healthy';
    }

    /**
     * The sweep's check of a legacy link: a SOAP login with what it stored, at most once a day, so a changed password or
     * security token shows as needs_relink before a call fails. A refused login marks the link; a network failure throws.
     */
    async #checkLegacyHealth(link: LegacyLinkRecord): Promise<'healthy' | 'needs_relink' | 'not_due'> {
        const { store, clock, legacyLogin } = this.deps;
        const verifiedAt = link.lastVerifiedAt ? Date.parse(link.lastVerifiedAt) : 0;
        if (clock.now().getTime() - verifiedAt < LEGACY_CHECK_INTERVAL_MS) return 'not_due';
        try {
            await legacyLogin.verify(link.accountId);
        } catch (error) {
            if (isAppError(error, 'NEEDS_RELINK')) return 'needs_relink';
            throw error;
        }
        const at = clock.now().toISOString();
        await store.transaction(async (tx) => {
            const stored = await tx.links.get(link.accountId, { forUpdate: true });
            if (stored?.method === 'legacy' && stored.status === 'legacy') await tx.links.patch(link.accountId, { lastVerifiedAt: at });
        });
        return 'healthy';
    }

    /** Revokes at Salesforce within the request's deadline, then deletes: a revoke that runs out of time leaves `revoked: false`, never the link. */
    async unlink(accountId: string, actor?: Actor, deadline?: AbortSignal): Promise<{ status: 'unlinked'; revoked: boolean }> {
        const { store, cipher, tokens } = this.deps;
        const link = await store.links.get(accountId);
        if (!link) return { status: 'unlinked', revoked: false };
        let revoked = false;
        if (link.method === 'oauth' && link.refreshToken) {
            revoked = await this.revokeQuietly(
                link.loginUrl,
                cipher.open(link.refreshToken, { purpose: 'refresh_token', owner: accountId }),
                deadline
            );
        }
        tokens.forget(accountId);
        const at = this.deps.clock.now().toISOString();
        const change = await store.transaction(async (tx) => {
            await tx.lock(accountLock(accountId));
            const gone = await tx.links.delete(accountId);
            await tx.audit.append({
                at,
                accountId,
                action: 'unlink',
                outcome: revoked ? 'ok' : 'not_revoked',
                orgId: link.orgId,
                username: link.username,
                actor
            });
            // Unlinked by another request meanwhile: that one announced it.
            if (!gone) return undefined;
            const change: LinkStatusChange = {
                accountId,
                from: gone.status,
                to: 'unlinked',
                at,
                orgId: gone.orgId,
                username: gone.username
            };
            await queueStatusEvent(tx, change);
            return change;
        });
        if (change) this.deps.events.statusChanged(change);
        return { status: 'unlinked', revoked };
    }

    /**
     * After Salesforce saw a sixth approval for a user, find which of that user's links it revoked: each is marked
     * needs_relink with a reason that names it (its card and its webhook say so). Returns them as "Name (id)".
     */
    async reverifyUserLinks(orgId: string, userId: string, exceptAccountId?: string): Promise<string[]> {
        const { store, tokens, logger } = this.deps;
        const links = (await store.links.ofApiUser(orgId, userId, { except: exceptAccountId })).filter((l) => l.status === 'linked');
        const names = await store.accounts.names(links.map((l) => l.accountId));
        const lost: string[] = [];
        await Promise.all(
            links.map(async (link) => {
                const name = accountNames(names, [link])[0]!;
                const deadReason = lostToSixthApprovalReason(name, link.username);
                try {
                    await tokens.refresh(link.accountId, { force: true, deadReason });
                } catch (error) {
                    if (isAppError(error, 'NEEDS_RELINK')) lost.push(name);
                    else logger.warn({ accountId: link.accountId, err: describe(error) }, 'could not re-verify a link of this API user');
                }
            })
        );
        return lost.sort();
    }

    /** Verify's permission check: the preflight's one Composite request as the link's user. */
    async #preflight(
        accountId: string,
        tokens: Pick<TokenSet, 'instanceUrl' | 'accessToken' | 'userId'>,
        deadline?: AbortSignal
    ): Promise<{ permissions: { checkedAt: string; checks: PermissionCheck[] }; phoneFields: PhoneFieldFacts }> {
        const results = await runPreflight(this.deps.gateway, tokens, deadline);
        const taskMapping = (await this.deps.store.accounts.get(accountId))?.callSettings?.task;
        const checkedAt = this.deps.clock.now().toISOString();
        return {
            permissions: { checkedAt, checks: evaluatePreflight(results, taskMapping) },
            phoneFields: phoneFieldsFromPreflight(results, checkedAt)
        };
    }

    /** Revocation is best effort; `true` when Salesforce confirms the token is dead. */
    async revokeQuietly(loginUrl: string, token: string, signal?: AbortSignal): Promise<boolean> {
        try {
            await this.deps.gateway.revoke(loginUrl, token, signal);
            return true;
        } catch (error) {
            if (error instanceof SalesforceError && error.kind !== 'unavailable') return true;
            this.deps.logger.warn({ loginUrl, err: describe(error) }, 'could not revoke a token at Salesforce');
            return false;
        }
    }

    /** A Verify that finds what the last one found says nothing new: not recorded again. */
    async #audit(entry: Omit<AuditEntry, 'at'>): Promise<void> {
        await this.deps.store.audit.append({ at: this.deps.clock.now().toISOString(), ...entry }, { unlessRepeat: true });
    }
}

/** A legacy link's SOAP login by the sweep: at most once a day. */
const LEGACY_CHECK_INTERVAL_MS = 24 * 3600_000;

const describe = (error: unknown): string => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));
