import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { LowdbStore } from '../store/lowdbStore.ts';

const tempDir = () => mkdtemp(path.join(tmpdir(), 'ccl-store-'));
const account = (id: string) => ({ id, name: id, apiKeyHash: id, createdAt: new Date(0).toISOString() });

test('a change that throws leaves the data and the file exactly as they were', async () => {
    const dir = await tempDir();
    try {
        const store = await LowdbStore.open(dir);
        await store.update((db) => void db.accounts.push(account('a')));
        const before = await readFile(path.join(dir, 'db.json'), 'utf8');
        await assert.rejects(
            store.update((db) => {
                db.accounts.push(account('b'));
                throw new Error('refused');
            }),
            /refused/
        );
        assert.deepEqual(store.read((db) => db.accounts.map((a) => a.id)), ['a']);
        assert.equal(await readFile(path.join(dir, 'db.json'), 'utf8'), before);
        await store.close();
    } finally {
        await rm(dir, { recursive: true, force: true });
    }
});

test('writes run one at a time, in order', async () => {
    const dir = await tempDir();
    try {
        const store = await LowdbStore.open(dir);
        await Promise.all(Array.from({ length: 50 }, (_, i) => store.update((db) => void db.accounts.push(account(`n${db.accounts.length}-${i}`)))));
        const ids = store.read((db) => db.accounts.map((a) => a.id));
        assert.equal(ids.length, 50);
        ids.forEach((id, index) => assert.equal(id, `n${index}-${index}`));
        const reopened = await LowdbStore.open(dir);
        assert.equal(reopened.read((db) => db.accounts.length), 50);
        await store.close();
        await reopened.close();
    } finally {
        await rm(dir, { recursive: true, force: true });
    }
});

test('two processes sharing a data directory see and keep each other’s writes', async () => {
    const dir = await tempDir();
    try {
        const server = await LowdbStore.open(dir);
        const cli = await LowdbStore.open(dir);
        await cli.update((db) => void db.accounts.push(account('from-cli')));
        await server.update((db) => void db.accounts.push(account('from-server')));
        const onDisk = JSON.parse(await readFile(path.join(dir, 'db.json'), 'utf8')) as { accounts: Array<{ id: string }> };
        assert.deepEqual(onDisk.accounts.map((a) => a.id), ['from-cli', 'from-server']);
        await cli.update((db) => void db.accounts.push(account('later')));
        await new Promise((resolve) => setTimeout(resolve, 100));
        assert.deepEqual(server.read((db) => db.accounts.map((a) => a.id)), ['from-cli', 'from-server', 'later']);
        await server.close();
        await cli.close();
    } finally {
        await rm(dir, { recursive: true, force: true });
    }
});

test('a corrupt data file is reported, not replaced', async () => {
    const dir = await tempDir();
    try {
        await writeFile(path.join(dir, 'db.json'), '{"accounts": [');
        await assert.rejects(LowdbStore.open(dir), /not valid JSON; restore it from a backup/);
        assert.equal(await readFile(path.join(dir, 'db.json'), 'utf8'), '{"accounts": [');
    } finally {
        await rm(dir, { recursive: true, force: true });
    }
});
