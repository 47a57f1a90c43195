// Stand-in for the platform's lightning/platformShowToastEvent. In Lightning Experience the event
// bubbles to the one.app container, which shows the toast; in the preview, preview-app shows it.

export const SHOW_TOAST_EVENT_NAME = 'lightning__showtoast';

export class ShowToastEvent extends CustomEvent {
    constructor(toast = {}) {
        const { title, message, messageData, variant, mode } = toast;
        super(SHOW_TOAST_EVENT_NAME, {
            bubbles: true,
            composed: true,
            cancelable: true,
            detail: { title, message, messageData, variant, mode }
        });
    }
}
