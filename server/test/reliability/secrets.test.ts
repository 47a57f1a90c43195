import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import request from 'supertest';
import { CLIENT, PEOPLE, recordingGateway, startHarness } from '../harness.ts';
import { recordResponses, report, startPopup } from '../reliabilityHarness.ts';

test('after link, verify, relink, failures and unlink, no token, password or key is anywhere in clear', async (t) => {
    const tokens = new Set<string>();
    const h = await startHarness({ gateway: (real) => recordingGateway(real, tokens), env: { SF_HTTP_TIMEOUT_MS: '800' } });
    const recorder = recordResponses(h.app);
    const app = recorder.handler;
    const codes = new Set<string>();
    const states = new Set<string>();
    const nonces = new Set<string>();
    const webhookSecrets = new Set<string>();
    const api = (key: string) => ({
        get: (p: string) => request(app).get(p).set('Authorization', `Bearer ${key}`),
        post: (p: string, body?: object) => request(app).post(p).set('Authorization', `Bearer ${key}`).send(body),
        put: (p: string, body?: object) => request(app).put(p).set('Authorization', `Bearer ${key}`).send(body),
        delete: (p: string) => request(app).delete(p).set('Authorization', `Bearer ${key}`)
    });
    /** A popup whose callback we send ourselves, noting the code, the state and the cookie nonce it carried. */
    const link = async (
        key: string,
        person: typeof PEOPLE.acmeApi & { decision?: 'allow' | 'deny' },
        session?: Record<string, unknown>
    ) => {
        const popup = await startPopup(app, key, person, session);
        const query = new URLSearchParams(popup.callbackPath.split('?')[1]);
        for (const [name, value] of [
            ['code', query.get('code')],
            ['state', query.get('state')]
        ] as const)
            if (value) (name === 'code' ? codes : states).add(value);
        for (const pair of popup.cookie.split('; ')) nonces.add(pair.split('=')[1]!);
        return request(app).get(popup.callbackPath).set('Cookie', popup.cookie);
    };
    // Where the status webhook posts: what it was sent is scanned too.
    const delivered: string[] = [];
    const server = createServer((req, res) => {
        let body = '';
        req.on('data', (chunk: Buffer) => (body += chunk.toString()));
        req.on('end', () => {
            delivered.push(`${JSON.stringify(req.headers)}\n${body}`);
            res.end('ok');
        });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const receiver = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
    try {
        const a = await h.newAccount('Secrets A');
        const b = await h.newAccount('Secrets B');
        const c = await h.newAccount('Secrets C');

        // Link, verify, status, a relink to another user, the call actions.
        assert.equal((await link(a.key, PEOPLE.acmeApi)).status, 200);
        await api(a.key).post('/api/v1/link/verify').expect(200);
        await api(a.key).get('/api/v1/link').expect(200);
        assert.equal((await link(a.key, PEOPLE.acmeAdmin)).status, 200);
        assert.equal((await link(a.key, PEOPLE.acmeApi)).status, 200);
        await api(a.key).post('/api/v1/calls/lookup', { phone: '+1 415 555 1212' });
        await api(a.key).put('/api/v1/calls/secret-call-1/task', { direction: 'inbound', durationSeconds: 42 });
        const hook = await api(a.key).put('/api/v1/webhook', { url: `${receiver.url}/hook` });
        if (hook.body.secret) webhookSecrets.add(hook.body.secret as string);

        // Failures: denied, no API access, the wrong org, the sandbox, Salesforce down during a verify.
        assert.equal((await link(b.key, { ...PEOPLE.acmeApi, decision: 'deny' })).status, 400);
        assert.equal((await link(b.key, PEOPLE.acmeNoApi)).status, 400);
        assert.equal(
            (await link(b.key, PEOPLE.acmeApi, { environment: 'production', expectedOrgId: h.emulator.state.org('acmeUat').id })).status,
            400
        );
        assert.equal((await link(c.key, PEOPLE.uatApi, { environment: 'sandbox' })).status, 200);
        h.emulator.state.failNext('refresh', 'http500', { count: 10 });
        await api(c.key).post('/api/v1/link/verify').expect(503);
        h.emulator.state.clearFaults();
        h.emulator.state.failNext('identity', 'malformed', { count: 10 });
        await link(b.key, PEOPLE.acmeApi);
        h.emulator.state.clearFaults();
        // Wrong keys, replayed callbacks, a legacy import with a password.
        await request(app).get('/api/v1/link').set('Authorization', `Bearer ${a.key}x`).expect(401);
        const legacyPassword = 'legacy-Secret-pass-8812';
        const legacyToken = 'LEGACYSECTOKEN123456789';
        const d = await h.newAccount('Secrets D');
        await h.services.accounts.importLegacy(
            [
                {
                    accountId: d.id,
                    username: 'old@acme.example',
                    password: legacyPassword,
                    securityToken: legacyToken,
                    environment: 'production'
                }
            ],
            h.services.cipher,
            h.services.hosts
        );
        await api(d.key).get('/api/v1/link').expect(200);

        // Unlink everything.
        for (const key of [a.key, b.key, c.key, d.key]) await api(key).delete('/api/v1/link').expect(200);
        await h.services.webhooks.settle();
        await h.services.store.close();

        const secrets: Array<[string, string]> = [
            ...[...tokens].map((s): [string, string] => ['a Salesforce token', s]),
            ...[a, b, c, d].map((x): [string, string] => ['an API key', x.key]),
            ...Object.values(PEOPLE).map((p): [string, string] => ['a password', p.password]),
            ['a legacy password', legacyPassword],
            ['a legacy security token', legacyToken],
            ['the client secret', CLIENT.clientSecret],
            ['the encryption key', h.config.TOKEN_ENCRYPTION_KEY],
            ...[...codes].map((s): [string, string] => ['an authorization code', s]),
            ...[...states].map((s): [string, string] => ['an OAuth state', s]),
            ...[...nonces].map((s): [string, string] => ['a popup cookie nonce', s]),
            ...[...webhookSecrets].map((s): [string, string] => ['a webhook secret', s])
        ];
        assert.ok(tokens.size >= 8, `the run saw ${tokens.size} tokens`);
        assert.ok(codes.size >= 6 && states.size >= 6);

        const files: Array<[string, string]> = [];
        for (const name of await readdir(h.dataDir)) files.push([name, await readFile(path.join(h.dataDir, name), 'utf8')]);
        const places: Array<[string, string, (kind: string) => boolean]> = [
            ...files.map(([name, text]): [string, string, (kind: string) => boolean] => [`the data file ${name}`, text, () => true]),
            ['the logs', h.logs(), () => true],
            ['the webhook deliveries', delivered.join('\n'), () => true],
            // By design a response carries the popup's state to Salesforce (the redirect), its cookie nonce (Set-Cookie), and a new webhook's secret, once.
            ['the responses', recorder.text(), (kind) => !['an OAuth state', 'a popup cookie nonce', 'a webhook secret'].includes(kind)]
        ];
        let checks = 0;
        for (const [where, text, applies] of places) {
            assert.ok(text.length > 0, `${where} is empty`);
            for (const [kind, secret] of secrets) {
                if (!applies(kind) || secret.length < 8) continue;
                checks++;
                assert.equal(text.includes(secret), false, `${kind} is in ${where}`);
            }
        }
        // The state and the nonce travel only in /oauth/start's redirect (303 after the confirmation) and cookie: never in any other response.
        const others = recorder.responses
            .filter((r) => r.status !== 303)
            .map((r) => r.headers + r.body)
            .join('\n');
        for (const s of [...states, ...nonces]) assert.equal(others.includes(s), false, 'a state or nonce outside the popup redirect');
        // The webhook secret is in the one answer that sets it, nowhere else.
        for (const s of webhookSecrets) assert.equal(recorder.responses.filter((r) => r.body.includes(s)).length, 1);
        report(t, 'secrets', {
            secretsUsed: secrets.length,
            dataFiles: files.length,
            webhookDeliveries: delivered.length,
            logBytes: h.logs().length,
            responseBytes: recorder.text().length,
            checks,
            found: 0
        });
    } finally {
        server.close();
        await h.close().catch(() => undefined);
    }
});
