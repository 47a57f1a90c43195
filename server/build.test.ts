import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { freePort } from './test/cluster.ts';
import { generateEncryptionKey } from './crypto.ts';

const run = promisify(execFile);

test(
    'npm run build compiles the backend alone, and node runs it without tsx, from its own entry and from npm start',
    { timeout: 120_000 },
    async () => {
        // Inside the repository (test-results/ is ignored), so the output finds node_modules as dist/ would.
        await mkdir('test-results', { recursive: true });
        const out = path.resolve(await mkdtemp(path.join('test-results', 'build-')));
        const dataDir = await mkdtemp(path.join(tmpdir(), 'ccl-build-data-'));
        try {
            await run(process.execPath, [
                'node_modules/typescript/bin/tsc',
                '-p',
                'tsconfig.build.json',
                '--outDir',
                out,
                '--tsBuildInfoFile',
                path.join(out, '.tsbuildinfo')
            ]);
            assert.ok(existsSync(path.join(out, 'server/main.js')));
            // The demo's parts (the emulator, the preview's build) are not in the production output.
            assert.ok(!existsSync(path.join(out, 'emulator')) && !existsSync(path.join(out, 'preview')));
            // Of demo/, only npm start's launcher is compiled; the demo itself runs from the sources.
            assert.ok(existsSync(path.join(out, 'demo/start.js')) && !existsSync(path.join(out, 'demo/demo.js')));

            // The deployment's own command, and npm start's launcher, which hands a configured environment to the same compiled backend.
            for (const entry of ['server/start.js', 'demo/start.js']) {
                const port = await freePort();
                const env = {
                    PATH: process.env.PATH,
                    PORT: String(port),
                    PUBLIC_URL: 'https://ccl.example.com',
                    SF_CLIENT_ID: 'id',
                    SF_CLIENT_SECRET: 'secret',
                    TOKEN_ENCRYPTION_KEY: generateEncryptionKey(),
                    DATA_DIR: dataDir,
                    HEALTH_SWEEP_INTERVAL_SECONDS: '0',
                    LOG_LEVEL: 'warn'
                };
                const server = spawn(process.execPath, [path.join(out, entry)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
                let stderr = '';
                server.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
                try {
                    let health: Response | undefined;
                    for (let i = 0; i < 100 && !health; i++) {
                        health = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
                        if (!health) await new Promise((resolve) => setTimeout(resolve, 100));
                    }
                    assert.equal(health?.status, 200, `${entry}: ${stderr}`);
                } finally {
                    const exited =
                        server.exitCode !== null
                            ? Promise.resolve(server.exitCode)
                            : new Promise<number | null>((resolve) => server.once('exit', resolve));
                    server.kill('SIGTERM');
                    assert.equal(await exited, 0, `${entry}: ${stderr}`);
                }
            }

            const cli = await run(process.execPath, [path.join(out, 'server/cli/accounts.js'), 'list'], {
                env: { PATH: process.env.PATH, DATA_DIR: dataDir }
            });
            assert.match(cli.stdout, /No accounts yet/);
        } finally {
            await rm(out, { recursive: true, force: true });
            await rm(dataDir, { recursive: true, force: true });
        }
    }
);
