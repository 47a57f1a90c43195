import { LightningElement, api } from 'lwc';

const VARIANTS = {
    info: 'utility:info',
    success: 'utility:success',
    warning: 'utility:warning',
    error: 'utility:error'
};
/** How long a toast stays, as in Lightning Experience: sticky ones until closed. */
const DURATION_MS = { dismissible: 6000, pester: 3000 };
const MAX_SHOWN = 3;

function fill(message, data) {
    if (!Array.isArray(data)) {
        return message;
    }
    return message.replace(/\{(\d+)\}/g, (placeholder, index) => {
        const item = data[index];
        if (item == null) {
            return placeholder;
        }
        return typeof item === 'object' ? String(item.label ?? item.url ?? '') : String(item);
    });
}

/** SLDS toasts for the preview page: what Lightning Experience shows for a ShowToastEvent. */
export default class Toasts extends LightningElement {
    toasts = [];
    nextId = 1;
    timers = new Map();

    /** Shows a toast from a ShowToastEvent's detail: { title, message, messageData, variant, mode }. */
    @api
    show(detail = {}) {
        const variant = Object.hasOwn(VARIANTS, detail.variant) ? detail.variant : 'info';
        const mode = ['dismissible', 'pester', 'sticky'].includes(detail.mode) ? detail.mode : 'dismissible';
        const id = String(this.nextId++);
        const toast = {
            id,
            variant,
            title: detail.title ?? '',
            message: fill(String(detail.message ?? ''), detail.messageData),
            iconName: VARIANTS[variant],
            className: `slds-notify slds-notify_toast slds-theme_${variant}`,
            role: variant === 'error' || variant === 'warning' ? 'alert' : 'status',
            closable: mode !== 'pester'
        };
        this.toasts = [...this.toasts, toast].slice(-MAX_SHOWN);
        if (mode !== 'sticky') {
            this.timers.set(
                id,
                // eslint-disable-next-line @lwc/lwc/no-async-operation
                setTimeout(() => this.dismiss(id), DURATION_MS[mode])
            );
        }
    }

    disconnectedCallback() {
        for (const timer of this.timers.values()) {
            clearTimeout(timer);
        }
        this.timers.clear();
    }

    dismiss(id) {
        clearTimeout(this.timers.get(id));
        this.timers.delete(id);
        this.toasts = this.toasts.filter((toast) => toast.id !== id);
    }

    handleClose(event) {
        this.dismiss(event.currentTarget.dataset.toastId);
    }
}
