import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { mkdtemp, readFile, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { LowdbStore } from '../../store/lowdb/store.ts';
import { openStore } from '../../store/openStore.ts';
import { migrate } from '../../store/pgStore.ts';
import type { Snapshot } from '../../store/types.ts';
import { createTestDatabase, PG_SKIP, warnIfNoPostgres } from '../pgDatabase.ts';
import { random, report } from '../reliabilityHarness.ts';

warnIfNoPostgres();

const require = createRequire(import.meta.url);
const WRITER = fileURLToPath(new URL('../crashWriter.ts', import.meta.url));
const RUNS = Number(process.env.CRASH_RUNS ?? 50);
/** A killed writer must never keep the next one waiting: a stale lock used to hold it for 10 s, then fail it. Below those 10 s, with room for a writer's start on a busy machine. */
const FIRST_WRITE_WITHIN_MS = 8_000;

interface Run {
    acked: string[];
    killedAfterAcks: number;
}

/** Starts a writer, waits for its first acknowledged write, lets it run a random moment, then SIGKILLs it. */
async function killWriterAtRandom(target: string, tag: string, holdMs: number): Promise<Run> {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, target, tag], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acked: string[] = [];
    let stderr = '';
    let buffered = '';
    let firstAck: () => void = () => {};
    const gotFirst = new Promise<void>((resolve) => (firstAck = resolve));
    child.stdout.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop()!;
        for (const line of lines) {
            if (line === 'open') continue;
            acked.push(line);
            if (acked.length === 1) firstAck();
        }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
    let timer: NodeJS.Timeout | undefined;
    const tooLate = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), FIRST_WRITE_WITHIN_MS)));
    const first = await Promise.race([gotFirst.then(() => 'ok' as const), tooLate, exited.then(() => 'exited' as const)]);
    clearTimeout(timer);
    if (first !== 'ok') {
        child.kill('SIGKILL');
        await exited;
        assert.fail(
            `run ${tag}: no write was acknowledged within ${FIRST_WRITE_WITHIN_MS} ms (${first}); stderr: ${stderr.slice(0, 2000)}`
        );
    }
    await new Promise((resolve) => setTimeout(resolve, holdMs));
    const killedAfterAcks = acked.length;
    child.kill('SIGKILL');
    await exited;
    return { acked, killedAfterAcks };
}

// node:test runs each suite itself: the wrapper hands back nothing to wait for.
const crashSuite = (kind: 'lowdb' | 'postgres') =>
    void test(
        `${kind}: writers SIGKILLed at random moments ${RUNS} times: the store always opens and every acknowledged write is there`,
        { skip: kind === 'postgres' && PG_SKIP },
        async (t) => {
            const dataDir = await mkdtemp(path.join(tmpdir(), 'ccl-crash-'));
            const database = kind === 'postgres' ? await createTestDatabase() : undefined;
            // The schema first, as a deployment has it: the writers measure writes, not the first migration.
            if (database) await migrate(database.url);
            const target = database?.url ?? dataDir;
            const config = database ? { DATA_DIR: dataDir, DATABASE_URL: database.url } : { DATA_DIR: dataDir };
            const started = Date.now();
            const everyAck = new Set<string>();
            let writes = 0;
            let checks = 0;

            /** What must be stored now: every write acknowledged before the store is read. */
            const check = async (label: string) => {
                const expected = [...everyAck];
                let db: Snapshot;
                try {
                    const store = await openStore(config);
                    db = await store.dump();
                    await store.close();
                } catch (error) {
                    assert.fail(`${label}: the store does not open after SIGKILL (${(error as Error).message})`);
                }
                const audited = new Set(db.audit.map((e) => e.accountId));
                const present = new Set([
                    ...db.links.map((l) => l.accountId),
                    ...Object.keys(db.taskLedger.calls),
                    ...(db.keptTasks ?? []).map((r) => r.accountId)
                ]);
                const lost = expected.filter((id) => !present.has(id));
                assert.deepEqual(lost, [], `${label}: acknowledged writes missing after SIGKILL`);
                // A link and its audit entry were written together: both or neither.
                const halves = db.links.filter((l) => !audited.has(l.accountId)).map((l) => l.accountId);
                assert.deepEqual(halves, [], `${label}: links without their audit entry`);
                checks++;
            };

            // Two lanes share the store, so a writer is often killed while the other waits for its lock.
            const lane = async (name: string, runs: number) => {
                const rnd = random(`crash-${kind}-${name}`);
                for (let run = 0; run < runs; run++) {
                    const { acked } = await killWriterAtRandom(target, `${name}${run}`, Math.floor(rnd() * 250));
                    writes += acked.length;
                    for (const id of acked) everyAck.add(id);
                    await check(`${name}${run}`);
                }
            };
            try {
                await Promise.all([lane('a', Math.ceil(RUNS / 2)), lane('b', Math.floor(RUNS / 2))]);
                // The store opens and writes at once after the last kill, too.
                const t0 = Date.now();
                const store = await openStore(config);
                await store.audit.append({ at: new Date().toISOString(), accountId: 'after', action: 'link', outcome: 'ok' });
                await store.close();
                assert.ok(Date.now() - t0 < 2_000, `the store took ${Date.now() - t0} ms to accept a write after the last kill`);
                await check('after the last kill');
                const left = (await readdir(dataDir)).filter(
                    (name) => !['db.json', 'audit.jsonl', 'ledger.jsonl', 'kept.jsonl'].includes(name)
                );
                report(t, `crash-${kind}`, {
                    kills: RUNS,
                    writersAtOnce: 2,
                    acknowledgedWrites: writes,
                    storeChecks: checks,
                    lost: 0,
                    corruptFiles: 0,
                    seconds: (Date.now() - started) / 1000,
                    leftBehind: left
                });
            } finally {
                await rm(dataDir, { recursive: true, force: true });
                await database?.drop();
            }
        }
    );

crashSuite('lowdb');
crashSuite('postgres');

test('a write by another process that lands just after this store read the file is not lost', async (t) => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'ccl-open-race-'));
    // Another process's write, made to land at the worst moment: right after this store's read of the file.
    const fsp = require('node:fs/promises') as typeof import('node:fs/promises');
    const probe = await fsp.open(fileURLToPath(import.meta.url), 'r');
    const handleProto = Object.getPrototypeOf(probe) as { readFile: (...args: unknown[]) => Promise<unknown> };
    await probe.close();
    const realReadFile = fsp.readFile;
    const realHandleReadFile = handleProto.readFile;
    let interleave: (() => Promise<void>) | undefined;
    const afterRead = async <T>(value: T): Promise<T> => {
        const work = interleave;
        interleave = undefined;
        await work?.();
        return value;
    };
    (fsp as { readFile: unknown }).readFile = async (...args: unknown[]) =>
        afterRead(await (realReadFile as (...a: unknown[]) => Promise<unknown>)(...args));
    handleProto.readFile = async function (this: unknown, ...args: unknown[]) {
        return afterRead(await realHandleReadFile.apply(this, args));
    };
    syncBuiltinESMExports();
    try {
        const other = await LowdbStore.open(dataDir);
        await other.accounts.insert({ id: 'first', name: 'first', apiKeyHash: 'h1', createdAt: '' });
        // Started while this store reads the files; it waits for the lock the open holds, then lands.
        let landed: Promise<void> | undefined;
        interleave = () => {
            landed = other.accounts.insert({ id: 'landed-during-open', name: 'x', apiKeyHash: 'h2', createdAt: '' });
            return Promise.resolve();
        };
        const store = await LowdbStore.open(dataDir);
        assert.equal(interleave, undefined, 'the interleaved write ran');
        await landed;
        await store.accounts.insert({ id: 'mine', name: 'mine', apiKeyHash: 'h3', createdAt: '' });
        const onDisk = JSON.parse(await readFile(path.join(dataDir, 'db.json'), 'utf8')) as Snapshot;
        assert.deepEqual(
            onDisk.accounts.map((a) => a.id),
            ['first', 'landed-during-open', 'mine']
        );
        await store.close();
        await other.close();
        report(t, 'open-race', { interleavedWrites: 1, lost: 0 });
    } finally {
        (fsp as { readFile: unknown }).readFile = realReadFile;
        handleProto.readFile = realHandleReadFile;
        syncBuiltinESMExports();
        await rm(dataDir, { recursive: true, force: true });
    }
});

test('a lock left by a dead process, or left empty, does not hold the next write', async (t) => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'ccl-lock-'));
    try {
        const dead = spawn(process.execPath, ['-e', '']);
        const deadPid = dead.pid!;
        await new Promise((resolve) => dead.once('close', resolve));
        const store = await LowdbStore.open(dataDir);
        const lock = path.join(dataDir, 'db.json.lock');
        const timings: number[] = [];
        for (const [content, ageMs] of [
            [String(deadPid), 0],
            ['', 5_000]
        ] as const) {
            await writeFile(lock, content);
            if (ageMs) await utimes(lock, new Date(Date.now() - ageMs), new Date(Date.now() - ageMs));
            const started = Date.now();
            await store.audit.append({
                at: new Date().toISOString(),
                accountId: `after-${content || 'empty'}`,
                action: 'link',
                outcome: 'ok'
            });
            timings.push(Date.now() - started);
        }
        assert.ok(
            timings.every((ms) => ms < 1_000),
            `writes waited ${timings.join(', ')} ms for a stale lock`
        );
        // A live lock is respected: the write waits for it.
        await writeFile(lock, String(process.pid));
        let done = false;
        const waiting = store.audit.append({ at: '', accountId: 'waited', action: 'link', outcome: 'ok' }).then(() => (done = true));
        await new Promise((resolve) => setTimeout(resolve, 100));
        assert.equal(done, false, 'a write went ahead of a live lock');
        await rm(lock);
        await waiting;
        await store.close();
        report(t, 'stale-lock', { staleLocksBroken: 2, msToWrite: timings });
    } finally {
        await rm(dataDir, { recursive: true, force: true });
    }
});
