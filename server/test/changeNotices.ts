import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Store } from '../store/store.ts';

/**
 * Waits until `store` has been told of every write committed so far, by any process. PostgreSQL sends its change
 * notices a moment after each COMMIT (a loaded machine may take tens of milliseconds), in commit order: once a marker
 * account that `other` writes now is told, every earlier write's notice has arrived, and none will drop a cache entry
 * or break a count later. lowdb tells another process's writes as `all`, when a read finds its file changed.
 */
export async function noticesArrived(store: Store, other: Store, withinMs = 5_000): Promise<void> {
    const told = new Set<string>();
    const unsubscribe = store.changes.subscribe((change) => told.add('all' in change ? '*' : change.accountId));
    try {
        const marker = `marker-${randomUUID()}`;
        await other.accounts.insert({ id: marker, name: marker, apiKeyHash: `hash-${marker}`, createdAt: new Date().toISOString() });
        const started = Date.now();
        while (!((await store.changes.watching()) && (told.has(marker) || (store.kind === 'lowdb' && told.has('*'))))) {
            if (Date.now() - started > withinMs) assert.fail(`the marker account's change notice did not arrive within ${withinMs} ms`);
            await new Promise((resolve) => setTimeout(resolve, 5));
        }
    } finally {
        unsubscribe();
    }
}
