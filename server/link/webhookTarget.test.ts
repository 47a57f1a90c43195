import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import request from 'supertest';
import { LinkEvents } from './events.ts';
import { isPublicAddress } from './webhookTarget.ts';
import { Webhooks } from './webhooks.ts';
import { createLogger } from '../logger.ts';
import { startHarness } from '../test/harness.ts';

test('public addresses only: loopback, private, link-local, metadata, reserved and mapped forms are not', () => {
    for (const inner of [
        '127.0.0.1',
        '10.1.2.3',
        '172.16.0.1',
        '192.168.1.1',
        '169.254.169.254',
        '100.64.0.1',
        '0.0.0.0',
        '224.0.0.1',
        '255.255.255.255',
        '::1',
        '::',
        'fe80::1',
        'fd00:ec2::254',
        'fc00::1',
        '::ffff:127.0.0.1',
        '::ffff:169.254.169.254',
        '64:ff9b::a9fe:a9fe',
        'not an address'
    ]) {
        assert.equal(isPublicAddress(inner), false, inner);
    }
    for (const outer of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8'])
        assert.equal(isPublicAddress(outer), true, outer);
});

test('a webhook url that reaches an inner address is refused when it is set', async () => {
    const h = await startHarness({ env: { PUBLIC_URL: 'https://ccl.example.com', WEBHOOK_ALLOW_PRIVATE_TARGETS: 'false' } });
    try {
        const { key } = await h.newAccount('Hooks');
        for (const url of [
            'https://127.0.0.1/hook',
            'https://10.0.0.8/hook',
            'https://169.254.169.254/latest/meta-data',
            'https://[::1]/hook',
            'https://[fd00::1]/hook',
            'https://localhost/hook',
            'https://0x7f000001/hook'
        ]) {
            const res = await request(h.app).put('/api/v1/webhook').set('Authorization', `Bearer ${key}`).send({ url }).expect(400);
            assert.match(res.body.error.message, /public address/, url);
        }
        await request(h.app).get('/api/v1/webhook').set('Authorization', `Bearer ${key}`).expect(404);
    } finally {
        await h.close();
    }
});

test('a name that resolves to a public address when set and to an inner one when delivered is not delivered', async () => {
    const h = await startHarness({ env: { PUBLIC_URL: 'https://ccl.example.com', WEBHOOK_ALLOW_PRIVATE_TARGETS: 'false' } });
    let connections = 0;
    const inner = createServer((_req, res) => res.end()).on('connection', () => connections++);
    await new Promise<void>((resolve) => inner.listen(0, '127.0.0.1', resolve));
    try {
        const port = (inner.address() as AddressInfo).port;
        // DNS rebinding: public answers first, then the machine's own address.
        const answers = [['93.184.216.34'], ['93.184.216.34']];
        const resolve = () => Promise.resolve(answers.shift() ?? ['127.0.0.1']);
        const events = new LinkEvents();
        const webhooks = new Webhooks(h.services.store, h.services.cipher, h.clock, createLogger('silent'), events, {
            allowHttp: false,
            allowPrivateNetworks: false,
            retryDelayMs: 1,
            resolve
        });
        const { id } = await h.newAccount('Rebound');
        // "localhost" lies at set time; left to the system resolver, the socket would reach this machine.
        await webhooks.set(id, `https://localhost:${port}/ccl`);
        events.statusChanged({
            accountId: id,
            from: 'linked',
            to: 'needs_relink',
            at: new Date().toISOString(),
            orgId: '00D000000000001',
            username: 'api@acme.example'
        });
        await webhooks.settle();
        assert.equal(connections, 0, 'no connection was made to the inner address');
    } finally {
        inner.close();
        await h.close();
    }
});
