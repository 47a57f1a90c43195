import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReadCache } from './readCache.ts';
import { ChangeListeners, type ChangeFeed } from './store.ts';

/** A feed the test drives: what it tells, and whether it watches. */
function feed(): ChangeFeed & { listeners: ChangeListeners; watchingNow: boolean } {
    const listeners = new ChangeListeners();
    return {
        listeners,
        watchingNow: true,
        subscribe(listener) {
            return listeners.subscribe(listener);
        },
        watching() {
            return Promise.resolve(this.watchingNow);
        }
    };
}

/** A loader that counts its reads, of a value tagged with an account and an API user. */
function loader(accountId: string, apiUser?: string) {
    let reads = 0;
    return {
        get reads() {
            return reads;
        },
        load: () => Promise.resolve({ value: { accountId, read: ++reads }, tags: { accountId, apiUser } })
    };
}

test('a value is read once, then kept until the store tells that its account or its API user changed', async () => {
    const changes = feed();
    const cache = new ReadCache<{ accountId: string; read: number }>(changes);
    const a = loader('a', 'org|user');
    const b = loader('b', 'org|user');
    const c = loader('c');
    for (let i = 0; i < 3; i++) {
        await cache.get('a', a.load);
        await cache.get('b', b.load);
        await cache.get('c', c.load);
    }
    assert.deepEqual([a.reads, b.reads, c.reads], [1, 1, 1]);
    assert.ok(Object.isFrozen(await cache.get('a', a.load)), 'kept values are frozen: every caller shares them');

    changes.listeners.emit({ accountId: 'a' });
    await cache.get('a', a.load);
    await cache.get('b', b.load);
    assert.deepEqual([a.reads, b.reads], [2, 1], 'only the account that changed is read again');

    // Another account's link joined or left the API user: both views that count its links are read again.
    changes.listeners.emit({ accountId: 'x', apiUsers: ['org|user'] });
    await cache.get('a', a.load);
    await cache.get('b', b.load);
    await cache.get('c', c.load);
    assert.deepEqual([a.reads, b.reads, c.reads], [3, 2, 1]);

    changes.listeners.emit({ all: true });
    await cache.get('c', c.load);
    assert.equal(c.reads, 2);
    assert.equal(await cache.get('none', () => Promise.resolve(undefined)), undefined, 'nothing found is not kept');
});

test('nothing is kept while the store cannot tell of every change, nor a value read while a change came in', async () => {
    const changes = feed();
    const cache = new ReadCache<{ accountId: string; read: number }>(changes);
    const a = loader('a');
    changes.watchingNow = false;
    await cache.get('a', a.load);
    await cache.get('a', a.load);
    assert.equal(a.reads, 2, 'read every time while not watching');
    changes.watchingNow = true;
    await cache.get('a', a.load);
    assert.equal(a.reads, 3);
    changes.watchingNow = false;
    await cache.get('a', a.load);
    assert.equal(a.reads, 4, 'what was kept is not used while not watching');

    changes.watchingNow = true;
    changes.listeners.emit({ all: true });
    // A change told while the value is being read: the value may predate it, so it is not kept.
    const racing = {
        reads: 0,
        load: () => {
            racing.reads++;
            changes.listeners.emit({ accountId: 'r' });
            return Promise.resolve({ value: { accountId: 'r', read: racing.reads }, tags: { accountId: 'r' } });
        }
    };
    await cache.get('r', racing.load);
    await cache.get('r', racing.load);
    assert.equal(racing.reads, 2);
});

test('a value is never older than the bound, and the oldest go first beyond the size', async () => {
    let now = 0;
    const changes = feed();
    const cache = new ReadCache<{ accountId: string; read: number }>(changes, { maxAgeMs: 1000, maxEntries: 2, now: () => now });
    const a = loader('a');
    await cache.get('a', a.load);
    now = 999;
    await cache.get('a', a.load);
    assert.equal(a.reads, 1);
    now = 1000;
    await cache.get('a', a.load);
    assert.equal(a.reads, 2, 'read again at the bound');
    await cache.get('b', loader('b').load);
    await cache.get('c', loader('c').load);
    assert.equal(cache.size, 2);
    await cache.get('a', a.load);
    assert.equal(a.reads, 3, 'the oldest went first');
});
