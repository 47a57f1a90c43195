// Webhook targets: global unicast only, with an IPv4 address carried inside an IPv6 one judged as that IPv4 address.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import request from 'supertest';
import { embeddedIPv4, isPublicAddress } from './webhookTarget.ts';
import { startHarness } from '../test/harness.ts';

describe('the address check', () => {
    test('IPv6 forms that carry an inner IPv4 address are refused: IPv4-compatible, translated, 6to4, Teredo, NAT64', () => {
        for (const inner of [
            '::7f00:1', // IPv4-compatible 127.0.0.1
            '::a9fe:a9fe', // IPv4-compatible 169.254.169.254
            '::ffff:0:7f00:1', // ::ffff:0:0/96 (SIIT) 127.0.0.1
            '2002:7f00:1::', // 6to4 of 127.0.0.1
            '2002:a00:8::1', // 6to4 of 10.0.0.8
            '2001:0:4136:e378:8000:63bf:80ff:fffe', // Teredo: client 127.0.0.1 (stored inverted)
            '2001::1', // anything else in Teredo's 2001::/32
            '64:ff9b::7f00:1', // NAT64 of 127.0.0.1
            '64:ff9b:1::a00:1' // local-use NAT64
        ])
            assert.equal(isPublicAddress(inner), false, inner);
    });

    test('only global unicast IPv6: nothing outside 2000::/3, no tunnel or special range inside it', () => {
        for (const inner of ['::2:3:4', '100::1', '5f00::1', '2001:db8::1', '3fff::1', 'fec0::1', '2002:808:808::1', '2001:2::1'])
            assert.equal(isPublicAddress(inner), false, inner);
        for (const outer of ['2606:4700:4700::1111', '2a00:1450:4001:80b::200e', '::ffff:8.8.8.8', '::ffff:808:808', '8.8.8.8'])
            assert.equal(isPublicAddress(outer), true, outer);
    });

    test('the IPv4 address inside is decoded, to name it', () => {
        assert.equal(embeddedIPv4('::7f00:1'), '127.0.0.1');
        assert.equal(embeddedIPv4('::ffff:0:7f00:1'), '127.0.0.1');
        assert.equal(embeddedIPv4('::ffff:a9fe:a9fe'), '169.254.169.254');
        assert.equal(embeddedIPv4('2002:7f00:1::'), '127.0.0.1');
        assert.equal(embeddedIPv4('2001:0:4136:e378:8000:63bf:80ff:fffe'), '127.0.0.1');
        assert.equal(embeddedIPv4('64:ff9b::a00:8'), '10.0.0.8');
        assert.equal(embeddedIPv4('2606:4700:4700::1111'), undefined);
        assert.equal(embeddedIPv4('10.0.0.8'), undefined);
    });

    test('a webhook url on those forms is refused with a 400 that names the inner address, and nothing is stored', async () => {
        const h = await startHarness({ env: { PUBLIC_URL: 'https://ccl.example.com', WEBHOOK_ALLOW_PRIVATE_TARGETS: 'false' } });
        try {
            const { key } = await h.newAccount('Embedded');
            for (const [url, named] of [
                ['https://[::7f00:1]/hook', '127.0.0.1'],
                ['https://[::ffff:0:7f00:1]/hook', '127.0.0.1'],
                ['https://[2002:7f00:1::]/hook', '127.0.0.1'],
                ['https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/hook', '127.0.0.1'],
                ['https://[::ffff:169.254.169.254]/latest/meta-data', '169.254.169.254']
            ] as const) {
                const res = await request(h.app).put('/api/v1/webhook').set('Authorization', `Bearer ${key}`).send({ url });
                assert.equal(res.status, 400, `${url}: ${res.text}`);
                assert.equal(res.body.error.code, 'VALIDATION_FAILED');
                assert.ok(res.body.error.message.includes(named), `${url}: ${res.body.error.message}`);
            }
            await request(h.app).get('/api/v1/webhook').set('Authorization', `Bearer ${key}`).expect(404);
        } finally {
            await h.close();
        }
    });
});
