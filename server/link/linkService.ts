import { createPkcePair, randomToken, safeEqual, sha256, type TokenCipher } from '../crypto.ts';
import { AppError, isAppError } from '../errors.ts';
import { sameSalesforceId } from '../salesforceIds.ts';
import type { Logger } from '../logger.ts';
import type { Clock } from '../clock.ts';
import { SalesforceError, type CompositeResult, type Identity, type SalesforceGateway, type TokenSet } from '../salesforce/gateway.ts';
import { resolveLoginUrl, type LoginHostPolicy } from '../salesforce/loginHosts.ts';
import { accountLock, apiUserLock, type Store } from '../store/store.ts';
import type {
    Actor,
    AuditEntry,
    Environment,
    ErrorInfo,
    LegacyLinkRecord,
    LinkRecord,
    LinkSessionRecord,
    PermissionCheck
} from '../store/types.ts';
import { describeDeadGrant } from './deadGrant.ts';
import { sealSession, type LinkTokens } from './linkTokens.ts';
import type { LegacyLogin } from './legacyLogin.ts';
import type { LinkEvents, LinkStatusChange } from './events.ts';
import { queueStatusEvent } from './outbox.ts';
import {
    evaluatePreflight,
    failedRequiredChecks,
    identityFromPreflight,
    missingPermissionsMessage,
    preflightRequests,
    type LinkIdentity
} from './preflight.ts';
import { statusView, type LinkStatusView } from './statusView.ts';
import { accountNames, API_USER_LIMIT, MAX_PENDING_SESSIONS } from './limits.ts';
import { cardOrigins } from './consent.ts';

export interface LinkSessionInput {
    environment: Environment;
    loginUrl?: string;
    expectedOrgId?: string;
    initiatedBy?: Actor;
}

export interface LinkSessionView {
    id: string;
    state: LinkSessionRecord['state'];
    expiresAt: string;
    error?: ErrorInfo;
}

export interface CallbackInput {
    state?: string;
    code?: string;
    error?: string;
    errorDescription?: string;
    cookies: Record<string, string | undefined>;
}

/** A callback failure that belongs to a known session, so the page can tell the card. */
export class LinkFailure extends AppError {
    /** What the popup may say to the person who signed in to that org; the session keeps only `message`. */
    readonly pageMessage: string;
    constructor(
        readonly sessionId: string | undefined,
        error: AppError
    ) {
        super(error.code, error.message, error.status, error.details);
        this.pageMessage = error instanceof ApiUserLimitReached || error instanceof PageDetailedError ? error.pageMessage : error.message;
    }
}

/**
 * The sixth account for one API user. The names of the five accounts are for the person signed in to that org (the
 * popup); the link session, which the account that started it reads, says only how to fix it.
 */
export class ApiUserLimitReached extends AppError {
    constructor(
        message: string,
        readonly pageMessage: string
    ) {
        super('API_USER_LIMIT_REACHED', message, 409);
    }
}

/** One entry of the link's history as the API shows it: the account's own entries only, so its id is left out. */
export type ActivityEntry = Omit<AuditEntry, 'accountId'>;

export interface ActivityPage {
    entries: ActivityEntry[];
    nextCursor?: string;
}

/** A refusal that tells the popup (the person signed in to that org) more than the link session. */
class PageDetailedError extends AppError {
    constructor(
        error: AppError,
        message: string,
        readonly pageMessage: string
    ) {
        super(error.code, message, error.status, error.details);
    }
}

/**
 * A refused sixth approval cost the accounts in `lost` their link: said on the popup, and in the session when the
 * session was started for that very org (the org's own card, whose admin may see its accounts); otherwise unnamed.
 */
function withLostLinks(error: AppError, lost: string[], sessionMayName: boolean): AppError {
    const named =
        lost.length === 1
            ? `Account ${lost[0]} lost its link; relink it, or use another API user for the new account.`
            : `Accounts ${lost.join(', ')} lost their links; relink them, or use another API user for the new account.`;
    const unnamed = `Salesforce revoked an older approval of this API user when it saw this one: ${lost.length === 1 ? 'one of its other accounts lost its link and shows' : `${lost.length} of its other accounts lost their links and show`} Needs relink. Relink ${lost.length === 1 ? 'it' : 'them'}, or use another API user for the new account.`;
    const sessionMessage = `${error.message} ${sessionMayName ? named : unnamed}`;
    if (error instanceof ApiUserLimitReached) return new ApiUserLimitReached(sessionMessage, `${error.pageMessage} ${named}`);
    return new PageDetailedError(error, sessionMessage, `${error.message} ${named}`);
}

/** What the popup shows before Salesforce: whose account, what it may do, what it replaces. */
export interface ConsentView {
    sessionId: string;
    account: { id: string; name: string };
    environment: Environment;
    loginUrl: string;
    expectedOrgId?: string;
    /** The account's link now, when this one may replace it with another org. */
    replaces?: { orgId: string; username: string };
    /** Origins of the card that may vouch for this popup; empty: the person must confirm by a click. */
    cardOrigins: string[];
    expiresAt: string;
}

/**
 * What consuming a callback's state found: the session and its PKCE verifier, or a refusal that is thrown after
 * COMMIT (`fail`: the session is marked failed first).
 */
type StateClaim =
    | { claimed: true; session: LinkSessionRecord; verifier: string }
    | { claimed: false; error: AppError; sessionId?: string; fail?: boolean };

export const sessionCookieName = (sessionId: string): string => `ccl_link_${sessionId}`;

/**
 * Lightning's window.open distortion can request /oauth/start twice, in either order: a start within this long of
 * the last one answers with that same attempt (state, verifier, cookie), so whichever request's cookie the popup
 * keeps, its login completes. Later, a start replaces the attempt (a popup opened again, a private window).
 */
export const START_REPLAY_MS = 60_000;

export interface LinkServiceDeps {
    store: Store;
    cipher: TokenCipher;
    gateway: SalesforceGateway;
    tokens: LinkTokens;
    clock: Clock;
    logger: Logger;
    events: LinkEvents;
    publicUrl: string;
    sessionTtlSeconds: number;
    hosts: LoginHostPolicy;
    /** Verify proves a legacy link's stored password with it (the call actions log in with the same unit). */
    legacyLogin: LegacyLogin;
    /** Login origins that are not Salesforce's (the emulator) → the origin of the page that plays the card. */
    cardOrigins?: Record<string, string[]>;
}

export class LinkService {
    constructor(private readonly deps: LinkServiceDeps) {}

    /** What the card shows: read from the store on every call, so every instance answers alike. */
    status(accountId: string): Promise<LinkStatusView> {
        return statusView(this.deps.store, accountId);
    }

    /** The account's audit entries, newest first, a page at a time. */
    async activity(accountId: string, options: { limit: number; cursor?: string }): Promise<ActivityPage> {
        const page = await this.deps.store.audit.page(accountId, options);
        const entries = page.entries.map(({ accountId: _own, ...entry }): ActivityEntry => entry);
        return { entries, ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
    }

    async createSession(accountId: string, input: LinkSessionInput): Promise<{ id: string; authorizeUrl: string; expiresAt: string }> {
        const { store, clock, publicUrl, sessionTtlSeconds, hosts } = this.deps;
        const loginUrl = resolveLoginUrl(hosts, input.environment, input.loginUrl);
        const now = clock.now();
        const session: LinkSessionRecord = {
            id: randomToken(24),
            accountId,
            environment: input.environment,
            loginUrl,
            expectedOrgId: input.expectedOrgId,
            initiatedBy: input.initiatedBy,
            state: 'pending',
            createdAt: now.toISOString(),
            expiresAt: new Date(now.getTime() + sessionTtlSeconds * 1000).toISOString()
        };
        await store.transaction(async (tx) => {
            await tx.lock(accountLock(accountId));
            // Old sessions are kept for a day so the card can still read their outcome, then dropped.
            await tx.sessions.purge(new Date(now.getTime() - 24 * 3600 * 1000).toISOString());
            const pending = await tx.sessions.countPending(accountId, now.toISOString());
            if (pending >= MAX_PENDING_SESSIONS) {
                throw new AppError(
                    'TOO_MANY_LINK_SESSIONS',
                    `This account already has ${pending} link popups open. Finish or close one, or wait ${Math.ceil(sessionTtlSeconds / 60)} minutes.`,
                    429
                );
            }
            await tx.sessions.insert(session);
        });
        return { id: session.id, authorizeUrl: `${publicUrl}/oauth/start/${session.id}`, expiresAt: session.expiresAt };
    }

    async session(accountId: string, sessionId: string): Promise<LinkSessionView> {
        const now = this.deps.clock.now();
        const session = await this.deps.store.sessions.get(sessionId);
        if (!session || session.accountId !== accountId)
            throw new AppError(
                'LINK_SESSION_NOT_FOUND',
                'No link session with this id exists for this account. Start the link again from the card.',
                404
            );
        const state = session.state === 'pending' && isExpired(session, now) ? 'expired' : session.state;
        return { id: session.id, state, expiresAt: session.expiresAt, ...(session.error ? { error: session.error } : {}) };
    }

    /**
     * /oauth/start's page, read only: the account, what a link replaces, and whether the card may vouch for the popup
     * (only a session that names its org, into an account unlinked or linked to that same org, with a derivable card).
     */
    async consent(sessionId: string): Promise<ConsentView> {
        const now = this.deps.clock.now();
        const { store } = this.deps;
        {
            const found = await store.sessions.get(sessionId);
            const account = found ? await store.accounts.get(found.accountId) : undefined;
            const session = account ? found : undefined;
            assertUsable(session, now);
            const current = await store.links.get(session.accountId);
            const sameOrgAgain = Boolean(
                current && session.expectedOrgId && current.orgId && sameSalesforceId(current.orgId, session.expectedOrgId)
            );
            const replaces = current && !sameOrgAgain ? { orgId: current.orgId, username: current.username } : undefined;
            const vouchable = Boolean(session.expectedOrgId) && !replaces;
            return {
                sessionId: session.id,
                account: { id: account!.id, name: account!.name },
                environment: session.environment,
                loginUrl: session.loginUrl,
                expectedOrgId: session.expectedOrgId,
                replaces,
                cardOrigins: vouchable ? this.cardOriginsOf(session.loginUrl) : [],
                expiresAt: session.expiresAt
            };
        }
    }

    /** Where the org's card runs for a login host: the popup's messages go there and nowhere else. */
    cardOriginsOf(loginUrl: string): string[] {
        return cardOrigins(loginUrl, this.deps.cardOrigins);
    }

    /** The card origins of a session's login host, for the callback page's message; none for an unknown session. */
    async sessionCardOrigins(sessionId: string): Promise<string[]> {
        const loginUrl = (await this.deps.store.sessions.get(sessionId))?.loginUrl;
        return loginUrl ? this.cardOriginsOf(loginUrl) : [];
    }

    /** /oauth/start: a fresh state, verifier and cookie nonce for this popup; returns where to send it. */
    async startAuthorization(
        sessionId: string
    ): Promise<{ redirectTo: string; cookie: { name: string; value: string; maxAgeMs: number } }> {
        const { store, clock, cipher, gateway } = this.deps;
        const now = clock.now();
        const fresh = { state: randomToken(32), nonce: randomToken(32), ...createPkcePair() };
        // An id that matches nothing, a session that cannot start, or a repeat of a fresh start is answered from a read: no write, no lock.
        const refusal = (found: LinkSessionRecord | undefined): AppError | undefined => {
            try {
                assertUsable(found, now);
                return undefined;
            } catch (error) {
                if (error instanceof AppError) return error;
                throw error;
            }
        };
        const replayOf = (found: LinkSessionRecord): typeof fresh | undefined => {
            const current = found.attempt;
            if (!current?.replay || now.getTime() - Date.parse(current.startedAt) >= START_REPLAY_MS) return undefined;
            return JSON.parse(cipher.open(current.replay, { purpose: 'link_replay', owner: found.id })) as typeof fresh;
        };
        const seen = await store.sessions.get(sessionId);
        const refusedEarly = refusal(seen);
        if (refusedEarly) throw refusedEarly;
        const replayed = replayOf(seen!);
        const { session, attempt } = replayed
            ? { session: seen!, attempt: replayed }
            : await store.transaction(async (tx) => {
                  const found = await tx.sessions.get(sessionId, { forUpdate: true });
                  const refused = refusal(found);
                  if (refused) throw refused;
                  const again = replayOf(found!);
                  if (again) return { session: found!, attempt: again };
                  await tx.sessions.patch(sessionId, {
                      attempt: {
                          stateHash: sha256(fresh.state),
                          cookieHash: sha256(fresh.nonce),
                          codeVerifier: cipher.seal(fresh.verifier, { purpose: 'pkce_verifier', owner: sessionId }),
                          startedAt: now.toISOString(),
                          replay: cipher.seal(JSON.stringify(fresh), { purpose: 'link_replay', owner: sessionId })
                      }
                  });
                  return { session: found!, attempt: fresh };
              });
        return {
            redirectTo: gateway.authorizeUrl(session.loginUrl, { state: attempt.state, codeChallenge: attempt.challenge }),
            cookie: { name: sessionCookieName(session.id), value: attempt.nonce, maxAgeMs: Date.parse(session.expiresAt) - now.getTime() }
        };
    }

    /** /oauth/callback: every check explicit; nothing from the redirect is trusted before it passes. */
    async completeAuthorization(
        input: CallbackInput
    ): Promise<{ sessionId: string; link: LinkRecord; account: { id: string; name: string } }> {
        const { store, clock, cipher } = this.deps;
        if (!input.state)
            throw new LinkFailure(
                undefined,
                new AppError('STATE_MISMATCH', 'The sign-in came back without its state. Start the link again from the card.')
            );
        const stateHash = sha256(input.state);
        const now = clock.now();

        const unknownState = () =>
            new LinkFailure(
                undefined,
                new AppError(
                    'STATE_MISMATCH',
                    'This sign-in does not belong to a link in progress, or it was already used. Start the link again from the card.'
                )
            );
        // A state that matches nothing is refused from a read: no write, no lock.
        if (!(await store.sessions.byStateHash(stateHash))) throw unknownState();

        // Consume the state first: whatever happens next, it can never be used twice. A refusal is returned, and thrown after COMMIT.
        const claimed = await store.transaction(async (tx): Promise<StateClaim> => {
            const session = await tx.sessions.byStateHash(stateHash, { forUpdate: true });
            if (!session?.attempt) return { claimed: false, error: unknownState() };
            const attempt = session.attempt;
            if (session.state !== 'pending') {
                await tx.sessions.patch(session.id, { attempt: null });
                return {
                    claimed: false,
                    error: new AppError('STATE_MISMATCH', 'This sign-in was already used. Start the link again from the card.'),
                    sessionId: session.id
                };
            }
            if (isExpired(session, now)) {
                await tx.sessions.patch(session.id, { attempt: null, state: 'expired' });
                return {
                    claimed: false,
                    error: new AppError(
                        'LINK_SESSION_EXPIRED',
                        'The link took longer than 10 minutes and expired. Start it again from the card.',
                        410
                    ),
                    sessionId: session.id
                };
            }
            await tx.sessions.patch(session.id, { attempt: null });
            const cookie = input.cookies[sessionCookieName(session.id)];
            if (!cookie || !safeEqual(sha256(cookie), attempt.cookieHash)) {
                return {
                    claimed: false,
                    error: new AppError(
                        'STATE_MISMATCH',
                        'This sign-in was finished in a different browser window than the one the card opened. Start the link again from the card and finish it in the popup.'
                    ),
                    sessionId: session.id,
                    fail: true
                };
            }
            const { attempt: _attempt, ...rest } = session;
            void _attempt;
            return {
                claimed: true,
                session: rest,
                verifier: cipher.open(attempt.codeVerifier, { purpose: 'pkce_verifier', owner: session.id })
            };
        });
        if (!claimed.claimed) {
            if (claimed.error instanceof LinkFailure) throw claimed.error;
            if (claimed.fail && claimed.sessionId) await this.#failSession(claimed.sessionId, claimed.error);
            throw new LinkFailure(claimed.sessionId, claimed.error);
        }
        const { session, verifier } = claimed;

        let tokens: TokenSet | undefined;
        try {
            if (input.error) throw authorizationError(input.error, input.errorDescription);
            if (!input.code)
                throw new AppError('TOKEN_EXCHANGE_FAILED', 'Salesforce sent no authorization code. Start the link again from the card.');
            tokens = await this.#exchange(session, input.code, verifier);
            // The second and last round trip: one Composite request answers who signed in and what they may do.
            const { identity, permissions } = await this.#linkFacts(tokens);
            this.#checkIdentity(session, identity);
            const failed = failedRequiredChecks(permissions.checks);
            if (failed.length)
                throw new AppError('PERMISSIONS_MISSING', missingPermissionsMessage(identity.username, failed), 400, { checks: failed });
            const link = await this.#commit(session, tokens, identity, permissions);
            this.deps.events.emit('attempt', { accountId: session.accountId, outcome: 'linked' });
            const name = (await this.deps.store.accounts.get(session.accountId))?.name ?? session.accountId;
            return { sessionId: session.id, link, account: { id: session.accountId, name } };
        } catch (error) {
            // A token that dies between the exchange and the save: Salesforce saw more than five approvals of this user at once.
            const revokedMeanwhile =
                tokens !== undefined &&
                error instanceof SalesforceError &&
                (error.code === 'INVALID_SESSION_ID' || error.httpStatus === 401);
            let appError = revokedMeanwhile ? await this.#revokedDuringLink(session, tokens!) : toLinkError(error);
            if (tokens?.refreshToken) await this.#revokeQuietly(session.loginUrl, tokens.refreshToken);
            if ((appError.code === 'API_USER_LIMIT_REACHED' || revokedMeanwhile) && tokens) {
                // Re-verified before the session says how it ended, so it can say which link the sixth approval cost.
                const lost = await this.reverifyUserLinks(tokens.orgId, tokens.userId, session.accountId);
                const ownOrgCard = Boolean(session.expectedOrgId && sameSalesforceId(session.expectedOrgId, tokens.orgId));
                if (lost.length) appError = withLostLinks(appError, lost, ownOrgCard);
            }
            await this.#failSession(session.id, appError, tokens);
            this.deps.events.emit('attempt', { accountId: session.accountId, outcome: appError.code });
            throw new LinkFailure(session.id, appError);
        }
    }

    /** `deadline`: the caller's request budget; when it runs out, Verify answers DEADLINE_EXCEEDED and changes nothing after. */
    async verify(accountId: string, actor?: Actor, deadline?: AbortSignal): Promise<LinkStatusView> {
        const link = await this.deps.store.links.get(accountId);
        if (!link)
            throw new AppError('NOT_LINKED', 'This account is not linked to Salesforce. Link it from the Contact Center Link card.', 409);
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
        const link = found?.method === 'oauth' ? found : undefined;
        if (!link) throw new AppError('NOT_LINKED', 'This account is not linked to Salesforce with OAuth.', 409);
        let session;
        try {
            // The refresh is shared and may rotate the token, so it is not cancelled (it saves what it gets); Verify only stops waiting.
            session = await untilDeadline(tokens.refresh(accountId, { force: true, retryDeadLink: options.retryDeadLink }), deadline);
        } catch (error) {
            if (isAppError(error, 'NEEDS_RELINK')) return 'needs_relink';
            throw error;
        }
        const identity = await gateway.identity(session, deadline);
        stopIfPast(deadline);
        if (!identity.active) {
            await tokens.markNeedsRelink(accountId, link, 'The API user is inactive in Salesforce. Reactivate the user, then relink.');
            return 'needs_relink';
        }
        if (!sameSalesforceId(identity.orgId, link.orgId)) {
            await tokens.markNeedsRelink(
                accountId,
                link,
                `The link now reaches org ${identity.orgId}, not ${link.orgId}: the sandbox was refreshed. Relink to restore it.`
            );
            return 'needs_relink';
        }
        const permissions = options.preflight ? await this.#preflight(session, deadline) : undefined;
        // Past the deadline the caller has its answer already: nothing is written.
        stopIfPast(deadline);
        const at = clock.now().toISOString();
        const change = await store.transaction(async (tx) => {
            // Compare-and-set: only the link whose token was just used; a relink that landed meanwhile stays as it is.
            const stored = await tx.links.get(accountId, { forUpdate: true });
            if (!stored || stored.refreshToken?.data !== link.refreshToken?.data) return undefined;
            await tx.links.patch(accountId, {
                status: 'linked',
                lastVerifiedAt: at,
                lastError: null,
                username: identity.username,
                displayName: identity.displayName,
                ...(permissions ? { permissions } : {})
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
            revoked = await this.#revokeQuietly(
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
                const deadReason = `Account ${name} lost its link: Salesforce revoked it when its API user ${link.username} approved another contact-center account (it keeps only the five newest approvals of a user). Relink it, or use another API user for the new account.`;
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

    async #exchange(session: LinkSessionRecord, code: string, verifier: string): Promise<TokenSet> {
        try {
            const tokens = await this.deps.gateway.exchangeCode(session.loginUrl, code, verifier);
            if (!tokens.refreshToken) {
                await this.#revokeQuietly(session.loginUrl, tokens.accessToken);
                throw new AppError(
                    'TOKEN_EXCHANGE_FAILED',
                    'Salesforce granted no refresh token. Add the "Perform requests at any time (refresh_token, offline_access)" scope to the External Client App, then link again.'
                );
            }
            return tokens;
        } catch (error) {
            if (error instanceof AppError) throw error;
            const sfError = error as SalesforceError;
            throw new AppError(
                'TOKEN_EXCHANGE_FAILED',
                `Salesforce did not complete the sign-in (${sfError.code}: ${sfError.message}). Start the link again from the card.`,
                sfError.kind === 'unavailable' ? 503 : sfError.kind === 'invalid_response' ? 502 : 400
            );
        }
    }

    /** Who signed in (the User and Organization records the signed token names) and the permission checks, from one Composite request. */
    async #linkFacts(tokens: TokenSet): Promise<{ identity: LinkIdentity; permissions: { checkedAt: string; checks: PermissionCheck[] } }> {
        const results = await this.#composite(tokens);
        return {
            identity: identityFromPreflight(results, tokens),
            permissions: { checkedAt: this.deps.clock.now().toISOString(), checks: evaluatePreflight(results) }
        };
    }

    #checkIdentity(session: LinkSessionRecord, identity: Identity): void {
        if (session.expectedOrgId && !sameSalesforceId(session.expectedOrgId, identity.orgId)) {
            throw new AppError(
                'ORG_MISMATCH',
                `You signed in to org ${identity.orgId}, but the link was started from org ${session.expectedOrgId}. Sign in as the API user of the org you started from.`,
                400,
                { expectedOrgId: session.expectedOrgId, orgId: identity.orgId }
            );
        }
        if (!identity.active)
            throw new AppError(
                'USER_INACTIVE',
                `${identity.username} is not active in Salesforce. Activate the API user, then link again.`
            );
    }

    /** One Composite request as the new user: API access, permissions and field access, before anything is saved. */
    async #preflight(
        tokens: Pick<TokenSet, 'instanceUrl' | 'accessToken' | 'userId'>,
        deadline?: AbortSignal
    ): Promise<{ checkedAt: string; checks: PermissionCheck[] }> {
        const results = await this.#composite(tokens, deadline);
        return { checkedAt: this.deps.clock.now().toISOString(), checks: evaluatePreflight(results) };
    }

    async #composite(
        tokens: Pick<TokenSet, 'instanceUrl' | 'accessToken' | 'userId'>,
        deadline?: AbortSignal
    ): Promise<Map<string, CompositeResult>> {
        try {
            return await this.deps.gateway.composite(tokens, preflightRequests(tokens.userId), deadline);
        } catch (error) {
            if (
                error instanceof SalesforceError &&
                ['API_DISABLED_FOR_ORG', 'API_CURRENTLY_DISABLED', 'FUNCTIONALITY_NOT_ENABLED'].includes(error.code)
            ) {
                throw new AppError(
                    'API_NOT_ENABLED',
                    'This user may not use the Salesforce API. Sign in as a user with the "API Enabled" permission (assign the Contact_Center_API_User permission set), then link again.'
                );
            }
            throw error;
        }
    }

    /** The one write that makes a link: the five-account rule and the swap happen together. */
    async #commit(
        session: LinkSessionRecord,
        tokens: TokenSet,
        identity: LinkIdentity,
        permissions: LinkRecord['permissions']
    ): Promise<LinkRecord> {
        const { store, cipher, clock } = this.deps;
        const at = clock.now().toISOString();
        const sealed = cipher.seal(tokens.refreshToken!, { purpose: 'refresh_token', owner: session.accountId });
        const liveSession = {
            accessToken: tokens.accessToken,
            instanceUrl: tokens.instanceUrl,
            identityUrl: tokens.identityUrl,
            userId: tokens.userId
        };
        const link: LinkRecord = {
            accountId: session.accountId,
            method: 'oauth',
            status: 'linked',
            environment: session.environment,
            orgId: identity.orgId,
            ...(identity.orgName ? { orgName: identity.orgName } : {}),
            userId: identity.userId,
            username: identity.username,
            displayName: identity.displayName,
            userType: identity.userType,
            instanceUrl: tokens.instanceUrl,
            loginUrl: session.loginUrl,
            linkedAt: at,
            linkedBy: session.initiatedBy,
            lastVerifiedAt: at,
            refreshToken: sealed,
            session: sealSession(cipher, session.accountId, liveSession),
            permissions
        };
        const { previous, crowded, change } = await store.transaction(async (tx) => {
            // The five-account rule and the swap: one holder of this API user's links and of this account at a time.
            await tx.lock(apiUserLock(identity.orgId, identity.userId), accountLock(session.accountId));
            const current = await tx.sessions.get(session.id, { forUpdate: true });
            if (current?.state !== 'pending')
                throw new AppError(
                    'LINK_SESSION_EXPIRED',
                    'The link was cancelled or expired while you signed in. Start it again from the card.',
                    410
                );
            const holders = await tx.links.ofApiUser(identity.orgId, identity.userId, { except: session.accountId });
            if (holders.length >= API_USER_LIMIT) {
                const names = accountNames(await tx.accounts.names(holders.map((l) => l.accountId)), holders);
                throw new ApiUserLimitReached(
                    `${identity.username} already serves ${holders.length} contact-center accounts, the most one API user may serve. Use another API user, or unlink one of those accounts from the card in that org first.`,
                    `${identity.username} already serves ${holders.length} contact-center accounts, the most one API user may serve: ${names.join(', ')}. Use another API user, or unlink one of those accounts first.`
                );
            }
            const previous = await tx.links.put(link);
            await tx.sessions.patch(session.id, { state: 'linked', completedAt: at });
            await tx.audit.append({
                at,
                accountId: session.accountId,
                action: previous ? 'relink' : 'link',
                outcome: 'ok',
                orgId: identity.orgId,
                username: identity.username,
                actor: session.initiatedBy
            });
            // Salesforce counts approvals, not our links: the old token of a same-user relink is one more.
            const approvals = holders.length + 1 + (previous?.method === 'oauth' && previous.userId === identity.userId ? 1 : 0);
            const change: LinkStatusChange = {
                accountId: session.accountId,
                from: previous?.status ?? 'unlinked',
                to: 'linked',
                at,
                orgId: identity.orgId,
                username: identity.username
            };
            await queueStatusEvent(tx, change);
            return { previous, crowded: approvals > API_USER_LIMIT, change };
        });
        this.deps.events.statusChanged(change);
        if (previous?.method === 'oauth' && previous.refreshToken)
            await this.#revokeQuietly(
                previous.loginUrl,
                cipher.open(previous.refreshToken, { purpose: 'refresh_token', owner: session.accountId })
            );
        if (crowded) await this.reverifyUserLinks(identity.orgId, identity.userId, session.accountId);
        return link;
    }

    /** What to say when Salesforce revoked the new approval before the link was saved. */
    async #revokedDuringLink(session: LinkSessionRecord, tokens: TokenSet): Promise<AppError> {
        const links = await this.deps.store.links.ofApiUser(tokens.orgId, tokens.userId, { except: session.accountId });
        const holders = accountNames(await this.deps.store.accounts.names(links.map((l) => l.accountId)), links);
        if (holders.length >= API_USER_LIMIT) {
            return new ApiUserLimitReached(
                `This API user already serves ${holders.length} contact-center accounts, the most one API user may serve. Salesforce revoked this sign-in when it saw a sixth approval. Use another API user, or unlink one of those accounts from the card in that org first.`,
                `This API user already serves ${holders.length} contact-center accounts, the most one API user may serve: ${holders.join(', ')}. Salesforce revoked this sign-in when it saw a sixth approval. Use another API user, or unlink one of those accounts first.`
            );
        }
        return new AppError(
            'TOKEN_EXCHANGE_FAILED',
            'Salesforce revoked this sign-in before the link was saved: the API user approved Contact Center Link more than five times at once, and Salesforce keeps only the newest five approvals. Start the link again from the card, once.',
            409
        );
    }

    async #failSession(sessionId: string, error: AppError, tokens?: TokenSet): Promise<void> {
        const at = this.deps.clock.now().toISOString();
        await this.deps.store.transaction(async (tx) => {
            const session = await tx.sessions.get(sessionId, { forUpdate: true });
            if (!session) return;
            await tx.sessions.patch(
                sessionId,
                session.state === 'pending'
                    ? { state: 'failed', error: { code: error.code, message: error.message }, completedAt: at, attempt: null }
                    : { attempt: null }
            );
            await tx.audit.append({
                at,
                accountId: session.accountId,
                action: 'link_failed',
                outcome: error.code,
                orgId: tokens?.orgId,
                actor: session.initiatedBy,
                detail: error.message
            });
        });
        this.deps.logger.info({ sessionId, code: error.code }, 'link attempt failed');
    }

    /** Revocation is best effort; `true` when Salesforce confirms the token is dead. */
    async #revokeQuietly(loginUrl: string, token: string, signal?: AbortSignal): Promise<boolean> {
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

function isExpired(session: LinkSessionRecord, now: Date): boolean {
    return Date.parse(session.expiresAt) <= now.getTime();
}

/** Throws why a popup cannot go on with this session: unknown, expired or already used. */
function assertUsable(session: LinkSessionRecord | undefined, now: Date): asserts session is LinkSessionRecord {
    if (!session)
        throw new AppError(
            'LINK_SESSION_NOT_FOUND',
            'This link is not valid. Start the link again from the Contact Center Link card.',
            404
        );
    if (session.state === 'expired' || (session.state === 'pending' && isExpired(session, now))) {
        throw new AppError(
            'LINK_SESSION_EXPIRED',
            'This link expired. Close this window and start the link again from the Contact Center Link card.',
            410
        );
    }
    if (session.state !== 'pending')
        throw new AppError('LINK_SESSION_COMPLETED', 'This link was already used. Close this window; the card shows the result.', 409);
}

function authorizationError(error: string, description?: string): AppError {
    if (error === 'access_denied' || error === 'access-denied') {
        return new AppError(
            'ACCESS_DENIED',
            'Access was denied in Salesforce, so nothing was linked. To link, sign in as the API user and click Allow.'
        );
    }
    // Since September 2025: the org has not installed the app, and the API user may not approve uninstalled apps.
    if (error === 'invalid_client' && /must be installed/i.test(description ?? '')) {
        return new AppError(
            'APP_NOT_INSTALLED',
            'Salesforce blocked the sign-in: this org has not installed the Contact Center Link app, and the API user may not use an uninstalled app. A Salesforce admin fixes it in the org: Setup → Connected Apps OAuth Usage → Contact Center Link → Install; then Manage Connected Apps → Contact Center Link → Edit Policies → Permitted Users, and give the API user’s profile or permission set access. Then link again.'
        );
    }
    const detail = description ? `${error}: ${description}` : error;
    return new AppError(
        'TOKEN_EXCHANGE_FAILED',
        `Salesforce refused the sign-in (${detail.slice(0, 300)}). Check the External Client App’s settings, then start the link again.`
    );
}

/** The request's budget ran out: the backend answers now, inside the caller's own timeout, and writes nothing after. */
/** A legacy link's SOAP login by the sweep: at most once a day. */
const LEGACY_CHECK_INTERVAL_MS = 24 * 3600_000;

const deadlineExceeded = (): AppError =>
    new AppError(
        'DEADLINE_EXCEEDED',
        'Salesforce did not answer in time, so the backend stopped waiting and changed nothing. Try again in a minute.',
        504
    );

function stopIfPast(deadline: AbortSignal | undefined): void {
    if (deadline?.aborted) throw deadlineExceeded();
}

/** Waits for `work` until the deadline; the work itself goes on (and finishes what it must). */
function untilDeadline<T>(work: Promise<T>, deadline: AbortSignal | undefined): Promise<T> {
    if (!deadline) return work;
    if (deadline.aborted) return Promise.reject(deadlineExceeded());
    return new Promise<T>((resolve, reject) => {
        const stop = () => reject(deadlineExceeded());
        deadline.addEventListener('abort', stop, { once: true });
        work.then(resolve, reject).finally(() => deadline.removeEventListener('abort', stop));
    });
}

function toLinkError(error: unknown): AppError {
    if (error instanceof AppError) return error;
    if (error instanceof SalesforceError) {
        if (error.isDeadGrant) return new AppError('NEEDS_RELINK', describeDeadGrant(error), 409);
        if (error.kind === 'unavailable')
            return new AppError(
                'SALESFORCE_UNAVAILABLE',
                `Salesforce could not be reached: ${error.message} Try again in a few minutes.`,
                503
            );
        return new AppError(
            'TOKEN_EXCHANGE_FAILED',
            `Salesforce answered unexpectedly (${error.code}: ${error.message}). Try again in a few minutes; if it keeps happening, check Salesforce’s status at status.salesforce.com.`,
            502
        );
    }
    return new AppError('INTERNAL', 'Something went wrong on our side; nothing was changed. Try again.', 500);
}

const describe = (error: unknown): string => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));
