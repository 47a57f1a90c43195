import { LightningElement } from 'lwc';
import { previewContext } from 'preview/context';
import { SHOW_TOAST_EVENT_NAME } from 'lightning/platformShowToastEvent';

const ENVIRONMENT_LABELS = { production: 'Production', sandbox: 'Sandbox' };

/** The Setup menu beside the card: scenery, with this page's entry current. */
const SETUP_NAV = [
    { title: 'Platform Tools', items: ['Apps', 'Custom Code', 'Contact Center Link'] },
    { title: 'Administration', items: ['Users', 'Permission Sets'] }
].map(({ title, items }) => ({
    title,
    items: items.map((label) => {
        const current = label === 'Contact Center Link';
        return {
            label,
            className: current ? 'slds-nav-vertical__item slds-is-active' : 'slds-nav-vertical__item',
            actionClass: current ? 'slds-nav-vertical__action' : 'slds-nav-vertical__action slds-text-color_weak',
            current: current ? 'page' : undefined
        };
    })
}));

/**
 * The preview page: a Setup page of the emulated org with the package's own card in its body
 * (c-contact-center-link), toasts as Lightning Experience shows them, and a switch between the
 * emulated orgs.
 */
export default class PreviewApp extends LightningElement {
    context;
    loadError;
    setupNav = SETUP_NAV;

    toastListener = (event) => {
        event.stopPropagation();
        this.template.querySelector('preview-toasts')?.show(event.detail);
    };

    connectedCallback() {
        this.template.addEventListener(SHOW_TOAST_EVENT_NAME, this.toastListener);
        previewContext().then(
            (context) => {
                this.context = context;
                document.title = `Contact Center Link | Setup | ${this.orgLabel}`;
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
