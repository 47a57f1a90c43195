/**
 * The card's decisions about a link, apart from how it shows them: whether two Salesforce ids name the same record,
 * why this org is not the linked one, when the org's API usage is near its limit, how a permission check or a webhook
 * delivery turned out, which help section answers an error, and which actions a status offers. The card
 * (c-link-status-card) words what these return with its Custom Labels.
 */

/** Share of the org's daily API requests from which the card warns that calls may soon fail. */
export const API_USAGE_WARNING_SHARE = 0.8;

/** The link statuses the card knows (the backend's). */
export const LINK_STATUSES = ['unlinked', 'linked', 'legacy', 'needs_relink'];

/**
 * Sections of the help page: anchors of docs/installing-the-package.md, which the help URL label points at.
 * The card links each error code it knows to its section, any other error to the troubleshooting table.
 */
export const HELP_SECTIONS = {
    setup: '6-create-the-api-user',
    needsRelink: 'needs-relink',
    errors: 'when-something-goes-wrong',
    oauthApp: 'the-oauth-app',
    checklist: 'the-setup-checklist',
    ipAllowlist: 'the-ip-allowlist-for-tokens',
    sandbox: 'a-refreshed-sandbox'
};

/**
 * The admin's setup steps, in the order they are done (docs/installing-the-package.md, "The setup checklist"). The
 * card checks the first three; the app's policies only Setup shows.
 */
export const SETUP_STEPS = [
    'oauthPackage',
    'endpoint',
    'apiUser',
    'permittedUsers',
    'refreshToken',
    'ipRelaxation'
];

/** The backend error codes the card says more about, and the help section for each. */
const ERROR_HELP_SECTIONS = {
    API_USER_LIMIT_REACHED: HELP_SECTIONS.setup,
    NEEDS_RELINK: HELP_SECTIONS.needsRelink,
    APP_NOT_INSTALLED: HELP_SECTIONS.oauthApp,
    IP_NOT_ALLOWED: HELP_SECTIONS.ipAllowlist
};

/** The link's error code when Salesforce refused the backend's address (the app's refresh token IP allowlist). */
export const IP_NOT_ALLOWED = 'IP_NOT_ALLOWED';

/**
 * Activity outcomes that are no failure, shown quietly (a Verify answers healthy, or not_due for a link checked a
 * moment ago); any other (an error code, needs_relink, not_revoked) is one.
 */
const QUIET_OUTCOMES = new Set([
    'ok',
    'linked',
    'unlinked',
    'healthy',
    'not_due'
]);

/**
 * Whether two Salesforce ids name the same record: ids compare on their first 15 characters (the 18-character form
 * only adds a case-insensitive suffix). The card's one place for this rule.
 * @param {string} a an id of 15 or 18 characters
 * @param {string} b another
 * @returns {boolean} true when both are ids and name the same record
 */
export function sameSalesforceId(a, b) {
    const pattern = /^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$/;
    if (!pattern.test(a ?? '') || !pattern.test(b ?? '')) {
        return false;
    }
    return a.slice(0, 15) === b.slice(0, 15);
}

function hostOf(url) {
    try {
        return new URL(url).host.toLowerCase();
    } catch {
        return undefined;
    }
}

/**
 * Why the card's org is not the linked org, when it is not: the card knows its own org (status.thisOrg). A sandbox
 * on the link's host (its My Domain) whose org id is new was refreshed, on the day its Organization.CreatedDate says;
 * any other org is simply not the linked one.
 * @param {object} status the link status with thisOrg, as the controller's getStatus returns it
 * @returns {{kind: 'sandboxRefreshed', refreshedOn: Date, linkedOrg: object} |
 *     {kind: 'otherOrg', thisOrg: object, linkedOrg: object} | undefined} linkedOrg and thisOrg are { name, orgId }
 */
export function orgMismatch(status) {
    const link = status?.link;
    const thisOrg = status?.thisOrg;
    if (
        !link?.orgId ||
        !thisOrg?.orgId ||
        sameSalesforceId(link.orgId, thisOrg.orgId)
    ) {
        return undefined;
    }
    const linkedOrg = { name: link.orgName, orgId: link.orgId };
    const thisHost = hostOf(thisOrg.domainUrl);
    const onTheLinksHost =
        thisHost !== undefined &&
        (hostOf(link.loginUrl) === thisHost ||
            hostOf(link.instanceUrl) === thisHost);
    const refreshedOn = Date.parse(thisOrg.createdDate ?? '');
    if (
        thisOrg.environment === 'sandbox' &&
        onTheLinksHost &&
        !Number.isNaN(refreshedOn)
    ) {
        return {
            kind: 'sandboxRefreshed',
            refreshedOn: new Date(refreshedOn),
            linkedOrg
        };
    }
    return {
        kind: 'otherOrg',
        thisOrg: { name: thisOrg.name, orgId: thisOrg.orgId },
        linkedOrg
    };
}

/**
 * Whether the org mismatch is a problem the admin must act on (a refreshed sandbox, or a link that needs a relink),
 * rather than a fact the card only states (the card runs in another org than a working link).
 */
export function mismatchIsProblem(mismatch, status) {
    return (
        mismatch?.kind === 'sandboxRefreshed' ||
        (Boolean(mismatch) && status?.status === 'needs_relink')
    );
}

/**
 * The org's API requests today as Salesforce last reported them, or undefined when it has not (or not in whole
 * numbers): { used, max, at, nearLimit }, nearLimit from 80% of the daily allowance.
 */
export function apiUsageState(usage) {
    if (
        !usage ||
        !Number.isInteger(usage.used) ||
        !Number.isInteger(usage.max) ||
        usage.max <= 0
    ) {
        return undefined;
    }
    return {
        used: usage.used,
        max: usage.max,
        at: usage.at,
        nearLimit: usage.used >= usage.max * API_USAGE_WARNING_SHARE
    };
}

/** How a permission check of the API user turned out: 'passed', 'warning' (the backend's severity) or 'failed'. */
export function checkOutcome(check) {
    if (check?.ok) {
        return 'passed';
    }
    return check?.severity === 'warning' ? 'warning' : 'failed';
}

/** Whether an activity entry's outcome is no failure (shown quietly), or one (shown in the error colour). */
export function isQuietOutcome(outcome) {
    return QUIET_OUTCOMES.has(outcome);
}

/**
 * How a webhook delivery's last attempt went: { error } when it failed with a message, else { httpStatus } when the
 * webhook answered, else {}. When the next attempt is due: only while the delivery is pending.
 */
export function deliveryOutcome(delivery) {
    const attempt = delivery?.lastAttempt;
    const outcome = {};
    if (attempt?.error) {
        outcome.error = attempt.error;
    } else if (Number.isInteger(attempt?.status)) {
        outcome.httpStatus = attempt.status;
    }
    if (delivery?.state === 'pending' && delivery.nextAttemptAt) {
        outcome.nextAttemptAt = delivery.nextAttemptAt;
    }
    return outcome;
}

/**
 * What the status offers: Verify (a link in force), Unlink (any link), and whether the Link menu reads Link or
 * Relink (Relink once there is a link to replace).
 */
export function statusActions(status) {
    const value = status?.status;
    const known = LINK_STATUSES.includes(value);
    const working = value === 'linked' || value === 'legacy';
    return {
        // A link refused for the backend's address is not dead: once the admin allows the address, Verify restores it.
        verify: working || ipRefused(status),
        unlink: working || value === 'needs_relink',
        relink: known && value !== 'unlinked'
    };
}

/** Whether Salesforce refused the backend's address for this link (needs_relink with IP_NOT_ALLOWED). */
export function ipRefused(status) {
    return (
        status?.status === 'needs_relink' &&
        status?.link?.lastError?.code === IP_NOT_ALLOWED
    );
}

/**
 * The backend's addresses for the app's IP allowlist, as the card shows them: { addresses, refused }, or undefined
 * when the operator named none. refused: Salesforce refused the address for this link.
 */
export function egressState(status) {
    const addresses = (status?.egressAddresses ?? []).filter(
        (address) => typeof address === 'string' && address.trim()
    );
    if (addresses.length === 0) {
        return undefined;
    }
    return { addresses, refused: ipRefused(status) };
}

const KEY_STATES = ['set', 'missing', 'unknown'];

/**
 * What the card knows of the org's key (the External Credential's ApiKey parameter): 'set', 'missing' or 'unknown'.
 * What the org answered (ContactCenterLinkOrgKey.getOrgKeyState) decides; when it could not tell, the callout's own
 * failure does: the backend answers UNAUTHORIZED to a request without a key.
 * @param {object} orgKey what getOrgKeyState answered, or undefined before (or without) an answer
 * @param {string} statusErrorCode the code of the status read's failure, if it failed
 */
export function orgKeyState(orgKey, statusErrorCode) {
    const answered = KEY_STATES.includes(orgKey?.keyState)
        ? orgKey.keyState
        : 'unknown';
    if (answered === 'unknown' && statusErrorCode === 'UNAUTHORIZED') {
        return 'missing';
    }
    return answered;
}

/**
 * Whether the org-key section explains the status read's failure (a missing key makes the backend answer
 * UNAUTHORIZED), so the card need not show that error as well.
 */
export function keyExplainsStatusError(orgKey, statusErrorCode) {
    return (
        statusErrorCode === 'UNAUTHORIZED' &&
        orgKeyState(orgKey, statusErrorCode) === 'missing'
    );
}

/** The help section for an error: its code's own, else the troubleshooting table. */
export function errorHelpSection(code) {
    return Object.hasOwn(ERROR_HELP_SECTIONS, code ?? '')
        ? ERROR_HELP_SECTIONS[code]
        : HELP_SECTIONS.errors;
}

/** Whether the card says more about an error code than its message (what to do next). */
export function knowsErrorCode(code) {
    return Object.hasOwn(ERROR_HELP_SECTIONS, code ?? '');
}

/**
 * The help page's URL at a section, from the help URL label; undefined when the label holds no http(s) URL (which
 * hides the card's help links).
 */
export function helpUrl(base, section) {
    let url;
    try {
        url = new URL(base);
    } catch {
        return undefined;
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
        return undefined;
    }
    if (section) {
        url.hash = section;
    }
    return url.href;
}

/**
 * Whether to warn, before any popup, that the OAuth app is not installed: only when the org answered that the OAuth
 * package's marker is missing, and not once linked (the login worked, so the app is usable).
 * @param {object} setup what ContactCenterLinkSetup.getSetupState answered: { oauthApp, apiUser, appName }
 * @param {object} status the link status
 */
export function warnsAppNotInstalled(setup, status) {
    return setup?.oauthApp === 'not_installed' && status?.status !== 'linked';
}

const DONE = 'done';
const TO_DO = 'todo';
/** Only Setup shows it: the admin checks it there. */
const CHECK_IN_SETUP = 'check';

/**
 * The setup checklist: each step of SETUP_STEPS with what the card knows of it, 'done', 'todo' or 'check' (in Setup).
 * The OAuth package and the API user's permission set are what the org answered (ContactCenterLinkSetup); the
 * endpoint (the Named Credential's URL and the org's key) is done once the backend answered the status and to do when
 * reading it failed; the app's policies only Setup shows.
 * @param {{ setup?: object, status?: object, statusError?: boolean }} facts what the container knows
 * @returns {{ id: string, state: 'done' | 'todo' | 'check' }[]} the steps in order
 */
export function setupChecklist({ setup, status, statusError } = {}) {
    const answered = (value, yes, no) => {
        if (value === yes) return DONE;
        return value === no ? TO_DO : CHECK_IN_SETUP;
    };
    let endpoint = CHECK_IN_SETUP;
    if (LINK_STATUSES.includes(status?.status)) {
        endpoint = DONE;
    } else if (statusError) {
        endpoint = TO_DO;
    }
    const states = {
        oauthPackage: answered(setup?.oauthApp, 'installed', 'not_installed'),
        endpoint,
        apiUser: answered(setup?.apiUser, 'assigned', 'unassigned')
    };
    return SETUP_STEPS.map((id) => ({
        id,
        state: states[id] ?? CHECK_IN_SETUP
    }));
}
