import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { spawnBackend } from './test/spawnBackend.ts';
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
                const env = {
                    PATH: process.env.PATH,
                    PUBLIC_URL: 'https://ccl.example.com',
                    SF_CLIENT_ID: 'id',
                    SF_CLIENT_SECRET: 'secret',
                    TOKEN_ENCRYPTION_KEY: generateEncryptionKey(),
                    DATA_DIR: dataDir,
                    HEALTH_SWEEP_INTERVAL_SECONDS: '0',
                    LOG_LEVEL: 'warn'
                };
                let output = '';
                const server = await spawnBackend(env, {
                    args: [path.join(out, entry)],
                    inheritEnv: false,
                    onOutput: (chunk) => (output += chunk.toString())
                });
                try {
                    const health = await fetch(`${server.url}/healthz`);
                    assert.equal(health.status, 200, `${entry}: ${output}`);
                } finally {
                    const exited =
                        server.child.exitCode !== null
                            ? Promise.resolve(server.child.exitCode)
                            : new Promise<number | null>((resolve) => server.child.once('exit', resolve));
                    server.child.kill('SIGTERM');
                    assert.equal(await exited, 0, `${entry}: ${output}`);
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
