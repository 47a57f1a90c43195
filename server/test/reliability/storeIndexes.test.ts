import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Accounts } from '../../accounts.ts';
import { systemClock } from '../../clock.ts';
import { LowdbStore } from '../../store/lowdbStore.ts';
import { PEOPLE, startHarness } from '../harness.ts';

/** Until `check` holds (another process's write reaches this one through a file watch), at most a second. */
async function eventually(check: () => boolean, what: string): Promise<void> {
    for (let i = 0; i < 100; i++) {
        if (check()) return;
        await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.fail(what);
}

test('the API key index follows rotations, new accounts and rolled-back writes, here and in another process', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ccl-index-'));
    try {
        const server = await LowdbStore.open(dir);
        const cli = await LowdbStore.open(dir);
        const here = new Accounts(server, systemClock);
        const there = new Accounts(cli, systemClock);

        const a = await here.create('A');
        assert.equal(here.authenticate(a.apiKey)?.id, a.account.id);
        assert.equal(here.authenticate('ccl_nobody'), undefined);

        // Rotated here: the old key stops at once, the new one works.
        const rotated = await here.rotateKey(a.account.id);
        assert.equal(here.authenticate(a.apiKey), undefined);
        assert.equal(here.authenticate(rotated)?.id, a.account.id);

        // Made and rotated by the operator's command in another process.
        const b = await there.create('B');
        await eventually(() => here.authenticate(b.apiKey)?.id === b.account.id, 'an account made elsewhere is not accepted');
        const rotatedElsewhere = await there.rotateKey(a.account.id);
        await eventually(() => here.authenticate(rotatedElsewhere)?.id === a.account.id, 'a key rotated elsewhere is not accepted');
        assert.equal(here.authenticate(rotated), undefined, 'a key rotated elsewhere still works here');

        // A write that fails leaves no trace in the index.
        await assert.rejects(
            server.update((db) => {
                db.accounts.push({ id: 'acc_ghost', name: 'ghost', apiKeyHash: 'f'.repeat(64), createdAt: '' });
                throw new Error('refused');
            })
        );
        assert.equal(here.authenticate(a.apiKey), undefined);
        assert.equal(server.read((db) => db.accounts.some((x) => x.id === 'acc_ghost')), false);
        assert.equal(here.authenticate(rotatedElsewhere)?.id, a.account.id);

        await server.close();
        await cli.close();
    } finally {
        await rm(dir, { recursive: true, force: true });
    }
});

test('the status answered from memory follows every change of the link', async () => {
    const h = await startHarness();
    try {
        const { id, key } = await h.newAccount('Status cache');
        assert.equal((await h.api(key).get('/api/v1/link')).body.status, 'unlinked');
        await h.link(key, PEOPLE.acmeApi);
        assert.equal((await h.api(key).get('/api/v1/link')).body.status, 'linked');
        const other = await h.newAccount('Same user');
        await h.link(other.key, PEOPLE.acmeApi);
        assert.equal((await h.api(key).get('/api/v1/link')).body.apiUser.linkedAccounts, 2, 'another account of the same API user');
        // A change made by another process (the operator's command writing the same file).
        const cli = await LowdbStore.open(h.dataDir);
        await cli.update((db) => {
            const account = db.accounts.find((a) => a.id === id)!;
            account.name = 'Renamed elsewhere';
        });
        await cli.close();
        await eventually(() => h.services.links.status(id).account.name === 'Renamed elsewhere', 'a change made elsewhere is not shown');
        await h.api(key).delete('/api/v1/link').expect(200);
        assert.equal((await h.api(key).get('/api/v1/link')).body.status, 'unlinked');
        assert.equal((await h.api(other.key).get('/api/v1/link')).body.apiUser.linkedAccounts, 1);
    } finally {
        await h.close();
    }
});
