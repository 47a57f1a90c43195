import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { parseConfig } from '../server/config.ts';
import { createLogger } from '../server/logger.ts';
import { createServer } from 'node:http';
import { freePort, startDemo } from './demo.ts';

/** A demo without the preview, quiet, its emulator on free ports. */
const QUIET = () => ({ emulatorPortBase: 0, preview: false, logger: createLogger('silent') });

/** Another listener on a loopback port, as a parallel test's server may hold one. */
async function occupiedPort(): Promise<{ port: number; release: () => Promise<void> }> {
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    return {
        port: (squatter.address() as AddressInfo).port,
        release: () => new Promise<void>((resolve) => squatter.close(() => resolve()))
    };
}

test('the demo listens on loopback only', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'ccl-demo-'));
    const demo = await startDemo(
        parseConfig({ PORT: '0', PUBLIC_URL: 'http://localhost:0', DATA_DIR: dataDir, LOG_LEVEL: 'silent' }),
        QUIET()
    );
    try {
        assert.equal((demo.backend.server.address() as AddressInfo).address, '127.0.0.1');
        assert.equal((await fetch(`${demo.url}/healthz`)).status, 200);
    } finally {
        await demo.close();
        await rm(dataDir, { recursive: true, force: true });
    }
});

test('with PORT=0, a port taken between its pick and the listen is picked again: the demo starts on another one', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'ccl-demo-'));
    // Another listener holds the first port the demo picks.
    const taken = await occupiedPort();
    const picked: number[] = [];
    try {
        const demo = await startDemo(parseConfig({ PORT: '0', PUBLIC_URL: 'http://localhost:0', DATA_DIR: dataDir, LOG_LEVEL: 'silent' }), {
            ...QUIET(),
            pickPort: async () => {
                const port = picked.length === 0 ? taken.port : await freePort();
                picked.push(port);
                return port;
            }
        });
        try {
            assert.equal(picked.length, 2, 'picked again once');
            const port = (demo.backend.server.address() as AddressInfo).port;
            assert.equal(port, picked[1]);
            assert.equal(demo.url, `http://localhost:${port}`, 'PUBLIC_URL names the port it listens on');
            assert.equal((await fetch(`${demo.url}/healthz`)).status, 200);
        } finally {
            await demo.close();
        }
    } finally {
        await taken.release();
        await rm(dataDir, { recursive: true, force: true });
    }
});

test('a PORT that is taken is said at once, not tried again', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'ccl-demo-'));
    const taken = await occupiedPort();
    try {
        await assert.rejects(
            startDemo(
                parseConfig({
                    PORT: String(taken.port),
                    PUBLIC_URL: `http://localhost:${taken.port}`,
                    DATA_DIR: dataDir,
                    LOG_LEVEL: 'silent'
                }),
                QUIET()
            ),
            (error: NodeJS.ErrnoException) => error.code === 'EADDRINUSE'
        );
    } finally {
        await taken.release();
        await rm(dataDir, { recursive: true, force: true });
    }
});
