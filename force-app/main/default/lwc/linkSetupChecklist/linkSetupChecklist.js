import { LightningElement, api } from 'lwc';

import HEADING from '@salesforce/label/c.Ccl_ChecklistHeading';
import STEP_OAUTH_PACKAGE from '@salesforce/label/c.Ccl_ChecklistStepOAuthPackage';
import STEP_ENDPOINT from '@salesforce/label/c.Ccl_ChecklistStepEndpoint';
import STEP_API_USER from '@salesforce/label/c.Ccl_ChecklistStepApiUser';
import STEP_PERMITTED_USERS from '@salesforce/label/c.Ccl_ChecklistStepPermittedUsers';
import STEP_REFRESH_TOKEN from '@salesforce/label/c.Ccl_ChecklistStepRefreshToken';
import STEP_IP_RELAXATION from '@salesforce/label/c.Ccl_ChecklistStepIpRelaxation';
import STATE_DONE from '@salesforce/label/c.Ccl_ChecklistStateDone';
import STATE_TODO from '@salesforce/label/c.Ccl_ChecklistStateTodo';
import STATE_CHECK from '@salesforce/label/c.Ccl_ChecklistStateCheck';
import HELP_LINK from '@salesforce/label/c.Ccl_HelpChecklistLink';
import WHERE_TO_FIND from '@salesforce/label/c.Ccl_WhereToFind';

/** What each step asks of the admin, in Salesforce's words. */
const STEP_TEXTS = {
    oauthPackage: STEP_OAUTH_PACKAGE,
    endpoint: STEP_ENDPOINT,
    apiUser: STEP_API_USER,
    permittedUsers: STEP_PERMITTED_USERS,
    refreshToken: STEP_REFRESH_TOKEN,
    ipRelaxation: STEP_IP_RELAXATION
};

/** How each state shows. */
const STATE_VIEWS = {
    done: {
        iconName: 'utility:success',
        variant: 'success',
        stateText: STATE_DONE
    },
    todo: {
        iconName: 'utility:warning',
        variant: 'warning',
        stateText: STATE_TODO
    },
    check: {
        iconName: 'utility:info',
        variant: undefined,
        stateText: STATE_CHECK
    }
};

/**
 * The setup checklist: the admin's steps, each with what the card knows of it (c/linkRules setupChecklist decides),
 * and where the admin finds this page again. It renders what it is given.
 */
export default class LinkSetupChecklist extends LightningElement {
    /** The steps: [{ id, state: 'done' | 'todo' | 'check' }], in order; a step the checklist does not know is left out. */
    @api
    get steps() {
        return this._steps;
    }
    set steps(value) {
        this._steps = (value ?? [])
            .filter((step) => Object.hasOwn(STEP_TEXTS, step.id ?? ''))
            .map((step) => ({
                id: step.id,
                state: step.state,
                text: STEP_TEXTS[step.id],
                ...(Object.hasOwn(STATE_VIEWS, step.state ?? '')
                    ? STATE_VIEWS[step.state]
                    : STATE_VIEWS.check)
            }));
    }
    /** The help page's section on these steps, or undefined to show no link. */
    @api helpUrl;

    _steps = [];

    labels = {
        heading: HEADING,
        helpLink: HELP_LINK,
        whereToFind: WHERE_TO_FIND
    };
}
