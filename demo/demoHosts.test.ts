// DNS rebinding: a page on an attacker's name that resolves to 127.0.0.1 reaches the demo with its own name as Host.
// The demo serves its API key to its page, so it answers only when the Host is this machine's.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseConfig } from '../server/config.ts';
import { startDemo, type RunningDemo } from './demo.ts';
import { createLogger } from '../server/logger.ts';

/** A request to the demo's socket with the Host header a browser would send for `host`. */
function get(port: number, pathname: string, host: string | undefined): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, path: pathname, headers: host === undefined ? {} : { host } }, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => (body += chunk));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        if (host === undefined) req.removeHeader('host');
        req.end();
    });
}

describe('the demo answers only to its own host names', () => {
    let dataDir: string;
    let demo: RunningDemo;
    let port: number;
    before(async () => {
        dataDir = await mkdtemp(path.join(tmpdir(), 'ccl-demo-hosts-'));
        demo = await startDemo(parseConfig({ PORT: '0', PUBLIC_URL: 'http://localhost:0', DATA_DIR: dataDir, LOG_LEVEL: 'silent' }), {
            emulatorPortBase: 0,
            logger: createLogger('silent')
        });
        port = (demo.backend.server.address() as AddressInfo).port;
    });
    after(async () => {
        await demo.close();
        await rm(dataDir, { recursive: true, force: true });
    });

    test('localhost, 127.0.0.1 and [::1] get the page’s configuration, which never holds the key (the orgs’ credentials do)', async () => {
        for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'LOCALHOST']) {
            const res = await get(port, '/preview/config.json', host);
            assert.equal(res.status, 200, host);
            assert.ok(res.body.includes('"orgs"'), host);
            assert.equal(res.body.includes(demo.account.apiKey), false, host);
        }
    });

    test('any other Host is refused before anything is served: no key, no API, no page', async () => {
        for (const host of [
            'rebind.attacker.example',
            `rebind.attacker.example:${port}`,
            'localhost.attacker.example',
            '127.0.0.1.nip.io',
            '[::2]'
        ])
            for (const pathname of [
                '/preview/config.json',
                '/preview/callout/acme/api/v1/link',
                '/preview/connect/acme/credential',
                '/api/v1/link',
                '/',
                '/healthz',
                '/oauth/start/x'
            ]) {
                const res = await get(port, pathname, host);
                assert.equal(res.status, 403, `${host} ${pathname}: ${res.status}`);
                assert.equal(res.body.includes(demo.account.apiKey), false);
                assert.match(res.body, /HOST_NOT_ALLOWED/);
            }
        // Without a Host at all, Node refuses an HTTP/1.1 request itself.
        const none = await get(port, '/preview/config.json', undefined);
        assert.ok(none.status === 400 || none.status === 403, String(none.status));
        assert.equal(none.body.includes(demo.account.apiKey), false);
    });
});
