import { LightningElement } from 'lwc';
import { previewContext } from 'preview/context';
import { SHOW_TOAST_EVENT_NAME } from 'lightning/platformShowToastEvent';

const ENVIRONMENT_LABELS = { production: 'Production', sandbox: 'Sandbox' };

/**
 * The preview page: the Contact Center Link tab of the emulated org (the Lightning app page an admin
 * opens from the App Launcher; Salesforce places no package's page inside Setup) with the package's own
 * card in its body (c-contact-center-link), toasts as Lightning Experience shows them, and a switch
 * between the emulated orgs.
 */
export default class PreviewApp extends LightningElement {
    context;
    loadError;

    toastListener = (event) => {
        event.stopPropagation();
        this.template.querySelector('preview-toasts')?.show(event.detail);
    };

    connectedCallback() {
        this.template.addEventListener(SHOW_TOAST_EVENT_NAME, this.toastListener);
        previewContext().then(
            (context) => {
                this.context = context;
                document.title = `Contact Center Link | ${this.orgLabel}`;
            },
            (error) => {
                this.loadError = error.message;
            }
        );
    }

    disconnectedCallback() {
        this.template.removeEventListener(SHOW_TOAST_EVENT_NAME, this.toastListener);
    }

    get ready() {
        return Boolean(this.context);
    }

    get org() {
        return this.context?.org;
    }

    get isSandbox() {
        return this.org?.environment === 'sandbox';
    }

    get orgName() {
        return this.org?.name ?? '';
    }

    get orgLabel() {
        const org = this.org;
        return org ? `${org.name}, ${ENVIRONMENT_LABELS[org.environment] ?? org.environment}` : 'loading';
    }

    get userName() {
        return this.org?.user?.username ?? '';
    }

    get demoUsers() {
        return this.org?.demoUsers ?? [];
    }

    get orgChoices() {
        const orgs = this.context?.orgs ?? {};
        return Object.keys(orgs).map((key) => {
            const org = orgs[key];
            const current = key === this.org?.key;
            return {
                key,
                href: `?org=${encodeURIComponent(key)}`,
                label: org.name,
                title: `${org.name}: ${ENVIRONMENT_LABELS[org.environment] ?? org.environment}`,
                current: current ? 'page' : undefined,
                className: `slds-button ${current ? 'slds-button_brand' : 'slds-button_neutral'}`
            };
        });
    }
}
