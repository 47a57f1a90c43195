// Node.js lines: the backend admits the maintained LTS lines only (package.json engines) and says so at start on any other.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { generateEncryptionKey } from './crypto.ts';
import { MAINTAINED_NODE_LINES, unmaintainedNode } from './runtime.ts';

const DAY = new Date('2026-12-06T00:00:00Z');

describe('the Node.js runtime', () => {
    test('Node 20, odd-numbered lines and lines past their end of life are unmaintained; the LTS lines in force are not', () => {
        for (const version of ['v20.20.2', 'v18.20.8', 'v23.11.1', 'v25.9.0', 'v27.0.0']) {
            const said = unmaintainedNode(version, DAY);
            assert.ok(said, version);
            assert.match(said, new RegExp(`Node\\.js ${version.replace(/\./g, '\\.')} is not a maintained LTS line`));
            assert.match(said, /22 \(until 2027-04-30\), 24 \(until 2028-04-30\), 26 \(until 2029-04-30\)/);
        }
        for (const version of ['v22.12.0', 'v24.1.0', 'v26.10.0']) assert.equal(unmaintainedNode(version, DAY), undefined, version);
        // A line in force today says so once its end of life has passed.
        assert.match(unmaintainedNode('v22.23.3', new Date('2027-05-01T00:00:00Z')) ?? '', /Node 22 reached its end of life on 2027-04-30/);
    });

    test('package.json admits exactly those lines', async () => {
        const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { engines: { node: string } };
        assert.equal(
            pkg.engines.node,
            Object.keys(MAINTAINED_NODE_LINES)
                .map((major) => `^${major}`)
                .join(' || ')
        );
    });

    test('the backend says so in its log at start, on this machine’s Node as on any', async () => {
        const dataDir = await mkdtemp(path.join(tmpdir(), 'ccl-node-'));
        const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
            env: {
                PATH: process.env.PATH,
                SF_CLIENT_ID: 'id',
                SF_CLIENT_SECRET: 'secret',
                TOKEN_ENCRYPTION_KEY: generateEncryptionKey(),
                PUBLIC_URL: 'http://localhost:3000',
                PORT: '0',
                DATA_DIR: dataDir,
                HEALTH_SWEEP_INTERVAL_SECONDS: '0'
            },
            stdio: ['ignore', 'pipe', 'pipe']
        });
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
        try {
            await new Promise<void>((resolve, reject) => {
                const timer = setTimeout(() => reject(new Error(`no start within 30 s:\n${out}`)), 30_000);
                child.stdout.on('data', () => {
                    if (out.includes('backend listening')) {
                        clearTimeout(timer);
                        resolve();
                    }
                });
                child.once('exit', (code) => reject(new Error(`exited ${code}:\n${out}`)));
            });
        } finally {
            child.kill('SIGTERM');
            await new Promise((resolve) => child.once('close', resolve));
            await rm(dataDir, { recursive: true, force: true });
        }
        const expected = unmaintainedNode(process.version);
        const warned = out.split('\n').find((line) => line.includes('is not a maintained LTS line'));
        if (expected) {
            assert.ok(warned, out);
            assert.equal((JSON.parse(warned) as { level: number; msg: string }).level, 40);
        } else assert.equal(warned, undefined, out);
    });
});
