import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Accounts } from '../accounts.ts';
import { systemClock } from '../clock.ts';
import type { Store } from '../store/store.ts';
import { noticesArrived } from '../test/changeNotices.ts';
import { PEOPLE, startHarness, TEST_STORE } from '../test/harness.ts';

/** Counts the reads the status and the key lookup make of the store. */
function countReads(store: Store): { reads: number } {
    const counter = { reads: 0 };
    const wrap = <R extends object>(repo: R, names: Array<keyof R>) => {
        for (const name of names) {
            const real = repo[name] as (...args: unknown[]) => unknown;
            (repo as Record<keyof R, unknown>)[name] = (...args: unknown[]) => {
                counter.reads++;
                return real(...args);
            };
        }
    };
    wrap(store.accounts, ['get', 'byKeyHash']);
    wrap(store.links, ['get', 'ofApiUser']);
    wrap(store.kept, ['summary']);
    return counter;
}

async function until(what: string, check: () => Promise<boolean>, withinMs = 3_000): Promise<void> {
    const started = Date.now();
    while (!(await check())) {
        if (Date.now() - started > withinMs) assert.fail(`${what}: not seen within ${withinMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 10));
    }
}

test(`${TEST_STORE}: the status is read from the store once, then answered from memory until it changes, by this process or another`, async () => {
    const h = await startHarness();
    const other = await h.reopenStore();
    try {
        const { id, key } = await h.newAccount('Cached');
        const { key: neighbourKey } = await h.newAccount('Same API user');
        await h.link(key, PEOPLE.acmeApi);
        const reads = countReads(h.services.store);
        const status = async (k = key) => (await h.api(k).get('/api/v1/link').expect(200)).body as Record<string, any>;
        assert.equal((await status()).status, 'linked');
        await until('the store watches its changes', () => h.services.store.changes.watching());
        await noticesArrived(h.services.store, other);
        await status();
        const before = reads.reads;
        for (let i = 0; i < 5; i++) assert.equal((await status()).status, 'linked');
        assert.equal(reads.reads, before, 'the key and the status were read again from the store');

        // This process's own change: seen by the very next read.
        await h.link(neighbourKey, PEOPLE.acmeApi);
        assert.equal((await status()).apiUser.linkedAccounts, 2, 'another account linked to the same API user');

        // Another process's changes (another instance on PostgreSQL, the operator's command on lowdb).
        await other.links.patch(id, { status: 'needs_relink' });
        await until('needs_relink', async () => (await status()).status === 'needs_relink');
        await other.links.patch(id, { status: 'linked' });
        await until('linked again', async () => (await status()).status === 'linked');
        await other.links.delete(id);
        await until('unlinked', async () => (await status()).status === 'unlinked');
        assert.equal((await status(neighbourKey)).apiUser.linkedAccounts, 1, "the API user's count moved with it");

        // A key rotated elsewhere: the new key works, and the old one is refused at once from then on.
        const rotated = await new Accounts(other, systemClock).rotateKey(id);
        await until('the new key', async () => (await h.api(rotated).get('/api/v1/link')).status === 200);
        const old = await h.api(key).get('/api/v1/link');
        assert.equal(old.status, 401, 'the rotated key still works');
        assert.equal(old.body.error.code, 'UNAUTHORIZED');
    } finally {
        await other.close();
        await h.close();
    }
});

test(`${TEST_STORE}: unlink, relink and key rotation through this process are seen by its next request`, async () => {
    const h = await startHarness();
    try {
        const { id, key } = await h.newAccount('Own changes');
        await h.link(key, PEOPLE.acmeApi);
        await until('the store watches its changes', () => h.services.store.changes.watching());
        for (let i = 0; i < 2; i++) assert.equal((await h.api(key).get('/api/v1/link').expect(200)).body.status, 'linked');
        await h.api(key).delete('/api/v1/link').expect(200);
        assert.equal((await h.api(key).get('/api/v1/link').expect(200)).body.status, 'unlinked');
        await h.link(key, PEOPLE.acmeApi);
        assert.equal((await h.api(key).get('/api/v1/link').expect(200)).body.status, 'linked');
        const rotated = await h.services.accounts.rotateKey(id);
        await h.api(key).get('/api/v1/link').expect(401);
        await h.api(rotated).get('/api/v1/link').expect(200);
    } finally {
        await h.close();
    }
});
