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
export class LinkEvents extends EventEmitter<{ status: [LinkStatusChange]; attempt: [LinkAttempt] }> {
    statusChanged(change: LinkStatusChange): void {
        if (change.from !== change.to) this.emit('status', change);
    }
}
