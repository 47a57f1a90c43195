import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { runAccountsCommand } from './cli/accounts.ts';
import { generateEncryptionKey, TokenCipher, type Sealed, type SealedV1 } from './crypto.ts';
import { createSalesforceGateway, SalesforceError } from './salesforce/gateway.ts';
import { LowdbStore } from './store/lowdb/store.ts';

const REFRESH = { purpose: 'refresh_token', owner: 'acc_one' } as const;

/** A value in the first format, as the backend sealed it before key ids: no key id, no additional data. */
function sealV1(base64Key: string, plaintext: string): SealedV1 {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', Buffer.from(base64Key, 'base64'), iv);
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return { v: 1, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') };
}

describe('sealed values', () => {
    test('name their key and open only as what they are and whose they are', () => {
        const cipher = new TokenCipher(generateEncryptionKey());
        const sealed = cipher.seal('5Aep861refresh', REFRESH);
        assert.equal(sealed.v, 2);
        assert.equal(sealed.kid, cipher.currentKeyId);
        assert.equal(cipher.open(sealed, REFRESH), '5Aep861refresh');
        // Copied to another account, or into another field, it does not open.
        assert.throws(() => cipher.open(sealed, { purpose: 'refresh_token', owner: 'acc_two' }));
        assert.throws(() => cipher.open(sealed, { purpose: 'webhook_secret', owner: 'acc_one' }));
    });

    test('refuse a shortened authentication tag, in either format', () => {
        const key = generateEncryptionKey();
        const cipher = new TokenCipher(key);
        const v2 = cipher.seal('secret', REFRESH);
        const v1 = sealV1(key, 'secret');
        assert.equal(cipher.open(v1, REFRESH), 'secret');
        for (const sealed of [v2, v1] as Sealed[]) {
            for (const bytes of [4, 8, 12, 15]) {
                const truncated = { ...sealed, tag: Buffer.from(sealed.tag, 'base64').subarray(0, bytes).toString('base64') };
                assert.throws(() => cipher.open(truncated, REFRESH), /shortened authentication tag/);
            }
        }
    });

    test('rotate: the new key seals, the old keys still open, a missing key is named', () => {
        const oldKey = generateEncryptionKey();
        const newKey = generateEncryptionKey();
        const before = new TokenCipher(oldKey).seal('secret', REFRESH);
        const rotated = new TokenCipher(`${newKey},${oldKey}`);
        assert.equal(rotated.open(before, REFRESH), 'secret');
        assert.ok(rotated.isStale(before));
        const after = rotated.reseal(before, REFRESH);
        assert.equal(after.kid, rotated.currentKeyId);
        assert.ok(!rotated.isStale(after));
        assert.equal(new TokenCipher(newKey).open(after, REFRESH), 'secret');
        assert.throws(() => new TokenCipher(newKey).open(before, REFRESH), new RegExp(`needs the key ${before.kid}`));
        assert.throws(() => new TokenCipher('short'), /32 bytes/);
    });

    test('npm run accounts -- reseal seals every stored secret with the current key, all or nothing', async () => {
        const dir = await mkdtemp(path.join(tmpdir(), 'ccl-reseal-'));
        try {
            const oldKey = generateEncryptionKey();
            const newKey = generateEncryptionKey();
            const old = new TokenCipher(oldKey);
            const store = await LowdbStore.open(dir);
            await store.seed({
                accounts: [
                    {
                        id: 'acc_one',
                        name: 'One',
                        apiKeyHash: 'h1',
                        createdAt: '2026-01-01T00:00:00.000Z',
                        webhook: {
                            url: 'https://hooks.example/a',
                            secret: old.seal('whsec_a', { purpose: 'webhook_secret', owner: 'acc_one' }),
                            createdAt: '2026-01-01T00:00:00.000Z'
                        }
                    }
                ],
                links: [
                    {
                        accountId: 'acc_one',
                        method: 'oauth',
                        status: 'linked',
                        environment: 'production',
                        orgId: '00D000000000001AAA',
                        userId: '005000000000001AAA',
                        username: 'api@one.example',
                        displayName: 'API',
                        instanceUrl: 'https://one.my.salesforce.com',
                        loginUrl: 'https://login.salesforce.com',
                        linkedAt: '2026-01-01T00:00:00.000Z',
                        refreshToken: sealV1(oldKey, 'refresh-one')
                    }
                ]
            });
            await store.close();
            const lines: string[] = [];
            const run = (env: Record<string, string>) =>
                runAccountsCommand(['reseal'], { DATA_DIR: dir, ...env }, (line) => lines.push(line));

            // Without the old key the v1 value cannot be opened: refused, nothing changed.
            assert.equal(await run({ TOKEN_ENCRYPTION_KEY: newKey }), 1);
            assert.match(lines.join('\n'), /RESEAL|Could not open the refresh token of acc_one/);

            assert.equal(await run({ TOKEN_ENCRYPTION_KEY: `${newKey},${oldKey}` }), 0);
            assert.match(lines.at(-1)!, /Sealed 2 of 2 stored secrets/);
            const reopened = await LowdbStore.open(dir);
            const current = new TokenCipher(newKey);
            const { link, hook } = ((db) => ({ link: db.links[0]!, hook: db.accounts[0]!.webhook! }))(await reopened.dump());
            assert.equal(current.open(link.refreshToken!, REFRESH), 'refresh-one');
            assert.equal(current.open(hook.secret, { purpose: 'webhook_secret', owner: 'acc_one' }), 'whsec_a');
            assert.ok(!current.isStale(link.refreshToken!) && !current.isStale(hook.secret));
            await reopened.close();
            assert.equal(await run({ TOKEN_ENCRYPTION_KEY: newKey }), 0);
            assert.match(lines.at(-1)!, /Sealed 0 of 2/);
        } finally {
            await rm(dir, { recursive: true, force: true });
        }
    });
});

test('a stored login URL off the login host rules gets no refresh token and no client secret', async () => {
    const gateway = createSalesforceGateway({
        clientId: 'client',
        clientSecret: 'secret',
        redirectUri: 'https://ccl.example.com/oauth/callback',
        apiVersion: '62.0',
        timeoutMs: 2000,
        hosts: { productionUrl: 'https://login.salesforce.com', sandboxUrl: 'https://test.salesforce.com', allowedOrigins: [] }
    });
    // Refused by our own check, before any request (a request would fail with a network error, not this code).
    for (const loginUrl of ['https://evil.example', 'http://login.salesforce.com', 'https://login.salesforce.com.evil.example']) {
        await assert.rejects(
            gateway.refresh(loginUrl, 'refresh'),
            (error: unknown) => error instanceof SalesforceError && error.code === 'LOGIN_HOST_NOT_ALLOWED'
        );
        await assert.rejects(
            gateway.revoke(loginUrl, 'refresh'),
            (error: unknown) => error instanceof SalesforceError && error.code === 'LOGIN_HOST_NOT_ALLOWED'
        );
        await assert.rejects(
            gateway.exchangeCode(loginUrl, 'code', 'verifier'),
            (error: unknown) => error instanceof SalesforceError && error.code === 'LOGIN_HOST_NOT_ALLOWED'
        );
    }
});
