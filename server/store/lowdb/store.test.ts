import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { AppendLog } from './appendLog.ts';
import { LAZY_LEDGER_MS, LowdbStore } from './store.ts';

const tempDir = () => mkdtemp(path.join(tmpdir(), 'ccl-store-'));
const account = (id: string) => ({ id, name: id, apiKeyHash: id, createdAt: new Date(0).toISOString() });

async function inTempDir(work: (dir: string) => Promise<void>): Promise<void> {
    const dir = await tempDir();
    try {
        await work(dir);
    } finally {
        await rm(dir, { recursive: true, force: true });
    }
}

test('lowdb: a transaction that throws leaves the data and the files exactly as they were', () =>
    inTempDir(async (dir) => {
        const store = await LowdbStore.open(dir);
        await store.accounts.insert(account('a'));
        const before = await readFile(path.join(dir, 'db.json'), 'utf8');
        const auditBefore = await readFile(path.join(dir, 'audit.jsonl'), 'utf8').catch(() => '');
        await assert.rejects(
            store.transaction(async (tx) => {
                await tx.accounts.insert(account('b'));
                await tx.audit.append({ at: '', accountId: 'b', action: 'account_created', outcome: 'ok' });
                throw new Error('refused');
            }),
            /refused/
        );
        assert.deepEqual(
            (await store.accounts.list()).map((r) => r.account.id),
            ['a']
        );
        assert.equal(await readFile(path.join(dir, 'db.json'), 'utf8'), before);
        assert.equal(await readFile(path.join(dir, 'audit.jsonl'), 'utf8').catch(() => ''), auditBefore);
        await store.close();
    }));

test('lowdb: readers outside a transaction never see its changes before they are durable', () =>
    inTempDir(async (dir) => {
        const store = await LowdbStore.open(dir);
        let seenInside: unknown = 'unset';
        await store.transaction(async (tx) => {
            await tx.accounts.insert(account('a'));
            seenInside = await tx.accounts.get('a');
            assert.equal(await store.accounts.get('a'), undefined, 'an uncommitted row was visible outside');
        });
        assert.ok(seenInside);
        assert.equal((await store.accounts.get('a'))?.id, 'a');
        await store.close();
    }));

test('lowdb: a transaction inside another is refused, not deadlocked', () =>
    inTempDir(async (dir) => {
        const store = await LowdbStore.open(dir);
        await assert.rejects(
            store.transaction(async () => store.transaction(() => Promise.resolve())),
            /inside a transaction/
        );
        await store.accounts.insert(account('after'));
        await store.close();
    }));

test('lowdb: writes run one at a time, in order', () =>
    inTempDir(async (dir) => {
        const store = await LowdbStore.open(dir);
        await Promise.all(
            Array.from({ length: 50 }, (_, i) =>
                store.transaction(async (tx) => {
                    const n = (await tx.accounts.list()).length;
                    await tx.accounts.insert(account(`n${n}-${i}`));
                })
            )
        );
        const ids = (await store.accounts.list()).map((r) => r.account.id);
        assert.equal(ids.length, 50);
        ids.forEach((id, index) => assert.equal(id, `n${index}-${index}`));
        const reopened = await LowdbStore.open(dir);
        assert.equal((await reopened.accounts.list()).length, 50);
        await store.close();
        await reopened.close();
    }));

test('lowdb: two processes sharing a data directory see and keep each other’s writes', () =>
    inTempDir(async (dir) => {
        const server = await LowdbStore.open(dir);
        const cli = await LowdbStore.open(dir);
        await cli.accounts.insert(account('from-cli'));
        await server.accounts.insert(account('from-server'));
        await cli.audit.append({ at: '1', accountId: 'from-cli', action: 'account_created', outcome: 'ok' });
        await server.ledger.settle('k1', '00T', '1');
        const onDisk = JSON.parse(await readFile(path.join(dir, 'db.json'), 'utf8')) as { accounts: Array<{ id: string }> };
        assert.deepEqual(
            onDisk.accounts.map((a) => a.id),
            ['from-cli', 'from-server']
        );
        await cli.accounts.insert(account('later'));
        await new Promise((resolve) => setTimeout(resolve, 100));
        assert.deepEqual(
            (await server.accounts.list()).map((r) => r.account.id),
            ['from-cli', 'from-server', 'later']
        );
        assert.equal((await server.audit.page('from-cli', { limit: 5 })).entries.length, 1);
        assert.equal((await cli.ledger.get('k1'))?.taskId, '00T');
        await server.close();
        await cli.close();
    }));

test('lowdb: calls and audit entries never rewrite the links’ file', () =>
    inTempDir(async (dir) => {
        const store = await LowdbStore.open(dir);
        await store.accounts.insert(account('a'));
        const before = await readFile(path.join(dir, 'db.json'), 'utf8');
        for (let i = 0; i < 20; i++) {
            await store.ledger.claim(`call-${i}`, { at: new Date().toISOString(), by: 'me' });
            await store.ledger.settle(`call-${i}`, '00T', new Date().toISOString());
            await store.audit.append({ at: new Date().toISOString(), accountId: 'a', action: 'verify', outcome: String(i) });
        }
        assert.equal(await readFile(path.join(dir, 'db.json'), 'utf8'), before);
        await store.close();
    }));

test('lowdb: a data directory from before the split keeps its audit and its ledger', () =>
    inTempDir(async (dir) => {
        const old = {
            accounts: [account('a')],
            links: [],
            linkSessions: [],
            audit: [{ at: '2026-01-01T00:00:00.000Z', accountId: 'a', action: 'account_created', outcome: 'ok' }],
            taskLedger: {
                startedAt: '2025-12-01T00:00:00.000Z',
                calls: { 'a|00D000000000001|c1': { state: 'created', taskId: '00T1', at: '2026-01-01T00:00:00.000Z' } }
            }
        };
        await writeFile(path.join(dir, 'db.json'), JSON.stringify(old));
        const store = await LowdbStore.open(dir);
        const dump = await store.dump();
        assert.deepEqual(dump.audit, old.audit);
        assert.deepEqual(dump.taskLedger, old.taskLedger);
        const rewritten = JSON.parse(await readFile(path.join(dir, 'db.json'), 'utf8')) as Record<string, unknown>;
        assert.equal(rewritten['audit'], undefined);
        assert.equal(rewritten['taskLedger'], undefined);
        await store.close();
        // Opened again: nothing doubled.
        const again = await LowdbStore.open(dir);
        assert.deepEqual((await again.dump()).audit, old.audit);
        await again.close();
    }));

test('lowdb: a torn last line (a write killed mid-append, never acknowledged) is cut off', () =>
    inTempDir(async (dir) => {
        const store = await LowdbStore.open(dir);
        await store.ledger.settle('k1', '00T1', '1');
        await store.close();
        await writeFile(path.join(dir, 'ledger.jsonl'), (await readFile(path.join(dir, 'ledger.jsonl'), 'utf8')) + '{"k":"k2","e":{"sta');
        const reopened = await LowdbStore.open(dir);
        assert.equal((await reopened.ledger.get('k1'))?.taskId, '00T1');
        assert.equal(await reopened.ledger.get('k2'), undefined);
        await reopened.ledger.settle('k3', '00T3', '3');
        await reopened.close();
        const third = await LowdbStore.open(dir);
        assert.equal((await third.ledger.get('k3'))?.taskId, '00T3');
        await third.close();
    }));

test('lowdb: a corrupt data file is reported, not replaced', () =>
    inTempDir(async (dir) => {
        await writeFile(path.join(dir, 'db.json'), '{"accounts": [');
        await assert.rejects(LowdbStore.open(dir), /not valid JSON; restore it from a backup/);
        assert.equal(await readFile(path.join(dir, 'db.json'), 'utf8'), '{"accounts": [');
    }));

test('lowdb: a second backend on the same data directory is refused at start, saying why; a dead one’s claim is taken over', () =>
    inTempDir(async (dir) => {
        const { claimServing } = await import('../servingLock.ts');
        const release = await claimServing(dir);
        const { spawn } = await import('node:child_process');
        await assert.rejects(claimServing(dir), /Another backend \(pid \d+\) already serves .* PostgreSQL \(DATABASE_URL\)/);
        await release();
        const again = await claimServing(dir);
        await again();
        // A claim left by a process that is gone.
        const dead = spawn(process.execPath, ['-e', '']);
        await new Promise((resolve) => dead.once('close', resolve));
        await writeFile(path.join(dir, 'server.pid'), String(dead.pid));
        const taken = await claimServing(dir);
        assert.equal(await readFile(path.join(dir, 'server.pid'), 'utf8'), String(process.pid));
        await taken();
        // A live process that is not this one: refused, naming the file to remove if it is no backend.
        const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
        try {
            await writeFile(path.join(dir, 'server.pid'), String(other.pid));
            await assert.rejects(claimServing(dir), /remove .*server\.pid/);
        } finally {
            other.kill();
        }
        // This process's own pid, left by an earlier life of its slot (a restarted container where the backend is pid 1 again).
        await writeFile(path.join(dir, 'server.pid'), String(process.pid));
        const mine = await claimServing(dir);
        await assert.rejects(claimServing(dir), /Another backend/, 'while this process holds it, a second claim is still refused');
        await mine();
    }));

test('lowdb: a recorded Task id waits a moment for the next claim, and both are made durable by one append', () =>
    inTempDir(async (dir) => {
        const store = await LowdbStore.open(dir);
        await store.ledger.claim('call-1', { at: '2026-12-01T00:00:00.000Z', by: 'me' });
        const appends: string[] = [];
        const proto = AppendLog.prototype;
        const real = Object.getOwnPropertyDescriptor(proto, 'append')!;
        Object.defineProperty(proto, 'append', {
            ...real,
            value(this: AppendLog<unknown>, lines: unknown[]) {
                appends.push(JSON.stringify(lines));
                return (real.value as (lines: unknown[]) => Promise<void>).call(this, lines);
            }
        });
        try {
            const settled = store.ledger.settle('call-1', 'task-1', '2026-12-01T00:00:01.000Z');
            await new Promise((resolve) => setTimeout(resolve, LAZY_LEDGER_MS / 4));
            assert.equal(appends.length, 0, 'written before the wait was over');
            await store.ledger.claim('call-2', { at: '2026-12-01T00:00:02.000Z', by: 'me' });
            await settled;
            assert.equal(appends.length, 1, `one append for both: ${appends.join(' | ')}`);
            // Alone, it is written once the moment is over.
            const started = performance.now();
            await store.ledger.settle('call-2', 'task-2', '2026-12-01T00:00:03.000Z');
            assert.ok(performance.now() - started >= LAZY_LEDGER_MS - 2);
            assert.equal(appends.length, 2);
        } finally {
            Object.defineProperty(proto, 'append', real);
        }
        await store.close();
        const reopened = await LowdbStore.open(dir);
        assert.equal((await reopened.ledger.get('call-1'))?.taskId, 'task-1');
        assert.equal((await reopened.ledger.get('call-2'))?.taskId, 'task-2');
        await reopened.close();
    }));
