import { EventEmitter } from 'node:events';
import type { LinkStatus } from '../store/types.ts';

export interface LinkStatusChange {
    accountId: string;
    from: LinkStatus;
    to: LinkStatus;
    at: string;
    orgId?: string;
    username?: string;
    reason?: string;
}

export interface LinkAttempt {
    accountId: string;
    outcome: string;
}

/** What the link logic announces; webhooks and metrics listen, the logic does not know them. */
export class LinkEvents extends EventEmitter<{ status: [LinkStatusChange]; attempt: [LinkAttempt]; queued: [] }> {
    statusChanged(change: LinkStatusChange): void {
        if (change.from !== change.to) this.emit('status', change);
    }

    /** A webhook event other than a status change was committed to the outbox: deliver it now rather than at the next poll. */
    eventQueued(): void {
        this.emit('queued');
    }
}
