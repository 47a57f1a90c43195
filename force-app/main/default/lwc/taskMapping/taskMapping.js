import { LightningElement, api } from 'lwc';
import { formatLabel } from 'c/labelFormat';
import { refusedFor } from 'c/errorDetails';
import {
    RELATE_CHOICES,
    draftOf,
    mappingOf,
    newLine
} from 'c/taskMappingRules';

import HEADING from '@salesforce/label/c.Ccl_TaskMappingHeading';
import HELP from '@salesforce/label/c.Ccl_TaskMappingHelp';
import SUBJECT from '@salesforce/label/c.Ccl_TaskMappingSubject';
import SUBJECT_HELP from '@salesforce/label/c.Ccl_TaskMappingSubjectHelp';
import RECORD_TYPE from '@salesforce/label/c.Ccl_TaskMappingRecordType';
import RECORD_TYPE_HELP from '@salesforce/label/c.Ccl_TaskMappingRecordTypeHelp';
import RELATE_CONTACT from '@salesforce/label/c.Ccl_TaskMappingRelateContact';
import RELATE_LEAD from '@salesforce/label/c.Ccl_TaskMappingRelateLead';
import RELATE_ACCOUNT from '@salesforce/label/c.Ccl_TaskMappingRelateAccount';
import RELATE_WHO from '@salesforce/label/c.Ccl_TaskMappingRelate_who';
import RELATE_WHO_AND_ACCOUNT from '@salesforce/label/c.Ccl_TaskMappingRelate_who_and_account';
import RELATE_WHAT from '@salesforce/label/c.Ccl_TaskMappingRelate_what';
import RELATE_NONE from '@salesforce/label/c.Ccl_TaskMappingRelate_none';
import FIELDS_HEADING from '@salesforce/label/c.Ccl_TaskMappingFieldsHeading';
import FIELDS_HELP from '@salesforce/label/c.Ccl_TaskMappingFieldsHelp';
import DISPOSITION from '@salesforce/label/c.Ccl_TaskMappingDisposition';
import EVERY_CALL from '@salesforce/label/c.Ccl_TaskMappingEveryCall';
import FIELD from '@salesforce/label/c.Ccl_TaskMappingField';
import VALUE from '@salesforce/label/c.Ccl_TaskMappingValue';
import ADD_LINE from '@salesforce/label/c.Ccl_TaskMappingAddLine';
import REMOVE_LINE from '@salesforce/label/c.Ccl_TaskMappingRemoveLine';
import SAVE from '@salesforce/label/c.Ccl_TaskMappingSave';
import RESET from '@salesforce/label/c.Ccl_TaskMappingReset';
import IS_DEFAULT from '@salesforce/label/c.Ccl_TaskMappingIsDefault';
import CHECKED_AT from '@salesforce/label/c.Ccl_TaskMappingCheckedAt';
import NOT_SAVED from '@salesforce/label/c.Ccl_TaskMappingNotSaved';
import LINE_INCOMPLETE from '@salesforce/label/c.Ccl_TaskMappingLineIncomplete';
import LOAD_FAILED from '@salesforce/label/c.Ccl_TaskMappingLoadFailed';

const RELATE_LABELS = {
    who: RELATE_WHO,
    who_and_account: RELATE_WHO_AND_ACCOUNT,
    what: RELATE_WHAT,
    none: RELATE_NONE
};
const options = (kind, chosen) =>
    RELATE_CHOICES[kind].map((value) => ({
        value,
        label: RELATE_LABELS[value],
        selected: value === chosen
    }));

/**
 * The editor of the account's Task mapping, in the status card's `calls` slot while the link is Linked. Edits a
 * draft of the mapping it is given and raises `savetaskmapping` with { mapping } in the backend's shape (null: the
 * default); the container saves it through Apex. The backend's refusal (`error`, such as TASK_FIELD_NOT_SETTABLE with
 * its fix) is shown inline, and the draft stays for the admin to correct.
 */
export default class TaskMapping extends LightningElement {
    /** The mapping as the controller answered it (ContactCenterLinkClient.TaskMapping); a new one resets the draft. */
    @api
    get mapping() {
        return this.savedMapping;
    }
    set mapping(value) {
        this.savedMapping = value;
        this.draft = draftOf(value);
        this.lineProblem = undefined;
    }

    /** True while a save runs: the buttons are disabled. */
    @api saving = false;
    /** The backend's refusal of the last save: { code, message, subjects? } (subjects: what it was refused for). */
    @api error;
    /** Why the mapping could not be read. */
    @api loadError;

    savedMapping;
    draft = draftOf(undefined);
    lineProblem;

    labels = {
        heading: HEADING,
        help: HELP,
        subject: SUBJECT,
        recordType: RECORD_TYPE,
        recordTypeHelp: RECORD_TYPE_HELP,
        relateContact: RELATE_CONTACT,
        relateLead: RELATE_LEAD,
        relateAccount: RELATE_ACCOUNT,
        fieldsHeading: FIELDS_HEADING,
        fieldsHelp: FIELDS_HELP,
        disposition: DISPOSITION,
        everyCall: EVERY_CALL,
        field: FIELD,
        value: VALUE,
        addLine: ADD_LINE,
        removeLine: REMOVE_LINE,
        save: SAVE,
        reset: RESET,
        isDefault: IS_DEFAULT,
        checkedAt: CHECKED_AT,
        notSaved: NOT_SAVED,
        loadFailed: LOAD_FAILED
    };

    /** One select per kind of match: what a Contact, a Lead and an Account match relate as. */
    get relations() {
        return [
            ['contact', 'relateContact', this.labels.relateContact],
            ['lead', 'relateLead', this.labels.relateLead],
            ['account', 'relateAccount', this.labels.relateAccount]
        ].map(([kind, name, label]) => ({
            kind,
            name,
            label,
            inputId: `relate-${kind}`,
            dataId: `task-relate-${kind}`,
            options: options(kind, this.draft[name])
        }));
    }

    get ready() {
        return Boolean(this.savedMapping);
    }

    get subjectHelp() {
        return formatLabel(
            SUBJECT_HELP,
            (this.savedMapping?.placeholders ?? []).join(', ')
        );
    }

    get isDefault() {
        return this.savedMapping?.isDefault === true;
    }

    get problem() {
        return this.lineProblem ?? this.error?.message;
    }

    /**
     * A Task field or the record type that the backend refused shows it in its own input's error state (until the
     * admin changes it or the next save is answered); the message below says why.
     */
    renderedCallback() {
        const named = [
            ...this.template.querySelectorAll('[data-id="task-line-field"]')
        ].map((input) => [input, `Task.${input.value ?? ''}`]);
        const recordType = this.template.querySelector(
            '[data-id="task-record-type"]'
        );
        if (recordType) {
            named.push([recordType, recordType.value]);
        }
        for (const [input, name] of named) {
            const refused = refusedFor(this.error, name);
            if (refused !== (input.dataset.refused === 'true')) {
                input.dataset.refused = String(refused);
                input.setCustomValidity(refused ? this.labels.notSaved : '');
                input.reportValidity();
            }
        }
    }

    /** A lightning-input's change (its detail) or a select's (its value). */
    handleInput(event) {
        const name = event.target.dataset.name;
        const value = event.detail?.value ?? event.target.value ?? '';
        this.draft = { ...this.draft, [name]: value };
    }

    handleLineInput(event) {
        const { key, name } = event.target.dataset;
        const value = event.detail.value ?? '';
        this.draft = {
            ...this.draft,
            lines: this.draft.lines.map((line) => {
                return line.key === key ? { ...line, [name]: value } : line;
            })
        };
    }

    handleAddLine() {
        this.draft = { ...this.draft, lines: [...this.draft.lines, newLine()] };
    }

    handleRemoveLine(event) {
        const key = event.target.dataset.key;
        this.draft = {
            ...this.draft,
            lines: this.draft.lines.filter((line) => line.key !== key)
        };
    }

    handleSave() {
        const { mapping, problem } = mappingOf(this.draft);
        if (problem) {
            this.lineProblem = LINE_INCOMPLETE;
            return;
        }
        this.lineProblem = undefined;
        this.dispatchEvent(
            new CustomEvent('savetaskmapping', { detail: { mapping } })
        );
    }

    handleReset() {
        this.lineProblem = undefined;
        this.dispatchEvent(
            new CustomEvent('savetaskmapping', { detail: { mapping: null } })
        );
    }
}
