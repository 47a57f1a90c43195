import { AppError } from '../errors.ts';
import { SalesforceError } from '../salesforce/gateway.ts';
import type { LinkRecord, PermissionCheck } from '../store/types.ts';

/*
 * What the link layer says to the admin (on the card, in the popup, in a link session and its audit entry), composed
 * in one place, so that one situation is said one way wherever it is found.
 */

/** The permission set the package ships for the API user; every "grant" message names it. */
export const API_USER_PERMISSION_SET = 'Contact_Center_API_User';

// ------------------------------------------------------------ the link as it stands

export const notLinked = (): AppError =>
    new AppError('NOT_LINKED', 'This account is not linked to Salesforce. Link it from the Contact Center Link card.', 409);

export const notLinkedWithOAuth = (): AppError =>
    new AppError('NOT_LINKED', 'This account is not linked to Salesforce with OAuth. Link it from the Contact Center Link card.', 409);

export const notLinkedTheOldWay = (): AppError =>
    new AppError('NOT_LINKED', 'This account is no longer linked the old way. Try the call again.', 409);

/** NEEDS_RELINK, saying why (the reason the link's row keeps, and its webhook). */
export const needsRelink = (reason: string): AppError => new AppError('NEEDS_RELINK', reason, 409);

/** A link already marked needs_relink: what its row says, with its own code when that is more precise (IP_NOT_ALLOWED). */
export const linkStopped = (link: Pick<LinkRecord, 'lastError'>): AppError => {
    const message = link.lastError?.message ?? 'The link to Salesforce stopped working. Relink it from the Contact Center Link card.';
    return link.lastError?.code === 'IP_NOT_ALLOWED' ? new AppError('IP_NOT_ALLOWED', message, 409) : needsRelink(message);
};

// ------------------------------------------------------------ the app's IP allowlist

/** Salesforce's answer to a token request from an address the app's refresh token IP allowlist (or the user's login IP ranges) does not admit. */
export const isIpRefusal = (error: SalesforceError): boolean => error.isDeadGrant && /ip restricted|restricted ip/i.test(error.message);

/**
 * Why a link stopped when Salesforce refuses the backend's address: the refresh token is not dead (the refusal uses
 * nothing up), so a relink would not help; the admin allows the addresses, then clicks Verify.
 */
export function ipNotAllowedReason(egressAddresses: readonly string[], when: 'link' | 'refresh' = 'refresh'): string {
    const which = egressAddresses.length
        ? `the addresses this contact center's backend connects from: ${egressAddresses.join(', ')}`
        : 'the addresses this contact center’s backend connects from (the contact-center operator has not listed them: ask them)';
    const then = when === 'link' ? 'then start the link again.' : 'then click Verify. Relinking does not help until then.';
    return `Salesforce refused the backend’s address: the Contact Center Link app’s refresh token IP allowlist (or the API user’s login IP ranges) does not admit it. In Setup → External Client App Manager → Contact Center Link → Policies, add ${which} to the refresh token IP allowlist, or relax IP restrictions; ${then}`;
}

/** `when`: a link's code exchange (start the link again) or a refresh of a link made (Verify restores it). */
export const ipNotAllowed = (egressAddresses: readonly string[], when: 'link' | 'refresh' = 'refresh'): AppError =>
    new AppError('IP_NOT_ALLOWED', ipNotAllowedReason(egressAddresses, when), 409);

/** Another instance holds the link's refresh for longer than a refresh may take. */
export const refreshHeldElsewhere = (): AppError =>
    new AppError(
        'SALESFORCE_UNAVAILABLE',
        'Another backend instance has been renewing this link’s session for too long. Try again in a minute.',
        503
    );

// ------------------------------------------------------------ why a link needs a relink

/** Salesforce's terse invalid_grant descriptions, said in words an admin can act on. */
export function describeDeadGrant(error: SalesforceError): string {
    const text = error.message.toLowerCase();
    if (text.includes('inactive')) return 'The API user is inactive or frozen in Salesforce. Reactivate the user, then relink.';
    if (text.includes('restricted time') || text.includes('login hours'))
        return 'The API user’s login hours do not allow access now. Remove the login-hour restriction, then relink.';
    if (text.includes('not approved'))
        return 'The External Client App admits only pre-authorized users and this API user is not one. Add its profile or permission set to the app’s policies, then relink.';
    return 'Salesforce no longer accepts this link: it was revoked (by an admin, a sixth approval or the app’s refresh token policy), or the sandbox was refreshed. Relink to restore it.';
}

export const USER_INACTIVE_REASON = 'The API user is inactive in Salesforce. Reactivate the user, then relink.';

export const sandboxRefreshedReason = (nowOrgId: string, linkedOrgId: string): string =>
    `The link now reaches org ${nowOrgId}, not ${linkedOrgId}: the sandbox was refreshed. Relink to restore it.`;

/** What a link Salesforce revoked at a sixth approval of its API user says, naming it. */
export const lostToSixthApprovalReason = (account: string, username: string): string =>
    `Account ${account} lost its link: Salesforce revoked it when its API user ${username} approved another contact-center account (it keeps only the five newest approvals of a user). Relink it, or use another API user for the new account.`;

/** A legacy link whose stored credentials Salesforce refuses for good. */
export const legacyLoginRefusedReason = (code: string, message: string): string =>
    `Salesforce refused the stored username, password and security token (${code}: ${message}). Relink with OAuth from the Contact Center Link card.`;

// ------------------------------------------------------------ Salesforce's answers

export const permissionMissing = (what: string): AppError =>
    new AppError(
        'PERMISSION_MISSING',
        `${what} Assign the ${API_USER_PERMISSION_SET} permission set to the API user (or grant what it lists), then try again.`,
        403
    );

export const apiNotEnabled = (): AppError =>
    new AppError(
        'API_NOT_ENABLED',
        `This user may not use the Salesforce API. Sign in as a user with the "API Enabled" permission (assign the ${API_USER_PERMISSION_SET} permission set), then link again.`
    );

/** PERMISSIONS_MISSING: exactly what to grant, in one sentence per check. */
export const permissionsMissing = (username: string, failed: PermissionCheck[]): AppError =>
    new AppError(
        'PERMISSIONS_MISSING',
        `${username} lacks what the contact center needs: ${failed.map((c) => `${c.label} — ${c.detail ?? 'not granted'}`).join(' ')} Assign the ${API_USER_PERMISSION_SET} permission set to the API user, then link again.`,
        400,
        { checks: failed }
    );

/** The request's budget ran out: the backend answers now, inside the caller's own timeout, and writes nothing after. */
export const deadlineExceeded = (): AppError =>
    new AppError(
        'DEADLINE_EXCEEDED',
        'Salesforce did not answer in time, so the backend stopped waiting and changed nothing. Try again in a minute.',
        504
    );

/** Whatever a link, relink or Verify ran into, as the admin reads it. */
export function toLinkError(error: unknown): AppError {
    if (error instanceof AppError) return error;
    if (error instanceof SalesforceError) {
        if (error.isDeadGrant) return needsRelink(describeDeadGrant(error));
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

// ------------------------------------------------------------ the popup: link sessions and the sign-in

export const linkSessionNotFound = (): AppError =>
    new AppError(
        'LINK_SESSION_NOT_FOUND',
        'No link session with this id exists for this account. Start the link again from the card.',
        404
    );

export const popupLinkNotValid = (): AppError =>
    new AppError('LINK_SESSION_NOT_FOUND', 'This link is not valid. Start the link again from the Contact Center Link card.', 404);

export const popupLinkExpired = (): AppError =>
    new AppError(
        'LINK_SESSION_EXPIRED',
        'This link expired. Close this window and start the link again from the Contact Center Link card.',
        410
    );

export const popupLinkUsed = (): AppError =>
    new AppError('LINK_SESSION_COMPLETED', 'This link was already used. Close this window; the card shows the result.', 409);

export const stateMissing = (): AppError =>
    new AppError('STATE_MISMATCH', 'The sign-in came back without its state. Start the link again from the card.');

export const stateUnknown = (): AppError =>
    new AppError(
        'STATE_MISMATCH',
        'This sign-in does not belong to a link in progress, or it was already used. Start the link again from the card.'
    );

export const stateUsed = (): AppError =>
    new AppError('STATE_MISMATCH', 'This sign-in was already used. Start the link again from the card.');

export const otherWindow = (): AppError =>
    new AppError(
        'STATE_MISMATCH',
        'This sign-in was finished in a different browser window than the one the card opened. Start the link again from the card and finish it in the popup.'
    );

/** "10 minutes", "90 seconds": a link session's lifetime as the admin reads it. */
const lifetime = (seconds: number): string =>
    seconds % 60 === 0 ? `${seconds / 60} minute${seconds === 60 ? '' : 's'}` : `${seconds} seconds`;

export const tooManyLinkSessions = (pending: number, ttlSeconds: number): AppError =>
    new AppError(
        'TOO_MANY_LINK_SESSIONS',
        `This account already has ${pending} link popups open. Finish or close one, or wait ${lifetime(ttlSeconds)}.`,
        429
    );

export const signInTookTooLong = (ttlSeconds: number): AppError =>
    new AppError(
        'LINK_SESSION_EXPIRED',
        `The link took longer than ${lifetime(ttlSeconds)} and expired. Start it again from the card.`,
        410
    );

export const cancelledWhileSigningIn = (): AppError =>
    new AppError('LINK_SESSION_EXPIRED', 'The link was cancelled or expired while you signed in. Start it again from the card.', 410);

/** What Salesforce's authorization redirect reported instead of a code. */
export function authorizationError(error: string, description?: string): AppError {
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
            'Salesforce blocked the sign-in: this org has not installed the Contact Center Link app, and the API user may not use an uninstalled app. A Salesforce admin fixes it in the org: install the Contact Center Link OAuth package; then Setup → External Client App Manager → Contact Center Link → Policies → Edit → Permitted Users, and add the API user’s permission set (Contact Center API User). Then link again.'
        );
    }
    const detail = description ? `${error}: ${description}` : error;
    return new AppError(
        'TOKEN_EXCHANGE_FAILED',
        `Salesforce refused the sign-in (${detail.slice(0, 300)}). Check the External Client App’s settings, then start the link again.`
    );
}

export const noAuthorizationCode = (): AppError =>
    new AppError('TOKEN_EXCHANGE_FAILED', 'Salesforce sent no authorization code. Start the link again from the card.');

export const noRefreshToken = (): AppError =>
    new AppError(
        'TOKEN_EXCHANGE_FAILED',
        'Salesforce granted no refresh token. Add the "Perform requests at any time (refresh_token, offline_access)" scope to the External Client App, then link again.'
    );

export const exchangeFailed = (error: SalesforceError): AppError =>
    new AppError(
        'TOKEN_EXCHANGE_FAILED',
        `Salesforce did not complete the sign-in (${error.code}: ${error.message}). Start the link again from the card.`,
        error.kind === 'unavailable' ? 503 : error.kind === 'invalid_response' ? 502 : 400
    );

export const orgMismatch = (orgId: string, expectedOrgId: string): AppError =>
    new AppError(
        'ORG_MISMATCH',
        `You signed in to org ${orgId}, but the link was started from org ${expectedOrgId}. Sign in as the API user of the org you started from.`,
        400,
        { expectedOrgId, orgId }
    );

export const userInactive = (username: string): AppError =>
    new AppError('USER_INACTIVE', `${username} is not active in Salesforce. Activate the API user, then link again.`);

// ------------------------------------------------------------ five accounts per API user

/** A refusal that tells the popup (the person signed in to that org) more than the link session. */
export class PageDetailedError extends AppError {
    constructor(
        error: AppError,
        message: string,
        readonly pageMessage: string
    ) {
        super(error.code, message, error.status, error.details);
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

/** `username` already serves `names.length` accounts (each "Name (id)"), the most one API user may. */
export const apiUserLimitReached = (username: string, names: string[]): ApiUserLimitReached =>
    new ApiUserLimitReached(
        `${username} already serves ${names.length} contact-center accounts, the most one API user may serve. Use another API user, or unlink one of those accounts from the card in that org first.`,
        `${username} already serves ${names.length} contact-center accounts, the most one API user may serve: ${names.join(', ')}. Use another API user, or unlink one of those accounts first.`
    );

/** Salesforce revoked the new approval before the link was saved, because the API user serves `names` already. */
export const revokedAtSixthApproval = (names: string[]): ApiUserLimitReached =>
    new ApiUserLimitReached(
        `This API user already serves ${names.length} contact-center accounts, the most one API user may serve. Salesforce revoked this sign-in when it saw a sixth approval. Use another API user, or unlink one of those accounts from the card in that org first.`,
        `This API user already serves ${names.length} contact-center accounts, the most one API user may serve: ${names.join(', ')}. Salesforce revoked this sign-in when it saw a sixth approval. Use another API user, or unlink one of those accounts first.`
    );

/** Salesforce revoked the new approval before the link was saved, with fewer than five other links: approvals raced. */
export const revokedAmidApprovals = (): AppError =>
    new AppError(
        'TOKEN_EXCHANGE_FAILED',
        'Salesforce revoked this sign-in before the link was saved: the API user approved Contact Center Link more than five times at once, and Salesforce keeps only the newest five approvals. Start the link again from the card, once.',
        409
    );

/** Two sign-ins of one account finished together and the other one's approval is newer: that link stays, this one is withdrawn. */
export const newerLinkSaved = (username: string): AppError =>
    new AppError(
        'LINK_SUPERSEDED',
        `A newer sign-in for this account, as ${username}, finished while this one did: that link stays, and this approval was withdrawn in Salesforce. There is nothing else to do.`,
        409
    );

/**
 * A refused sixth approval cost the accounts in `lost` their link: said on the popup, and in the session when the
 * session was started for that very org (the org's own card, whose admin may see its accounts); otherwise unnamed.
 */
export function withLostLinks(error: AppError, lost: string[], sessionMayName: boolean): AppError {
    const named =
        lost.length === 1
            ? `Account ${lost[0]} lost its link; relink it, or use another API user for the new account.`
            : `Accounts ${lost.join(', ')} lost their links; relink them, or use another API user for the new account.`;
    const unnamed = `Salesforce revoked an older approval of this API user when it saw this one: ${lost.length === 1 ? 'one of its other accounts lost its link and shows' : `${lost.length} of its other accounts lost their links and show`} Needs relink. Relink ${lost.length === 1 ? 'it' : 'them'}, or use another API user for the new account.`;
    const sessionMessage = `${error.message} ${sessionMayName ? named : unnamed}`;
    if (error instanceof ApiUserLimitReached) return new ApiUserLimitReached(sessionMessage, `${error.pageMessage} ${named}`);
    return new PageDetailedError(error, sessionMessage, `${error.message} ${named}`);
}

// ------------------------------------------------------------ the call actions' own limits

/** A screen-pop lookup held back by the API allowance guard: no API call was made. */
export const apiAllowanceLow = (guard: { remaining: number; max: number; reserve: number }): AppError =>
    new AppError(
        'API_ALLOWANCE_LOW',
        `The Salesforce org has ${guard.remaining} of its ${guard.max} daily API requests left, under the ${guard.reserve} kept for call Tasks, so screen-pop lookups pause (no API call was made). They resume by themselves as the org's 24-hour allowance frees up; call Tasks go on being logged.`,
        429,
        { retryAfterSeconds: 300, remaining: guard.remaining, max: guard.max, reserve: guard.reserve }
    );
