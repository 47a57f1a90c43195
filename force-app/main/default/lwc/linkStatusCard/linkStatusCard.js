import { LightningElement, api } from 'lwc';
import LightningConfirm from 'lightning/confirm';
import { formatLabel } from 'c/labelFormat';
import {
    apiUsageState,
    checkOutcome,
    deliveryOutcome,
    egressState,
    errorHelpSection,
    helpUrl,
    HELP_SECTIONS,
    ipRefused,
    isQuietOutcome,
    keyExplainsStatusError,
    knowsErrorCode,
    mismatchIsProblem,
    orgMismatch,
    statusActions,
    warnsAppNotInstalled
} from 'c/linkRules';

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
import LAST_REFRESHED from '@salesforce/label/c.Ccl_FieldLastRefreshed';
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
import HELP_IP_ALLOWLIST_LINK from '@salesforce/label/c.Ccl_HelpIpAllowlistLink';
import IP_REFUSED_HELP from '@salesforce/label/c.Ccl_IpRefusedHelp';
import ACTION_API_USER_LIMIT from '@salesforce/label/c.Ccl_ErrorActionApiUserLimit';
import ACTION_NEEDS_RELINK from '@salesforce/label/c.Ccl_ErrorActionNeedsRelink';
import ACTION_APP_NOT_INSTALLED from '@salesforce/label/c.Ccl_ErrorActionAppNotInstalled';
import ACTION_IP_NOT_ALLOWED from '@salesforce/label/c.Ccl_ErrorActionIpNotAllowed';
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
import ACTIVITY_TASKS_KEPT from '@salesforce/label/c.Ccl_ActivityAction_tasks_kept';
import ACTIVITY_TASKS_REPLAYED from '@salesforce/label/c.Ccl_ActivityAction_tasks_replayed';
import ACTIVITY_TASKS_DROPPED from '@salesforce/label/c.Ccl_ActivityAction_tasks_dropped';
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

/** How each outcome of a permission check shows (c/linkRules decides the outcome). */
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
    webhook_removed: ACTIVITY_WEBHOOK_REMOVED,
    tasks_kept: ACTIVITY_TASKS_KEPT,
    tasks_replayed: ACTIVITY_TASKS_REPLAYED,
    tasks_dropped: ACTIVITY_TASKS_DROPPED
};

/** How each delivery state shows; a state the card does not know shows as the backend names it, quietly. */
const DELIVERY_STATES = {
    delivered: { label: DELIVERY_DELIVERED, color: 'slds-text-color_success' },
    pending: { label: DELIVERY_PENDING, color: 'slds-text-color_weak' },
    failed: { label: DELIVERY_FAILED, color: 'slds-text-color_error' }
};

/** What the card suggests after an error whose code c/linkRules knows. */
const ERROR_ACTIONS = {
    API_USER_LIMIT_REACHED: ACTION_API_USER_LIMIT,
    NEEDS_RELINK: ACTION_NEEDS_RELINK,
    APP_NOT_INSTALLED: ACTION_APP_NOT_INSTALLED,
    IP_NOT_ALLOWED: ACTION_IP_NOT_ALLOWED
};

/** A name the card knows, or the value as the backend names it. */
function named(names, value) {
    return Object.hasOwn(names, value ?? '') ? names[value] : value;
}

/** A link status as the badge names it. */
function statusLabel(status) {
    return Object.hasOwn(STATUS_VIEWS, status ?? '')
        ? STATUS_VIEWS[status].label
        : status;
}

/** The link's history as c-link-event-list items. */
function activityItems(entries) {
    return (entries ?? []).map((entry, index) => ({
        key: `${entry.at}-${index}`,
        title: named(ACTIVITY_ACTIONS, entry.action),
        note: entry.outcome === 'ok' ? undefined : entry.outcome,
        noteClass: isQuietOutcome(entry.outcome)
            ? 'slds-text-color_weak'
            : 'slds-text-color_error',
        at: entry.at,
        extras: [
            entry.username,
            entry.actor?.username
                ? formatLabel(ACTIVITY_BY, entry.actor.username)
                : undefined
        ],
        detail: entry.detail
    }));
}

/** The webhook deliveries as c-link-event-list items: the last attempt's error, else its HTTP status. */
function deliveryItems(deliveries) {
    return (deliveries ?? []).map((delivery, index) => {
        const view = Object.hasOwn(DELIVERY_STATES, delivery.state ?? '')
            ? DELIVERY_STATES[delivery.state]
            : { label: delivery.state, color: 'slds-text-color_weak' };
        const outcome = deliveryOutcome(delivery);
        return {
            key: delivery.id ?? `${delivery.createdAt}-${index}`,
            state: delivery.state,
            title: view.label,
            titleClass: view.color,
            // A status change says from and to; the call events (calls.*, api_guard.*) say their type.
            note:
                delivery.fromStatus || delivery.toStatus
                    ? formatLabel(
                          DELIVERY_CHANGE,
                          statusLabel(delivery.fromStatus),
                          statusLabel(delivery.toStatus)
                      )
                    : delivery.eventType,
            at: delivery.createdAt,
            extras: [formatLabel(DELIVERY_ATTEMPTS, delivery.attempts ?? 0)],
            nextAt: outcome.nextAttemptAt,
            nextAtLabel: DELIVERY_NEXT_ATTEMPT,
            detail:
                outcome.error ??
                (outcome.httpStatus === undefined
                    ? undefined
                    : formatLabel(DELIVERY_HTTP_STATUS, outcome.httpStatus)),
            detailClass: outcome.error
                ? 'slds-text-color_error'
                : 'slds-text-color_weak'
        };
    });
}

/** An org as the admin knows it: its name and id, or the id alone. */
function orgText(org) {
    return org?.name && org?.orgId
        ? formatLabel(ORG_NAME_AND_ID, org.name, org.orgId)
        : org?.orgId;
}

/** Why this org is not the linked one, in words: { kind, text }, or undefined. */
function orgReasonView(status) {
    const mismatch = orgMismatch(status);
    if (!mismatch) {
        return undefined;
    }
    if (mismatch.kind === 'sandboxRefreshed') {
        const day = new Intl.DateTimeFormat(undefined, {
            year: 'numeric',
            month: 'short',
            day: 'numeric',
            timeZone: 'UTC'
        }).format(mismatch.refreshedOn);
        return {
            kind: mismatch.kind,
            text: formatLabel(
                REASON_SANDBOX_REFRESHED,
                day,
                orgText(mismatch.linkedOrg)
            ),
            problem: mismatchIsProblem(mismatch, status)
        };
    }
    return {
        kind: mismatch.kind,
        text: formatLabel(
            REASON_OTHER_ORG,
            orgText(mismatch.thisOrg),
            orgText(mismatch.linkedOrg)
        ),
        problem: mismatchIsProblem(mismatch, status)
    };
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
            value: orgText({ name: link.orgName, orgId: link.orgId })
        },
        {
            key: 'environment',
            label: ENVIRONMENT,
            value: named(ENVIRONMENT_LABELS, link.environment)
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
        },
        {
            key: 'lastRefreshedAt',
            label: LAST_REFRESHED,
            value: link.lastRefreshedAt,
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
        ...CHECK_VIEWS[checkOutcome(check)]
    }));
}

/** The org's API requests today in words: { text, at, nearLimit }, or undefined when Salesforce has not said. */
function apiUsageView(status) {
    const usage = apiUsageState(status?.apiUsage);
    if (!usage) {
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
        nearLimit: usage.nearLimit
    };
}

/**
 * The Contact Center Link card: shows the link status it is given and raises
 * `link` (detail: { environment }), `verify`, `unlink` and `cancel` events.
 * It calls nothing itself; c-contact-center-link owns the data and the link flow,
 * and c/linkRules makes the decisions the card words.
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
        this.orgReason = orgReasonView(value);
        this.actions = statusActions(value);
        this.egress = egressState(value);
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
        this.activityItems = activityItems(value?.entries);
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
        this.deliveryItems = deliveryItems(value?.deliveries);
    }
    /**
     * What this org answered about its setup (ContactCenterLinkSetup.getSetupState): { appName, oauthApp: 'installed' |
     * 'not_installed' | 'unknown', apiUser }; the card warns before any popup when the OAuth package is missing.
     */
    @api setup;
    /** The setup checklist's steps as the container derived them (c/linkRules setupChecklist): [{ id, state }]. */
    @api setupSteps;
    /**
     * What ContactCenterLinkOrgKey answered about the org's key (c-link-org-key shows it): { keyState, backendUrl,
     * canManage, environment, refreshedAt, admins }; the card raises `saveorgkey` (detail: { key }).
     */
    @api orgKey;
    /** True while the org key is being stored. */
    @api orgKeySaving = false;
    /** Why storing the org key failed. */
    @api orgKeyError;

    linkCopied = false;
    _status;
    details = [];
    checks = [];
    checksCheckedAt;
    apiUsage;
    /** Why this org is not the linked org: { kind: 'sandboxRefreshed' | 'otherOrg', text, problem }, or undefined. */
    orgReason;
    actions = statusActions(undefined);
    /** The backend's addresses for the app's IP allowlist: { addresses, refused }, or undefined. */
    egress;
    _activity;
    activityItems = [];
    _webhookDeliveries;
    deliveryItems = [];

    labels = {
        activityHeading: ACTIVITY_HEADING,
        activityShowMore: ACTIVITY_SHOW_MORE,
        activityEmpty: ACTIVITY_EMPTY,
        deliveriesHeading: DELIVERIES_HEADING,
        deliveriesEmpty: DELIVERIES_EMPTY,
        deliveriesRefresh: DELIVERIES_REFRESH,
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

    get statusView() {
        const value = this.status?.status;
        return Object.hasOwn(STATUS_VIEWS, value ?? '')
            ? STATUS_VIEWS[value]
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
        // A link refused for the backend's address is intact: no relink, the addresses are what to fix.
        return ipRefused(this.status) ? IP_REFUSED_HELP : this.statusView?.help;
    }

    get isNeedsRelink() {
        return this.status?.status === 'needs_relink';
    }

    get accountName() {
        return this.status?.account?.name;
    }

    get orgReasonClass() {
        return `slds-m-bottom_x-small ${this.orgReason?.problem ? 'slds-text-color_error' : 'slds-text-color_weak'}`;
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
        return this.actions.relink ? RELINK : LINK;
    }

    get showVerify() {
        return this.actions.verify;
    }

    get showUnlink() {
        return this.actions.unlink;
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

    /** Shown before any popup when the org answered that the OAuth package's marker is missing, never once linked. */
    get appNotInstalledMessage() {
        return warnsAppNotInstalled(this.setup, this.status)
            ? formatLabel(APP_NOT_INSTALLED, this.setup.appName)
            : undefined;
    }

    get showSetupChecklist() {
        return (this.setupSteps ?? []).length > 0;
    }

    get checklistHelpUrl() {
        return helpUrl(HELP_URL, HELP_SECTIONS.checklist);
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

    /** The error to show: none when the org-key section already explains it (no key went with the callout). */
    get shownErrorMessage() {
        return keyExplainsStatusError(this.orgKey, this.errorCode)
            ? undefined
            : this.errorMessage;
    }

    handleSaveOrgKey(event) {
        this.dispatchEvent(
            new CustomEvent('saveorgkey', {
                detail: { key: event.detail?.key }
            })
        );
    }

    /** What the card suggests after an error whose code it knows. */
    get errorAction() {
        return knowsErrorCode(this.errorCode)
            ? ERROR_ACTIONS[this.errorCode]
            : undefined;
    }

    /** The help section for the error shown: the code's own, else the troubleshooting table. */
    get errorHelpUrl() {
        return this.errorMessage
            ? helpUrl(HELP_URL, errorHelpSection(this.errorCode))
            : undefined;
    }

    get needsRelinkHelpUrl() {
        if (!this.isNeedsRelink) {
            return undefined;
        }
        return helpUrl(
            HELP_URL,
            ipRefused(this.status)
                ? HELP_SECTIONS.ipAllowlist
                : HELP_SECTIONS.needsRelink
        );
    }

    get needsRelinkHelpText() {
        return ipRefused(this.status)
            ? HELP_IP_ALLOWLIST_LINK
            : this.labels.helpNeedsRelinkLink;
    }

    get setupHelpUrl() {
        return helpUrl(HELP_URL, HELP_SECTIONS.setup);
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

    /** "No webhook events yet" only once the org's key is known to read them. */
    get deliveriesEmptyText() {
        return this._webhookDeliveries?.allowed === true
            ? this.labels.deliveriesEmpty
            : undefined;
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
