import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { emulatorEnv } from '../demo/emulatorEnv.ts';
import { startEmulator } from '../emulator/index.ts';
import { parseConfig, requireCompleteConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { runServer } from './main.ts';
import { LOWDB_ADVISED_MAX } from './store/lowdb/sizeAdvice.ts';
import { LowdbStore } from './store/lowdb/store.ts';
import { CLIENT, PUBLIC_URL } from './test/harness.ts';

test('the backend says at start that its lowdb store is past the advised size, and not below it', async () => {
    const emulator = await startEmulator({ quiet: true, clients: [{ ...CLIENT, redirectUris: [`${PUBLIC_URL}/oauth/callback`] }] });
    const dataDir = await mkdtemp(path.join(tmpdir(), 'ccl-size-'));
    const config = requireCompleteConfig(
        parseConfig(emulatorEnv(emulator, CLIENT, { PUBLIC_URL, DATA_DIR: dataDir }, { PORT: '0', HEALTH_SWEEP_INTERVAL_SECONDS: '0' }))
    );
    const start = async () => {
        let logged = '';
        const stream = new PassThrough();
        stream.on('data', (chunk: Buffer) => (logged += chunk.toString()));
        const running = await runServer(config, { logger: createLogger('info', stream) });
        await running.close();
        return logged;
    };
    const addAccounts = async (from: number, count: number) => {
        const store = await LowdbStore.open(dataDir);
        await store.seed({
            accounts: Array.from({ length: count }, (_, i) => ({
                id: `acc_${from + i}`,
                name: `Tenant ${from + i}`,
                apiKeyHash: `hash-${from + i}`,
                createdAt: new Date().toISOString()
            }))
        });
        await store.close();
    };
    try {
        await addAccounts(0, LOWDB_ADVISED_MAX.accounts - 1);
        assert.doesNotMatch(await start(), /move it to PostgreSQL/);
        await addAccounts(LOWDB_ADVISED_MAX.accounts - 1, 1);
        const logged = await start();
        assert.match(logged, /"level":40/);
        assert.match(logged, /holds 1,000 accounts .*move it to PostgreSQL/);
        assert.match(logged, /"accounts":1000/);
    } finally {
        await emulator.close();
        await rm(dataDir, { recursive: true, force: true });
    }
});
