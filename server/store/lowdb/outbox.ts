import type { Repos } from '../store.ts';
import type { OutboxEvent } from '../types.ts';
import { applyPatch, copy, type Rows } from './rows.ts';

const newestFirst = (a: OutboxEvent, b: OutboxEvent): number => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id);

export const lowdbOutbox = (rows: Rows): Repos['outbox'] => ({
    add: (event) =>
        rows.write((draft) => {
            if (draft.rows('outbox', false).some((e) => e.id === event.id))
                throw new Error(`An outbox event with the id ${event.id} already exists.`);
            draft.rows('outbox', true).push(structuredClone(event));
        }),
    claimDue: async ({ now, by, until, limit }) => {
        const due = (e: OutboxEvent) => e.state === 'pending' && e.nextAttemptAt <= now && (!e.claim || e.claim.until < now);
        // Polled every second: nothing due is answered from a read, without the write lock.
        if (!rows.draft) {
            await rows.fresh();
            if (!rows.rows('outbox').some(due)) return [];
        }
        return rows.write((draft) => {
            const picked = draft
                .rows('outbox', false)
                .filter(due)
                .sort((a, b) => a.nextAttemptAt.localeCompare(b.nextAttemptAt) || a.id.localeCompare(b.id))
                .slice(0, limit);
            return picked.map((event) => {
                const claimed = { ...event, claim: { by, until } };
                rows.replace(draft, 'outbox', (e) => e.id === event.id, claimed);
                return structuredClone(claimed);
            });
        });
    },
    record: (id, by, patch) =>
        rows.write((draft) => {
            const current = draft.rows('outbox', false).find((e) => e.id === id);
            if (current?.claim?.by !== by) return false;
            rows.replace(draft, 'outbox', (e) => e.id === id, applyPatch(current, patch));
            return true;
        }),
    recent: async (accountId, limit) => {
        await rows.fresh();
        return rows
            .rows('outbox')
            .filter((e) => e.accountId === accountId)
            .sort(newestFirst)
            .slice(0, limit)
            .map(copy);
    },
    prune: (before, keepPerAccount) =>
        rows.write((draft) => {
            const all = draft.rows('outbox', false);
            const seen = new Map<string, number>();
            const drop = new Set<string>();
            for (const e of [...all].sort(newestFirst)) {
                const n = (seen.get(e.accountId) ?? 0) + 1;
                seen.set(e.accountId, n);
                if (e.state !== 'pending' && (e.createdAt < before || n > keepPerAccount)) drop.add(e.id);
            }
            if (!drop.size) return 0;
            draft.doc.outbox = all.filter((e) => !drop.has(e.id));
            draft.copied.add('outbox');
            return drop.size;
        })
});
