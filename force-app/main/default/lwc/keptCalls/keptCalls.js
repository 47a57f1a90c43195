import { LightningElement, api } from 'lwc';
import { formatLabel } from 'c/labelFormat';
import { allowanceGuardState, keptCallsState } from 'c/keptCallsRules';

import KEPT_HEADING from '@salesforce/label/c.Ccl_KeptHeading';
import KEPT_SUMMARY from '@salesforce/label/c.Ccl_KeptSummary';
import KEPT_WHY from '@salesforce/label/c.Ccl_KeptWhy';
import KEPT_WILL_BE_LOGGED from '@salesforce/label/c.Ccl_KeptWillBeLogged';
import KEPT_BOUND from '@salesforce/label/c.Ccl_KeptBound';
import KEPT_AWAITING_CHOICE from '@salesforce/label/c.Ccl_KeptAwaitingChoice';
import KEPT_RELINK_FIRST from '@salesforce/label/c.Ccl_KeptRelinkFirst';
import KEPT_MAKE from '@salesforce/label/c.Ccl_KeptMake';
import KEPT_DROP from '@salesforce/label/c.Ccl_KeptDrop';
import KEPT_CONFIRM_DROP from '@salesforce/label/c.Ccl_KeptConfirmDrop';
import KEPT_CONFIRM_DROP_BUTTON from '@salesforce/label/c.Ccl_KeptConfirmDropButton';
import KEPT_CANCEL from '@salesforce/label/c.Ccl_KeptCancel';
import REASON_API_LIMIT from '@salesforce/label/c.Ccl_KeptReason_api_limit';
import REASON_UNAVAILABLE from '@salesforce/label/c.Ccl_KeptReason_salesforce_unavailable';
import REASON_NEEDS_RELINK from '@salesforce/label/c.Ccl_KeptReason_needs_relink';
import REASON_NOT_LINKED from '@salesforce/label/c.Ccl_KeptReason_not_linked';
import GUARD_HEADING from '@salesforce/label/c.Ccl_GuardHeading';
import GUARD_MESSAGE from '@salesforce/label/c.Ccl_GuardMessage';

/** Each reason a call's Task was kept, in the card's words. */
const REASONS = {
    api_limit: REASON_API_LIMIT,
    salesforce_unavailable: REASON_UNAVAILABLE,
    needs_relink: REASON_NEEDS_RELINK,
    not_linked: REASON_NOT_LINKED
};

/**
 * What the Contact Center Link card says of the calls whose Task waits to be logged in Salesforce (kept by the
 * backend while the org refused, or the link was down) and of the org's API allowance guard. Presentational: it
 * renders the status it is given (c/keptCallsRules decides) and raises `keptchoice` with { choice: 'make' | 'drop' }
 * when the admin chooses what to do with the calls kept for another org; a drop is confirmed first.
 */
export default class KeptCalls extends LightningElement {
    /** The link status as the container read it (its keptTasks and apiGuard). */
    @api status;
    /** True while a choice is being sent: the buttons are disabled. */
    @api busy = false;

    confirmingDrop = false;

    labels = {
        keptHeading: KEPT_HEADING,
        willBeLogged: KEPT_WILL_BE_LOGGED,
        relinkFirst: KEPT_RELINK_FIRST,
        make: KEPT_MAKE,
        drop: KEPT_DROP,
        confirmDrop: KEPT_CONFIRM_DROP_BUTTON,
        cancel: KEPT_CANCEL,
        guardHeading: GUARD_HEADING
    };

    get kept() {
        return keptCallsState(this.status);
    }

    get guard() {
        return allowanceGuardState(this.status);
    }

    get guardMessage() {
        const guard = this.guard;
        return formatLabel(
            GUARD_MESSAGE,
            guard.remaining,
            guard.max,
            guard.reserve
        );
    }

    get summary() {
        return formatLabel(KEPT_SUMMARY, this.kept.count);
    }

    get why() {
        const reasons = this.kept.reasons.map(
            (reason) => REASONS[reason] ?? reason
        );
        return reasons.length
            ? formatLabel(KEPT_WHY, reasons.join('; '))
            : undefined;
    }

    /** Said of calls that wait for Salesforce, not for a person. */
    get showWillBeLogged() {
        return this.kept.awaitingChoice < this.kept.count;
    }

    get awaitingText() {
        const kept = this.kept;
        return kept.awaitingChoice
            ? formatLabel(
                  KEPT_AWAITING_CHOICE,
                  kept.awaitingChoice,
                  kept.awaitingOrgId ?? ''
              )
            : undefined;
    }

    get canChoose() {
        return this.kept.canChoose;
    }

    get mustLinkFirst() {
        return this.kept.mustLinkFirst;
    }

    get confirmText() {
        return formatLabel(KEPT_CONFIRM_DROP, this.kept.awaitingChoice);
    }

    get boundText() {
        const bound = this.kept.bound;
        return bound
            ? formatLabel(KEPT_BOUND, bound.maxPerAccount, bound.maxAgeDays)
            : undefined;
    }

    handleMake() {
        this.choose('make');
    }

    handleDrop() {
        this.confirmingDrop = true;
    }

    handleCancelDrop() {
        this.confirmingDrop = false;
    }

    handleConfirmDrop() {
        this.confirmingDrop = false;
        this.choose('drop');
    }

    choose(choice) {
        this.dispatchEvent(
            new CustomEvent('keptchoice', { detail: { choice } })
        );
    }
}
