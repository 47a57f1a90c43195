import { LightningElement, api } from 'lwc';
import LightningConfirm from 'lightning/confirm';
import { formatLabel } from 'c/labelFormat';

import CARD_TITLE from '@salesforce/label/c.Ccl_CardTitle';
import LOADING from '@salesforce/label/c.Ccl_Loading';
import STATUS_HEADING from '@salesforce/label/c.Ccl_StatusHeading';
import STATUS_UNLINKED from '@salesforce/label/c.Ccl_StatusUnlinked';
import STATUS_LINKED from '@salesforce/label/c.Ccl_StatusLinked';
import STATUS_LEGACY from '@salesforce/label/c.Ccl_StatusLegacy';
import STATUS_NEEDS_RELINK from '@salesforce/label/c.Ccl_StatusNeedsRelink';
import UNLINKED_HELP from '@salesforce/label/c.Ccl_UnlinkedHelp';
import LINKED_HELP from '@salesforce/label/c.Ccl_LinkedHelp';
import LEGACY_HELP from '@salesforce/label/c.Ccl_LegacyHelp';
import NEEDS_RELINK_HELP from '@salesforce/label/c.Ccl_NeedsRelinkHelp';
import LAST_ERROR from '@salesforce/label/c.Ccl_LastError';
import LINK from '@salesforce/label/c.Ccl_Link';
import RELINK from '@salesforce/label/c.Ccl_Relink';
import LINK_MENU_ALT from '@salesforce/label/c.Ccl_LinkMenuAlt';
import PRODUCTION from '@salesforce/label/c.Ccl_Production';
import SANDBOX from '@salesforce/label/c.Ccl_Sandbox';
import THIS_ORG_ITEM from '@salesforce/label/c.Ccl_ThisOrgItem';
import OTHER_ORG_TITLE from '@salesforce/label/c.Ccl_OtherOrgConfirmTitle';
import OTHER_ORG_MESSAGE from '@salesforce/label/c.Ccl_OtherOrgConfirmMessage';
import VERIFY from '@salesforce/label/c.Ccl_Verify';
import UNLINK from '@salesforce/label/c.Ccl_Unlink';
import UNLINK_TITLE from '@salesforce/label/c.Ccl_UnlinkConfirmTitle';
import UNLINK_MESSAGE from '@salesforce/label/c.Ccl_UnlinkConfirmMessage';
import CANCEL from '@salesforce/label/c.Ccl_Cancel';
import WAITING from '@salesforce/label/c.Ccl_Waiting';
import POPUP_BLOCKED from '@salesforce/label/c.Ccl_PopupBlocked';
import POPUP_BLOCKED_LINK from '@salesforce/label/c.Ccl_PopupBlockedLink';
import ACCOUNT from '@salesforce/label/c.Ccl_FieldAccount';
import DETAILS_HEADING from '@salesforce/label/c.Ccl_DetailsHeading';
import API_USERNAME from '@salesforce/label/c.Ccl_FieldApiUsername';
import DISPLAY_NAME from '@salesforce/label/c.Ccl_FieldDisplayName';
import ORG_ID from '@salesforce/label/c.Ccl_FieldOrgId';
import ENVIRONMENT from '@salesforce/label/c.Ccl_FieldEnvironment';
import INSTANCE_URL from '@salesforce/label/c.Ccl_FieldInstanceUrl';
import LINKED_AT from '@salesforce/label/c.Ccl_FieldLinkedAt';
import LINKED_BY from '@salesforce/label/c.Ccl_FieldLinkedBy';
import LAST_VERIFIED from '@salesforce/label/c.Ccl_FieldLastVerified';
import API_USER_ACCOUNTS from '@salesforce/label/c.Ccl_FieldApiUserAccounts';
import ACCOUNT_COUNT from '@salesforce/label/c.Ccl_AccountCount';
import CHECKS_HEADING from '@salesforce/label/c.Ccl_ChecksHeading';
import CHECKED_AT from '@salesforce/label/c.Ccl_ChecksCheckedAt';
import CHECK_PASSED from '@salesforce/label/c.Ccl_CheckPassed';
import CHECK_WARNING from '@salesforce/label/c.Ccl_CheckWarning';
import CHECK_FAILED from '@salesforce/label/c.Ccl_CheckFailed';
import GUIDANCE_HEADING from '@salesforce/label/c.Ccl_GuidanceHeading';
import GUIDANCE_LOGIN from '@salesforce/label/c.Ccl_GuidanceLoginDirectly';
import GUIDANCE_LIMIT from '@salesforce/label/c.Ccl_GuidanceFiveAccounts';
import GUIDANCE_OWN_SESSION from '@salesforce/label/c.Ccl_GuidanceOwnSession';
import APP_NOT_INSTALLED from '@salesforce/label/c.Ccl_AppNotInstalled';
import APP_NOT_INSTALLED_TITLE from '@salesforce/label/c.Ccl_AppNotInstalledTitle';
import PRIVATE_WINDOW_HELP from '@salesforce/label/c.Ccl_PrivateWindowHelp';
import PRIVATE_WINDOW_LINK from '@salesforce/label/c.Ccl_PrivateWindowLink';
import COPY_LINK from '@salesforce/label/c.Ccl_CopyLink';
import LINK_COPIED from '@salesforce/label/c.Ccl_LinkCopied';
import API_USAGE_HEADING from '@salesforce/label/c.Ccl_ApiUsageHeading';
import API_USAGE_COUNT from '@salesforce/label/c.Ccl_ApiUsageCount';
import API_USAGE_READ_AT from '@salesforce/label/c.Ccl_ApiUsageReadAt';
import API_USAGE_NEAR_LIMIT from '@salesforce/label/c.Ccl_ApiUsageNearLimit';
import HELP_URL from '@salesforce/label/c.Ccl_HelpUrl';
import HELP_SETUP_LINK from '@salesforce/label/c.Ccl_HelpSetupLink';
import HELP_NEEDS_RELINK_LINK from '@salesforce/label/c.Ccl_HelpNeedsRelinkLink';
import HELP_ERROR_LINK from '@salesforce/label/c.Ccl_HelpErrorLink';
import ACTION_API_USER_LIMIT from '@salesforce/label/c.Ccl_ErrorActionApiUserLimit';
import ACTION_NEEDS_RELINK from '@salesforce/label/c.Ccl_ErrorActionNeedsRelink';
import ACTION_APP_NOT_INSTALLED from '@salesforce/label/c.Ccl_ErrorActionAppNotInstalled';
import ACTIVITY_LINK from '@salesforce/label/c.Ccl_ActivityAction_link';
import ACTIVITY_RELINK from '@salesforce/label/c.Ccl_ActivityAction_relink';
import ACTIVITY_LINK_FAILED from '@salesforce/label/c.Ccl_ActivityAction_link_failed';
import ACTIVITY_UNLINK from '@salesforce/label/c.Ccl_ActivityAction_unlink';
import ACTIVITY_VERIFY from '@salesforce/label/c.Ccl_ActivityAction_verify';
import ACTIVITY_STATUS_CHANGED from '@salesforce/label/c.Ccl_ActivityAction_status_changed';
import ACTIVITY_LEGACY_IMPORT from '@salesforce/label/c.Ccl_ActivityAction_legacy_import';
import ACTIVITY_KEY_ROTATED from '@salesforce/label/c.Ccl_ActivityAction_key_rotated';
import ACTIVITY_PLATFORM_KEY_ISSUED from '@salesforce/label/c.Ccl_ActivityAction_platform_key_issued';
import ACTIVITY_ACCOUNT_CREATED from '@salesforce/label/c.Ccl_ActivityAction_account_created';
import ACTIVITY_WEBHOOK_SET from '@salesforce/label/c.Ccl_ActivityAction_webhook_set';
import ACTIVITY_WEBHOOK_REMOVED from '@salesforce/label/c.Ccl_ActivityAction_webhook_removed';
import REASON_SANDBOX_REFRESHED from '@salesforce/label/c.Ccl_ReasonSandboxRefreshed';
import REASON_OTHER_ORG from '@salesforce/label/c.Ccl_ReasonOtherOrg';
import ORG_NAME_AND_ID from '@salesforce/label/c.Ccl_OrgNameAndId';
import ACTIVITY_HEADING from '@salesforce/label/c.Ccl_ActivityHeading';
import ACTIVITY_SHOW_MORE from '@salesforce/label/c.Ccl_ActivityShowMore';
import ACTIVITY_EMPTY from '@salesforce/label/c.Ccl_ActivityEmpty';
import ACTIVITY_BY from '@salesforce/label/c.Ccl_ActivityBy';
import ACTIVITY_LOAD_FAILED from '@salesforce/label/c.Ccl_ActivityLoadFailed';
import DELIVERIES_HEADING from '@salesforce/label/c.Ccl_DeliveriesHeading';
import DELIVERIES_EMPTY from '@salesforce/label/c.Ccl_DeliveriesEmpty';
import DELIVERIES_LOAD_FAILED from '@salesforce/label/c.Ccl_DeliveriesLoadFailed';
import DELIVERIES_REFRESH from '@salesforce/label/c.Ccl_DeliveriesRefresh';
import DELIVERY_ATTEMPTS from '@salesforce/label/c.Ccl_DeliveryAttempts';
import DELIVERY_CHANGE from '@salesforce/label/c.Ccl_DeliveryChange';
import DELIVERY_HTTP_STATUS from '@salesforce/label/c.Ccl_DeliveryHttpStatus';
import DELIVERY_NEXT_ATTEMPT from '@salesforce/label/c.Ccl_DeliveryNextAttempt';
import DELIVERY_DELIVERED from '@salesforce/label/c.Ccl_DeliveryState_delivered';
import DELIVERY_PENDING from '@salesforce/label/c.Ccl_DeliveryState_pending';
import DELIVERY_FAILED from '@salesforce/label/c.Ccl_DeliveryState_failed';

const ENVIRONMENT_LABELS = { production: PRODUCTION, sandbox: SANDBOX };

const STATUS_VIEWS = {
    unlinked: { label: STATUS_UNLINKED, badgeClass: '', help: UNLINKED_HELP },
    linked: {
        label: STATUS_LINKED,
        badgeClass: 'slds-theme_success',
        help: LINKED_HELP
    },
    legacy: {
        label: STATUS_LEGACY,
        badgeClass: 'slds-theme_warning',
        help: LEGACY_HELP
    },
    needs_relink: {
        label: STATUS_NEEDS_RELINK,
        badgeClass: 'slds-theme_error',
        help: NEEDS_RELINK_HELP
    }
};

const CHECK_VIEWS = {
    passed: {
        iconName: 'utility:success',
        variant: 'success',
        text: CHECK_PASSED
    },
    warning: {
        iconName: 'utility:warning',
        variant: 'warning',
        text: CHECK_WARNING
    },
    failed: { iconName: 'utility:error', variant: 'error', text: CHECK_FAILED }
};

/** What each audit action is called on the card; an action the card does not know shows as the backend names it. */
const ACTIVITY_ACTIONS = {
    link: ACTIVITY_LINK,
    relink: ACTIVITY_RELINK,
    link_failed: ACTIVITY_LINK_FAILED,
    unlink: ACTIVITY_UNLINK,
    verify: ACTIVITY_VERIFY,
    status_changed: ACTIVITY_STATUS_CHANGED,
    legacy_import: ACTIVITY_LEGACY_IMPORT,
    key_rotated: ACTIVITY_KEY_ROTATED,
    platform_key_issued: ACTIVITY_PLATFORM_KEY_ISSUED,
    account_created: ACTIVITY_ACCOUNT_CREATED,
    webhook_set: ACTIVITY_WEBHOOK_SET,
    webhook_removed: ACTIVITY_WEBHOOK_REMOVED
};

/** Outcomes that are no failure, shown quietly; any other (an error code, needs_relink) in the error colour. */
const QUIET_OUTCOMES = new Set(['ok', 'linked', 'unlinked']);

/** The rows of the activity section: { key, actionLabel, at, outcome, failed, subject, by, detail }. */
function activityRows(entries) {
    return (entries ?? []).map((entry, index) => ({
        key: `${entry.at}-${index}`,
        actionLabel: Object.hasOwn(ACTIVITY_ACTIONS, entry.action)
            ? ACTIVITY_ACTIONS[entry.action]
            : entry.action,
        at: entry.at,
        outcome: entry.outcome === 'ok' ? undefined : entry.outcome,
        outcomeClass: QUIET_OUTCOMES.has(entry.outcome)
            ? 'slds-text-color_weak'
            : 'slds-text-color_error',
        subject: entry.username,
        by: entry.actor?.username
            ? formatLabel(ACTIVITY_BY, entry.actor.username)
            : undefined,
        detail: entry.detail
    }));
}

/** How each delivery state shows; a state the card does not know shows as the backend names it, quietly. */
const DELIVERY_STATES = {
    delivered: { label: DELIVERY_DELIVERED, color: 'slds-text-color_success' },
    pending: { label: DELIVERY_PENDING, color: 'slds-text-color_weak' },
    failed: { label: DELIVERY_FAILED, color: 'slds-text-color_error' }
};

/** A link status as the badge names it. */
function statusLabel(status) {
    return Object.hasOwn(STATUS_VIEWS, status ?? '')
        ? STATUS_VIEWS[status].label
        : status;
}

/**
 * The rows of the webhook deliveries section: { key, state, stateLabel, stateClass, change, createdAt, attempts,
 * nextAttemptAt, outcome, outcomeClass }. The outcome is the last attempt's error, else its HTTP status.
 */
function deliveryRows(deliveries) {
    return (deliveries ?? []).map((delivery, index) => {
        const view = Object.hasOwn(DELIVERY_STATES, delivery.state ?? '')
            ? DELIVERY_STATES[delivery.state]
            : { label: delivery.state, color: 'slds-text-color_weak' };
        const attempt = delivery.lastAttempt;
        let outcome;
        if (attempt?.error) {
            outcome = attempt.error;
        } else if (Number.isInteger(attempt?.status)) {
            outcome = formatLabel(DELIVERY_HTTP_STATUS, attempt.status);
        }
        return {
            key: delivery.id ?? `${delivery.createdAt}-${index}`,
            state: delivery.state,
            stateLabel: view.label,
            stateClass: `slds-text-title_bold slds-m-right_x-small ${view.color}`,
            change: formatLabel(
                DELIVERY_CHANGE,
                statusLabel(delivery.fromStatus),
                statusLabel(delivery.toStatus)
            ),
            createdAt: delivery.createdAt,
            attempts: formatLabel(DELIVERY_ATTEMPTS, delivery.attempts ?? 0),
            nextAttemptAt:
                delivery.state === 'pending'
                    ? delivery.nextAttemptAt
                    : undefined,
            outcome,
            outcomeClass: attempt?.error
                ? 'slds-text-color_error'
                : 'slds-text-color_weak'
        };
    });
}

/** An org as the admin knows it: its name and id, or the id alone. */
function orgText(name, orgId) {
    return name && orgId ? formatLabel(ORG_NAME_AND_ID, name, orgId) : orgId;
}

/** Salesforce ids compare on their first 15 characters. */
function sameOrgId(a, b) {
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
 * Why the card's org and the link's org differ, when they do: the card knows its own org (thisOrg). A sandbox whose
 * My Domain is the link's host but whose org id is new was refreshed (its Organization.CreatedDate says when); any
 * other org is simply not the linked one.
 */
function orgReason(status) {
    const link = status?.link;
    const thisOrg = status?.thisOrg;
    if (
        !link?.orgId ||
        !thisOrg?.orgId ||
        sameOrgId(link.orgId, thisOrg.orgId)
    ) {
        return undefined;
    }
    const linkedOrg = orgText(link.orgName, link.orgId);
    const thisHost = hostOf(thisOrg.domainUrl);
    const sameHost =
        thisHost !== undefined &&
        (hostOf(link.loginUrl) === thisHost ||
            hostOf(link.instanceUrl) === thisHost);
    const refreshedOn = Date.parse(thisOrg.createdDate ?? '');
    if (
        thisOrg.environment === 'sandbox' &&
        sameHost &&
        !Number.isNaN(refreshedOn)
    ) {
        const day = new Intl.DateTimeFormat(undefined, {
            year: 'numeric',
            month: 'short',
            day: 'numeric',
            timeZone: 'UTC'
        }).format(new Date(refreshedOn));
        return {
            kind: 'sandboxRefreshed',
            text: formatLabel(REASON_SANDBOX_REFRESHED, day, linkedOrg)
        };
    }
    return {
        kind: 'otherOrg',
        text: formatLabel(
            REASON_OTHER_ORG,
            orgText(thisOrg.name, thisOrg.orgId),
            linkedOrg
        )
    };
}

/** Share of the org's daily API requests from which the card warns that calls may soon fail. */
const API_USAGE_WARNING_SHARE = 0.8;

/** Sections of the help page (anchors of docs/installing-the-package.md, which the help URL points at). */
const HELP_SECTIONS = {
    setup: '6-create-the-api-user',
    needsRelink: 'needs-relink',
    errors: 'when-something-goes-wrong',
    oauthApp: 'the-oauth-app'
};

/** What the card does with a backend error code: what to tell the admin, and which help section answers it. */
const ERROR_ACTIONS = {
    API_USER_LIMIT_REACHED: {
        action: ACTION_API_USER_LIMIT,
        helpSection: HELP_SECTIONS.setup
    },
    NEEDS_RELINK: {
        action: ACTION_NEEDS_RELINK,
        helpSection: HELP_SECTIONS.needsRelink
    },
    APP_NOT_INSTALLED: {
        action: ACTION_APP_NOT_INSTALLED,
        helpSection: HELP_SECTIONS.oauthApp
    }
};

/** The help page's URL, at a section; undefined when the label holds no http(s) URL. */
function helpUrl(section) {
    let url;
    try {
        url = new URL(HELP_URL);
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

function detailRows(status) {
    const link = status?.link;
    if (!link) {
        return [];
    }
    const rows = [
        { key: 'username', label: API_USERNAME, value: link.username },
        {
            key: 'displayName',
            label: DISPLAY_NAME,
            value: link.displayName
        },
        {
            key: 'orgId',
            label: ORG_ID,
            value: orgText(link.orgName, link.orgId)
        },
        {
            key: 'environment',
            label: ENVIRONMENT,
            value: ENVIRONMENT_LABELS[link.environment] ?? link.environment
        },
        {
            key: 'instanceUrl',
            label: INSTANCE_URL,
            value: link.instanceUrl
        },
        {
            key: 'linkedAt',
            label: LINKED_AT,
            value: link.linkedAt,
            isDate: true
        },
        {
            key: 'linkedBy',
            label: LINKED_BY,
            value: link.linkedBy?.username
        },
        {
            key: 'lastVerifiedAt',
            label: LAST_VERIFIED,
            value: link.lastVerifiedAt,
            isDate: true
        }
    ];
    const apiUser = status.apiUser;
    if (apiUser) {
        rows.push({
            key: 'apiUserAccounts',
            label: API_USER_ACCOUNTS,
            value: formatLabel(
                ACCOUNT_COUNT,
                apiUser.linkedAccounts,
                apiUser.accountLimit
            )
        });
    }
    return rows.filter((row) => row.value != null && row.value !== '');
}

function checkRows(status) {
    const checks = status?.permissions?.checks ?? [];
    return checks.map((check) => ({
        id: check.id,
        label: check.label,
        detail: check.detail,
        ...checkView(check)
    }));
}

/** The org's API requests today: { text, at, nearLimit }, or undefined when Salesforce has not reported them. */
function apiUsageView(status) {
    const usage = status?.apiUsage;
    if (
        !usage ||
        !Number.isInteger(usage.used) ||
        !Number.isInteger(usage.max) ||
        usage.max <= 0
    ) {
        return undefined;
    }
    const number = new Intl.NumberFormat();
    return {
        text: formatLabel(
            API_USAGE_COUNT,
            number.format(usage.used),
            number.format(usage.max)
        ),
        at: usage.at,
        nearLimit: usage.used >= usage.max * API_USAGE_WARNING_SHARE
    };
}

function checkView(check) {
    if (check.ok) {
        return CHECK_VIEWS.passed;
    }
    return check.severity === 'warning'
        ? CHECK_VIEWS.warning
        : CHECK_VIEWS.failed;
}

/**
 * The Contact Center Link card: shows the link status it is given and raises
 * `link` (detail: { environment }), `verify`, `unlink` and `cancel` events.
 * It calls nothing itself; c-contact-center-link owns the data and the link flow.
 */
export default class LinkStatusCard extends LightningElement {
    /** The backend's link status plus `thisOrg`, as ContactCenterLinkController.getStatus returns it. */
    @api
    get status() {
        return this._status;
    }
    set status(value) {
        this._status = value;
        // Derived once per status, not on every render.
        this.details = detailRows(value);
        this.checks = checkRows(value);
        this.checksCheckedAt = value?.permissions?.checkedAt;
        this.apiUsage = apiUsageView(value);
        this.orgReason = orgReason(value);
    }
    /** True while a request is running: shows the spinner and disables the actions. */
    @api loading = false;
    /** True while the login window is open and the link session is being watched. */
    @api waiting = false;
    /** The authorize URL to offer as a link when the browser blocked the login window. */
    @api blockedUrl;
    /** The last error, shown until the next action. */
    @api errorMessage;
    /** The last error's code (the backend's, such as NEEDS_RELINK), which decides what the card suggests. */
    @api errorCode;
    /** A neutral message, such as an expired link session. */
    @api notice;
    /** While this org's own login runs: the login link to open in a private window, which keeps the admin's session. */
    @api privateWindowUrl;
    /**
     * The link's history as the container loaded it: { entries, nextCursor, loading, errorMessage }; the card shows
     * the entries and raises `showmoreactivity` for the page after nextCursor.
     */
    @api
    get activity() {
        return this._activity;
    }
    set activity(value) {
        this._activity = value;
        this.activityEntries = activityRows(value?.entries);
    }
    /**
     * The account's latest webhook deliveries as the container loaded them: { allowed, deliveries, loading,
     * errorMessage }. Shown once read, unless allowed is false (the org's key may not read them); the card raises
     * `refreshwebhookdeliveries` to read them again.
     */
    @api
    get webhookDeliveries() {
        return this._webhookDeliveries;
    }
    set webhookDeliveries(value) {
        this._webhookDeliveries = value;
        this.deliveryRows = deliveryRows(value?.deliveries);
    }
    /** What this org can tell about the contact center's OAuth app: { state: 'installed' | 'not_installed' | 'unknown', appName }. */
    @api appInstall;

    linkCopied = false;
    _status;
    details = [];
    checks = [];
    checksCheckedAt;
    apiUsage;
    /** Why this org is not the linked org: { kind: 'sandboxRefreshed' | 'otherOrg', text }, or undefined. */
    orgReason;
    _activity;
    activityEntries = [];
    _webhookDeliveries;
    deliveryRows = [];

    labels = {
        activityHeading: ACTIVITY_HEADING,
        activityShowMore: ACTIVITY_SHOW_MORE,
        activityEmpty: ACTIVITY_EMPTY,
        deliveriesHeading: DELIVERIES_HEADING,
        deliveriesEmpty: DELIVERIES_EMPTY,
        deliveriesRefresh: DELIVERIES_REFRESH,
        deliveryNextAttempt: DELIVERY_NEXT_ATTEMPT,
        cardTitle: CARD_TITLE,
        loading: LOADING,
        statusHeading: STATUS_HEADING,
        lastError: LAST_ERROR,
        linkMenuAlt: LINK_MENU_ALT,
        verify: VERIFY,
        unlink: UNLINK,
        cancel: CANCEL,
        waiting: WAITING,
        popupBlocked: POPUP_BLOCKED,
        popupBlockedLink: POPUP_BLOCKED_LINK,
        account: ACCOUNT,
        detailsHeading: DETAILS_HEADING,
        checksHeading: CHECKS_HEADING,
        checkedAt: CHECKED_AT,
        guidanceHeading: GUIDANCE_HEADING,
        guidanceLogin: GUIDANCE_LOGIN,
        guidanceLimit: GUIDANCE_LIMIT,
        appNotInstalledTitle: APP_NOT_INSTALLED_TITLE,
        privateWindowHelp: PRIVATE_WINDOW_HELP,
        privateWindowLink: PRIVATE_WINDOW_LINK,
        copyLink: COPY_LINK,
        linkCopied: LINK_COPIED,
        apiUsageHeading: API_USAGE_HEADING,
        apiUsageReadAt: API_USAGE_READ_AT,
        apiUsageNearLimit: API_USAGE_NEAR_LIMIT,
        helpSetupLink: HELP_SETUP_LINK,
        helpNeedsRelinkLink: HELP_NEEDS_RELINK_LINK,
        helpErrorLink: HELP_ERROR_LINK
    };

    get statusValue() {
        return this.status?.status;
    }

    get statusView() {
        return Object.hasOwn(STATUS_VIEWS, this.statusValue ?? '')
            ? STATUS_VIEWS[this.statusValue]
            : undefined;
    }

    get hasStatus() {
        return Boolean(this.statusView);
    }

    get badgeLabel() {
        return this.statusView?.label;
    }

    get badgeClass() {
        return this.statusView?.badgeClass;
    }

    get statusHelp() {
        return this.statusView?.help;
    }

    get isUnlinked() {
        return this.statusValue === 'unlinked';
    }

    get isNeedsRelink() {
        return this.statusValue === 'needs_relink';
    }

    get accountName() {
        return this.status?.account?.name;
    }

    /** A refreshed sandbox or a dead link is a problem; a card in another org than a working link only says so. */
    get orgReasonClass() {
        const problem =
            this.orgReason?.kind === 'sandboxRefreshed' || this.isNeedsRelink;
        return `slds-m-bottom_x-small ${problem ? 'slds-text-color_error' : 'slds-text-color_weak'}`;
    }

    get lastErrorMessage() {
        return this.isNeedsRelink
            ? this.status?.link?.lastError?.message
            : undefined;
    }

    get actionsDisabled() {
        return this.loading || this.waiting;
    }

    get linkMenuLabel() {
        return this.isUnlinked || !this.hasStatus ? LINK : RELINK;
    }

    get thisOrgEnvironment() {
        return this.status?.thisOrg?.environment;
    }

    get environmentItems() {
        return Object.keys(ENVIRONMENT_LABELS).map((value) => ({
            value,
            label:
                value === this.thisOrgEnvironment
                    ? formatLabel(THIS_ORG_ITEM, ENVIRONMENT_LABELS[value])
                    : ENVIRONMENT_LABELS[value]
        }));
    }

    /**
     * Shown before any popup: the org lists no such app, so the API user's login would likely be blocked. Not once
     * linked: the login worked, and a packaged External Client App may be installed without being listed.
     */
    get appNotInstalledMessage() {
        return this.appInstall?.state === 'not_installed' &&
            this.statusValue !== 'linked'
            ? formatLabel(APP_NOT_INSTALLED, this.appInstall.appName)
            : undefined;
    }

    /** The popup's login into this org's My Domain ends the admin's own session in this browser: say so first. */
    get guidanceOwnSession() {
        const domainUrl = this.status?.thisOrg?.domainUrl;
        return domainUrl
            ? formatLabel(GUIDANCE_OWN_SESSION, domainUrl)
            : undefined;
    }

    get apiUsageClass() {
        return this.apiUsage?.nearLimit
            ? 'slds-text-color_error slds-m-bottom_small'
            : 'slds-m-bottom_small';
    }

    /** What the card suggests after an error whose code it knows. */
    get errorAction() {
        return Object.hasOwn(ERROR_ACTIONS, this.errorCode ?? '')
            ? ERROR_ACTIONS[this.errorCode].action
            : undefined;
    }

    /** The help section for the error shown: the code's own, else the troubleshooting table. */
    get errorHelpUrl() {
        if (!this.errorMessage) {
            return undefined;
        }
        return helpUrl(
            Object.hasOwn(ERROR_ACTIONS, this.errorCode ?? '')
                ? ERROR_ACTIONS[this.errorCode].helpSection
                : HELP_SECTIONS.errors
        );
    }

    get needsRelinkHelpUrl() {
        return this.isNeedsRelink
            ? helpUrl(HELP_SECTIONS.needsRelink)
            : undefined;
    }

    get setupHelpUrl() {
        return helpUrl(HELP_SECTIONS.setup);
    }

    get showVerify() {
        return this.statusValue === 'linked' || this.statusValue === 'legacy';
    }

    get showUnlink() {
        return this.showVerify || this.isNeedsRelink;
    }

    get hasDetails() {
        return this.details.length > 0;
    }

    get hasChecks() {
        return this.checks.length > 0;
    }

    async handleLinkSelect(event) {
        const environment = event.detail.value;
        if (!Object.hasOwn(ENVIRONMENT_LABELS, environment ?? '')) {
            return;
        }
        const thisOrg = this.thisOrgEnvironment;
        if (thisOrg && thisOrg !== environment) {
            // Another environment means another org: make that a deliberate choice.
            // eslint-disable-next-line @locker/locker/distorted-xml-http-request-window-open -- LightningConfirm.open opens a modal, not a window
            const confirmed = await LightningConfirm.open({
                label: OTHER_ORG_TITLE,
                message: formatLabel(
                    OTHER_ORG_MESSAGE,
                    ENVIRONMENT_LABELS[thisOrg],
                    ENVIRONMENT_LABELS[environment]
                ),
                theme: 'warning'
            });
            if (!confirmed) {
                return;
            }
        }
        this.dispatchEvent(
            new CustomEvent('link', { detail: { environment } })
        );
    }

    get showActivity() {
        return Boolean(this._activity);
    }

    get hasActivity() {
        return this.activityEntries.length > 0;
    }

    get activityEmpty() {
        return (
            !this.hasActivity &&
            !this._activity?.loading &&
            !this._activity?.errorMessage
        );
    }

    get activityError() {
        return this._activity?.errorMessage
            ? formatLabel(ACTIVITY_LOAD_FAILED, this._activity.errorMessage)
            : undefined;
    }

    get activityHasMore() {
        return Boolean(this._activity?.nextCursor);
    }

    get activityLoading() {
        return Boolean(this._activity?.loading);
    }

    handleShowMoreActivity() {
        this.dispatchEvent(new CustomEvent('showmoreactivity'));
    }

    /** Shown when read (or when reading failed), never when the org's key may not read them. */
    get showDeliveries() {
        const value = this._webhookDeliveries;
        if (!value || value.allowed === false) {
            return false;
        }
        return value.allowed === true || Boolean(value.errorMessage);
    }

    get hasDeliveries() {
        return this.deliveryRows.length > 0;
    }

    get deliveriesEmpty() {
        return (
            !this.hasDeliveries &&
            this._webhookDeliveries?.allowed === true &&
            !this._webhookDeliveries.errorMessage
        );
    }

    get deliveriesError() {
        return this._webhookDeliveries?.errorMessage
            ? formatLabel(
                  DELIVERIES_LOAD_FAILED,
                  this._webhookDeliveries.errorMessage
              )
            : undefined;
    }

    get deliveriesLoading() {
        return Boolean(this._webhookDeliveries?.loading);
    }

    handleRefreshDeliveries() {
        this.dispatchEvent(new CustomEvent('refreshwebhookdeliveries'));
    }

    handleVerify() {
        this.dispatchEvent(new CustomEvent('verify'));
    }

    async handleUnlink() {
        // eslint-disable-next-line @locker/locker/distorted-xml-http-request-window-open -- LightningConfirm.open opens a modal, not a window
        const confirmed = await LightningConfirm.open({
            label: UNLINK_TITLE,
            message: UNLINK_MESSAGE,
            theme: 'warning'
        });
        if (confirmed) {
            this.dispatchEvent(new CustomEvent('unlink'));
        }
    }

    handleCancel() {
        this.dispatchEvent(new CustomEvent('cancel'));
    }

    /** The blocked popup's link: the container opens it as a script-opened window, which can close itself when done. */
    handlePopupLink(event) {
        const open = new CustomEvent('openlogin', { cancelable: true });
        this.dispatchEvent(open);
        if (open.defaultPrevented) {
            event.preventDefault();
        }
    }

    async handleCopyLink() {
        this.linkCopied = false;
        try {
            await navigator.clipboard.writeText(this.privateWindowUrl);
            this.linkCopied = true;
        } catch {
            // No clipboard (permission refused): the link stays selectable in the field.
            this.refs?.privateWindowLink?.focus();
        }
    }
}
