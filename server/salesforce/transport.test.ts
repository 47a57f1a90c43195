import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SalesforceError, SalesforceUnavailable } from './gateway.ts';
import { sendRequest } from './transport.ts';
import { PEOPLE } from '../test/harness.ts';
import { startCallsHarness, type CallsHarness } from '../test/callsHarness.ts';

/** Cancels `work` after `ms` while the emulator is slowed far past it; returns what it threw and the connections Salesforce still answers. */
async function abortMidway(
    c: CallsHarness,
    ms: number,
    work: (signal: AbortSignal) => Promise<unknown>
): Promise<{ error: unknown; whileWaiting: number; afterAbort: number }> {
    c.h.emulator.state.setLatency(5000);
    try {
        const controller = new AbortController();
        const running = work(controller.signal).then(
            () => undefined,
            (error: unknown) => error
        );
        await sleep(ms);
        const whileWaiting = c.h.emulator.requestsInFlight();
        controller.abort();
        const error = await running;
        await sleep(100);
        return { error, whileWaiting, afterAbort: c.h.emulator.requestsInFlight() };
    } finally {
        c.h.emulator.state.setLatency(0);
    }
}

describe('a cancelled request closes its connection to Salesforce', () => {
    let c: CallsHarness;
    before(async () => {
        c = await startCallsHarness();
    });
    after(() => c.close());

    test('a REST call as the API user (OrgClient)', async () => {
        const link = await c.h.services.org.activeLink(c.accountId);
        const started = Date.now();
        const { error, whileWaiting, afterAbort } = await abortMidway(c, 300, (signal) =>
            c.h.services.org.request(c.accountId, link, { method: 'GET', path: '/limits', idempotent: true }, signal)
        );
        assert.ok(error instanceof SalesforceUnavailable, `cancelled as unavailable, got ${String(error)}`);
        assert.ok(Date.now() - started < 2000, 'answered at the abort, not after the emulator’s 5 s');
        assert.equal(whileWaiting, 1, 'the request was at Salesforce when it was cancelled');
        assert.equal(afterAbort, 0, 'no connection left open at Salesforce');
    });

    test('the identity call and a token refresh (the gateway)', async () => {
        const link = (await c.h.services.store.links.get(c.accountId))!;
        const session = c.h.services.tokens.current(c.accountId, link)!;
        const identity = await abortMidway(c, 300, (signal) => c.h.services.gateway.identity(session, signal));
        assert.ok(
            identity.error instanceof SalesforceError && identity.error.code === 'TIMEOUT',
            `cancelled, got ${String(identity.error)}`
        );
        assert.deepEqual([identity.whileWaiting, identity.afterAbort], [1, 0]);
        const refreshToken = c.h.services.cipher.open(link.refreshToken!, { purpose: 'refresh_token', owner: c.accountId });
        // The emulator spends a refresh's latency inside the token endpoint.
        const refresh = await abortMidway(c, 300, (signal) => c.h.services.gateway.refresh(link.loginUrl, refreshToken, signal));
        assert.ok(
            refresh.error instanceof SalesforceError && refresh.error.kind === 'unavailable',
            `cancelled, got ${String(refresh.error)}`
        );
        assert.deepEqual([refresh.whileWaiting, refresh.afterAbort], [1, 0]);
    });

    test('a legacy link’s SOAP login', async () => {
        const account = await c.h.newAccount('Legacy');
        await c.h.services.accounts.importLegacy(
            [
                {
                    accountId: account.id,
                    username: PEOPLE.acmeApi.username,
                    password: PEOPLE.acmeApi.password,
                    securityToken: '',
                    environment: 'production'
                }
            ],
            c.h.services.cipher,
            c.h.services.hosts
        );
        const login = await abortMidway(c, 300, (signal) => c.h.services.legacyLogin.verify(account.id, signal));
        assert.ok(login.error instanceof SalesforceUnavailable, `cancelled, got ${String(login.error)}`);
        assert.deepEqual([login.whileWaiting, login.afterAbort], [1, 0]);
        assert.equal(
            (await c.h.services.store.links.get(account.id))?.status,
            'legacy',
            'a cancelled login says nothing about the credentials'
        );
    });

    test('a request whose own time limit passes is cancelled the same way', async () => {
        const link = await c.h.services.org.activeLink(c.accountId);
        const { error, whileWaiting, afterAbort } = await abortMidway(c, 300, (signal) =>
            c.h.services.org.request(
                c.accountId,
                link,
                { method: 'GET', path: '/limits', idempotent: true },
                AbortSignal.any([signal, AbortSignal.timeout(150)])
            )
        );
        assert.ok(error instanceof SalesforceUnavailable);
        assert.equal(whileWaiting, 0, 'already cancelled by its time limit');
        assert.equal(afterAbort, 0);
    });
});

describe('the body a request sends', () => {
    let server: Server;
    let url: string;
    before(async () => {
        // Answers with what it was sent: the body, and whether there was one at all.
        server = createServer((req, res) => {
            const chunks: Buffer[] = [];
            req.on('data', (chunk: Buffer) => chunks.push(chunk));
            req.on('end', () =>
                res.end(JSON.stringify({ body: Buffer.concat(chunks).toString(), length: req.headers['content-length'] ?? null }))
            );
        });
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    });
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    const sent = async (body: Parameters<typeof sendRequest>[0]['body']): Promise<unknown> =>
        JSON.parse((await sendRequest({ method: 'POST', url, body }, AbortSignal.timeout(5000))).body);

    test('text, form parameters and a Buffer are sent as their text; no body or a null one sends none', async () => {
        assert.deepEqual(await sent('{"a":1}'), { body: '{"a":1}', length: '7' });
        assert.deepEqual(await sent(new URLSearchParams({ grant_type: 'refresh_token', x: 'a b' })), {
            body: 'grant_type=refresh_token&x=a+b',
            length: '30'
        });
        assert.deepEqual(await sent(Buffer.from('<soap/>')), { body: '<soap/>', length: '7' });
        assert.deepEqual(await sent(undefined), { body: '', length: '0' });
        assert.deepEqual(await sent(null), { body: '', length: '0' });
    });

    test('a stream is refused before anything is sent', async () => {
        await assert.rejects(sent(new PassThrough()), /sends text bodies, not a stream/);
    });
});
