import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { DEFAULT_FAILED_AUTH_POLICY, FailedAuthLimiter, addressKey } from '../../http/abuse.ts';
import { confirmPopup, PEOPLE, startHarness, type Harness } from '../harness.ts';
import { report } from '../reliabilityHarness.ts';

const timed = async (req: request.Test): Promise<{ res: request.Response; ms: number }> => {
    const started = performance.now();
    const res = await req;
    return { res, ms: performance.now() - started };
};

describe('repeated wrong API keys from one address', () => {
    let h: Harness;
    let key: string;
    before(async () => {
        // Behind a proxy on this machine that names the client in X-Forwarded-For.
        h = await startHarness({ env: { TRUST_PROXY: 'loopback' }, failedAuth: DEFAULT_FAILED_AUTH_POLICY });
        key = (await h.newAccount('Abuse')).key;
    });
    after(() => h.close());

    const from = (address: string, bearer: string) =>
        request(h.app).get('/api/v1/link').set('X-Forwarded-For', address).set('Authorization', `Bearer ${bearer}`);

    test('are answered at once, then slowed, then refused with 429 and Retry-After; valid keys never wait', async (t) => {
        const attacker = '203.0.113.7';
        const { freeFailures, blockAfter, delayStepMs } = DEFAULT_FAILED_AUTH_POLICY;

        // The free failures: 401 at once.
        const free: number[] = [];
        for (let i = 0; i < freeFailures; i++) {
            const { res, ms } = await timed(from(attacker, `ccl_wrong_${i}`));
            assert.equal(res.status, 401);
            free.push(ms);
        }
        // The next ones are held, longer and longer (sent together, so the test waits for the longest only).
        const slowed = await Promise.all(
            Array.from({ length: blockAfter - freeFailures - 1 }, (_, i) => timed(from(attacker, `ccl_slow_${i}`)))
        );
        assert.ok(slowed.every(({ res }) => res.status === 401 && res.body.error.code === 'UNAUTHORIZED'));
        const waits = slowed.map(({ ms }) => ms).sort((a, b) => a - b);
        assert.ok(waits[0]! >= delayStepMs * 0.9, `the first slowed failure waited ${waits[0]!.toFixed(0)} ms`);
        assert.ok(
            waits.at(-1)! >= DEFAULT_FAILED_AUTH_POLICY.maxDelayMs * 0.9,
            `the last slowed failure waited ${waits.at(-1)!.toFixed(0)} ms`
        );
        assert.ok(Math.max(...free) < waits[0]!, `free failures took ${free.map((ms) => ms.toFixed(0)).join(', ')} ms`);
        /** Anything the limiter holds is held at least this long by now. */
        const held = DEFAULT_FAILED_AUTH_POLICY.maxDelayMs / 2;

        // Meanwhile a valid key from the same address is answered at once.
        const valid = await timed(from(attacker, key));
        assert.equal(valid.res.status, 200);
        assert.ok(valid.ms < held, `a valid key waited ${valid.ms.toFixed(0)} ms`);

        // The last allowed failure refuses the address.
        const refused = await from(attacker, 'ccl_wrong_last').expect(429);
        assert.equal(refused.body.error.code, 'TOO_MANY_FAILED_AUTHENTICATIONS');
        assert.match(refused.body.error.message, /Named Credential/);
        const retryAfter = Number(refused.headers['retry-after']);
        assert.ok(
            retryAfter > 0 && retryAfter <= DEFAULT_FAILED_AUTH_POLICY.blockMs / 1000,
            `Retry-After ${refused.headers['retry-after']}`
        );
        assert.doesNotMatch(refused.text, /ccl_wrong/);
        // A missing or malformed header counts as a failure too, and is refused as well.
        await request(h.app).get('/api/v1/link').set('X-Forwarded-For', attacker).expect(429);

        // A valid key from the refused address still works, at once, and does not lift the refusal.
        const stillValid = await timed(from(attacker, key));
        assert.equal(stillValid.res.status, 200);
        assert.equal(stillValid.res.body.status, 'unlinked');
        assert.ok(stillValid.ms < held);
        await from(attacker, 'ccl_wrong_again').expect(429);

        // Other addresses are counted apart: a neighbour's wrong key is a plain 401, at once.
        const neighbour = await timed(from('198.51.100.9', 'ccl_typo'));
        assert.equal(neighbour.res.status, 401);
        assert.ok(neighbour.ms < held);
        // …and a valid key from a third address resets nobody.
        await from('192.0.2.44', key).expect(200);
        await from(attacker, 'ccl_wrong_after_valid').expect(429);
        assert.equal(await h.services.failedAuth.failures('198.51.100.9'), 1);

        // When the refusal ends, the address starts from zero.
        h.clock.advance(DEFAULT_FAILED_AUTH_POLICY.blockMs + 1000);
        try {
            const { res, ms } = await timed(from(attacker, 'ccl_wrong_later'));
            assert.equal(res.status, 401);
            assert.ok(ms < held);
        } finally {
            h.clock.advance(-(DEFAULT_FAILED_AUTH_POLICY.blockMs + 1000));
        }
        report(t, 'abuse-wrong-keys', {
            wrongKeys: blockAfter + 4,
            slowed: slowed.length,
            longestWaitMs: Math.round(waits.at(-1)!),
            refusedWith: 429,
            retryAfterSeconds: retryAfter,
            validKeyMs: Math.round(stillValid.ms)
        });
    });
});

test('the failed-authentication limiter: IPv6 by /64, windows, a bounded memory', async () => {
    assert.equal(addressKey('2001:db8:1:2::1'), addressKey('2001:0db8:0001:0002:ffff::9'));
    assert.notEqual(addressKey('2001:db8:1:2::1'), addressKey('2001:db8:1:3::1'));
    assert.equal(addressKey('::ffff:203.0.113.7'), '203.0.113.7');

    let now = 0;
    const limiter = new FailedAuthLimiter({ ...DEFAULT_FAILED_AUTH_POLICY, maxAddresses: 100 }, () => now);
    for (let i = 0; i < 5; i++) assert.deepEqual(await limiter.fail('203.0.113.1'), { refuseForMs: 0, delayMs: 0 });
    assert.deepEqual(await limiter.fail('203.0.113.1'), { refuseForMs: 0, delayMs: 250 });
    // A window later the count starts again.
    now += DEFAULT_FAILED_AUTH_POLICY.windowMs;
    assert.deepEqual(await limiter.fail('203.0.113.1'), { refuseForMs: 0, delayMs: 0 });
    // The machine itself is counted like any address: a proxy that names nobody must not wave everyone through.
    for (let i = 0; i < 19; i++) await limiter.fail('127.0.0.1');
    assert.ok((await limiter.fail('127.0.0.1')).refuseForMs > 0);
    // A flood of addresses never grows the memory past its bound.
    for (let i = 0; i < 1000; i++) await limiter.fail(`10.0.${i >> 8}.${i & 255}`);
    const size = await limiter.size();
    assert.ok(size <= 100, `${size} addresses remembered`);
});

describe('the popup pages', () => {
    let h: Harness;
    before(async () => {
        h = await startHarness();
    });
    after(() => h.close());

    const strictCsp = (header: string | undefined) => {
        assert.ok(header, 'a Content-Security-Policy');
        const directives = new Map(
            header
                .split(';')
                .map((d) => d.trim().split(/\s+/))
                .map(([name, ...values]) => [name!, values])
        );
        assert.deepEqual(directives.get('frame-ancestors'), ["'none'"]);
        assert.deepEqual(directives.get('default-src'), ["'self'"]);
        assert.deepEqual(directives.get('object-src'), ["'none'"]);
        assert.deepEqual(directives.get('base-uri'), ["'self'"]);
        assert.deepEqual(directives.get('form-action'), ["'self'"]);
        const script = directives.get('script-src') ?? [];
        assert.ok(
            script.some((v) => /^'nonce-[A-Za-z0-9+/=]{16,}'$/.test(v)),
            `script-src ${script.join(' ')}`
        );
        assert.ok(!header.includes('unsafe-inline') && !header.includes('unsafe-eval'), header);
        return script.find((v) => v.startsWith("'nonce-"))!.slice(7, -1);
    };

    test('send frame-ancestors none and a strict CSP with a fresh nonce, and are never cached', async () => {
        const { key } = await h.newAccount('Pages');
        const { callback } = await h.link(key, PEOPLE.acmeApi);
        const errorPage = await request(h.app).get('/oauth/callback?state=nothing');
        const startPage = await request(h.app).get('/oauth/start/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
        const nonces = new Set<string>();
        for (const page of [callback, errorPage, startPage]) {
            const nonce = strictCsp(page.headers['content-security-policy']);
            nonces.add(nonce);
            assert.equal(page.headers['x-frame-options'], 'DENY', 'as frame-ancestors says, for browsers that read only this header');
            assert.equal(page.headers['cache-control'], 'no-store');
            assert.equal(page.headers['x-content-type-options'], 'nosniff');
            // Every inline script and style carries the response's nonce.
            for (const tag of page.text.match(/<(script|style)\b[^>]*>/g) ?? [])
                assert.match(tag, new RegExp(`nonce="${nonce.replace(/[+/=]/g, '\\$&')}"`));
        }
        assert.equal(nonces.size, 3, 'each page has its own nonce');
        // JSON answers are never a document either.
        const api = await h.api(key).get('/api/v1/link').expect(200);
        assert.equal(api.headers['content-security-policy'], "default-src 'none'; frame-ancestors 'none'");
        assert.equal(api.headers['x-frame-options'], 'DENY');
    });

    test('the callback escapes everything Salesforce sends back', async (t) => {
        const { key } = await h.newAccount('Hostile Salesforce');
        const hostile = [
            `<script>alert(1)</script>`,
            `"><img src=x onerror=alert(2)>`,
            `'-alert(3)-'`,
            '`${alert(4)}`',
            `</p><iframe src=javascript:alert(5)>`,
            `&lt;script&gt;alert(6)&lt;/script&gt;`,
            `</script><script>alert(7)</script>`,
            `\u2028\u2029<svg onload=alert(8)>`
        ];
        let pages = 0;
        for (const description of hostile) {
            const created = await h.api(key).post('/api/v1/link-sessions', { environment: 'production' }).expect(201);
            const start = await confirmPopup(h.app, `/oauth/start/${created.body.id}`);
            const state = new URL(start.headers.location!).searchParams.get('state')!;
            const cookie = (start.headers['set-cookie'] as unknown as string[]).map((c) => c.split(';')[0]).join('; ');
            const page = await request(h.app)
                .get('/oauth/callback')
                .query({ state, error: `invalid_request<b onmouseover=alert(0)>`, error_description: description })
                .set('Cookie', cookie);
            assert.equal(page.status, 400);
            assert.match(page.headers['content-type']!, /text\/html/);
            const body = page.text.replace(/<script nonce="[^"]+">[\s\S]*?<\/script>/, '');
            assert.doesNotMatch(
                body,
                /<(?!\/?(?:html|head|meta|title|style|body|main|h1|p|code)\b)[a-z]/i,
                `an injected tag in ${JSON.stringify(description)}`
            );
            // Attributes cannot be opened either: every quote, equals sign and angle bracket is an entity.
            assert.doesNotMatch(page.text, /on(?:error|load|mouseover)\s*=/);
            // The only script is ours: one, with the nonce, and no Salesforce text in it.
            const scripts = page.text.match(/<script\b[\s\S]*?<\/script>/g) ?? [];
            assert.ok(scripts.length <= 1);
            for (const script of scripts) assert.doesNotMatch(script, /alert/);
            pages++;
        }
        report(t, 'abuse-callback-escaping', { hostileDescriptions: pages, injected: 0 });
    });

    test('link sessions per account are capped', async () => {
        const { key } = await h.newAccount('Session hoarder');
        const answers = await Promise.all(
            Array.from({ length: 25 }, () => h.api(key).post('/api/v1/link-sessions', { environment: 'production' }))
        );
        const created = answers.filter((r) => r.status === 201).length;
        const refused = answers.filter((r) => r.status === 429);
        assert.equal(created, 20);
        assert.equal(refused.length, 5);
        for (const r of refused) assert.equal(r.body.error.code, 'TOO_MANY_LINK_SESSIONS');
        // Other accounts are not affected.
        const other = await h.newAccount('Neighbour');
        await h.api(other.key).post('/api/v1/link-sessions', { environment: 'production' }).expect(201);
    });
});
