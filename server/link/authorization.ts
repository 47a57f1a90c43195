// The authorization flow, one popup's life from session to callback (create, consent, start, callback, commit), in one
// file on purpose: its steps share the session record's checks and are read top to bottom in the order a popup takes.
import { createPkcePair, randomToken, safeEqual, sha256, type TokenCipher } from '../crypto.ts';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Clock } from '../clock.ts';
import { sameSalesforceId } from '../salesforceIds.ts';
import { SalesforceError, type Identity, type SalesforceGateway, type TokenSet } from '../salesforce/gateway.ts';
import { resolveLoginUrl, type LoginHostPolicy } from '../salesforce/loginHosts.ts';
import { accountLock, type Store } from '../store/store.ts';
import type { Actor, Environment, ErrorInfo, LinkRecord, LinkSessionRecord, PermissionCheck, PhoneFieldFacts } from '../store/types.ts';
import { cardOrigins } from './consent.ts';
import type { LinkEvents } from './events.ts';
import { MAX_PENDING_SESSIONS } from './limits.ts';
import type { LinkService } from './linkService.ts';
import {
    exchangeFailed,
    ipNotAllowed,
    isIpRefusal,
    LinkFailure,
    linkSessionNotFound,
    noAuthorizationCode,
    noRefreshToken,
    orgMismatch,
    otherWindow,
    permissionsMissing,
    popupLinkExpired,
    popupLinkNotValid,
    popupLinkUsed,
    signInTookTooLong,
    stateMissing,
    stateUnknown,
    stateUsed,
    toLinkError,
    tooManyLinkSessions,
    userInactive,
    withLostLinks,
    authorizationError
} from './messages.ts';
import { newLinkRecord, revokedDuringLink, saveLink } from './saveLink.ts';
import { evaluatePreflight, failedRequiredChecks, identityFromPreflight, runPreflight, type LinkIdentity } from './preflight.ts';
import { phoneFieldsFromPreflight } from './phoneFields.ts';

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
 * the last one, from the browser that confirmed it (its consent cookie), answers with that same attempt (state,
 * verifier, cookie), so whichever request's cookie the popup keeps, its login completes. Another browser, or a start
 * after this, replaces the attempt (a popup opened again, a private window).
 */
export const START_REPLAY_MS = 60_000;

export interface LinkAuthorizationDeps {
    store: Store;
    cipher: TokenCipher;
    gateway: SalesforceGateway;
    clock: Clock;
    logger: Logger;
    events: LinkEvents;
    publicUrl: string;
    sessionTtlSeconds: number;
    hosts: LoginHostPolicy;
    /** Login origins that are not Salesforce's (the emulator) → the origin of the page that plays the card. */
    cardOrigins?: Record<string, string[]>;
    /** The link as it stands: revokes a token it no longer needs, re-verifies an API user's other links. */
    links: LinkService;
    /** Where this backend reaches Salesforce from (SF_EGRESS_ADDRESSES): named when Salesforce refuses the address. */
    egressAddresses?: readonly string[];
}

/**
 * The authorization flow: link sessions, the popup's consent page, /oauth/start and /oauth/callback with every check
 * explicit, ending in the one write that makes a link (saveLink.ts: the five-account rule and the relink swap). The
 * link once made is LinkService's: its status, Verify, the health checks and unlink.
 */
export class LinkAuthorization {
    constructor(private readonly deps: LinkAuthorizationDeps) {}

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
                throw tooManyLinkSessions(pending, sessionTtlSeconds);
            }
            await tx.sessions.insert(session);
        });
        return { id: session.id, authorizeUrl: `${publicUrl}/oauth/start/${session.id}`, expiresAt: session.expiresAt };
    }

    async session(accountId: string, sessionId: string): Promise<LinkSessionView> {
        const now = this.deps.clock.now();
        const session = await this.deps.store.sessions.get(sessionId);
        if (!session || session.accountId !== accountId) throw linkSessionNotFound();
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

    /** Where the org's card runs for a login host: the popup's messages go there and nowhere else. */
    cardOriginsOf(loginUrl: string): string[] {
        return cardOrigins(loginUrl, this.deps.cardOrigins);
    }

    /** The card origins of a session's login host, for the callback page's message; none for an unknown session. */
    async sessionCardOrigins(sessionId: string): Promise<string[]> {
        const loginUrl = (await this.deps.store.sessions.get(sessionId))?.loginUrl;
        return loginUrl ? this.cardOriginsOf(loginUrl) : [];
    }

    /** /oauth/start: a fresh state, verifier and cookie nonce for this popup (`consentNonce`: its browser's); returns where to send it. */
    async startAuthorization(
        sessionId: string,
        consentNonce: string
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
            // Only to the browser that confirmed this attempt: another one never learns its state or cookie.
            if (!current.replayFor || !safeEqual(current.replayFor, sha256(consentNonce))) return undefined;
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
                          replay: cipher.seal(JSON.stringify(fresh), { purpose: 'link_replay', owner: sessionId }),
                          replayFor: sha256(consentNonce)
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
        if (!input.state) throw new LinkFailure(undefined, stateMissing());
        const stateHash = sha256(input.state);
        const now = clock.now();

        const unknownState = () => new LinkFailure(undefined, stateUnknown());
        // A state that matches nothing is refused from a read: no write, no lock.
        if (!(await store.sessions.byStateHash(stateHash))) throw unknownState();

        // Consume the state first: whatever happens next, it can never be used twice. A refusal is returned, and thrown after COMMIT.
        const claimed = await store.transaction(async (tx): Promise<StateClaim> => {
            const session = await tx.sessions.byStateHash(stateHash, { forUpdate: true });
            if (!session?.attempt) return { claimed: false, error: unknownState() };
            const attempt = session.attempt;
            if (session.state !== 'pending') {
                await tx.sessions.patch(session.id, { attempt: null });
                return { claimed: false, error: stateUsed(), sessionId: session.id };
            }
            if (isExpired(session, now)) {
                await tx.sessions.patch(session.id, { attempt: null, state: 'expired' });
                return { claimed: false, error: signInTookTooLong(this.deps.sessionTtlSeconds), sessionId: session.id };
            }
            await tx.sessions.patch(session.id, { attempt: null });
            const cookie = input.cookies[sessionCookieName(session.id)];
            if (!cookie || !safeEqual(sha256(cookie), attempt.cookieHash)) {
                return { claimed: false, error: otherWindow(), sessionId: session.id, fail: true };
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
            if (!input.code) throw noAuthorizationCode();
            tokens = await this.#exchange(session, input.code, verifier);
            // The second and last round trip: one Composite request answers who signed in and what they may do.
            const { identity, permissions, phoneFields } = await this.#linkFacts(tokens, session.accountId);
            this.#checkIdentity(session, identity);
            const failed = failedRequiredChecks(permissions.checks);
            if (failed.length) throw permissionsMissing(identity.username, failed);
            const link = await this.#commit(session, tokens, identity, permissions, phoneFields);
            this.deps.events.emit('attempt', { accountId: session.accountId, outcome: 'linked' });
            const name = (await this.deps.store.accounts.get(session.accountId))?.name ?? session.accountId;
            return { sessionId: session.id, link, account: { id: session.accountId, name } };
        } catch (error) {
            // A token that dies between the exchange and the save: Salesforce saw more than five approvals of this user at once.
            const revokedMeanwhile =
                tokens !== undefined &&
                error instanceof SalesforceError &&
                (error.code === 'INVALID_SESSION_ID' || error.httpStatus === 401);
            let appError = revokedMeanwhile ? await revokedDuringLink(this.deps.store, session, tokens!) : toLinkError(error);
            if (tokens?.refreshToken) await this.deps.links.revokeQuietly(session.loginUrl, tokens.refreshToken);
            if ((appError.code === 'API_USER_LIMIT_REACHED' || revokedMeanwhile) && tokens) {
                // Re-verified before the session says how it ended, so it can say which link the sixth approval cost.
                const lost = await this.deps.links.reverifyUserLinks(tokens.orgId, tokens.userId, session.accountId);
                const ownOrgCard = Boolean(session.expectedOrgId && sameSalesforceId(session.expectedOrgId, tokens.orgId));
                if (lost.length) appError = withLostLinks(appError, lost, ownOrgCard);
            }
            await this.#failSession(session.id, appError, tokens);
            this.deps.events.emit('attempt', { accountId: session.accountId, outcome: appError.code });
            throw new LinkFailure(session.id, appError);
        }
    }

    async #exchange(session: LinkSessionRecord, code: string, verifier: string): Promise<TokenSet> {
        try {
            const tokens = await this.deps.gateway.exchangeCode(session.loginUrl, code, verifier);
            if (!tokens.refreshToken) {
                await this.deps.links.revokeQuietly(session.loginUrl, tokens.accessToken);
                throw noRefreshToken();
            }
            return tokens;
        } catch (error) {
            if (error instanceof AppError) throw error;
            if (error instanceof SalesforceError && isIpRefusal(error)) throw ipNotAllowed(this.deps.egressAddresses ?? [], 'link');
            throw exchangeFailed(error as SalesforceError);
        }
    }

    /** Who signed in (the User and Organization records the signed token names) and the permission checks, from one Composite request. */
    async #linkFacts(
        tokens: TokenSet,
        accountId: string
    ): Promise<{ identity: LinkIdentity; permissions: { checkedAt: string; checks: PermissionCheck[] }; phoneFields: PhoneFieldFacts }> {
        const results = await runPreflight(this.deps.gateway, tokens);
        const taskMapping = (await this.deps.store.accounts.get(accountId))?.callSettings?.task;
        const checkedAt = this.deps.clock.now().toISOString();
        return {
            identity: identityFromPreflight(results, tokens),
            permissions: { checkedAt, checks: evaluatePreflight(results, taskMapping) },
            phoneFields: phoneFieldsFromPreflight(results, checkedAt)
        };
    }

    #checkIdentity(session: LinkSessionRecord, identity: Identity): void {
        if (session.expectedOrgId && !sameSalesforceId(session.expectedOrgId, identity.orgId))
            throw orgMismatch(identity.orgId, session.expectedOrgId);
        if (!identity.active) throw userInactive(identity.username);
    }

    /** The one write that makes a link, then what follows it: the event, the old token's revoke, the other links' check. */
    async #commit(
        session: LinkSessionRecord,
        tokens: TokenSet,
        identity: LinkIdentity,
        permissions: LinkRecord['permissions'],
        phoneFields: PhoneFieldFacts
    ): Promise<LinkRecord> {
        const { store, cipher, clock, events, links } = this.deps;
        const at = clock.now().toISOString();
        const link = { ...newLinkRecord(cipher, { session, tokens, identity, permissions, at }), phoneFields };
        const { previous, crowded, change } = await saveLink(store, session, link, at);
        events.statusChanged(change);
        if (previous?.method === 'oauth' && previous.refreshToken)
            await links.revokeQuietly(
                previous.loginUrl,
                cipher.open(previous.refreshToken, { purpose: 'refresh_token', owner: session.accountId })
            );
        if (crowded) await links.reverifyUserLinks(identity.orgId, identity.userId, session.accountId);
        return link;
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
}

function isExpired(session: LinkSessionRecord, now: Date): boolean {
    return Date.parse(session.expiresAt) <= now.getTime();
}

/** Throws why a popup cannot go on with this session: unknown, expired or already used. */
function assertUsable(session: LinkSessionRecord | undefined, now: Date): asserts session is LinkSessionRecord {
    if (!session) throw popupLinkNotValid();
    if (session.state === 'expired' || (session.state === 'pending' && isExpired(session, now))) throw popupLinkExpired();
    if (session.state !== 'pending') throw popupLinkUsed();
}
