import { LightningElement } from 'lwc';
import { ShowToastEvent } from 'lightning/platformShowToastEvent';
import { formatLabel } from 'c/labelFormat';
import { errorDetails } from 'c/errorDetails';
import { setupChecklist } from 'c/linkRules';

import getStatus from '@salesforce/apex/ContactCenterLinkController.getStatus';
import startLink from '@salesforce/apex/ContactCenterLinkController.startLink';
import getLinkSession from '@salesforce/apex/ContactCenterLinkController.getLinkSession';
import verifyLink from '@salesforce/apex/ContactCenterLinkController.verify';
import unlinkOrg from '@salesforce/apex/ContactCenterLinkController.unlink';
import getActivity from '@salesforce/apex/ContactCenterLinkController.getActivity';
import getWebhookDeliveries from '@salesforce/apex/ContactCenterLinkController.getWebhookDeliveries';
import getSetupState from '@salesforce/apex/ContactCenterLinkSetup.getSetupState';
import getOrgKeyState from '@salesforce/apex/ContactCenterLinkOrgKey.getOrgKeyState';
import saveOrgKey from '@salesforce/apex/ContactCenterLinkOrgKey.saveOrgKey';
import decideKeptTasks from '@salesforce/apex/ContactCenterLinkController.decideKeptTasks';
import getTaskMapping from '@salesforce/apex/ContactCenterLinkController.getTaskMapping';
import saveTaskMapping from '@salesforce/apex/ContactCenterLinkController.saveTaskMapping';
import getCallerMatching from '@salesforce/apex/ContactCenterLinkController.getCallerMatching';
import saveCallerMatching from '@salesforce/apex/ContactCenterLinkController.saveCallerMatching';
import CALLER_MATCHING_SAVED_TITLE from '@salesforce/label/c.Ccl_ToastCallerMatchingSavedTitle';
import CALLER_MATCHING_SAVED_MESSAGE from '@salesforce/label/c.Ccl_ToastCallerMatchingSavedMessage';
import TASK_MAPPING_SAVED_TITLE from '@salesforce/label/c.Ccl_ToastTaskMappingSavedTitle';
import TASK_MAPPING_SAVED_MESSAGE from '@salesforce/label/c.Ccl_ToastTaskMappingSavedMessage';
import KEPT_MADE_TITLE from '@salesforce/label/c.Ccl_ToastKeptMadeTitle';
import KEPT_MADE_MESSAGE from '@salesforce/label/c.Ccl_ToastKeptMadeMessage';
import KEPT_DROPPED_TITLE from '@salesforce/label/c.Ccl_ToastKeptDroppedTitle';
import KEPT_DROPPED_MESSAGE from '@salesforce/label/c.Ccl_ToastKeptDroppedMessage';

import LINKED_TITLE from '@salesforce/label/c.Ccl_ToastLinkedTitle';
import LINKED_MESSAGE from '@salesforce/label/c.Ccl_ToastLinkedMessage';
import LINK_FAILED_TITLE from '@salesforce/label/c.Ccl_ToastLinkFailedTitle';
import EXPIRED_TITLE from '@salesforce/label/c.Ccl_ToastExpiredTitle';
import EXPIRED_MESSAGE from '@salesforce/label/c.Ccl_LinkExpired';
import VERIFIED_TITLE from '@salesforce/label/c.Ccl_ToastVerifiedTitle';
import VERIFIED_MESSAGE from '@salesforce/label/c.Ccl_ToastVerifiedMessage';
import VERIFY_PROBLEM_TITLE from '@salesforce/label/c.Ccl_ToastVerifyProblemTitle';
import UNLINKED_TITLE from '@salesforce/label/c.Ccl_ToastUnlinkedTitle';
import UNLINKED_MESSAGE from '@salesforce/label/c.Ccl_ToastUnlinkedMessage';
import UNLINKED_NOT_REVOKED from '@salesforce/label/c.Ccl_ToastUnlinkedNotRevoked';
import ERROR_TITLE from '@salesforce/label/c.Ccl_ToastErrorTitle';
import UNKNOWN_ERROR from '@salesforce/label/c.Ccl_UnknownError';
import NEEDS_RELINK_HELP from '@salesforce/label/c.Ccl_NeedsRelinkHelp';
import OWN_SESSION_ENDED from '@salesforce/label/c.Ccl_OwnSessionEnded';
import ORG_KEY_SAVED_TITLE from '@salesforce/label/c.Ccl_ToastOrgKeySavedTitle';
import ORG_KEY_SAVED_MESSAGE from '@salesforce/label/c.Ccl_ToastOrgKeySavedMessage';

/** How often the link session is polled while the login window is open. */
const POLL_INTERVAL_MS = 2000;
/** The window name, so a second Link reuses the same login window. */
const LOGIN_WINDOW_NAME = 'contactCenterLink';
const LOGIN_WINDOW_FEATURES = 'popup,width=600,height=720';
/** The type of the message the backend's callback page posts to its opener. */
const LINK_MESSAGE_TYPE = 'ccl:link';
/** The backend's first popup page asks whether this card opened it; the answer spares the admin a confirmation click. */
const OPENER_CHECK_TYPE = 'ccl:opener-check';
const OPENER_ANSWER_TYPE = 'ccl:opener';
/** Used when the backend gives no usable expiry: its link sessions live ten minutes at most. */
const DEFAULT_SESSION_MS = 10 * 60 * 1000;

/** Error codes after which the link's status has changed under the card: read it again. */
const CODES_THAT_CHANGE_THE_STATUS = new Set(['NEEDS_RELINK', 'NOT_LINKED']);

function originOf(url) {
    try {
        return new URL(url).origin;
    } catch {
        return undefined;
    }
}

/**
 * The Contact Center Link container: loads the status through Apex, runs the
 * link flow (login window, link-session polling, the callback page's message),
 * Verify and Unlink, and reports outcomes with toasts.
 */
export default class ContactCenterLink extends LightningElement {
    status;
    loading = false;
    errorMessage;
    /** The last error's code (the backend's, such as API_USER_LIMIT_REACHED), for the card to act on. */
    errorCode;
    notice;
    blockedUrl;
    /** What this org answered about its setup: { appName, oauthApp, apiUser } from ContactCenterLinkSetup. */
    setup;
    /** True when the status could not be read (the Named Credential's URL or the org's key is likely wrong). */
    statusUnread = false;
    /** While a login into this org runs: the link to open in a private window instead of the popup. */
    privateWindowUrl;
    /** The link's history: { entries, nextCursor, loading, errorMessage }, newest first, ten more per Show more. */
    activity;
    /**
     * The account's latest webhook deliveries: { allowed, deliveries, loading, errorMessage }. allowed is false when
     * the org's key may not read them (the account has a separate platform key): the card leaves them out.
     */
    webhookDeliveries;
    /** What ContactCenterLinkOrgKey answered about this org's key; undefined when it could not be read. */
    orgKey;
    /** True while the org key is being stored; the reason when storing it failed. */
    orgKeySaving = false;
    orgKeyError;

    /** True while the admin's choice for the calls kept for another org is being sent. */
    keptBusy = false;

    /** The account's Task mapping (read while Linked), whether it is being saved, the backend's refusal of the last save. */
    taskMapping;
    taskMappingSaving = false;
    taskMappingError;
    taskMappingLoadError;

    /** How callers are matched (read while Linked), whether it is being saved, the backend's refusal of the last save. */
    callerMatching;
    callerMatchingSaving = false;
    callerMatchingError;
    callerMatchingLoadError;

    /** The link session being watched: { id, origin, expiresAt (ms) }. */
    session;
    pollTimer;
    pollInFlight = false;

    messageListener = (event) => this.handleMessage(event);

    get waiting() {
        return Boolean(this.session);
    }

    connectedCallback() {
        window.addEventListener('message', this.messageListener);
        this.loadStatus();
        this.loadSetup();
        this.loadOrgKey();
    }

    disconnectedCallback() {
        window.removeEventListener('message', this.messageListener);
        this.stopWaiting();
    }

    async loadStatus() {
        this.loading = true;
        try {
            this.status = await getStatus();
            this.statusUnread = false;
        } catch (error) {
            const { code, message } = errorDetails(error, UNKNOWN_ERROR);
            this.errorMessage = message;
            this.errorCode = code;
            this.statusUnread = true;
        } finally {
            this.loading = false;
        }
        if (this.statusUnread) {
            // The history and the deliveries go through the same callout: they would fail the same way, said once above.
            this.activity = undefined;
            this.webhookDeliveries = undefined;
            return;
        }
        // Whatever changed the status wrote to the history too, and may have sent a webhook: read both again.
        this.loadActivity();
        this.loadWebhookDeliveries();
        if (this.showTaskMapping && !this.taskMapping) {
            this.loadTaskMapping();
        }
        if (this.showCallerMatching && !this.callerMatching) {
            this.loadCallerMatching();
        }
    }

    /** The caller matching editor is offered while the link works: the backend checks custom fields against the org. */
    get showCallerMatching() {
        return this.status?.status === 'linked';
    }

    async loadCallerMatching() {
        try {
            this.callerMatching = await getCallerMatching();
            this.callerMatchingLoadError = undefined;
        } catch (error) {
            this.callerMatchingLoadError = errorDetails(
                error,
                UNKNOWN_ERROR
            ).message;
        }
    }

    /** Saves the editor's settings (null: the defaults); a refusal stays in the editor, with the backend's fix. */
    async handleSaveCallerMatching(event) {
        const matching = event.detail?.matching ?? null;
        this.callerMatchingSaving = true;
        this.callerMatchingError = undefined;
        try {
            this.callerMatching = await saveCallerMatching({
                matching: JSON.stringify(matching)
            });
            this.toast(
                CALLER_MATCHING_SAVED_TITLE,
                CALLER_MATCHING_SAVED_MESSAGE,
                'success'
            );
        } catch (error) {
            const details = errorDetails(error, UNKNOWN_ERROR);
            this.callerMatchingError = details;
            this.actOnErrorCode(details.code);
        } finally {
            this.callerMatchingSaving = false;
        }
    }

    /** The Task mapping editor is offered while the link works: the backend checks a mapping against the org. */
    get showTaskMapping() {
        return this.status?.status === 'linked';
    }

    async loadTaskMapping() {
        try {
            this.taskMapping = await getTaskMapping();
            this.taskMappingLoadError = undefined;
        } catch (error) {
            this.taskMappingLoadError = errorDetails(
                error,
                UNKNOWN_ERROR
            ).message;
        }
    }

    /** Saves the editor's mapping (null: the default); a refusal stays in the editor, with the backend's fix. */
    async handleSaveTaskMapping(event) {
        const mapping = event.detail?.mapping ?? null;
        this.taskMappingSaving = true;
        this.taskMappingError = undefined;
        try {
            this.taskMapping = await saveTaskMapping({
                mapping: JSON.stringify(mapping)
            });
            this.toast(
                TASK_MAPPING_SAVED_TITLE,
                TASK_MAPPING_SAVED_MESSAGE,
                'success'
            );
        } catch (error) {
            const details = errorDetails(error, UNKNOWN_ERROR);
            this.taskMappingError = details;
            this.actOnErrorCode(details.code);
        } finally {
            this.taskMappingSaving = false;
        }
    }

    /** The newest page of the link's history, or with `more` the page after the last one shown. */
    async loadActivity(more = false) {
        const shown = more ? (this.activity?.entries ?? []) : [];
        const cursor = more ? this.activity?.nextCursor : undefined;
        const request = {};
        this.activityRequest = request;
        this.activity = {
            entries: shown,
            nextCursor: cursor,
            loading: true
        };
        try {
            const page = await getActivity({ cursor: cursor ?? null });
            if (this.activityRequest !== request) {
                return;
            }
            this.activity = {
                entries: [...shown, ...(page?.entries ?? [])],
                nextCursor: page?.nextCursor ?? undefined,
                loading: false
            };
        } catch (error) {
            if (this.activityRequest !== request) {
                return;
            }
            // The history is an extra: its failure is said in its own section, the status stays usable.
            this.activity = {
                entries: shown,
                nextCursor: cursor,
                loading: false,
                errorMessage: errorDetails(error, UNKNOWN_ERROR).message
            };
        }
    }

    /** The latest webhook deliveries; what is shown stays while they are read again. */
    async loadWebhookDeliveries() {
        const shown = this.webhookDeliveries;
        const request = {};
        this.webhookDeliveriesRequest = request;
        this.webhookDeliveries = {
            allowed: shown?.allowed,
            deliveries: shown?.deliveries ?? [],
            loading: true
        };
        try {
            const result = await getWebhookDeliveries();
            if (this.webhookDeliveriesRequest !== request) {
                return;
            }
            this.webhookDeliveries = {
                allowed: result?.allowed === true,
                deliveries: result?.deliveries ?? [],
                loading: false
            };
        } catch (error) {
            if (this.webhookDeliveriesRequest !== request) {
                return;
            }
            // Like the history, an extra: its failure is said in its own section, the status stays usable.
            this.webhookDeliveries = {
                allowed: shown?.allowed,
                deliveries: shown?.deliveries ?? [],
                loading: false,
                errorMessage: errorDetails(error, UNKNOWN_ERROR).message
            };
        }
    }

    handleRefreshWebhookDeliveries() {
        if (!this.webhookDeliveries?.loading) {
            this.loadWebhookDeliveries();
        }
    }

    handleShowMoreActivity() {
        if (this.activity?.nextCursor && !this.activity.loading) {
            this.loadActivity(true);
        }
    }

    /** Best effort: when the org cannot tell, the checklist says to check in Setup and the login's own error explains. */
    async loadSetup() {
        try {
            this.setup = await getSetupState();
        } catch {
            this.setup = undefined;
        }
    }

    /** Whether this org holds its key, and which backend it calls; best effort, like the setup facts. */
    async loadOrgKey() {
        try {
            this.orgKey = await getOrgKeyState();
        } catch {
            this.orgKey = undefined;
        }
    }

    /** An admin's key, stored through Apex; then the status is read again, now with the key. */
    async handleSaveOrgKey(event) {
        const key = event.detail?.key;
        if (!key || this.orgKeySaving) {
            return;
        }
        this.orgKeySaving = true;
        this.orgKeyError = undefined;
        try {
            this.orgKey = await saveOrgKey({ orgKey: key });
        } catch (error) {
            this.orgKeyError = errorDetails(error, UNKNOWN_ERROR).message;
            return;
        } finally {
            this.orgKeySaving = false;
        }
        this.clearMessages();
        this.toast(ORG_KEY_SAVED_TITLE, ORG_KEY_SAVED_MESSAGE, 'success');
        await this.loadStatus();
    }

    /** The setup checklist's steps, from what the org and the backend answered. */
    get setupSteps() {
        return setupChecklist({
            setup: this.setup,
            status: this.status,
            statusError: this.statusUnread
        });
    }

    async handleLink(event) {
        const { environment } = event.detail;
        this.stopWaiting();
        this.clearMessages();
        this.loading = true;
        let session;
        try {
            session = await startLink({ environment });
        } catch (error) {
            this.showError(error);
            return;
        } finally {
            this.loading = false;
        }
        // This org's own environment: the login goes through this org's My Domain, in this browser.
        this.startWaiting(
            session,
            environment === this.status?.thisOrg?.environment
        );
    }

    startWaiting(session, ownOrg) {
        const expiresAt = Date.parse(session.expiresAt);
        this.session = {
            id: session.id,
            ownOrg,
            origin: originOf(session.authorizeUrl),
            expiresAt: Number.isNaN(expiresAt)
                ? Date.now() + DEFAULT_SESSION_MS
                : expiresAt
        };
        // eslint-disable-next-line @locker/locker/distorted-xml-http-request-window-open -- the login popup is the design; Apex has checked the URL is https on the backend's host
        const loginWindow = window.open(
            session.authorizeUrl,
            LOGIN_WINDOW_NAME,
            LOGIN_WINDOW_FEATURES
        );
        // A blocked popup returns null: offer the URL as a link the admin can click.
        this.blockedUrl = loginWindow ? undefined : session.authorizeUrl;
        this.privateWindowUrl = ownOrg ? session.authorizeUrl : undefined;
        this.schedulePoll();
    }

    /**
     * A click on the blocked popup's link may open the login window after all (a click lets it): opened by the script,
     * the window can post to the card and close itself. When it is still refused, the link opens a tab.
     */
    handleOpenLogin(event) {
        if (!this.blockedUrl) {
            return;
        }
        // eslint-disable-next-line @locker/locker/distorted-xml-http-request-window-open -- the same login popup, opened on the admin's click
        const loginWindow = window.open(
            this.blockedUrl,
            LOGIN_WINDOW_NAME,
            LOGIN_WINDOW_FEATURES
        );
        if (loginWindow) {
            event.preventDefault();
            this.blockedUrl = undefined;
        }
    }

    schedulePoll() {
        clearTimeout(this.pollTimer);
        // eslint-disable-next-line @lwc/lwc/no-async-operation, @locker/locker/distorted-window-set-timeout -- a function callback, which Lightning Web Security allows (it blocks string callbacks)
        this.pollTimer = setTimeout(() => this.poll(), POLL_INTERVAL_MS);
    }

    stopWaiting() {
        clearTimeout(this.pollTimer);
        this.pollTimer = undefined;
        this.session = undefined;
        this.blockedUrl = undefined;
        this.privateWindowUrl = undefined;
    }

    handleMessage(event) {
        const session = this.session;
        const data = event.data;
        if (
            !session ||
            !session.origin ||
            event.origin !== session.origin ||
            data?.sessionId !== session.id
        ) {
            return;
        }
        if (data.type === OPENER_CHECK_TYPE) {
            // Only the popup of the link session this card started hears that the card opened it.
            event.source?.postMessage(
                { type: OPENER_ANSWER_TYPE, sessionId: session.id },
                event.origin
            );
            return;
        }
        if (data.type !== LINK_MESSAGE_TYPE) {
            return;
        }
        // The callback page says the login finished: ask the backend now rather than at the next tick.
        this.poll();
    }

    async poll() {
        const session = this.session;
        if (!session) {
            return;
        }
        if (this.pollInFlight) {
            this.schedulePoll();
            return;
        }
        clearTimeout(this.pollTimer);
        if (Date.now() >= session.expiresAt) {
            this.finishExpired();
            return;
        }
        this.pollInFlight = true;
        let result;
        try {
            result = await getLinkSession({ sessionId: session.id });
        } catch (error) {
            if (this.session === session) {
                this.stopWaiting();
                this.showError(error);
            }
            return;
        } finally {
            this.pollInFlight = false;
        }
        if (this.session !== session) {
            // Cancelled, or replaced by a newer link session, while the request ran.
            return;
        }
        switch (result?.state) {
            case 'linked':
                await this.finishLinked(session);
                break;
            case 'failed':
                this.finishFailed(result.error);
                break;
            case 'expired':
                this.finishExpired();
                break;
            default:
                this.schedulePoll();
        }
    }

    async finishLinked(session) {
        this.stopWaiting();
        await this.loadStatus();
        if (session.ownOrg) {
            this.notice = OWN_SESSION_ENDED;
        }
        const username = this.status?.link?.username;
        this.toast(
            LINKED_TITLE,
            username ? formatLabel(LINKED_MESSAGE, username) : '',
            'success'
        );
    }

    finishFailed(error) {
        this.stopWaiting();
        const message = error?.message || UNKNOWN_ERROR;
        if (error?.code === 'LINK_SUPERSEDED') {
            // Not a failure: a newer sign-in for this account was saved meanwhile; the status shows its link.
            this.toast(LINKED_TITLE, message, 'info');
            this.loadStatus();
            return;
        }
        this.errorMessage = message;
        this.errorCode = error?.code;
        this.toast(LINK_FAILED_TITLE, message, 'error');
        this.actOnErrorCode(error?.code);
    }

    /** What the card does itself about an error code; the card then says what the admin can do. */
    actOnErrorCode(code) {
        if (CODES_THAT_CHANGE_THE_STATUS.has(code)) {
            // The error stays shown: loading the status replaces it only with its own error.
            this.loadStatus();
        } else if (code === 'APP_NOT_INSTALLED' && this.setup?.appName) {
            // Salesforce's own refusal outweighs what the org could list: warn before the next popup.
            this.setup = { ...this.setup, oauthApp: 'not_installed' };
        }
    }

    finishExpired() {
        this.stopWaiting();
        this.notice = EXPIRED_MESSAGE;
        this.toast(EXPIRED_TITLE, EXPIRED_MESSAGE, 'warning');
    }

    handleCancel() {
        this.stopWaiting();
    }

    async handleVerify() {
        this.clearMessages();
        this.loading = true;
        try {
            const status = await verifyLink();
            this.status = status;
            this.loadActivity();
            this.loadWebhookDeliveries();
            if (this.showCallerMatching) {
                // Verify read the org's phone fields again: what a lookup searches may have changed.
                this.loadCallerMatching();
            }
            if (status?.status === 'linked' || status?.status === 'legacy') {
                this.toast(VERIFIED_TITLE, VERIFIED_MESSAGE, 'success');
            } else {
                this.toast(
                    VERIFY_PROBLEM_TITLE,
                    status?.link?.lastError?.message || NEEDS_RELINK_HELP,
                    'warning'
                );
            }
        } catch (error) {
            this.showError(error);
        } finally {
            this.loading = false;
        }
    }

    async handleUnlink() {
        this.stopWaiting();
        this.clearMessages();
        this.loading = true;
        let result;
        try {
            result = await unlinkOrg();
        } catch (error) {
            this.showError(error);
            return;
        } finally {
            this.loading = false;
        }
        // The link is gone either way; say so when Salesforce kept the grant.
        if (result?.revoked === false) {
            this.toast(UNLINKED_TITLE, UNLINKED_NOT_REVOKED, 'warning');
        } else {
            this.toast(UNLINKED_TITLE, UNLINKED_MESSAGE, 'success');
        }
        await this.loadStatus();
    }

    /** The admin's choice for the calls kept for another org (c-kept-calls): made in this org, or dropped. */
    async handleKeptChoice(event) {
        const choice = event.detail?.choice;
        this.clearMessages();
        this.keptBusy = true;
        try {
            const result = await decideKeptTasks({ choice });
            if (choice === 'drop') {
                this.toast(
                    KEPT_DROPPED_TITLE,
                    formatLabel(KEPT_DROPPED_MESSAGE, result?.count ?? 0),
                    'success'
                );
            } else {
                this.toast(
                    KEPT_MADE_TITLE,
                    formatLabel(KEPT_MADE_MESSAGE, result?.count ?? 0),
                    'success'
                );
            }
            await this.loadStatus();
        } catch (error) {
            this.showError(error);
        } finally {
            this.keptBusy = false;
        }
    }

    clearMessages() {
        this.errorMessage = undefined;
        this.errorCode = undefined;
        this.notice = undefined;
    }

    showError(error) {
        const { code, message } = errorDetails(error, UNKNOWN_ERROR);
        this.errorMessage = message;
        this.errorCode = code;
        this.toast(ERROR_TITLE, message, 'error');
        this.actOnErrorCode(code);
    }

    toast(title, message, variant) {
        this.dispatchEvent(new ShowToastEvent({ title, message, variant }));
    }
}
