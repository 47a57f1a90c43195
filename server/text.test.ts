// Text that could drive a terminal or reorder what a person reads: refused where the API takes it, escaped where the
// operator's commands print it, and account names normalised so that the consent page shows one unmistakable name.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Accounts } from './accounts.ts';
import { systemClock } from './clock.ts';
import { runAccountsCommand } from './cli/accounts.ts';
import { runStoreCommand } from './cli/store.ts';
import { generateEncryptionKey } from './crypto.ts';
import { LowdbStore } from './store/lowdb/store.ts';
import { startHarness, type Harness } from './test/harness.ts';

/** Each clears the screen, sets the window title, moves the cursor, or reverses what follows. */
const HOSTILE = [
    'admin@acme.example\u001b[2J\u001b[H',
    'admin@acme.example\u001b]0;owned\u0007',
    'admin@acme.example\u009b2J',
    'admin@acme.example\r\nfake line',
    'moc.elpmaxe\u202e@admin',
    'admin\u2066@acme.example\u2069',
    'admin@acme.example\u0000'
];
const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

describe('control characters where the API takes text', () => {
    let h: Harness;
    before(async () => {
        h = await startHarness();
    });
    after(() => h.close());

    test('the admin named in a link session, an unlink or a verify: 400, and nothing is written', async () => {
        const { id, key } = await h.newAccount('Terminal');
        const before = (await h.store.dump()).audit.length;
        for (const username of HOSTILE) {
            const actor = { userId: '005000000000001AAA', username };
            const session = await h.api(key).post('/api/v1/link-sessions', { environment: 'production', initiatedBy: actor });
            assert.equal(session.status, 400, `${JSON.stringify(username)}: ${session.text}`);
            assert.equal(session.body.error.code, 'VALIDATION_FAILED');
            assert.match(session.body.error.message, /initiatedBy\.username must not hold control characters/);
            assert.equal((await h.api(key).delete('/api/v1/link').send({ actor })).status, 400);
            assert.equal((await h.api(key).post('/api/v1/link/verify', { actor })).status, 400);
        }
        const after = await h.store.dump();
        assert.equal(after.audit.length, before);
        assert.equal(after.linkSessions.filter((s) => s.accountId === id).length, 0);
    });

    test('a login URL, a webhook URL and a Task’s texts; a Task description keeps its line breaks', async () => {
        const { key } = await h.newAccount('Task texts');
        const loginUrl = await h.api(key).post('/api/v1/link-sessions', {
            environment: 'production',
            loginUrl: 'https://acme.my.sales\u202eforce.com'
        });
        assert.equal(loginUrl.status, 400, loginUrl.text);
        const hook = await h.api(key).put('/api/v1/webhook').send({ url: 'https://hooks.example.com/a\u001b[2Jb' });
        assert.equal(hook.status, 400, hook.text);
        for (const body of [
            { subject: 'Call\u001b[2J' },
            { subject: 'Call\nwith a second line' },
            { disposition: 'done\u202e' },
            { description: 'notes\u0007' }
        ]) {
            const res = await h
                .api(key)
                .put('/api/v1/calls/c-1/task')
                .send({ direction: 'inbound', durationSeconds: 1, ...body });
            assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.text}`);
            assert.equal(res.body.error.code, 'VALIDATION_FAILED');
        }
        // Multi-line notes are what a description is for: the body passes validation (this account has no link).
        const notes = await h.api(key).put('/api/v1/calls/c-2/task').send({
            direction: 'inbound',
            durationSeconds: 1,
            description: 'First line\r\nSecond line\tand a tab'
        });
        assert.notEqual(notes.status, 400, notes.text);
    });
});

describe('the operator’s commands print what they did not write escaped', () => {
    let dir: string;
    let env: Record<string, string>;
    const run = async (command: typeof runAccountsCommand, ...args: string[]) => {
        const lines: string[] = [];
        const code = await command(args, env, (line) => lines.push(line));
        return { code, text: lines.join('\n') };
    };
    before(async () => {
        dir = await mkdtemp(path.join(tmpdir(), 'ccl-escape-'));
        env = { DATA_DIR: dir, TOKEN_ENCRYPTION_KEY: generateEncryptionKey(), SF_CLIENT_ID: 'x', SF_CLIENT_SECRET: 'y' };
        // Rows as an older version stored them, before the API refused such text.
        const store = await LowdbStore.open(dir);
        await store.seed({
            accounts: [{ id: 'acc_old', name: 'Old\u202eeman', apiKeyHash: 'h', createdAt: '2026-01-01T00:00:00.000Z' }],
            audit: HOSTILE.map((username, i) => ({
                at: `2026-01-02T00:00:0${i}.000Z`,
                accountId: 'acc_old',
                action: 'link' as const,
                outcome: 'ok',
                username,
                actor: { userId: '005000000000001AAA', username, claimed: true as const },
                detail: username
            }))
        });
        await store.close();
    });
    after(() => rm(dir, { recursive: true, force: true }));

    test('accounts activity and list, as text and as JSON', async () => {
        for (const args of [
            ['activity', '--id', 'acc_old', '--limit', '20'],
            ['activity', '--id', 'acc_old', '--json'],
            ['list'],
            ['list', '--json']
        ]) {
            const { code, text } = await run(runAccountsCommand, ...args);
            assert.equal(code, 0, text);
            assert.doesNotMatch(text, RAW, args.join(' '));
            if (args[0] === 'activity') {
                assert.ok(text.includes('\\u001b[2J'), text);
                assert.ok(text.includes('\\u202e'), text);
                // One line per entry: a carriage return or line feed in the data makes no line of its own.
                if (!args.includes('--json')) assert.equal(text.split('\n').length, HOSTILE.length, text);
            }
        }
        // The JSON stays JSON, and says the same text.
        const json = JSON.parse((await run(runAccountsCommand, 'activity', '--id', 'acc_old', '--json')).text) as {
            entries: Array<{ username: string }>;
        };
        assert.deepEqual(json.entries.map((e) => e.username).sort(), [...HOSTILE].sort());
    });

    test('an unknown id or command is echoed escaped', async () => {
        const unknown = await run(runAccountsCommand, 'activity', '--id', 'acc_\u001b[2J');
        assert.equal(unknown.code, 1);
        assert.doesNotMatch(unknown.text, RAW);
        const store = await run(runStoreCommand, 'no\u001b]0;x\u0007such', '--to', 'postgres://nobody@127.0.0.1:1/x');
        assert.doesNotMatch(store.text, RAW);
    });
});

describe('account names', () => {
    let dir: string;
    let accounts: Accounts;
    let store: LowdbStore;
    before(async () => {
        dir = await mkdtemp(path.join(tmpdir(), 'ccl-names-'));
        store = await LowdbStore.open(dir);
        accounts = new Accounts(store, systemClock);
    });
    after(async () => {
        await store.close();
        await rm(dir, { recursive: true, force: true });
    });

    test('are normalised (NFKC): full-width letters, ligatures and odd spaces become what they look like', async () => {
        assert.equal((await accounts.create('Ａｃｍｅ\u00a0EMEA')).account.name, 'Acme EMEA');
        assert.equal((await accounts.create('  ﬁrst\u2003line  ')).account.name, 'first line');
    });

    test('with control or format characters (bidi, invisible) are refused, and no account is made', async () => {
        const before = (await store.dump()).accounts.length;
        for (const name of [
            'Acme\u202eAMEE',
            'Ac\u200bme',
            'Acme\u2066x\u2069',
            'Acme\u00ad',
            'Acme\u001b[2J',
            'Acme\u009b',
            'Ac\ufeffme',
            'Acme\u2028x'
        ])
            await assert.rejects(accounts.create(name), /control|format|invisible/, JSON.stringify(name));
        assert.equal((await store.dump()).accounts.length, before);
    });
});
