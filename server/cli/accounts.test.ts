import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runAccountsCommand } from './accounts.ts';
import { generateEncryptionKey } from '../crypto.ts';

describe('npm run accounts', () => {
    let dir: string;
    let env: Record<string, string>;
    const run = async (...args: string[]) => {
        const lines: string[] = [];
        const code = await runAccountsCommand(args, env, (line) => lines.push(line));
        return { code, text: lines.join('\n') };
    };
    const dbText = () => readFile(path.join(dir, 'db.json'), 'utf8').catch(() => '');

    before(async () => {
        dir = await mkdtemp(path.join(tmpdir(), 'ccl-cli-'));
        env = { DATA_DIR: dir, TOKEN_ENCRYPTION_KEY: generateEncryptionKey(), SF_CLIENT_ID: 'x', SF_CLIENT_SECRET: 'y' };
    });
    after(() => rm(dir, { recursive: true, force: true }));

    test('create prints the id and the two scoped keys once; the file holds only their hashes', async () => {
        const { code, text } = await run('create', '--name', 'Acme EMEA');
        assert.equal(code, 0);
        const orgKey = /Org key .*: (ccl_\S+)/.exec(text)?.[1];
        const platformKey = /Platform key .*: (ccl_\S+)/.exec(text)?.[1];
        assert.ok(orgKey && platformKey && orgKey !== platformKey, text);
        assert.match(text, /Created account acc_\S+ \(Acme EMEA\)/);
        assert.equal((await dbText()).includes(orgKey) || (await dbText()).includes(platformKey), false);
    });

    test('activity shows the account’s history newest first, pages with --cursor, and refuses a wrong id, limit or cursor', async () => {
        const created = JSON.parse((await run('create', '--name', 'Audited', '--json')).text) as { id: string };
        await run('rotate-key', '--id', created.id, '--scope', 'platform');
        await run('rotate-key', '--id', created.id);
        const first = await run('activity', '--id', created.id, '--limit', '2');
        assert.equal(first.code, 0, first.text);
        const lines = first.text.split('\n');
        assert.match(lines[0]!, /^\S+Z\tkey_rotated\tok\t-\t-\tlink$/);
        assert.match(lines[1]!, /\tkey_rotated\tok\t-\t-\tplatform$/);
        const cursor = /--cursor (\d+)$/.exec(lines[2]!)?.[1];
        assert.ok(cursor, first.text);
        const rest = JSON.parse((await run('activity', '--id', created.id, '--cursor', cursor, '--json')).text) as {
            entries: Array<{ action: string }>;
            nextCursor?: string;
        };
        assert.deepEqual(
            rest.entries.map((e) => e.action),
            ['account_created']
        );
        assert.equal(rest.nextCursor, undefined);
        for (const [args, message] of [
            [['activity'], /needs --id/],
            [['activity', '--id', 'acc_nope'], /No account has the id acc_nope/],
            [['activity', '--id', created.id, '--limit', '0'], /limit/],
            [['activity', '--id', created.id, '--cursor', 'x'], /cursor/]
        ] as const) {
            const refused = await run(...args);
            assert.equal(refused.code, 1, refused.text);
            assert.match(refused.text, message);
        }
    });

    test('deliveries lists the account’s webhook events with their state, and refuses a wrong id or limit', async () => {
        const created = JSON.parse((await run('create', '--name', 'Hooked', '--json')).text) as { id: string };
        const none = await run('deliveries', '--id', created.id);
        assert.equal(none.code, 0, none.text);
        assert.match(none.text, /No webhook is set/);
        assert.match(none.text, /No webhook events for this account/);
        const { LowdbStore } = await import('../store/lowdb/store.ts');
        const store = await LowdbStore.open(dir);
        try {
            const base = {
                accountId: created.id,
                type: 'link.status_changed' as const,
                data: { accountId: created.id, from: 'linked' as const, to: 'needs_relink' as const }
            };
            await store.outbox.add({
                ...base,
                id: 'ev-1',
                createdAt: '2026-12-01T08:00:00.000Z',
                state: 'delivered',
                attempts: 1,
                nextAttemptAt: '2026-12-01T08:00:00.000Z',
                deliveredAt: '2026-12-01T08:00:01.000Z',
                lastAttempt: { at: '2026-12-01T08:00:01.000Z', status: 204 }
            });
            await store.outbox.add({
                ...base,
                id: 'ev-2',
                createdAt: '2026-12-01T09:00:00.000Z',
                state: 'pending',
                attempts: 2,
                nextAttemptAt: '2026-12-01T09:00:20.000Z',
                lastAttempt: { at: '2026-12-01T09:00:04.000Z', status: 500, error: 'The webhook answered HTTP 500.' }
            });
        } finally {
            await store.close();
        }
        const listed = await run('deliveries', '--id', created.id);
        assert.equal(listed.code, 0, listed.text);
        const lines = listed.text.split('\n');
        assert.match(
            lines[1]!,
            /^2026-12-01T09:00:00.000Z\tev-2\tlinked->needs_relink\tpending\t2 attempts\tnext attempt 2026-12-01T09:00:20.000Z\tThe webhook answered HTTP 500.$/
        );
        assert.match(lines[2]!, /\tev-1\t.*\tdelivered\t1 attempt\tdelivered 2026-12-01T08:00:01.000Z\tHTTP 204$/);
        const json = JSON.parse((await run('deliveries', '--id', created.id, '--limit', '1', '--json')).text) as {
            events: Array<{ id: string }>;
        };
        assert.deepEqual(
            json.events.map((e) => e.id),
            ['ev-2']
        );
        for (const [args, message] of [
            [['deliveries'], /needs --id/],
            [['deliveries', '--id', 'acc_nope'], /No account has the id acc_nope/],
            [['deliveries', '--id', created.id, '--limit', '51'], /limit/],
            [['deliveries', '--id', created.id, '--limit', 'x'], /limit/]
        ] as const) {
            const refused = await run(...args);
            assert.equal(refused.code, 1, refused.text);
            assert.match(refused.text, message);
        }
    });

    test('rotate-key --scope platform issues the platform key; a wrong scope is refused', async () => {
        const created = JSON.parse((await run('create', '--name', 'Rotating', '--json')).text) as { id: string; platformKey: string };
        const rotated = await run('rotate-key', '--id', created.id, '--scope', 'platform', '--json');
        assert.equal(rotated.code, 0, rotated.text);
        const { apiKey, scope } = JSON.parse(rotated.text) as { apiKey: string; scope: string };
        assert.equal(scope, 'platform');
        assert.notEqual(apiKey, created.platformKey);
        const wrong = await run('rotate-key', '--id', created.id, '--scope', 'admin');
        assert.equal(wrong.code, 1);
        assert.match(wrong.text, /--scope must be link .* or platform/);
    });

    test('list shows accounts with their status', async () => {
        const { code, text } = await run('list');
        assert.equal(code, 0);
        assert.match(text, /acc_\S+\tunlinked\t-\tAcme EMEA/);
    });

    test('rotate-key replaces the key', async () => {
        const created = JSON.parse((await run('create', '--name', 'Rotating', '--json')).text) as { id: string; apiKey: string };
        const rotated = JSON.parse((await run('rotate-key', '--id', created.id, '--json')).text) as { apiKey: string };
        assert.notEqual(rotated.apiKey, created.apiKey);
        const missing = await run('rotate-key', '--id', 'acc_nope');
        assert.equal(missing.code, 1);
        assert.match(missing.text, /No account has the id acc_nope/);
    });

    test('wrong input is refused with a clear message and nothing is written', async () => {
        const before = await dbText();
        const file = path.join(dir, 'legacy.json');
        const cases: Array<[string[], RegExp, string?]> = [
            [['create'], /needs --name/],
            [['create', '--name', '   '], /account name is empty/],
            [['rotate-key'], /needs --id/],
            [['import-legacy'], /needs --file/],
            [['import-legacy', '--file', path.join(dir, 'missing.json')], /Could not read/],
            [['import-legacy', '--file', file], /Could not read .* as JSON/, '{"broken"'],
            [
                ['import-legacy', '--file', file],
                /legacy file is not valid: 0.password/,
                '[{"accountId":"acc_x","username":"a@b.c","environment":"production"}]'
            ],
            [
                ['import-legacy', '--file', file],
                /no account has the id acc_missing/,
                '[{"accountId":"acc_missing","username":"a@b.c","password":"p","environment":"production"}]'
            ],
            [
                ['import-legacy', '--file', file],
                /not a Salesforce login host/,
                '[{"accountId":"acc_missing","username":"a@b.c","password":"p","environment":"production","loginUrl":"https://evil.example"}]'
            ]
        ];
        for (const [args, message, content] of cases) {
            if (content !== undefined) await writeFile(file, content);
            const { code, text } = await run(...args);
            assert.equal(code, 1, `${args.join(' ')}: ${text}`);
            assert.match(text, message);
        }
        assert.equal(await dbText(), before);
        assert.equal((await run('frobnicate')).code, 2);
    });

    test('import-legacy without TOKEN_ENCRYPTION_KEY refuses, makes no key of its own and imports nothing', async () => {
        const created = JSON.parse((await run('create', '--name', 'Keyless Co', '--json')).text) as { id: string };
        const file = path.join(dir, 'legacy-keyless.json');
        await writeFile(
            file,
            JSON.stringify([
                { accountId: created.id, username: 'api@keyless.example', password: 'Sup3rSecret!', environment: 'production' }
            ])
        );
        const before = await dbText();
        for (const keyless of [{ DATA_DIR: dir }, { DATA_DIR: dir, SF_CLIENT_ID: 'x', SF_CLIENT_SECRET: 'y' }]) {
            const lines: string[] = [];
            const code = await runAccountsCommand(['import-legacy', '--file', file], keyless, (line) => lines.push(line));
            assert.equal(code, 1);
            assert.match(lines.join('\n'), /needs TOKEN_ENCRYPTION_KEY/);
        }
        assert.equal(await dbText(), before);
        await assert.rejects(readFile(path.join(dir, 'secret.key')), { code: 'ENOENT' });
    });

    test('import-legacy stores the password sealed and shows the link as legacy', async () => {
        const created = JSON.parse((await run('create', '--name', 'Legacy Co', '--json')).text) as { id: string };
        const file = path.join(dir, 'legacy-ok.json');
        await writeFile(
            file,
            JSON.stringify([
                {
                    accountId: created.id,
                    username: 'api@legacy.example',
                    password: 'Sup3rSecret!',
                    securityToken: 'TOK123456789',
                    environment: 'sandbox'
                }
            ])
        );
        const { code, text } = await run('import-legacy', '--file', file);
        assert.equal(code, 0, text);
        assert.match(text, /Imported 1 legacy link/);
        const db = await dbText();
        assert.equal(db.includes('Sup3rSecret!') || db.includes('TOK123456789'), false);
        assert.match((await run('list')).text, new RegExp(`${created.id}\\tlegacy\\tapi@legacy.example`));
    });
});
