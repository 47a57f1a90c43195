import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError, parseConfig } from '../config.ts';
import type { OAuthLinkRecord } from '../store/types.ts';
import { PEOPLE, TEST_STORE } from '../test/harness.ts';
import { ACME, startCallsHarness, type CallsHarness } from '../test/callsHarness.ts';

/** How long Apex waits for the backend (ContactCenterLinkClient.TIMEOUT_MS), read from the class itself. */
async function apexTimeoutMs(): Promise<number> {
    const source = await readFile(new URL('../../force-app/main/default/classes/ContactCenterLinkClient.cls', import.meta.url), 'utf8');
    const found = /TIMEOUT_MS\s*=\s*(\d+)\s*;/.exec(source);
    assert.ok(found, 'ContactCenterLinkClient declares TIMEOUT_MS');
    return Number(found[1]);
}

describe('every /api/v1 request has a budget that fits inside the Apex callout', () => {
    test('the default budget leaves at least 2 s of the Apex timeout to answer; a budget as long as Apex’s is refused', async () => {
        const apex = await apexTimeoutMs();
        const budget = parseConfig({}).API_REQUEST_BUDGET_MS;
        assert.ok(budget + 2000 <= apex, `budget ${budget} ms, Apex ${apex} ms`);
        for (const bad of [String(apex), '25000', '-1', 'soon'])
            assert.throws(() => parseConfig({ API_REQUEST_BUDGET_MS: bad }), ConfigError, bad);
    });
});

// Scaled down: the budget is 1.5 s and "Apex" waits 2 s, while each Salesforce request takes 4 s.
const BUDGET_MS = 1500;
const APEX_MS = 2000;
const startWithBudget = (): Promise<CallsHarness> =>
    startCallsHarness({ env: { API_REQUEST_BUDGET_MS: String(BUDGET_MS) }, store: TEST_STORE });

describe(`the call actions with Salesforce slowed past the Apex deadline (${TEST_STORE})`, () => {
    let c: CallsHarness;
    before(async () => {
        c = await startWithBudget();
    });
    after(() => c.close());

    /** Sends `call` with Salesforce slowed; returns the answer, how long it took and what was still at Salesforce just after. */
    async function slowed(
        call: () => PromiseLike<{ status: number; body: { error?: { code: string }; state?: string; reason?: string }; text: string }>
    ) {
        c.h.emulator.state.setLatency(4000);
        try {
            const started = Date.now();
            const answer = await call();
            const took = Date.now() - started;
            await sleep(100);
            return { answer, took, stillAtSalesforce: c.h.emulator.requestsInFlight() };
        } finally {
            c.h.emulator.state.setLatency(0);
        }
    }

    test('the lookup answers DEADLINE_EXCEEDED inside the Apex deadline, its search cancelled', async () => {
        const { answer, took, stillAtSalesforce } = await slowed(() => c.lookup({ phone: '(415) 555-1212' }));
        assert.equal(answer.status, 504, answer.text);
        assert.equal(answer.body.error?.code, 'DEADLINE_EXCEEDED');
        assert.ok(took >= BUDGET_MS - 50 && took < APEX_MS, `answered after ${took} ms`);
        assert.equal(stillAtSalesforce, 0, 'the search was cancelled, not left running');
        const inTime = await c.lookup({ phone: '(415) 555-1212' }).expect(200);
        assert.ok(Array.isArray(inTime.body.matches));
    });

    test('the Task is kept (202) inside the Apex deadline, its create cancelled, and the replay makes exactly one Task', async () => {
        const callId = 'call-past-deadline';
        const { answer, took, stillAtSalesforce } = await slowed(() => c.task(callId, { direction: 'inbound', durationSeconds: 30 }));
        assert.equal(answer.status, 202, answer.text);
        assert.deepEqual([answer.body.state, answer.body.reason], ['queued', 'salesforce_unavailable']);
        assert.ok(took >= BUDGET_MS - 50 && took < APEX_MS, `answered after ${took} ms`);
        assert.equal(stillAtSalesforce, 0, 'the create was cancelled, not left running');
        // Whether or not the cancelled create reached Salesforce, the replay makes one Task, and the retry answers it.
        await sleep(4000);
        c.h.clock.advance(16_000);
        assert.equal(await c.h.services.replay.poke(), 1);
        const retry = await c.task(callId, { direction: 'inbound', durationSeconds: 30 }).expect(200);
        const tasks = c.h.emulator.state.tasks(ACME).filter((t) => t['CallObject'] === callId);
        assert.deepEqual(
            tasks.map((t) => t['Id']),
            [retry.body.taskId]
        );
    });
});

describe(`Verify with Salesforce slowed past the Apex deadline (${TEST_STORE})`, () => {
    let c: CallsHarness;
    before(async () => {
        c = await startWithBudget();
    });
    after(() => c.close());

    test('answers DEADLINE_EXCEEDED inside the Apex deadline, and the link is unchanged after', async () => {
        const before = await c.h.services.store.links.get(c.accountId);
        c.h.emulator.state.setLatency(4000);
        try {
            const started = Date.now();
            const answer = await c.h.api(c.key).post('/api/v1/link/verify', {});
            const took = Date.now() - started;
            assert.equal(answer.status, 504, answer.text);
            assert.equal(answer.body.error.code, 'DEADLINE_EXCEEDED');
            assert.ok(took < APEX_MS, `answered after ${took} ms`);
            assert.ok(took >= BUDGET_MS - 50, `answered after ${took} ms, before the budget ran out`);
            // Let everything Salesforce was still doing finish (the shared refresh goes on), then look again.
            await sleep(4500);
        } finally {
            c.h.emulator.state.setLatency(0);
        }
        // The shared refresh went on and stored what it got (the access token calls use, the rotated refresh token and when it
        // was used); Verify wrote nothing after its answer.
        const stored = (await c.h.services.store.links.get(c.accountId)) as OAuthLinkRecord;
        const { session: _after, refreshToken: rotated, lastRefreshedAt, ...after } = stored;
        const { session: _before, refreshToken: old, lastRefreshedAt: _never, ...unchanged } = before as OAuthLinkRecord;
        assert.deepEqual(after, unchanged, 'nothing written after the answer');
        assert.notEqual(rotated.data, old.data, 'the rotated refresh token was saved');
        assert.ok(lastRefreshedAt, 'the refresh was recorded');
        assert.equal(c.h.emulator.requestsInFlight(), 0, 'nothing left running at Salesforce');
        const status = await c.get('/api/v1/link').expect(200);
        assert.equal(status.body.status, 'linked');
    });

    test('a legacy link’s Verify stops at the deadline too, and stays as it was', async () => {
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
        const before = await c.h.services.store.links.get(account.id);
        c.h.emulator.state.setLatency(4000);
        try {
            const started = Date.now();
            const answer = await c.h.api(account.key).post('/api/v1/link/verify', {});
            assert.equal(answer.status, 504, answer.text);
            assert.equal(answer.body.error.code, 'DEADLINE_EXCEEDED');
            assert.ok(Date.now() - started < APEX_MS);
        } finally {
            c.h.emulator.state.setLatency(0);
        }
        assert.equal(c.h.emulator.requestsInFlight(), 0, 'the SOAP login was cancelled');
        assert.deepEqual(await c.h.services.store.links.get(account.id), before);
    });

    test('with Salesforce answering in time, Verify still verifies', async () => {
        const verified = await c.h.api(c.key).post('/api/v1/link/verify', {}).expect(200);
        assert.equal(verified.body.status, 'linked');
    });

    test('Unlink with Salesforce slowed past the deadline still unlinks inside the Apex deadline, saying the token was not revoked', async () => {
        c.h.emulator.state.setLatency(4000);
        try {
            const started = Date.now();
            const answer = await c.h.api(c.key).delete('/api/v1/link');
            const took = Date.now() - started;
            assert.equal(answer.status, 200, answer.text);
            assert.deepEqual(answer.body, { status: 'unlinked', revoked: false });
            assert.ok(took < APEX_MS, `answered after ${took} ms`);
            await sleep(500);
        } finally {
            c.h.emulator.state.setLatency(0);
        }
        assert.equal(c.h.emulator.requestsInFlight(), 0, 'the revoke was cancelled');
        assert.equal(await c.h.services.store.links.get(c.accountId), undefined);
        const status = await c.get('/api/v1/link').expect(200);
        assert.equal(status.body.status, 'unlinked');
    });
});
