// Settings that decide what a deployment may reach and where it may run: private webhook targets only when asked
// for (WEBHOOK_ALLOW_PRIVATE_TARGETS), and no backend on a plain http PUBLIC_URL other than this machine's.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import request from 'supertest';
import { ConfigError, parseConfig, refuseInsecurePublicUrl } from './config.ts';
import { generateEncryptionKey } from './crypto.ts';
import { startHarness } from './test/harness.ts';

const COMPLETE = { SF_CLIENT_ID: 'id', SF_CLIENT_SECRET: 'secret', TOKEN_ENCRYPTION_KEY: generateEncryptionKey() };

describe('WEBHOOK_ALLOW_PRIVATE_TARGETS', () => {
    test('is off unless set, whatever PUBLIC_URL is', () => {
        for (const PUBLIC_URL of ['http://localhost:3000', 'http://127.0.0.1:8080', 'https://ccl.example.com'])
            assert.equal(parseConfig({ ...COMPLETE, PUBLIC_URL }).WEBHOOK_ALLOW_PRIVATE_TARGETS, false, PUBLIC_URL);
        assert.equal(parseConfig({ WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' }).WEBHOOK_ALLOW_PRIVATE_TARGETS, true);
        assert.equal(parseConfig({ WEBHOOK_ALLOW_PRIVATE_TARGETS: 'false' }).WEBHOOK_ALLOW_PRIVATE_TARGETS, false);
        assert.throws(() => parseConfig({ WEBHOOK_ALLOW_PRIVATE_TARGETS: 'sometimes' }), /WEBHOOK_ALLOW_PRIVATE_TARGETS/);
    });

    test('a backend on plain http refuses loopback, private and metadata targets (and http) without it', async () => {
        const h = await startHarness({ env: { PUBLIC_URL: 'http://localhost:3000', WEBHOOK_ALLOW_PRIVATE_TARGETS: 'false' } });
        try {
            const { key } = await h.newAccount('Plain http backend');
            for (const url of [
                'https://127.0.0.1:9/hook',
                'https://10.0.0.8/hook',
                'https://169.254.169.254/latest/meta-data',
                'http://93.184.215.14/hook'
            ]) {
                const res = await h.api(key).put('/api/v1/webhook').send({ url });
                assert.equal(res.status, 400, `${url}: ${res.text}`);
                assert.equal(res.body.error.code, 'VALIDATION_FAILED');
            }
            await h.api(key).get('/api/v1/webhook').expect(404);
        } finally {
            await h.close();
        }
    });

    test('with it set (the demo, the tests), a private http target is accepted', async () => {
        const h = await startHarness({ env: { PUBLIC_URL: 'https://ccl.example.com', WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' } });
        try {
            const { key } = await h.newAccount('Opted in');
            await request(h.app)
                .put('/api/v1/webhook')
                .set('Authorization', `Bearer ${key}`)
                .send({ url: 'http://127.0.0.1:9/hook' })
                .expect(200);
        } finally {
            await h.close();
        }
    });
});

describe('PUBLIC_URL on plain http', () => {
    test('is refused for a backend unless it names this machine (Salesforce takes an http callback only on localhost)', () => {
        for (const url of ['http://ccl.example.com', 'http://10.0.0.5:3000', 'http://ccl.internal:8080', 'http://localhost.example.com'])
            assert.throws(
                () => refuseInsecurePublicUrl(url),
                (error: Error) => error instanceof ConfigError && /PUBLIC_URL/.test(error.message) && /https/.test(error.message),
                url
            );
        for (const url of ['https://ccl.example.com', 'http://localhost:3000', 'http://127.0.0.1:8080', 'http://[::1]:3000'])
            assert.doesNotThrow(() => refuseInsecurePublicUrl(url), url);
    });

    for (const entry of ['server/main.ts', 'server/start.ts'])
        test(`${entry} exits 2 naming it, before opening a store or listening`, () => {
            const dataDir = path.join(tmpdir(), `ccl-never-made-${process.pid}`);
            const result = spawnSync(process.execPath, ['--import', 'tsx', entry], {
                env: { PATH: process.env.PATH, ...COMPLETE, PUBLIC_URL: 'http://ccl.example.com', PORT: '0', DATA_DIR: dataDir },
                encoding: 'utf8',
                timeout: 30_000
            });
            assert.equal(result.status, 2, `${result.stdout}\n${result.stderr}`);
            assert.match(result.stderr, /PUBLIC_URL is http:\/\/ccl\.example\.com/);
            assert.equal(existsSync(dataDir), false, 'no store was opened');
        });
});
