import { LightningElement, api } from 'lwc';
import { formatLabel } from 'c/labelFormat';
import { orgKeyState } from 'c/linkRules';

import HEADING from '@salesforce/label/c.Ccl_OrgKeyHeading';
import BACKEND from '@salesforce/label/c.Ccl_OrgKeyBackend';
import BACKEND_UNKNOWN from '@salesforce/label/c.Ccl_OrgKeyBackendUnknown';
import KEY from '@salesforce/label/c.Ccl_OrgKeyStateLabel';
import KEY_SET from '@salesforce/label/c.Ccl_OrgKeySet';
import MISSING_TITLE from '@salesforce/label/c.Ccl_OrgKeyMissingTitle';
import MISSING from '@salesforce/label/c.Ccl_OrgKeyMissing';
import SANDBOX_CLEARED from '@salesforce/label/c.Ccl_OrgKeySandboxCleared';
import REFRESHED_ON from '@salesforce/label/c.Ccl_OrgKeyRefreshedOn';
import SANDBOX_OWN_KEY from '@salesforce/label/c.Ccl_OrgKeySandboxOwnKey';
import INPUT from '@salesforce/label/c.Ccl_OrgKeyInput';
import INPUT_HELP from '@salesforce/label/c.Ccl_OrgKeyInputHelp';
import SAVE from '@salesforce/label/c.Ccl_OrgKeySave';
import REPLACE from '@salesforce/label/c.Ccl_OrgKeyReplace';
import CANCEL from '@salesforce/label/c.Ccl_Cancel';
import ASK_ADMINS from '@salesforce/label/c.Ccl_OrgKeyAskAdmins';
import ASK_ANY_ADMIN from '@salesforce/label/c.Ccl_OrgKeyAskAnyAdmin';
import UNKNOWN from '@salesforce/label/c.Ccl_OrgKeyUnknown';

/**
 * The org's contact-center key, as the card shows it: which backend the Named Credential calls, whether the External
 * Credential holds the key and, when it holds none, why (a sandbox create or refresh clears it, in Salesforce's
 * words). An admin (canManage) pastes the key here: the field raises `saveorgkey` (detail: { key }) and is emptied at
 * once, so the key never shows again; anyone else is told whom to ask. c-contact-center-link stores it through Apex.
 */
export default class LinkOrgKey extends LightningElement {
    /** What ContactCenterLinkOrgKey answered: { keyState, backendUrl, canManage, environment, refreshedAt, admins }. */
    @api orgKey;
    /** The code of the status read's failure, if any: UNAUTHORIZED says that no key went with the callout. */
    @api statusErrorCode;
    /** True while the key is being stored. */
    @api saving = false;
    /** Why storing the key failed, shown under the field. */
    @api errorMessage;

    draft = '';
    replacing = false;

    labels = {
        heading: HEADING,
        backend: BACKEND,
        key: KEY,
        missingTitle: MISSING_TITLE,
        missing: MISSING,
        sandboxCleared: SANDBOX_CLEARED,
        refreshedOn: REFRESHED_ON,
        sandboxOwnKey: SANDBOX_OWN_KEY,
        input: INPUT,
        inputHelp: INPUT_HELP,
        save: SAVE,
        replace: REPLACE,
        cancel: CANCEL,
        unknown: UNKNOWN
    };

    get keyState() {
        return orgKeyState(this.orgKey, this.statusErrorCode);
    }

    get missing() {
        return this.keyState === 'missing';
    }

    get isSet() {
        return this.keyState === 'set';
    }

    get unknown() {
        return this.keyState === 'unknown';
    }

    get isSandbox() {
        return this.orgKey?.environment === 'sandbox';
    }

    get refreshedAt() {
        return this.isSandbox ? this.orgKey?.refreshedAt : undefined;
    }

    get backendText() {
        return this.orgKey?.backendUrl || BACKEND_UNKNOWN;
    }

    get keyText() {
        return this.isSet ? KEY_SET : undefined;
    }

    get canManage() {
        return this.orgKey?.canManage === true;
    }

    get showForm() {
        return (
            this.canManage && (this.missing || this.unknown || this.replacing)
        );
    }

    get showReplace() {
        return this.canManage && this.isSet && !this.replacing;
    }

    get saveDisabled() {
        return this.saving || !this.draft.trim();
    }

    /** For someone who may not store the key: the admins to ask by name, or who they are. */
    get askText() {
        if (this.canManage || this.isSet) {
            return undefined;
        }
        const admins = (this.orgKey?.admins ?? []).filter(Boolean);
        return admins.length
            ? formatLabel(ASK_ADMINS, admins.join(', '))
            : ASK_ANY_ADMIN;
    }

    handleInput(event) {
        this.draft = event.target.value ?? '';
    }

    handleReplace() {
        this.replacing = true;
    }

    handleCancel() {
        this.replacing = false;
        this.draft = '';
    }

    handleSave() {
        const key = this.draft.trim();
        if (!key || this.saving) {
            return;
        }
        // The key leaves the field at once: it is never shown again, whatever Salesforce answers.
        this.draft = '';
        this.replacing = false;
        this.dispatchEvent(new CustomEvent('saveorgkey', { detail: { key } }));
    }
}
