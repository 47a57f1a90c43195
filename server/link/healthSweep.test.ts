import assert from 'node:assert/strict';
import type { Snapshot } from '../store/types.ts';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, afterEach, before, describe, test } from 'node:test';
import request from 'supertest';
import { signWebhook } from './webhooks.ts';
import { DEFAULT_SWEEP, HealthSweep } from './healthSweep.ts';
import { createLogger } from '../logger.ts';
import { PEOPLE, startHarness, type Harness } from '../test/harness.ts';

const DAY = 24 * 3600_000;

describe('the health sweep', () => {
    let h: Harness;
    before(async () => {
        h = await startHarness();
    });
    afterEach(() => {
        h.emulator.state.reset();
        h.clock.offsetMs = 0;
    });
    after(() => h.close());

    async function linked(name: string, person = PEOPLE.acmeApi, session: Record<string, unknown> = { environment: 'production' }) {
        const account = await h.newAccount(name);
        const { callback } = await h.link(account.key, person, session);
        assert.equal(callback.status, 200, callback.text);
        return account;
    }
    const statusOf = async (key: string) => (await h.api(key).get('/api/v1/link').expect(200)).body;

    test('checks only links not verified for 20 hours, and keeps them linked', async () => {
        const { key } = await linked('Fresh');
        h.emulator.state.resetCounts();
        const early = await h.services.health.sweep();
        assert.equal(early.checked, 0);
        h.clock.advance(DAY);
        const due = await h.services.health.sweep();
        assert.ok(due.checked >= 1 && due.healthy === due.checked, JSON.stringify(due));
        assert.ok(h.emulator.state.requestCounts().refresh >= 1);
        assert.equal(Date.parse((await statusOf(key)).link.lastVerifiedAt) > Date.now() + DAY - 60_000, true);
        await h.api(key).delete('/api/v1/link');
    });

    const deaths: Array<[string, (h: Harness) => void, RegExp, typeof PEOPLE.acmeApi, Record<string, unknown>?]> = [
        ['a revoked link', (h) => h.emulator.state.revokeUserTokens(PEOPLE.acmeApi.username), /revoked/, PEOPLE.acmeApi],
        ['an inactive user', (h) => h.emulator.state.setUserActive(PEOPLE.acmeApi.username, false), /inactive/, PEOPLE.acmeApi],
        [
            'a refreshed sandbox',
            (h) => h.emulator.state.refreshSandbox('acmeUat'),
            /sandbox was refreshed/,
            PEOPLE.uatApi,
            { environment: 'sandbox' }
        ],
        [
            'an IP restriction',
            (h) => h.emulator.state.setUserLoginRestriction(PEOPLE.acmeApi.username, 'ip'),
            /IP allowlist/,
            PEOPLE.acmeApi
        ],
        ['login hours', (h) => h.emulator.state.setUserLoginRestriction(PEOPLE.acmeApi.username, 'hours'), /login hours/, PEOPLE.acmeApi]
    ];
    for (const [what, kill, reason, person, session] of deaths) {
        test(`marks ${what} needs_relink, in words, with an audit entry`, async () => {
            const { id, key } = await linked(`Dies: ${what}`, person, session);
            kill(h);
            const report = await h.services.health.sweep({ all: true });
            assert.ok(report.needsRelink >= 1, JSON.stringify(report));
            const status = await statusOf(key);
            assert.equal(status.status, 'needs_relink');
            assert.match(status.link.lastError.message, reason);
            const audit = ((db: Snapshot) => db.audit.filter((e) => e.accountId === id && e.action === 'status_changed'))(
                await h.services.store.dump()
            );
            assert.equal(audit.length, 1);
            assert.equal(audit[0]?.outcome, 'needs_relink');
            await h.api(key).delete('/api/v1/link');
        });
    }

    test('an outage leaves links alone and cools down instead of hammering Salesforce', async () => {
        const { key } = await linked('Outage');
        h.emulator.state.failNext('refresh', 'http503', { count: 100 });
        const first = await h.services.health.sweep({ all: true });
        assert.equal(first.unavailable, 1, JSON.stringify(first));
        assert.equal((await statusOf(key)).status, 'linked');
        h.emulator.state.resetCounts();
        const second = await h.services.health.sweep({ all: true });
        assert.equal(second.coolingDown, 1);
        assert.equal(h.emulator.state.requestCounts().refresh, 0);
        h.emulator.state.clearFaults();
        h.clock.advance(6 * 60_000);
        const third = await h.services.health.sweep({ all: true });
        assert.equal(third.healthy, 1, JSON.stringify(third));
        await h.api(key).delete('/api/v1/link');
    });

    test('the cooldown is in the link’s row: another instance’s sweep honours it, and a healthy check clears it', async () => {
        const { id, key } = await linked('Shared cooldown');
        h.emulator.state.failNext('refresh', 'http503', { count: 100 });
        await h.services.health.sweep({ all: true });
        const cooling = (await h.store.links.get(id))?.checkCooldown;
        assert.equal(cooling?.failures, 1);
        assert.ok(cooling && Date.parse(cooling.until) > h.clock.now().getTime());
        // Another instance: its own sweep over the same store.
        const other = new HealthSweep(h.store, h.services.links, h.clock, createLogger('silent'), DEFAULT_SWEEP);
        h.emulator.state.resetCounts();
        assert.equal((await other.sweep({ all: true })).coolingDown, 1);
        assert.equal(h.emulator.state.requestCounts().refresh, 0);
        h.emulator.state.clearFaults();
        h.clock.advance(6 * 60_000);
        assert.equal((await other.sweep({ all: true })).healthy, 1);
        assert.equal((await h.store.links.get(id))?.checkCooldown, undefined);
        await h.api(key).delete('/api/v1/link');
    });

    test('the timer’s turn: one sweep per interval among the instances that share the store, counted by the one that swept', async () => {
        const interval = { ...DEFAULT_SWEEP, intervalMs: 60_000 };
        const passes = [0, 0, 0];
        const sweeps = passes.map(
            (_, i) => new HealthSweep(h.store, h.services.links, h.clock, createLogger('silent'), interval, () => passes[i]!++)
        );
        const first = await Promise.all(sweeps.map((s) => s.tick()));
        assert.equal(first.filter(Boolean).length, 1, 'one instance swept');
        assert.equal((await Promise.all(sweeps.map((s) => s.tick()))).filter(Boolean).length, 0, 'none again within the interval');
        h.clock.advance(60_000);
        assert.equal((await Promise.all(sweeps.map((s) => s.tick()))).filter(Boolean).length, 1, 'one in the next interval');
        assert.equal(
            passes.reduce((a, b) => a + b),
            2
        );
    });

    test('a connection reset is an outage too, never a dead link', async () => {
        const { key } = await linked('Reset');
        h.emulator.state.failNext('refresh', 'reset', { count: 100 });
        const report = await h.services.health.sweep({ all: true });
        assert.equal(report.unavailable, 1);
        assert.equal((await statusOf(key)).status, 'linked');
        await h.api(key).delete('/api/v1/link');
    });
});

describe('webhooks and metrics', () => {
    let h: Harness;
    let received: Array<{ headers: IncomingMessage['headers']; body: string }>;
    let failNext = 0;
    let hookUrl: string;
    const server = createServer((req, res) => {
        let body = '';
        req.on('data', (chunk: Buffer) => (body += chunk.toString()));
        req.on('end', () => {
            if (failNext > 0) {
                failNext--;
                res.writeHead(500).end();
                return;
            }
            received.push({ headers: req.headers, body });
            res.writeHead(204).end();
        });
    });
    before(async () => {
        h = await startHarness();
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        hookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/ccl`;
    });
    after(async () => {
        await h.close();
        server.close();
    });

    test('a status change is posted, signed with the secret given once', async () => {
        received = [];
        const { key } = await h.newAccount('Alerted');
        const set = await h.api(key).put('/api/v1/webhook').send({ url: hookUrl }).set('Authorization', `Bearer ${key}`).expect(200);
        assert.match(set.body.secret, /^whsec_/);
        const shown = await h.api(key).get('/api/v1/webhook').expect(200);
        assert.deepEqual(Object.keys(shown.body).sort(), ['createdAt', 'url']);

        await h.link(key, PEOPLE.acmeApi);
        h.emulator.state.revokeUserTokens(PEOPLE.acmeApi.username);
        failNext = 1;
        await h.services.health.sweep({ all: true });
        await h.services.webhooks.settle();

        const events = received.map((r) => ({
            ...r,
            json: JSON.parse(r.body) as { type: string; data: { from: string; to: string; reason?: string } }
        }));
        assert.deepEqual(events.map((e) => `${e.json.data.from}->${e.json.data.to}`).sort(), ['linked->needs_relink', 'unlinked->linked']);
        for (const event of events) {
            assert.equal(event.json.type, 'link.status_changed');
            const header = String(event.headers['x-ccl-signature']);
            const t = Number(/t=(\d+)/.exec(header)?.[1]);
            assert.equal(header, signWebhook(set.body.secret, event.body, t), 'the signature verifies with the secret');
            assert.notEqual(header, signWebhook('whsec_wrong', event.body, t));
        }
        const relink = events.find((e) => e.json.data.to === 'needs_relink');
        assert.match(relink?.json.data.reason ?? '', /revoked/);
        assert.equal(JSON.stringify(events).includes(set.body.secret), false);
    });

    test('webhook input is checked', async () => {
        const { key } = await h.newAccount('Bad hooks');
        for (const url of ['not a url', 'ftp://example.com/x', 'https://user:pw@example.com/x']) {
            const res = await request(h.app).put('/api/v1/webhook').set('Authorization', `Bearer ${key}`).send({ url }).expect(400);
            assert.equal(res.body.error.code, 'VALIDATION_FAILED');
        }
        await request(h.app).put('/api/v1/webhook').set('Authorization', `Bearer ${key}`).send({ url: hookUrl, extra: 1 }).expect(400);
        await request(h.app).get('/api/v1/webhook').set('Authorization', `Bearer ${key}`).expect(404);
        const removed = await request(h.app).delete('/api/v1/webhook').set('Authorization', `Bearer ${key}`).expect(200);
        assert.deepEqual(removed.body, { removed: false });
    });

    test('/metrics shows links by status, link attempts and Salesforce requests', async () => {
        const { key } = await h.newAccount('Measured');
        await h.link(key, PEOPLE.acmeApi);
        await h.link((await h.newAccount('Measured deny')).key, { ...PEOPLE.acmeApi, decision: 'deny' });
        await h.api(key).post('/api/v1/calls/lookup', { phone: '(415) 555-1212' }).expect(200);
        await h.api(key).post('/api/v1/calls/lookup', { phone: 'not a phone' }).expect(400);
        const res = await request(h.app).get('/metrics').expect(200);
        assert.match(res.text, /ccl_salesforce_requests_total\{kind="rest",outcome="ok"\} [1-9]/);
        assert.match(res.text, /ccl_call_actions_total\{action="lookup",outcome="ok"\} 1/);
        assert.match(res.text, /ccl_call_actions_total\{action="lookup",outcome="VALIDATION_FAILED"\} 1/);
        assert.match(res.text, /ccl_call_action_duration_seconds_count\{action="lookup"\} 2/);
        assert.match(res.text, /ccl_links\{status="linked"\} [1-9]/);
        assert.match(res.text, /ccl_link_attempts_total\{outcome="linked"\} [1-9]/);
        assert.match(res.text, /ccl_link_attempts_total\{outcome="ACCESS_DENIED"\} [1-9]/);
        assert.match(res.text, /ccl_salesforce_requests_total\{kind="token",outcome="ok"\} [1-9]/);
        assert.match(res.text, /ccl_salesforce_requests_total\{kind="composite",outcome="ok"\} [1-9]/);
        assert.match(res.text, /ccl_process_cpu_seconds_total/);
    });
});

test('/metrics wants its token when METRICS_TOKEN is set', async () => {
    const h = await startHarness({ env: { METRICS_TOKEN: 'metrics-token-0123456789' } });
    try {
        const res = await request(h.app).get('/metrics').expect(401);
        assert.equal(res.body.error.code, 'UNAUTHORIZED');
        await request(h.app).get('/metrics').set('Authorization', 'Bearer metrics-token-0123456789').expect(200);
    } finally {
        await h.close();
    }
});

describe('the health sweep and legacy links', () => {
    let h: Harness;
    before(async () => {
        h = await startHarness();
    });
    after(() => h.close());

    const HOUR = 3600_000;
    const soapLogins = () => h.emulator.state.requestCounts()['soap-login'];

    test('logs a legacy link in at most once a day, and a changed password shows as Needs relink before any call', async () => {
        const account = await h.newAccount('Legacy');
        await h.services.accounts.importLegacy(
            [
                {
                    accountId: account.id,
                    username: PEOPLE.acmeApi.username,
                    password: PEOPLE.acmeApi.password,
                    securityToken: '',
                    environment: 'production'
                }
            ],
            h.services.cipher,
            h.services.hosts
        );
        h.emulator.state.resetCounts();
        const first = await h.services.health.sweep();
        assert.deepEqual([first.checked, first.healthy], [1, 1], JSON.stringify(first));
        assert.equal(soapLogins(), 1);
        const verifiedAt = (await h.services.store.links.get(account.id))?.lastVerifiedAt;
        assert.ok(verifiedAt, 'the sweep records when it verified the legacy link');

        // Due for the OAuth cadence (20 h) but not a day old: no second login.
        h.clock.advance(21 * HOUR);
        const early = await h.services.health.sweep();
        assert.equal(early.checked, 0, JSON.stringify(early));
        assert.equal(soapLogins(), 1);

        // The password changed in Salesforce; a day after the last login the sweep finds out.
        h.emulator.state.setUserPassword(PEOPLE.acmeApi.username, 'changed-by-the-admin');
        h.clock.advance(4 * HOUR);
        const later = await h.services.health.sweep();
        assert.deepEqual([later.checked, later.needsRelink], [1, 1], JSON.stringify(later));
        assert.equal(soapLogins(), 2);
        const status = (await h.api(account.key).get('/api/v1/link').expect(200)).body;
        assert.equal(status.status, 'needs_relink');
        assert.ok(status.link.lastError?.message, 'the card says why');

        // Needs relink is not swept again: no login with what is known to fail.
        h.clock.advance(25 * HOUR);
        await h.services.health.sweep();
        assert.equal(soapLogins(), 2);
    });
});
