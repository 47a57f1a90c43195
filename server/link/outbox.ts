import { randomUUID } from 'node:crypto';
import type { Repos } from '../store/store.ts';
import type { OutboxEvent, OutboxEventType } from '../store/types.ts';
import type { LinkStatusChange } from './events.ts';

/**
 * Writes a status change's webhook event, in the transaction that makes the change: the event exists exactly when the
 * change was committed, and waits in the outbox until an instance delivers it. Nothing when the account has no webhook
 * or nothing changed.
 */
export async function queueStatusEvent(tx: Pick<Repos, 'accounts' | 'outbox'>, change: LinkStatusChange): Promise<void> {
    if (change.from === change.to) return;
    if (!(await tx.accounts.get(change.accountId))?.webhook) return;
    const { accountId, from, to, orgId, username, reason } = change;
    await tx.outbox.add({
        id: randomUUID(),
        accountId,
        type: 'link.status_changed',
        createdAt: change.at,
        data: { accountId, from, to, ...(orgId ? { orgId } : {}), ...(username ? { username } : {}), ...(reason ? { reason } : {}) },
        state: 'pending',
        attempts: 0,
        nextAttemptAt: change.at
    });
}

/**
 * A call event's webhook (Tasks kept, made later or dropped; the API allowance guard engaged or lifted), in the
 * transaction that records it. Nothing when the account has no webhook.
 */
export async function queueCallEvent(
    tx: Pick<Repos, 'accounts' | 'outbox'>,
    event: {
        accountId: string;
        type: Exclude<OutboxEventType, 'link.status_changed'>;
        at: string;
        data: Omit<OutboxEvent['data'], 'accountId'>;
    }
): Promise<void> {
    if (!(await tx.accounts.get(event.accountId))?.webhook) return;
    await tx.outbox.add({
        id: randomUUID(),
        accountId: event.accountId,
        type: event.type,
        createdAt: event.at,
        data: { accountId: event.accountId, ...event.data },
        state: 'pending',
        attempts: 0,
        nextAttemptAt: event.at
    });
}
