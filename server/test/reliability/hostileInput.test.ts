// One suite on purpose: every input an outsider controls, each under the same property-based generator and store check.
import assert from 'node:assert/strict';
import type { Snapshot } from '../../store/types.ts';
import { stat } from 'node:fs/promises';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import request from 'supertest';
import { actorBody, linkSessionBody } from '../../http/schemas.ts';
import { webhookBody } from '../../http/webhookRouter.ts';
import { PEOPLE, startHarness, TEST_STORE, type Harness } from '../harness.ts';
import { report, SEED } from '../reliabilityHarness.ts';

const RUNS = Number(process.env.HOSTILE_RUNS ?? 120);
const STACK_TRACE = /\bat [\w$.<>]+ \(|\.ts:\d+|\.js:\d+|node_modules|TypeError|ReferenceError|RangeError|Cannot read prop/;

/** Everything a request could change (the failed-authentication counts live in memory, not in the store). */
const snapshot = async (h: Harness) =>
    ((db: Snapshot) =>
        JSON.stringify({
            accounts: db.accounts,
            links: db.links,
            sessions: db.linkSessions,
            audit: db.audit.length,
            ledger: db.taskLedger
        }))(await h.services.store.dump());

describe('hostile input never gets a 500, a stack trace or a changed store', () => {
    let h: Harness;
    let key: string;
    let otherKey: string;
    let cases = 0;
    let rejected = 0;
    const statuses: Record<number, number> = {};

    before(async () => {
        h = await startHarness();
        ({ key } = await h.newAccount('Hostile target'));
        ({ key: otherKey } = await h.newAccount('Hostile neighbour'));
        const { callback } = await h.link(key, PEOPLE.acmeApi);
        assert.equal(callback.status, 200);
    });
    after(() => h.close());

    /** Sends one request and checks the answer; a refused request must leave the store exactly as it was. */
    const check = async (send: () => request.Test, what: string, options: { html?: boolean } = {}) => {
        const before = await snapshot(h);
        const res = await send();
        cases++;
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        assert.notEqual(res.status, 500, `${what}: 500 ${res.text.slice(0, 300)}`);
        assert.ok(res.status < 500 || res.status === 503 || res.status === 502, `${what}: ${res.status} ${res.text.slice(0, 300)}`);
        assert.doesNotMatch(res.text, STACK_TRACE, `${what}: a stack trace`);
        if (res.status >= 400) {
            rejected++;
            assert.equal(await snapshot(h), before, `${what}: refused with ${res.status}, but the store changed`);
            if (options.html) assert.match(res.headers['content-type'] ?? '', /text\/html/, what);
            else if (res.status !== 431) {
                assert.match(res.headers['content-type'] ?? '', /application\/json/, `${what}: ${res.status} ${res.text.slice(0, 200)}`);
                assert.match(res.body?.error?.code ?? '', /^[A-Z][A-Z0-9_]+$/, what);
                assert.ok(typeof res.body.error.message === 'string' && res.body.error.message.length > 10, what);
            }
        }
        return res;
    };

    const property = async (name: string, arbitrary: fc.Arbitrary<unknown>, run: (value: never) => Promise<unknown>) => {
        const result = await fc.check(
            fc.asyncProperty(arbitrary, async (value) => {
                await run(value as never);
            }),
            { numRuns: RUNS, seed: SEED, endOnFailure: true }
        );
        if (result.failed) {
            const cause = result.errorInstance instanceof Error ? result.errorInstance.message : String(result.errorInstance);
            assert.fail(
                `${name}: ${cause}\ncounterexample ${JSON.stringify(result.counterexample)?.slice(0, 500)} (seed ${result.seed}, path ${result.counterexamplePath})`
            );
        }
    };

    // A JSON value of any shape, with the field names the API knows mixed in so that near-misses are common.
    const known = [
        'environment',
        'loginUrl',
        'expectedOrgId',
        'initiatedBy',
        'userId',
        'username',
        'actor',
        'url',
        'phone',
        'region',
        'direction',
        'durationSeconds',
        'whoId',
        'whatId',
        'ownerId',
        'subject',
        'description',
        '__proto__',
        'constructor'
    ];
    const nasty = fc.oneof(
        fc.string(),
        fc.string({ unit: 'grapheme', maxLength: 50 }),
        fc.constantFrom(
            'production',
            'sandbox',
            'https://login.salesforce.com',
            'javascript:alert(1)',
            '<script>',
            '../../etc/passwd',
            '00D000000000001AAA',
            '005000000000001AAA',
            '\u0000',
            '%00',
            '${7*7}',
            "' OR 1=1 --",
            'a'.repeat(5000),
            '+1 415 555 1212'
        ),
        fc.integer(),
        fc.double(),
        fc.boolean(),
        fc.constant(null)
    );
    const jsonValue = fc.letrec<{ value: unknown }>((tie) => ({
        value: fc.oneof(
            { depthSize: 'small' },
            nasty,
            fc.array(tie('value'), { maxLength: 4 }),
            fc.dictionary(fc.oneof(fc.constantFrom(...known), fc.string()), tie('value'), { maxKeys: 5 })
        )
    })).value;
    const invalidFor = (schema: { safeParse: (v: unknown) => { success: boolean } }) =>
        jsonValue.filter((v) => !schema.safeParse(v).success);

    test('POST /api/v1/link-sessions with any JSON body', async () => {
        await property('link-sessions', jsonValue, (body: unknown) =>
            check(
                () =>
                    request(h.app)
                        .post('/api/v1/link-sessions')
                        .set('Authorization', `Bearer ${otherKey}`)
                        .set('Content-Type', 'application/json')
                        .send(JSON.stringify(body) ?? 'null'),
                `link-sessions ${JSON.stringify(body)?.slice(0, 200)}`
            )
        );
        // Near misses of the real shape.
        const nearMiss = fc.record(
            {
                environment: fc.oneof(fc.constantFrom('production', 'sandbox'), nasty),
                loginUrl: fc.oneof(
                    fc.webUrl(),
                    nasty,
                    fc.constantFrom(
                        'https://evil.example',
                        'https://x.my.salesforce.com.evil.example',
                        'https://login.salesforce.com@evil.example',
                        'HTTPS://LOGIN.SALESFORCE.COM',
                        'https://login.salesforce.com:444'
                    )
                ),
                expectedOrgId: fc.oneof(fc.stringMatching(/^00D[A-Za-z0-9]{12,16}$/), nasty),
                initiatedBy: fc.oneof(
                    fc.record({ userId: fc.oneof(fc.stringMatching(/^005[A-Za-z0-9]{12}$/), nasty), username: nasty }),
                    nasty
                )
            },
            { requiredKeys: [] }
        );
        await property(
            'link-sessions near miss',
            nearMiss.filter((b) => !linkSessionBody.safeParse(b).success),
            (body: unknown) =>
                check(
                    () =>
                        request(h.app)
                            .post('/api/v1/link-sessions')
                            .set('Authorization', `Bearer ${otherKey}`)
                            .send(body as object),
                    `link-sessions ${JSON.stringify(body).slice(0, 200)}`
                )
        );
    });

    test('bodies that are not JSON, in any content type and charset', async () => {
        const contentType = fc.oneof(
            fc.constantFrom(
                'application/json',
                'application/json; charset=utf-8',
                'application/json; charset=utf-16',
                'application/json; charset=latin1',
                'application/json; charset=bogus',
                'text/plain',
                'application/x-www-form-urlencoded',
                'multipart/form-data; boundary=x',
                'application/*',
                '*/*',
                ''
            ),
            fc.string({ maxLength: 40 }).filter((s) => /^[\x21-\x7e ]*$/.test(s))
        );
        const body = fc.oneof(
            fc.string({ maxLength: 300 }),
            fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
            fc.constantFrom(
                '{"environment":',
                '{"a":1}{"b":2}',
                '\ufeff{"environment":"production"}',
                '{"__proto__":{"polluted":1}}',
                '['.repeat(5000),
                '"' + '\\u0000'.repeat(100) + '"'
            )
        );
        const target = fc.constantFrom(
            ['post', '/api/v1/link-sessions'],
            ['post', '/api/v1/link/verify'],
            ['delete', '/api/v1/link'],
            ['put', '/api/v1/webhook'],
            ['post', '/api/v1/calls/lookup'],
            ['put', '/api/v1/calls/call-1/task']
        );
        await property(
            'raw bodies',
            fc.tuple(target, contentType, body),
            ([[method, url], type, payload]: [[string, string], string, string | Buffer]) =>
                check(
                    () => {
                        const req = (request(h.app) as unknown as Record<string, (u: string) => request.Test>)[method]!(url).set(
                            'Authorization',
                            `Bearer ${otherKey}`
                        );
                        if (type) req.set('Content-Type', type);
                        return req.send(payload);
                    },
                    `${method} ${url} ${type} ${String(payload).slice(0, 80)}`
                )
        );
        assert.equal(({} as Record<string, unknown>).polluted, undefined, 'a body polluted Object.prototype');
    });

    test('verify, unlink and webhook bodies that do not fit', async () => {
        await property('verify', invalidFor(actorBody), (body: unknown) =>
            check(
                () =>
                    request(h.app)
                        .post('/api/v1/link/verify')
                        .set('Authorization', `Bearer ${key}`)
                        .set('Content-Type', 'application/json')
                        .send(JSON.stringify(body) ?? 'null'),
                `verify ${JSON.stringify(body)?.slice(0, 200)}`
            )
        );
        await property('unlink', invalidFor(actorBody), (body: unknown) =>
            check(
                () =>
                    request(h.app)
                        .delete('/api/v1/link')
                        .set('Authorization', `Bearer ${key}`)
                        .set('Content-Type', 'application/json')
                        .send(JSON.stringify(body) ?? 'null'),
                `unlink ${JSON.stringify(body)?.slice(0, 200)}`
            )
        );
        const hooks = fc.oneof(
            invalidFor(webhookBody),
            fc.record({
                url: fc.oneof(
                    nasty,
                    fc.constantFrom(
                        'ftp://x.example',
                        'javascript:alert(1)',
                        'https://',
                        'https://user:pass@x.example',
                        'file:///etc/passwd',
                        'data:text/html,x',
                        'https://' + 'a'.repeat(600) + '.example'
                    )
                )
            })
        );
        await property('webhook', hooks, (body: unknown) =>
            check(
                () =>
                    request(h.app)
                        .put('/api/v1/webhook')
                        .set('Authorization', `Bearer ${otherKey}`)
                        .set('Content-Type', 'application/json')
                        .send(JSON.stringify(body) ?? 'null'),
                `webhook ${JSON.stringify(body)?.slice(0, 200)}`
            )
        );
        // The account is still linked: nothing above unlinked it.
        assert.equal((await h.api(key).get('/api/v1/link')).body.status, 'linked');
    });

    test('path parameters: the link session id, the call id, the popup session id', async () => {
        const segment = fc.oneof(
            fc.string({ maxLength: 80 }),
            fc.string({ unit: 'grapheme', maxLength: 40 }),
            fc.stringMatching(/^[A-Za-z0-9_-]{32}$/),
            fc.constantFrom(
                '..',
                '.',
                '%2e%2e',
                '..%2f..%2fetc%2fpasswd',
                '%',
                '%zz',
                '%00',
                '%c0%ae',
                'a'.repeat(3000),
                '__proto__',
                'constructor',
                '<script>alert(1)</script>'
            )
        );
        const encode = (s: string) => (/^%|%[0-9a-z]{2}/i.test(s) ? s : encodeURIComponent(s));
        await property('session id', segment, (id: string) =>
            check(
                () =>
                    request(h.app)
                        .get(`/api/v1/link-sessions/${encode(id)}`)
                        .set('Authorization', `Bearer ${key}`),
                `link-sessions/${id.slice(0, 80)}`
            )
        );
        await property('popup id', segment, (id: string) =>
            check(() => request(h.app).get(`/oauth/start/${encode(id)}`), `oauth/start/${id.slice(0, 80)}`, { html: true })
        );
        const taskBodyArb = fc.oneof(
            jsonValue,
            fc.record(
                { direction: fc.constantFrom('inbound', 'sideways'), durationSeconds: fc.oneof(fc.integer(), fc.double(), nasty) },
                { requiredKeys: [] }
            )
        );
        await property('call id', fc.tuple(segment, taskBodyArb), ([id, body]: [string, unknown]) =>
            check(
                () =>
                    request(h.app)
                        .put(`/api/v1/calls/${encode(id)}/task`)
                        .set('Authorization', `Bearer ${otherKey}`)
                        .set('Content-Type', 'application/json')
                        .send(JSON.stringify(body) ?? 'null'),
                `calls/${id.slice(0, 80)}/task`
            )
        );
        await property('lookup', fc.oneof(jsonValue, fc.record({ phone: nasty, region: nasty }, { requiredKeys: [] })), (body: unknown) =>
            check(
                () =>
                    request(h.app)
                        .post('/api/v1/calls/lookup')
                        .set('Authorization', `Bearer ${otherKey}`)
                        .set('Content-Type', 'application/json')
                        .send(JSON.stringify(body) ?? 'null'),
                `lookup ${JSON.stringify(body)?.slice(0, 120)}`
            )
        );
    });

    test('the callback query: forged, repeated, oversized and hostile parameters rewrite nothing', async () => {
        // On lowdb the data file itself is watched too (PostgreSQL has no file; each answer's check compares the store).
        const file = TEST_STORE === 'lowdb' ? path.join(h.dataDir, 'db.json') : undefined;
        const fileBefore = file && (await stat(file));
        const value = fc.oneof(
            nasty.map(String),
            fc.string({ maxLength: 2500 }),
            fc.array(fc.string({ maxLength: 20 }), { minLength: 2, maxLength: 3 })
        );
        const query = fc.dictionary(
            fc.oneof(
                fc.constantFrom('state', 'code', 'error', 'error_description', 'error_uri', 'state[]', 'state[a]', '__proto__'),
                fc.string({ maxLength: 10 })
            ),
            value,
            { maxKeys: 6 }
        );
        await property('callback', query, (q: Record<string, unknown>) => {
            const search = new URLSearchParams();
            for (const [k, v] of Object.entries(q)) for (const item of Array.isArray(v) ? v : [v]) search.append(k, String(item));
            return check(
                () => request(h.app).get(`/oauth/callback?${search.toString()}`).set('Cookie', 'ccl_link_x=1; ccl_link_x=2'),
                `callback ?${search.toString().slice(0, 200)}`,
                { html: true }
            );
        });
        // No session matched, so no write at all: the data file was not even rewritten.
        if (file && fileBefore) {
            const fileAfter = await stat(file);
            assert.equal(fileAfter.ino, fileBefore.ino, 'forged callbacks rewrote the data file');
            assert.equal(fileAfter.mtimeMs, fileBefore.mtimeMs, 'forged callbacks rewrote the data file');
        }
    });

    test('oversized bodies are refused before they are read', async () => {
        // Announced too large: refused from the Content-Length, before a byte of body is read.
        for (const [url, limit] of [
            ['/api/v1/link-sessions', 16 * 1024],
            ['/api/v1/calls/lookup', 128 * 1024]
        ] as const) {
            const answer = await rawRequest(
                h,
                `POST ${url} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${otherKey}\r\nContent-Type: application/json\r\nContent-Length: ${50 * 1024 * 1024}\r\n\r\n{"environment":`
            );
            assert.match(answer, /^HTTP\/1\.1 413 /, `${url}: ${answer.slice(0, 200)}`);
            assert.match(answer, /PAYLOAD_TOO_LARGE/);
            cases++;
            // Streamed without a length: cut at the limit.
            const started = performance.now();
            const res = await check(
                () =>
                    request(h.app)
                        .post(url)
                        .set('Authorization', `Bearer ${otherKey}`)
                        .set('Content-Type', 'application/json')
                        .send(`{"x":"${'a'.repeat(limit * 4)}"}`),
                `${url} oversized`
            );
            assert.equal(res.status, 413);
            assert.ok(performance.now() - started < 5_000);
        }
    });

    test('tampered headers and cookies: huge, non-ASCII, duplicated, split', async () => {
        const attempts: Array<[string, string]> = [
            [
                'a huge Authorization header',
                `GET /api/v1/link HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${'a'.repeat(64 * 1024)}\r\n\r\n`
            ],
            [
                'a huge Cookie header on the callback',
                `GET /oauth/callback?state=x HTTP/1.1\r\nHost: x\r\nCookie: ${'ccl_link_a=b; '.repeat(6000)}\r\n\r\n`
            ],
            ['a non-ASCII key', `GET /api/v1/link HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer cl\xe9\xff\xfe\r\n\r\n`],
            [
                'UTF-8 bytes in the key',
                `GET /api/v1/link HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${Buffer.from('clé😀', 'utf8').toString('latin1')}\r\n\r\n`
            ],
            [
                'two Authorization headers, the second valid',
                `GET /api/v1/link HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ccl_wrong\r\nAuthorization: Bearer ${key}\r\n\r\n`
            ],
            ['a key with trailing junk', `GET /api/v1/link HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key} extra\r\n\r\n`],
            ['a bare CR in a header', `GET /api/v1/link HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\rX-Injected: 1\r\n\r\n`],
            ['a NUL in a header', `GET /api/v1/link HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\u0000b\r\n\r\n`],
            [
                'duplicate and malformed cookies',
                `GET /oauth/callback?state=abc&code=def HTTP/1.1\r\nHost: x\r\nCookie: ccl_link_x=1; ccl_link_x=2; =; ;;; ccl_link_x; %zz=%zz; a=\u00e9\r\n\r\n`
            ],
            ['a header line without a colon', `GET /api/v1/link HTTP/1.1\r\nHost: x\r\nAuthorization\r\n\r\n`],
            [
                'an absolute URL with a path trick',
                `GET http://evil.example/api/v1/../v1/link HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\n\r\n`
            ],
            ['a TRACE request', `TRACE /api/v1/link HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\n\r\n`]
        ];
        const before = await snapshot(h);
        for (const [what, raw] of attempts) {
            const answer = await rawRequest(h, raw);
            cases++;
            const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
            statuses[status] = (statuses[status] ?? 0) + 1;
            assert.ok(status >= 200 && status < 500, `${what}: ${answer.slice(0, 300)}`);
            assert.doesNotMatch(answer, STACK_TRACE, what);
            assert.doesNotMatch(answer, /X-Injected/i, what);
        }
        // The second of two Authorization headers is never the one used.
        const twice = await rawRequest(h, attempts[4]![1]);
        assert.match(twice, /^HTTP\/1\.1 401 /);
        assert.equal(await snapshot(h), before);
    });

    test('the figures', (t) => {
        report(t, 'hostile-input', { cases, rejected, runsPerProperty: RUNS, statuses });
    });
});

/** A request written byte for byte on a socket, for what HTTP clients refuse to send. */
async function rawRequest(h: Harness, raw: string): Promise<string> {
    const server: Server = await new Promise((resolve) => {
        const s = h.app.listen(0, '127.0.0.1', () => resolve(s));
    });
    try {
        const { port } = server.address() as AddressInfo;
        return await new Promise<string>((resolve, reject) => {
            const socket = connect(port, '127.0.0.1');
            let answer = '';
            socket.setTimeout(5_000, () => socket.destroy(new Error('no answer')));
            socket.on('data', (chunk) => {
                answer += chunk.toString('latin1');
                // One answer is enough: stop at the end of its body.
                const length = /content-length: (\d+)/i.exec(answer)?.[1];
                const headEnd = answer.indexOf('\r\n\r\n');
                if (headEnd >= 0 && length !== undefined && answer.length >= headEnd + 4 + Number(length)) socket.end();
            });
            socket.on('end', () => resolve(answer));
            socket.on('close', () => resolve(answer));
            socket.on('error', (error) => (answer ? resolve(answer) : reject(error)));
            socket.write(Buffer.from(raw, 'latin1'));
        });
    } finally {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
    }
}
