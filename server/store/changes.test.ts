import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { noticesArrived } from '../test/changeNotices.ts';
import { openTestStore } from '../test/harness.ts';
import { PG_SKIP } from '../test/pgDatabase.ts';
import { LowdbStore } from './lowdb/store.ts';
import { LISTENER_NAME, ownChange, parseChange } from './pgChanges.ts';
import { PgStore } from './pgStore.ts';
import type { Store, StoreChange } from './store.ts';
import type { AccountRecord, KeptTaskRecord, OAuthLinkRecord } from './types.ts';

const ORG = '00D000000000001AAA';
const USER = '005000000000001AAA';
const API_USER = '00D000000000001|005000000000001';
const account = (id: string): AccountRecord => ({ id, name: id, apiKeyHash: `hash-${id}`, createdAt: '2026-12-01T00:00:00.000Z' });
const link = (accountId: string): OAuthLinkRecord => ({
    accountId,
    method: 'oauth',
    status: 'linked',
    environment: 'production',
    orgId: ORG,
    userId: USER,
    username: 'api@acme.example',
    displayName: 'API',
    instanceUrl: 'https://acme.my.salesforce.com',
    loginUrl: 'https://login.salesforce.com',
    linkedAt: '2026-12-01T00:00:00.000Z',
    refreshToken: { v: 1, iv: 'iv', tag: 'tag', data: `token-${accountId}` }
});
const kept = (accountId: string, callId: string): KeptTaskRecord => ({
    accountId,
    callId,
    orgId: ORG,
    input: { callId, phone: '+14155551212', direction: 'inbound', startedAt: '2026-12-01T00:00:00.000Z' },
    callAt: '2026-12-01T00:00:00.000Z',
    reason: 'api_limit',
    state: 'waiting',
    attempts: 0,
    nextAttemptAt: '2026-12-01T00:00:00.000Z'
});

/** Whether the changes told say that `accountId` (and, when given, the API user's links) may have changed. */
const covers = (changes: StoreChange[], accountId: string, apiUser?: string): boolean =>
    changes.some((c) => 'all' in c || (c.accountId === accountId && (!apiUser || (c.apiUsers ?? []).includes(apiUser))));

async function until(what: string, check: () => Promise<boolean> | boolean, withinMs = 3_000): Promise<number> {
    const started = performance.now();
    while (!(await check())) {
        if (performance.now() - started > withinMs) assert.fail(`${what}: not within ${withinMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return performance.now() - started;
}

for (const kind of ['lowdb', 'postgres'] as const) {
    describe(`store changes: ${kind}`, { skip: kind === 'postgres' && PG_SKIP }, () => {
        let dir: string;
        let store: Store;
        let other: Store;
        let drop: () => Promise<void>;
        let databaseUrl: string | undefined;
        const told: StoreChange[] = [];
        before(async () => {
            dir = await mkdtemp(path.join(tmpdir(), 'ccl-changes-'));
            const opened = await openTestStore(kind, dir);
            store = opened.store;
            drop = opened.drop;
            databaseUrl = opened.database?.url;
            // Another process on the same data: the operator's command on lowdb, another instance on PostgreSQL.
            other = databaseUrl ? await PgStore.open(databaseUrl) : await LowdbStore.open(dir);
            store.changes.subscribe((change) => told.push(change));
            await until('the store watches its changes', () => store.changes.watching());
        });
        after(async () => {
            await other.close();
            await store.close();
            await drop();
            await rm(dir, { recursive: true, force: true });
        });

        test("this process's writes are told when they return: the account, and the API user whose links a link moved", async () => {
            told.length = 0;
            await store.accounts.insert(account('a1'));
            assert.ok(covers(told, 'a1'), `insert: ${JSON.stringify(told)}`);
            told.length = 0;
            await store.accounts.patch('a1', { apiKeyHash: 'rotated' });
            assert.ok(covers(told, 'a1'), 'a key rotated');
            told.length = 0;
            await store.links.put(link('a1'));
            assert.ok(covers(told, 'a1', API_USER), `a link added: ${JSON.stringify(told)}`);
            // PostgreSQL's notices of the writes above come in as well, a moment later.
            await noticesArrived(store, other);
            told.length = 0;
            await store.transaction(async (tx) => {
                await tx.links.patch('a1', { status: 'needs_relink' });
                // Not before COMMIT: a read in between would keep what is about to change.
                assert.equal(told.length, 0, 'told before COMMIT');
            });
            assert.ok(covers(told, 'a1'), 'needs_relink');
            told.length = 0;
            await store.kept.add(kept('a1', 'call-1'));
            assert.ok(covers(told, 'a1'), 'a kept Task');
            told.length = 0;
            await store.links.delete('a1');
            assert.ok(covers(told, 'a1', API_USER), `unlinked: ${JSON.stringify(told)}`);
            told.length = 0;
            await store.ledger.claim('z9|org|call-2', { at: new Date().toISOString(), by: 'me' });
            await store.audit.append({ at: new Date().toISOString(), accountId: 'z9', action: 'link', outcome: 'ok' });
            await new Promise((resolve) => setTimeout(resolve, 50));
            assert.equal(covers(told, 'z9'), false, `the ledger and the audit change nothing a cache holds: ${JSON.stringify(told)}`);
        });

        test("another process's writes are told too", async () => {
            await other.accounts.insert(account('b1'));
            await until('another process inserted an account', async () => (await store.changes.watching()) && covers(told, 'b1'));
            told.length = 0;
            await other.links.put(link('b1'));
            await until('another process linked it', async () => (await store.changes.watching()) && covers(told, 'b1', API_USER));
            told.length = 0;
            await other.accounts.patch('b1', { apiKeyHash: 'b1-rotated' });
            await until('another process rotated its key', async () => (await store.changes.watching()) && covers(told, 'b1'));
            told.length = 0;
            await other.links.patch('b1', { status: 'needs_relink' });
            await until('another process marked it needs_relink', async () => (await store.changes.watching()) && covers(told, 'b1'));
        });

        if (kind === 'postgres')
            test('the listening connection lost: not watching and everything told, then listening again', async () => {
                const admin = new pg.Client({ connectionString: databaseUrl });
                await admin.connect();
                try {
                    told.length = 0;
                    const { rows } = await admin.query<{ n: number }>(
                        'SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()',
                        [LISTENER_NAME]
                    );
                    assert.equal(rows[0]!.n, 1, 'one listening connection to end');
                    await until('the loss is told', () => told.some((c) => 'all' in c));
                    assert.equal(await store.changes.watching(), false, 'not watching without the connection');
                    await until('listening again', () => store.changes.watching());
                    told.length = 0;
                    await other.links.patch('b1', { status: 'linked' });
                    await until('a change after the loss is told', () => covers(told, 'b1'));
                } finally {
                    await admin.end();
                }
            });
    });
}

test("PostgreSQL: a statement's own change names the account only when it cannot move an API user's links", () => {
    assert.deepEqual(ownChange('UPDATE accounts SET doc = doc WHERE id = $1', ['a1', '{}']), { accountId: 'a1' });
    assert.deepEqual(ownChange('INSERT INTO accounts (id, doc) VALUES ($1, $2)', ['a1', '{}']), { accountId: 'a1' });
    assert.deepEqual(ownChange('UPDATE links SET doc = doc WHERE account_id = $1', ['a1', '{"status":"linked"}']), { accountId: 'a1' });
    assert.deepEqual(ownChange('UPDATE links SET doc = doc WHERE account_id = $1', ['a1', '{"orgId":"00D"}']), { all: true });
    assert.deepEqual(ownChange('DELETE FROM links WHERE account_id = $1 RETURNING doc', ['a1']), { all: true });
    assert.deepEqual(ownChange(`WITH held AS (UPDATE kept_tasks SET doc = doc WHERE account_id = $1) SELECT 1`, ['a1']), {
        accountId: 'a1'
    });
    assert.deepEqual(ownChange('DELETE FROM kept_tasks WHERE call_at < $1', ['2026']), { all: true });
    assert.equal(ownChange('INSERT INTO task_ledger (key) VALUES ($1)', ['k']), undefined);
    assert.equal(ownChange('SELECT doc FROM links WHERE account_id = $1 FOR UPDATE', ['a1']), undefined);
    // A notice that does not parse drops everything rather than nothing.
    assert.deepEqual(parseChange('{"accountId":"a1","apiUsers":["o|u"]}'), { accountId: 'a1', apiUsers: ['o|u'] });
    assert.deepEqual(parseChange('not json'), { all: true });
    assert.deepEqual(parseChange('{"accountId":7}'), { all: true });
});
