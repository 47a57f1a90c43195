import { LightningElement, api } from 'lwc';

import HEADING from '@salesforce/label/c.Ccl_EgressHeading';
import HELP from '@salesforce/label/c.Ccl_EgressHelp';
import REFUSED from '@salesforce/label/c.Ccl_EgressRefused';

/**
 * The addresses the contact center's backend reaches Salesforce from, as its operator named them: what the admin
 * enters in the Contact Center Link app's refresh token IP allowlist (or IP relaxation). When Salesforce refused the
 * address for this link, it says so first. c/linkRules (egressState) decides what it is given.
 */
export default class LinkEgress extends LightningElement {
    /** { addresses: string[], refused: boolean } */
    @api egress;

    labels = { heading: HEADING, help: HELP, refused: REFUSED };

    get addresses() {
        return (this.egress?.addresses ?? []).map((address) => ({
            key: address,
            address
        }));
    }

    get refused() {
        return this.egress?.refused === true;
    }

    get boxClass() {
        return this.refused
            ? 'slds-box slds-box_x-small slds-theme_error slds-m-bottom_small'
            : 'slds-m-bottom_small';
    }
}
