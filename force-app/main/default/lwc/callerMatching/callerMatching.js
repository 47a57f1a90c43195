import { LightningElement, api } from 'lwc';
import { formatLabel } from 'c/labelFormat';
import { refusedFor } from 'c/errorDetails';
import {
    draftOf,
    matchingOf,
    moved,
    searchedNow,
    withField,
    withTypedFields,
    withoutField
} from 'c/callerMatchingRules';

import HEADING from '@salesforce/label/c.Ccl_CallerMatchingHeading';
import HELP from '@salesforce/label/c.Ccl_CallerMatchingHelp';
import SEARCHED_HEADING from '@salesforce/label/c.Ccl_CallerMatchingSearchedHeading';
import SEARCHED_AT from '@salesforce/label/c.Ccl_CallerMatchingSearchedAt';
import NOT_READ from '@salesforce/label/c.Ccl_CallerMatchingNotRead';
import NOT_SEARCHED from '@salesforce/label/c.Ccl_CallerMatchingNotSearched';
import PERSON_ACCOUNTS_ON from '@salesforce/label/c.Ccl_CallerMatchingPersonAccountsOn';
import PERSON_ACCOUNTS_OFF from '@salesforce/label/c.Ccl_CallerMatchingPersonAccountsOff';
import CUSTOM_HEADING from '@salesforce/label/c.Ccl_CallerMatchingCustomHeading';
import CUSTOM_HELP from '@salesforce/label/c.Ccl_CallerMatchingCustomHelp';
import FIELD_NAME from '@salesforce/label/c.Ccl_CallerMatchingFieldName';
import ADD_FIELD from '@salesforce/label/c.Ccl_CallerMatchingAddField';
import REMOVE_FIELD from '@salesforce/label/c.Ccl_CallerMatchingRemoveField';
import NO_CUSTOM_FIELDS from '@salesforce/label/c.Ccl_CallerMatchingNoCustomFields';
import FIELD_EMPTY from '@salesforce/label/c.Ccl_CallerMatchingFieldEmpty';
import FIELD_TWICE from '@salesforce/label/c.Ccl_CallerMatchingFieldTwice';
import ORDER_HEADING from '@salesforce/label/c.Ccl_CallerMatchingOrderHeading';
import ORDER_HELP from '@salesforce/label/c.Ccl_CallerMatchingOrderHelp';
import RULE_OBJECT_TYPE from '@salesforce/label/c.Ccl_CallerMatchingRule_objectType';
import RULE_OWNED_BY_AGENT from '@salesforce/label/c.Ccl_CallerMatchingRule_ownedByAgent';
import RULE_LAST_MODIFIED from '@salesforce/label/c.Ccl_CallerMatchingRule_lastModified';
import MOVE_UP from '@salesforce/label/c.Ccl_CallerMatchingMoveUp';
import MOVE_DOWN from '@salesforce/label/c.Ccl_CallerMatchingMoveDown';
import OBJECT_ORDER_HEADING from '@salesforce/label/c.Ccl_CallerMatchingObjectOrderHeading';
import OBJECT_ORDER_HELP from '@salesforce/label/c.Ccl_CallerMatchingObjectOrderHelp';
import REGION from '@salesforce/label/c.Ccl_CallerMatchingRegion';
import REGION_HELP from '@salesforce/label/c.Ccl_CallerMatchingRegionHelp';
import SAVE from '@salesforce/label/c.Ccl_CallerMatchingSave';
import RESET from '@salesforce/label/c.Ccl_CallerMatchingReset';
import IS_DEFAULT from '@salesforce/label/c.Ccl_CallerMatchingIsDefault';
import NOT_SAVED from '@salesforce/label/c.Ccl_CallerMatchingNotSaved';
import LOAD_FAILED from '@salesforce/label/c.Ccl_CallerMatchingLoadFailed';

const RULE_LABELS = {
    objectType: RULE_OBJECT_TYPE,
    ownedByAgent: RULE_OWNED_BY_AGENT,
    lastModified: RULE_LAST_MODIFIED
};

/**
 * The editor of how the account's screen-pop lookups match callers, in the status card's `calls` slot while the link
 * is Linked: what a lookup searches now, the custom phone fields per object, the order of several matches, the objects'
 * order and the default region. Edits a draft of the settings it is given and raises `savecallermatching` with
 * { matching } in the backend's shape (null: the defaults); the container saves it through Apex. The backend's refusal
 * (`error`, such as PHONE_FIELD_REFUSED with its fix) is shown inline, and the draft stays for the admin to correct.
 */
export default class CallerMatching extends LightningElement {
    /** The settings as the controller answered them (ContactCenterLinkClient.CallerMatching); a new one resets the draft. */
    @api
    get matching() {
        return this.savedMatching;
    }
    set matching(value) {
        this.savedMatching = value;
        this.draft = draftOf(value);
        this.draftProblem = undefined;
    }

    /** True while a save runs: the buttons are disabled. */
    @api saving = false;
    /** The backend's refusal of the last save: { code, message, subjects? } (subjects: what it was refused for). */
    @api error;
    /** Why the settings could not be read. */
    @api loadError;

    savedMatching;
    draft = draftOf(undefined);
    draftProblem;

    labels = {
        heading: HEADING,
        help: HELP,
        searchedHeading: SEARCHED_HEADING,
        searchedAt: SEARCHED_AT,
        notRead: NOT_READ,
        customHeading: CUSTOM_HEADING,
        customHelp: CUSTOM_HELP,
        addField: ADD_FIELD,
        noCustomFields: NO_CUSTOM_FIELDS,
        orderHeading: ORDER_HEADING,
        orderHelp: ORDER_HELP,
        objectOrderHeading: OBJECT_ORDER_HEADING,
        objectOrderHelp: OBJECT_ORDER_HELP,
        region: REGION,
        regionHelp: REGION_HELP,
        save: SAVE,
        reset: RESET,
        isDefault: IS_DEFAULT,
        notSaved: NOT_SAVED,
        loadFailed: LOAD_FAILED
    };

    get ready() {
        return Boolean(this.savedMatching);
    }

    get isDefault() {
        return this.savedMatching?.isDefault === true;
    }

    /** What a lookup searches now, one row per object; undefined before the org's fields were read. */
    get searched() {
        return searchedNow(this.savedMatching)?.map((row) => ({
            ...row,
            labelKey: `${row.sobjectType}-label`,
            valueKey: `${row.sobjectType}-fields`,
            text: row.searched ? row.fields : NOT_SEARCHED
        }));
    }

    get personAccounts() {
        return this.savedMatching?.personAccounts
            ? PERSON_ACCOUNTS_ON
            : PERSON_ACCOUNTS_OFF;
    }

    get checkedAt() {
        return this.savedMatching?.checkedAt;
    }

    get objects() {
        return Object.keys(this.draft.fields).map((object) => ({
            object,
            inputLabel: formatLabel(FIELD_NAME, object),
            typed: this.draft.typed[object],
            fields: this.draft.fields[object].map((name) => {
                const refused =
                    this.refused && refusedFor(this.error, `${object}.${name}`);
                return {
                    name,
                    key: `${object}.${name}`,
                    removeLabel: formatLabel(REMOVE_FIELD, `${object}.${name}`),
                    refused,
                    nameClass: refused
                        ? 'slds-col slds-text-color_error slds-text-title_bold'
                        : 'slds-col'
                };
            }),
            none: this.draft.fields[object].length === 0
        }));
    }

    get rules() {
        const last = this.draft.rules.length - 1;
        return this.draft.rules.map((rule, index) => ({
            ...rule,
            index,
            label: RULE_LABELS[rule.name],
            upLabel: formatLabel(MOVE_UP, RULE_LABELS[rule.name]),
            downLabel: formatLabel(MOVE_DOWN, RULE_LABELS[rule.name]),
            first: index === 0,
            last: index === last
        }));
    }

    get objectOrder() {
        const last = this.draft.objectOrder.length - 1;
        return this.draft.objectOrder.map((object, index) => ({
            object,
            index,
            position: index + 1,
            upLabel: formatLabel(MOVE_UP, object),
            downLabel: formatLabel(MOVE_DOWN, object),
            first: index === 0,
            last: index === last
        }));
    }

    /** The problem shown is the backend's refusal of a save (not the editor's own remark). */
    get refused() {
        return !this.draftProblem && Boolean(this.error?.message);
    }

    get problem() {
        return this.draftProblem ?? this.error?.message;
    }

    /** A lightning-input's change: the field typed for an object, or the region. */
    handleTyped(event) {
        const object = event.target.dataset.object;
        const value = event.detail?.value ?? event.target.value ?? '';
        this.draft = {
            ...this.draft,
            typed: { ...this.draft.typed, [object]: value }
        };
    }

    handleRegion(event) {
        const value = event.detail?.value ?? event.target.value ?? '';
        this.draft = { ...this.draft, region: value };
    }

    handleAddField(event) {
        const object = event.target.dataset.object;
        const result = withField(this.draft, object);
        if (result.problem) {
            this.draftProblem =
                result.problem === 'twice'
                    ? formatLabel(FIELD_TWICE, `${object}.${result.field}`)
                    : formatLabel(FIELD_EMPTY, object);
            return;
        }
        this.draftProblem = undefined;
        this.draft = result.draft;
    }

    handleRemoveField(event) {
        const { object, name } = event.target.dataset;
        this.draft = withoutField(this.draft, object, name);
    }

    handleRuleUsed(event) {
        const index = Number(event.target.dataset.index);
        const used = event.detail?.checked ?? event.target.checked;
        this.draft = {
            ...this.draft,
            rules: this.draft.rules.map((rule, i) => {
                return i === index ? { ...rule, used: Boolean(used) } : rule;
            })
        };
    }

    handleMoveRule(event) {
        const { index, delta } = event.detail;
        this.draft = {
            ...this.draft,
            rules: moved(this.draft.rules, index, delta)
        };
    }

    handleMoveObject(event) {
        const { index, delta } = event.detail;
        this.draft = {
            ...this.draft,
            objectOrder: moved(this.draft.objectOrder, index, delta)
        };
    }

    handleSave() {
        this.draftProblem = undefined;
        this.draft = withTypedFields(this.draft);
        this.dispatchEvent(
            new CustomEvent('savecallermatching', {
                detail: { matching: matchingOf(this.draft) }
            })
        );
    }

    handleReset() {
        this.draftProblem = undefined;
        this.dispatchEvent(
            new CustomEvent('savecallermatching', {
                detail: { matching: null }
            })
        );
    }
}
