// `store move` against a database in use: a mistyped source, a running backend, and a wrong --force undone.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runStoreCommand } from '../cli/store.ts';
import { instanceLease } from './store.ts';
import { LowdbStore } from './lowdb/store.ts';
import { PgStore } from './pgStore.ts';
import { claimServing } from './servingLock.ts';
import type { AccountRecord, AuditEntry } from './types.ts';
import { createTestDatabase, PG_SKIP, warnIfNoPostgres, type TestDatabase } from '../test/pgDatabase.ts';

warnIfNoPostgres();

const account = (id: string, name: string): AccountRecord => ({
    id,
    name,
    apiKeyHash: `hash-${id}`,
    createdAt: '2026-01-01T00:00:00.000Z'
});
const entry = (accountId: string, at: string): AuditEntry => ({ at, accountId, action: 'account_created', outcome: 'ok' });

describe('store move keeps a database in use safe', { skip: PG_SKIP }, () => {
    let work: string;
    let source: string;
    let database: TestDatabase;
    let lines: string[];
    const store = (...args: string[]) => {
        lines = [];
        return runStoreCommand([...args, '--to', database.url], {}, (line) => lines.push(line));
    };
    const accountsIn = async () => {
        const target = await PgStore.open(database.url);
        try {
            return (await target.dump()).accounts.map((a) => a.id).sort();
        } finally {
            await target.close();
        }
    };

    before(async () => {
        work = await mkdtemp(path.join(tmpdir(), 'ccl-move-'));
        source = path.join(work, 'data');
        const files = await LowdbStore.open(source);
        await files.seed({ accounts: [account('acc_files', 'From the files')], audit: [entry('acc_files', '2026-01-02T00:00:00.000Z')] });
        await files.close();
        database = await createTestDatabase();
        // The database a backend has been serving: rows of its own.
        const target = await PgStore.open(database.url);
        await target.seed({
            accounts: [account('acc_live_1', 'Serving one'), account('acc_live_2', 'Serving two')],
            audit: [entry('acc_live_1', '2026-01-03T00:00:00.000Z'), entry('acc_live_2', '2026-01-04T00:00:00.000Z')]
        });
        await target.close();
    });
    after(async () => {
        await database?.drop();
        await rm(work, { recursive: true, force: true });
    });

    test('a mistyped source is refused, never created, and the database keeps its rows', async () => {
        const typo = path.join(work, 'dta');
        assert.equal(await store('move', '--from', typo, '--force'), 2, lines.join('\n'));
        assert.match(lines.join('\n'), /is not a data directory of the embedded store: it holds no db\.json\. Nothing was changed/);
        assert.equal(existsSync(typo), false, 'the mistyped folder was not created');
        // A folder that exists but holds no store (the wrong one, an empty volume) is refused the same way.
        await mkdir(path.join(work, 'empty'));
        assert.equal(await store('move', '--from', path.join(work, 'empty'), '--force'), 2);
        assert.equal(existsSync(path.join(work, 'empty', 'db.json')), false);
        assert.deepEqual(await accountsIn(), ['acc_live_1', 'acc_live_2']);
    });

    test('a source a backend still serves is refused, naming its process', async () => {
        const release = await claimServing(source);
        try {
            assert.equal(await store('move', '--from', source, '--force'), 1);
            assert.match(lines.join('\n'), new RegExp(`\\(pid ${process.pid}\\) still serves`));
        } finally {
            await release();
        }
        assert.deepEqual(await accountsIn(), ['acc_live_1', 'acc_live_2']);
    });

    test('while an instance holds a live lease on the database, the move is refused and names it', async () => {
        const target = await PgStore.open(database.url);
        const holder = 'ccl-host-7:4242:abcd';
        const now = Date.now();
        await target.leases.acquire(instanceLease(holder), holder, {
            now: new Date(now).toISOString(),
            until: new Date(now + 60_000).toISOString()
        });
        try {
            assert.equal(await store('move', '--from', source, '--force'), 1, lines.join('\n'));
            assert.match(lines.join('\n'), /ccl-host-7:4242:abcd/);
            assert.match(lines.join('\n'), /Nothing was changed/);
            assert.deepEqual(await accountsIn(), ['acc_live_1', 'acc_live_2']);
        } finally {
            await target.leases.release(instanceLease(holder), holder);
            await target.close();
        }
    });

    test('a wrong --force is undone from the backup it names, and the undo keeps a backup of its own', async () => {
        const before = await PgStore.open(database.url);
        const served = await before.dump();
        await before.close();

        assert.equal(await store('move', '--from', source, '--force'), 0, lines.join('\n'));
        const backup = /kept in the schema (ccl_backup_[a-z0-9_]+)/.exec(lines.join('\n'))?.[1];
        assert.ok(backup, lines.join('\n'));
        assert.deepEqual(await accountsIn(), ['acc_files']);

        assert.equal(await store('backups'), 0);
        assert.match(lines.join('\n'), new RegExp(`${backup}.*accounts 2`));

        assert.equal(await store('restore', '--backup', backup), 0, lines.join('\n'));
        assert.match(lines.join('\n'), /Restored/);
        const again = await PgStore.open(database.url);
        const restored = await again.dump();
        await again.close();
        assert.deepEqual(restored.accounts, served.accounts);
        assert.deepEqual(restored.audit, served.audit);
        assert.deepEqual(restored.taskLedger, served.taskLedger);
        // What the restore replaced (the moved rows) is kept too, so the undo can be undone.
        const second = /kept in the schema (ccl_backup_[a-z0-9_]+)/.exec(lines.join('\n'))?.[1];
        assert.ok(second && second !== backup, lines.join('\n'));

        // A backup that does not exist, or a name that is not one, is refused with a sentence.
        assert.equal(await store('restore', '--backup', 'ccl_backup_nope'), 2);
        assert.match(lines.join('\n'), /No backup named ccl_backup_nope/);
        assert.equal(await store('restore', '--backup', 'public; DROP TABLE accounts'), 2);
        assert.deepEqual(await accountsIn(), ['acc_live_1', 'acc_live_2']);

        assert.equal(await store('drop-backup', '--backup', second), 0, lines.join('\n'));
        assert.equal(await store('backups'), 0);
        assert.doesNotMatch(lines.join('\n'), new RegExp(second));
        assert.match(lines.join('\n'), new RegExp(backup));
    });
});
