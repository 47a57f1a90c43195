import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { parseConfig } from '../server/config.ts';
import { createLogger } from '../server/logger.ts';
import { startDemo } from './demo.ts';

test('the demo listens on loopback only', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'ccl-demo-'));
    const demo = await startDemo(parseConfig({ PORT: '0', PUBLIC_URL: 'http://localhost:0', DATA_DIR: dataDir, LOG_LEVEL: 'silent' }), {
        emulatorPortBase: 0,
        preview: false,
        logger: createLogger('silent')
    });
    try {
        assert.equal((demo.backend.server.address() as AddressInfo).address, '127.0.0.1');
        assert.equal((await fetch(`${demo.url}/healthz`)).status, 200);
    } finally {
        await demo.close();
        await rm(dataDir, { recursive: true, force: true });
    }
});
