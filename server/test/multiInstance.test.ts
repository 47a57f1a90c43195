// One suite on purpose: every rule that spans instances, against one three-process cluster started once (it takes a while).
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { RequestCounts } from '../../emulator/index.ts';
import { CLAIM_TTL_MS } from '../calls/ledger.ts';
import { DELIVERY_CLAIM_MS, signWebhook } from '../link/webhooks.ts';
import { Accounts } from '../accounts.ts';
import { systemClock } from '../clock.ts';
import { PgStore } from '../store/pgStore.ts';
import { PEOPLE } from './harness.ts';
import { PG_SKIP, warnIfNoPostgres } from './pgDatabase.ts';
import { report } from './reliabilityHarness.ts';
import { startCluster, type Cluster, type TestAccount } from './cluster.ts';

/*
 * Three backend processes on one PostgreSQL database, every test's requests spread over them (issue #14): the
 * five-account rule, a popup that starts on one instance and ends on another, one token refresh per expiry in all, one
 * Task per call id, an instance SIGKILLed mid-link and mid-burst, one health sweep per interval, one webhook delivery
 * per event even when the instance delivering it dies.
 */

warnIfNoPostgres();

const ROUNDS = Number(process.env.MULTI_INSTANCE_ROUNDS ?? 3);
const TASK = { direction: 'inbound', durationSeconds: 95, disposition: 'Resolved' };
const API_USER = PEOPLE.acmeApi.username;
/** The calls account acts as another user of the org: the five-account tests must not cost it its approval. */
const CALLS_USER = PEOPLE.acmeAdmin;
/** How long an event waits for its delivery claim to lapse after the instance holding it died, with room for a busy machine. */
const REDELIVERY_WITHIN_MS = DELIVERY_CLAIM_MS + 25_000;
/** How long a retry waits for a call the killed instance had claimed (its claim lapses after CLAIM_TTL_MS), with room. */
const CLAIM_WAIT_MS = CLAIM_TTL_MS + 15_000;

/**
 * A change is seen on the other instances once PostgreSQL's notice reaches them (docs/performance.md): milliseconds, with
 * room for a busy machine, and well below the 5 s after which a cached value is read again anyway.
 */
const NOTICE_WITHIN_MS = 1_500;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, ms: number, check: () => Promise<T | undefined> | T | undefined): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
        const value = await check();
        if (value !== undefined && value !== false) return value;
        if (Date.now() > deadline) throw new Error(`${what}: not within ${ms / 1000} s`);
        await sleep(100);
    }
}

const delta = (from: RequestCounts, to: RequestCounts, kind: keyof RequestCounts) => to[kind] - from[kind];

describe('several backend instances on one PostgreSQL', { skip: PG_SKIP }, () => {
    let c: Cluster;
    /** Linked as CALLS_USER in `before`: the account the call tests use. */
    let calls: TestAccount;

    before(async () => {
        // A health sweep pass every second on each instance (the sweep test counts them); no other test makes a link due.
        c = await startCluster({ instances: 3, env: { HEALTH_SWEEP_INTERVAL_SECONDS: '1' } });
        calls = await c.newAccount('Calls');
        await c.link(calls, CALLS_USER);
    });
    after(() => c?.close());

    /** A failing test prints what the backends logged. */
    const withLogs = (body: (t: TestContext) => Promise<void>) => async (t: TestContext) => {
        try {
            await body(t);
        } catch (error) {
            t.diagnostic(c.logs());
            throw error;
        }
    };

    const userLinks = async () =>
        (
            await c.sql<{ account_id: string; status: string }>(
                `SELECT account_id, doc->>'status' AS status FROM links WHERE doc->>'username' = $1`,
                [API_USER]
            )
        ).rows;
    /** What Salesforce holds must be what the store holds: one live approval per working link. */
    const assertApprovalsMatchLinks = async (label: string) => {
        const working = (await userLinks()).filter((l) => l.status === 'linked').length;
        assert.equal(
            c.emulator.state.tokensFor(API_USER),
            working,
            `${label}: Salesforce holds another number of approvals than the store has working links`
        );
    };
    const tasksWith = (callId: string) => c.emulator.state.tasks('acme').filter((task) => task['CallObject'] === callId);
    const putTask = (callId: string, i?: number) => c.api(calls.platformKey, i).put(`/api/v1/calls/${callId}/task`, TASK);

    test(
        `six completions for one API user at once, callbacks on different instances, ${ROUNDS} times: at most five links, approvals = working links`,
        withLogs(async (t) => {
            let linked = 0;
            let refused = 0;
            for (let round = 0; round < ROUNDS; round++) {
                const accounts = await Promise.all(Array.from({ length: 6 }, (_, i) => c.newAccount(`Round ${round} tenant ${i}`)));
                // Each popup's steps on three instances; the six callbacks land together, two on each instance.
                const popups = await Promise.all(
                    accounts.map((a, i) => c.popup(a.key, PEOPLE.acmeApi, { session: i % 3, page: (i + 1) % 3, confirm: (i + 2) % 3 }))
                );
                const results = await Promise.all(popups.map((p, i) => c.callback(p, i % 3)));
                const statuses = results.map((r) => r.status);
                assert.ok(
                    statuses.every((s) => s === 200 || s === 409),
                    `round ${round}: ${statuses.join(' ')}\n${results
                        .map((r) =>
                            r.text
                                .replace(/<[^>]+>/g, ' ')
                                .replace(/\s+/g, ' ')
                                .slice(0, 300)
                        )
                        .join('\n')}`
                );
                for (const r of results) assert.doesNotMatch(r.text, /answered unexpectedly/);
                const held = await userLinks();
                assert.ok(held.length <= 5, `round ${round}: the store holds ${held.length} links for one API user`);
                assert.ok(
                    statuses.filter((s) => s === 200).length <= 5,
                    `round ${round}: more than five completions were told they linked`
                );
                assert.ok(statuses.includes(200), `round ${round}: no completion linked`);
                await assertApprovalsMatchLinks(`round ${round}`);
                linked += statuses.filter((s) => s === 200).length;
                refused += statuses.filter((s) => s === 409).length;
                // Unlinked on other instances than the ones that linked them.
                const unlinked = await Promise.all(accounts.map((a, i) => c.api(a.key, (i + 1) % 3).delete('/api/v1/link')));
                assert.deepEqual(
                    unlinked.map((r) => r.status),
                    accounts.map(() => 200)
                );
                assert.equal(
                    c.emulator.state.tokensFor(API_USER),
                    0,
                    `round ${round}: approvals left after unlinking the round's accounts`
                );
            }
            report(t, 'instances-six-completions', { instances: 3, rounds: ROUNDS, completions: ROUNDS * 6, linked, refused });
        })
    );

    test(
        'a popup started on one instance completes on another; its callback replayed on a third is refused',
        withLogs(async (t) => {
            const account = await c.newAccount('Across instances');
            // The card's session on 0, the confirmation page on 0, its POST (/oauth/start's redirect to Salesforce) on 1, the callback on 2.
            const popup = await c.popup(account.key, PEOPLE.acmeApi, { session: 0, page: 0, confirm: 1 });
            const done = await c.callback(popup, 2);
            assert.equal(done.status, 200, done.text);
            const status = await c.api(account.key, 0).get('/api/v1/link').expect(200);
            assert.equal(status.body.status, 'linked');
            assert.equal(status.body.link.username, API_USER);
            const session = await c.api(account.key, 1).get(`/api/v1/link-sessions/${popup.sessionId}`).expect(200);
            assert.equal(session.body.state, 'linked');
            // An instance that took no part in the link uses it: the refresh token the callback's instance sealed opens there.
            const verified = await c.api(account.key, 1).post('/api/v1/link/verify').expect(200);
            assert.equal(verified.body.status, 'linked');
            const before = (await c.sql(`SELECT doc FROM links WHERE account_id = $1`, [account.id])).rows[0]!.doc;

            // The same callback again, on each other instance: the state was consumed once, for all of them.
            for (const i of [0, 1]) {
                const again = await c.callback(popup, i);
                assert.ok(again.status >= 400 && again.status < 500, `replayed callback on instance ${i}: ${again.status}`);
            }
            const afterReplay = (await c.sql(`SELECT doc FROM links WHERE account_id = $1`, [account.id])).rows[0]!.doc;
            assert.deepEqual(afterReplay, before, 'a replayed callback changed the link');

            // One relink popup whose callback reaches two instances at once (a double-clicked or retried redirect): one link, one approval.
            const relink = await c.popup(account.key, PEOPLE.acmeApi, { session: 1, page: 2, confirm: 0 });
            const raced = await Promise.all([c.callback(relink, 0), c.callback(relink, 2)]);
            assert.deepEqual(
                raced.map((r) => r.status === 200).sort(),
                [false, true],
                `one of the two callbacks links: ${raced.map((r) => r.status).join(' ')}`
            );
            await assertApprovalsMatchLinks('after the raced callback');
            await c.api(account.key, 2).delete('/api/v1/link').expect(200);
            await assertApprovalsMatchLinks('after unlinking');
            report(t, 'instances-cross-popup', {
                steps: 'session 0, page 0, /oauth/start 1, callback 2',
                replays: 2,
                racedCallbacks: raced.map((r) => r.status)
            });
        })
    );

    test(
        '100 calls on three instances right after the access token expired: all succeed, one token refresh in all',
        withLogs(async (t) => {
            // Every instance has used the link before the expiry.
            for (const i of [0, 1, 2])
                await putTask(`warm-${i}`, i).expect((res) => assert.ok(res.status < 300, `${res.status} ${res.text}`));
            c.emulator.state.setLatency(20);
            try {
                const start = c.emulator.state.requestCounts('acme');
                const usedBefore = c.emulator.state.org('acme').apiUsage.used;
                assert.ok(c.emulator.state.expireAccessTokens(CALLS_USER.username) > 0, 'no live access token to expire');
                const answers = await Promise.all(Array.from({ length: 100 }, (_, k) => putTask(`expired-${k}`, k % 3).then((res) => res)));
                const counts = c.emulator.state.requestCounts('acme');
                const failed = answers.filter((res) => res.status >= 300);
                assert.equal(
                    failed.length,
                    0,
                    `failed: ${failed
                        .map((res) => `${res.status} ${res.text}`)
                        .slice(0, 5)
                        .join('\n')}`
                );
                assert.equal(delta(start, counts, 'refresh'), 1, `token refreshes across the three instances for one expiry`);
                for (let k = 0; k < 100; k++) assert.equal(tasksWith(`expired-${k}`).length, 1, `Tasks for expired-${k}`);
                report(t, 'instances-expiry', {
                    instances: 3,
                    calls: 100,
                    refreshes: delta(start, counts, 'refresh'),
                    apiCallsPerTask: (c.emulator.state.org('acme').apiUsage.used - usedBefore) / 100
                });
            } finally {
                c.emulator.state.setLatency(0);
            }
        })
    );

    test(
        '50 PUTs of one call id at once on three instances: one taskId in every answer, one Task in Salesforce',
        withLogs(async (t) => {
            c.emulator.state.setLatency(20);
            try {
                const answers = await Promise.all(Array.from({ length: 50 }, (_, k) => putTask('same-call-1', k % 3).then((res) => res)));
                const bad = answers.filter((res) => res.status >= 300);
                assert.equal(
                    bad.length,
                    0,
                    `failed: ${bad
                        .map((res) => `${res.status} ${res.text}`)
                        .slice(0, 5)
                        .join('\n')}`
                );
                const ids = new Set(answers.map((res) => res.body.taskId as string));
                assert.equal(ids.size, 1, `task ids answered: ${[...ids].join(', ')}`);
                const tasks = tasksWith('same-call-1');
                assert.equal(tasks.length, 1, `Tasks with this CallObject: ${tasks.map((task) => task['Id']).join(', ')}`);
                assert.equal(tasks[0]!['Id'], [...ids][0]);
                assert.equal(answers.filter((res) => res.body.created === true).length, 1, 'exactly one answer says it created the Task');
                report(t, 'instances-one-call-id', { instances: 3, puts: 50, tasks: tasks.length });
            } finally {
                c.emulator.state.setLatency(0);
            }
        })
    );

    test(
        'an instance SIGKILLed after /oauth/start: the popup completes on another instance',
        withLogs(async (t) => {
            const account = await c.newAccount('Killed mid-link');
            // The session and /oauth/start on instance 0, which dies while the person is at Salesforce.
            const popup = await c.popup(account.key, PEOPLE.acmeApi, { session: 0, page: 0, confirm: 0 });
            await c.kill(0);
            try {
                const done = await c.callback(popup, 1);
                assert.equal(done.status, 200, done.text);
                const status = await c.api(account.key, 2).get('/api/v1/link').expect(200);
                assert.equal(status.body.status, 'linked');
                // The instances left go on: the link verifies and unlinks on them.
                const verified = await c.api(account.key, 2).post('/api/v1/link/verify').expect(200);
                assert.equal(verified.body.status, 'linked');
                await assertApprovalsMatchLinks('after the link');
                await c.api(account.key, 1).delete('/api/v1/link').expect(200);
                await assertApprovalsMatchLinks('after the unlink');
            } finally {
                await c.restart(0);
            }
            report(t, 'instances-sigkill-mid-link', { instances: 3, killed: 0, completedOn: 1 });
        })
    );

    test(
        'an instance SIGKILLed mid-burst: every answered call has its Task, the others go on, retries make no Task twice',
        withLogs(async (t) => {
            // Each instance has a live session with Salesforce first: the token refresh across instances is the expiry test's concern.
            for (const i of c.live())
                await putTask(`before-burst-${i}`, i).expect((res) => assert.ok(res.status < 300, `${res.status} ${res.text}`));
            // 90 calls, nine at a time, call k on instance k % 3; instance 2 dies after 30 answers.
            const LATENCY_MS = 30;
            c.emulator.state.setLatency(LATENCY_MS);
            const victim = 2;
            const answered = new Map<string, string>();
            let victimAnswered = 0;
            const failedIds: string[] = [];
            const survivorFailures: string[] = [];
            let killed: Promise<void> | undefined;
            try {
                const queue = Array.from({ length: 90 }, (_, k) => k);
                const worker = async () => {
                    for (let k = queue.shift(); k !== undefined; k = queue.shift()) {
                        const callId = `burst-${k}`;
                        const on = k % 3;
                        const res = await putTask(callId, on).then(
                            (r) => r,
                            () => undefined
                        );
                        if (res && res.status < 300) {
                            answered.set(callId, res.body.taskId as string);
                            if (on === victim) victimAnswered++;
                        } else {
                            failedIds.push(callId);
                            if (on !== victim)
                                survivorFailures.push(`${callId} on ${on}: ${res ? `${res.status} ${res.text}` : 'no answer'}`);
                        }
                        if (answered.size === 30) killed ??= c.kill(victim);
                    }
                };
                await Promise.all(Array.from({ length: 9 }, worker));
                await killed;
                assert.deepEqual(survivorFailures, [], 'the surviving instances answered every call sent to them');
                assert.ok(failedIds.length > 0, 'the kill came mid-burst: some calls to the killed instance got no answer');
                // A create the killed instance sent may still land at Salesforce: wait out the emulator's latency before retrying.
                await sleep(LATENCY_MS * 5 + 200);
                for (const [callId, taskId] of answered)
                    assert.deepEqual(
                        tasksWith(callId).map((task) => task['Id']),
                        [taskId],
                        `the answered call ${callId} has its Task`
                    );

                // A call the killed instance had claimed stays "in progress" until its claim lapses: the retry waits as told, as a platform does.
                let inProgress = 0;
                const retryStarted = performance.now();
                const retried = await Promise.all(
                    failedIds.map(async (callId) => {
                        const deadline = Date.now() + CLAIM_WAIT_MS;
                        for (;;) {
                            const res = await putTask(callId);
                            if (res.status !== 409 || res.body.error?.code !== 'CALL_IN_PROGRESS' || Date.now() > deadline) return res;
                            inProgress++;
                            await sleep(Math.min(5, Number(res.body.error.retryAfterSeconds) || 1) * 1000);
                        }
                    })
                );
                const retryMs = performance.now() - retryStarted;
                assert.deepEqual(
                    retried.filter((r) => r.status >= 300).map((r) => `${r.status} ${r.text}`),
                    [],
                    'every retry on the surviving instances succeeds'
                );
                // Every call again, on the survivors: each keeps its one Task.
                const again = await Promise.all(Array.from({ length: 90 }, (_, k) => putTask(`burst-${k}`).then((r) => r)));
                for (let k = 0; k < 90; k++) {
                    const callId = `burst-${k}`;
                    const tasks = tasksWith(callId);
                    assert.equal(tasks.length, 1, `Tasks for ${callId}`);
                    assert.ok(again[k]!.status < 300, `${callId}: ${again[k]!.status} ${again[k]!.text}`);
                    assert.equal(again[k]!.body.taskId, tasks[0]!['Id'], `${callId} answered its one Task`);
                    if (answered.has(callId)) assert.equal(answered.get(callId), tasks[0]!['Id']);
                }
                report(t, 'instances-sigkill-mid-burst', {
                    instances: 3,
                    calls: 90,
                    answeredByTheKilledInstance: victimAnswered,
                    failedAtKill: failedIds.length,
                    inProgressAnswers: inProgress,
                    retrySeconds: Number((retryMs / 1000).toFixed(1)),
                    tasks: 90
                });
            } finally {
                c.emulator.state.setLatency(0);
                await killed;
                await c.restart(victim);
            }
        })
    );

    test(
        'with refresh-token rotation, two instances race a refresh of one link (Verify on both, a call on the third): one refresh at a time, nothing revoked, both Verifies saved',
        withLogs(async (t) => {
            assert.equal(c.emulator.state.tokenPolicy().rotateRefreshTokens, true, 'refresh tokens rotate, as in a packaged app’s org');
            const tokenBefore = (
                await c.sql<{ token: string }>(`SELECT doc->'refreshToken'->>'data' AS token FROM links WHERE account_id = $1`, [calls.id])
            ).rows[0]!.token;
            const start = c.emulator.state.requestCounts('acme');
            const earlier = new Date(Date.now() - 3600_000).toISOString();
            await c.sql(`UPDATE links SET doc = jsonb_set(doc, '{lastVerifiedAt}', to_jsonb($1::text)) WHERE account_id = $2`, [
                earlier,
                calls.id
            ]);
            // Slow enough that the two refreshes overlap at Salesforce if the lease let them.
            c.emulator.state.setLatency(150);
            try {
                assert.ok(c.emulator.state.expireAccessTokens(CALLS_USER.username) > 0, 'no live access token to expire');
                const [first, second, call] = await Promise.all([
                    c.api(calls.key, 0).post('/api/v1/link/verify'),
                    c.api(calls.key, 1).post('/api/v1/link/verify'),
                    putTask('rotation-race', 2)
                ]);
                assert.equal(first.status, 200, first.text);
                assert.equal(second.status, 200, second.text);
                assert.ok(call.status < 300, `${call.status} ${call.text}`);
                for (const verified of [first, second]) {
                    assert.equal(verified.body.status, 'linked');
                    assert.ok(verified.body.link.lastVerifiedAt > earlier, 'the Verify saved its result after the rotating refresh');
                }
            } finally {
                c.emulator.state.setLatency(0);
            }
            const counts = c.emulator.state.requestCounts('acme');
            const refreshes = delta(start, counts, 'refresh');
            assert.ok(refreshes >= 1 && refreshes <= 3, `refreshes: ${refreshes}`);
            // A retired refresh token used again would have revoked the grant: it lives, and the store holds its newest token.
            assert.equal(c.emulator.state.tokensFor(CALLS_USER.username), 1, 'the grant lives');
            const row = (
                await c.sql<{ status: string; token: string }>(
                    `SELECT doc->>'status' AS status, doc->'refreshToken'->>'data' AS token FROM links WHERE account_id = $1`,
                    [calls.id]
                )
            ).rows[0]!;
            assert.equal(row.status, 'linked');
            assert.notEqual(row.token, tokenBefore, 'the rotated refresh token was saved');
            // The next expiry is served by the saved token, on any instance.
            assert.ok(c.emulator.state.expireAccessTokens(CALLS_USER.username) > 0);
            await putTask('rotation-race-after', 1).expect((res) => assert.ok(res.status < 300, `${res.status} ${res.text}`));
            assert.equal(c.emulator.state.tokensFor(CALLS_USER.username), 1, 'the grant still lives');
            report(t, 'instances-rotation-race', { instances: 3, refreshes });
        })
    );

    test(
        'Tasks kept while the org is over its limit, on any instance, are made exactly once once it answers again: an instance killed mid-replay, the platform retrying meanwhile',
        withLogs(async (t) => {
            const N = 30;
            const { max } = c.emulator.state.org('acme').apiUsage;
            const keptCount = async () =>
                (await c.sql<{ n: number }>('SELECT count(*)::int AS n FROM kept_tasks WHERE account_id = $1', [calls.id])).rows[0]!.n;
            let victim: number | undefined;
            c.emulator.state.setApiLimit('acme', { max, used: max });
            try {
                const kept = await Promise.all(Array.from({ length: N }, (_, k) => putTask(`kept-${k}`, k % 3)));
                assert.deepEqual(
                    kept.filter((r) => r.status !== 202 || r.body.reason !== 'api_limit').map((r) => `${r.status} ${r.text}`),
                    [],
                    'every Task kept, whichever instance took it'
                );
                assert.equal(await keptCount(), N);
                const status = await c.api(calls.key).get('/api/v1/link').expect(200);
                assert.equal(status.body.keptTasks.count, N);

                // The org answers again: a live Task on each instance tells it, and the kept ones are made in the background.
                c.emulator.state.setApiLimit('acme', { max, used: 0 });
                c.emulator.state.setLatency(40);
                for (const i of c.live()) await putTask(`wake-${i}`, i).expect(201);
                victim = await until('a replay under way', 20_000, async () => {
                    if (N - (await keptCount()) < 3) return undefined;
                    const holder = (
                        await c.sql<{ holder: string }>('SELECT holder FROM leases WHERE key = $1', [`kept-replay:${calls.id}`])
                    ).rows[0]?.holder;
                    return holder ? c.instances.find((i) => i.alive && holder.includes(`:${i.child.pid}:`))?.index : undefined;
                });
                const leftAtKill = await keptCount();
                await c.kill(victim);
                // The platform retries every call meanwhile, on the survivors: kept, made, or being made; never a second Task.
                const retries = await Promise.all(Array.from({ length: N }, (_, k) => putTask(`kept-${k}`)));
                for (const r of retries)
                    assert.ok(
                        r.status === 200 || r.status === 202 || (r.status === 409 && r.body.error.code === 'CALL_IN_PROGRESS'),
                        `${r.status} ${r.text}`
                    );
                const started = performance.now();
                await until('every kept Task made', 90_000, async () => ((await keptCount()) === 0 ? true : undefined));
                const drainSeconds = (performance.now() - started) / 1000;
                await sleep(500);
                for (let k = 0; k < N; k++) {
                    const tasks = tasksWith(`kept-${k}`);
                    assert.equal(tasks.length, 1, `Tasks for kept-${k}`);
                    const again = await putTask(`kept-${k}`).expect(200);
                    assert.equal(again.body.taskId, tasks[0]!['Id']);
                }
                const replayed = await c.sql<{ n: number }>(
                    `SELECT count(*)::int AS n FROM audit WHERE account_id = $1 AND doc->>'action' = 'tasks_replayed'`,
                    [calls.id]
                );
                assert.ok(replayed.rows[0]!.n >= 1, 'the activity lists the replayed batches');
                report(t, 'instances-kept-tasks', {
                    instances: 3,
                    kept: N,
                    leftWhenTheReplayingInstanceWasKilled: leftAtKill,
                    secondsToMakeTheRestAfterTheKill: Number(drainSeconds.toFixed(1)),
                    tasks: N
                });
            } finally {
                c.emulator.state.setApiLimit('acme', { max, used: 0 });
                c.emulator.state.setLatency(0);
                if (victim !== undefined) await c.restart(victim);
            }
        })
    );

    /** ccl_health_sweeps_total of each instance, summed over its label sets. */
    const sweepCounts = () =>
        Promise.all(
            [0, 1, 2].map(async (i) => {
                const res = await c.http(i).get('/metrics');
                assert.equal(res.status, 200, `GET /metrics on instance ${i}: ${res.status}`);
                const samples = [...res.text.matchAll(/^ccl_health_sweeps_total(?:\{[^}]*\})? (\d+(?:\.\d+)?)$/gm)];
                assert.ok(samples.length > 0, `instance ${i} exposes no ccl_health_sweeps_total`);
                return samples.reduce((sum, m) => sum + Number(m[1]), 0);
            })
        );

    test(
        'the health sweep runs once per interval across the instances, and checks a due link once',
        withLogs(async (t) => {
            const started = performance.now();
            const first = await sweepCounts();
            await sleep(5000);
            const second = await sweepCounts();
            const elapsedSeconds = (performance.now() - started) / 1000;
            const passes = second.reduce((sum, n, i) => sum + n - first[i]!, 0);
            assert.ok(passes >= 1, 'no sweep ran in five seconds with a one-second interval');
            assert.ok(
                passes <= elapsedSeconds + 1,
                `${passes} sweep passes across three instances in ${elapsedSeconds.toFixed(1)} s (per instance: ${second.map((n, i) => n - first[i]!).join(', ')})`
            );

            // The calls account's link, made due by hand: one instance checks it, once.
            const twoDaysAgo = new Date(Date.now() - 2 * 24 * 3600_000).toISOString();
            const start = c.emulator.state.requestCounts('acme');
            await c.sql(`UPDATE links SET doc = jsonb_set(doc, '{lastVerifiedAt}', to_jsonb($1::text)) WHERE account_id = $2`, [
                twoDaysAgo,
                calls.id
            ]);
            const verifiedAt = await until('the due link is checked', 15_000, async () => {
                const row = (
                    await c.sql<{ at: string }>(`SELECT doc->>'lastVerifiedAt' AS at FROM links WHERE account_id = $1`, [calls.id])
                ).rows[0];
                return row && row.at !== twoDaysAgo ? row.at : undefined;
            });
            // A few more intervals, for an instance that read the link as due before it was checked.
            await sleep(3000);
            const counts = c.emulator.state.requestCounts('acme');
            assert.ok(Date.parse(verifiedAt) > Date.now() - 60_000, `lastVerifiedAt ${verifiedAt}`);
            assert.equal(delta(start, counts, 'refresh'), 1, 'token refreshes for one due link across three instances');
            const status = await c.api(calls.key).get('/api/v1/link').expect(200);
            assert.equal(status.body.status, 'linked');
            report(t, 'instances-health-sweep', {
                instances: 3,
                intervalSeconds: 1,
                elapsedSeconds: Number(elapsedSeconds.toFixed(1)),
                passes,
                dueLinkRefreshes: delta(start, counts, 'refresh')
            });
        })
    );

    test(
        'the refresh-token keepalive uses a link’s token once across the instances, one token request and no API call',
        withLogs(async (t) => {
            const eightDaysAgo = new Date(Date.now() - 8 * 24 * 3600_000).toISOString();
            const start = c.emulator.state.requestCounts('acme');
            const usageBefore = c.emulator.state.org('acme').apiUsage.used;
            // Verified just now (the health sweep leaves it alone), its refresh token unused for eight days: the keepalive's.
            const now = new Date().toISOString();
            await c.sql(
                `UPDATE links SET doc = doc || jsonb_build_object('lastRefreshedAt', $1::text, 'lastVerifiedAt', $2::text) WHERE account_id = $3`,
                [eightDaysAgo, now, calls.id]
            );
            const refreshedAt = await until('the keepalive uses the token', 15_000, async () => {
                const row = (
                    await c.sql<{ at: string }>(`SELECT doc->>'lastRefreshedAt' AS at FROM links WHERE account_id = $1`, [calls.id])
                ).rows[0];
                return row && row.at !== eightDaysAgo ? row.at : undefined;
            });
            // A few more intervals, for an instance that read the link as due before it was refreshed.
            await sleep(3000);
            const counts = c.emulator.state.requestCounts('acme');
            assert.ok(Date.parse(refreshedAt) > Date.now() - 60_000, `lastRefreshedAt ${refreshedAt}`);
            assert.equal(delta(start, counts, 'refresh'), 1, 'keepalive refreshes of one due link across three instances');
            assert.equal(c.emulator.state.org('acme').apiUsage.used - usageBefore, 0, 'no API call');
            const status = await c.api(calls.key).get('/api/v1/link').expect(200);
            assert.equal(status.body.status, 'linked');
            assert.equal(status.body.link.lastRefreshedAt, refreshedAt);
            report(t, 'instances-refresh-keepalive', { instances: 3, refreshes: delta(start, counts, 'refresh') });
        })
    );

    test(
        'a change made on one instance (unlink, relink, needs_relink, a rotated key) is seen on every other within the notice bound',
        withLogs(async (t) => {
            const account = await c.newAccount('Seen everywhere');
            await c.link(account, PEOPLE.acmeApi);
            const status = async (i: number, key = account.key) => c.api(key, i).get('/api/v1/link');
            /** Every instance answers from its cache first (two reads each), then the change is made, then the others are watched. */
            const warm = async () => {
                for (const i of [0, 1, 2]) for (let n = 0; n < 2; n++) await status(i);
            };
            const seen: Record<string, number> = {};
            const seenOnOthers = async (label: string, others: number[], check: (i: number) => Promise<boolean>) => {
                const started = Date.now();
                await Promise.all(
                    others.map((i) =>
                        until(`${label} on instance ${i}`, NOTICE_WITHIN_MS, async () => ((await check(i)) ? true : undefined))
                    )
                );
                seen[label] = Date.now() - started;
            };
            const statusIs = (expected: string) => async (i: number) => (await status(i)).body.status === expected;

            await warm();
            await c.api(account.key, 0).delete('/api/v1/link').expect(200);
            await seenOnOthers('unlink', [1, 2], statusIs('unlinked'));

            await warm();
            const popup = await c.popup(account.key, PEOPLE.acmeApi, { session: 1, page: 1, confirm: 1 });
            assert.equal((await c.callback(popup, 1)).status, 200);
            await seenOnOthers('relink', [0, 2], statusIs('linked'));

            await warm();
            c.emulator.state.setUserActive(API_USER, false);
            try {
                const verified = await c.api(account.key, 2).post('/api/v1/link/verify').expect(200);
                assert.equal(verified.body.status, 'needs_relink');
            } finally {
                c.emulator.state.setUserActive(API_USER, true);
            }
            await seenOnOthers('needs_relink', [0, 1], statusIs('needs_relink'));

            // Keys are rotated by the operator's command, a process of its own on the database.
            await warm();
            const operator = await PgStore.open(c.database.url);
            let rotated: string;
            try {
                rotated = await new Accounts(operator, systemClock).rotateKey(account.id);
            } finally {
                await operator.close();
            }
            await seenOnOthers('rotated key refused', [0, 1, 2], async (i) => (await status(i)).status === 401);
            for (const i of [0, 1, 2]) assert.equal((await status(i, rotated)).status, 200);
            await c.api(rotated, 0).delete('/api/v1/link').expect(200);
            report(t, 'instances-status-visibility', { instances: 3, boundMs: NOTICE_WITHIN_MS, msUntilSeenEverywhere: seen });
        })
    );

    test(
        'a link unlinked on one instance: a call on another, which acted through the link before, is kept for the relink without a request to Salesforce',
        withLogs(async () => {
            const account = await c.newAccount('Cached link');
            await c.link(account, PEOPLE.acmeApi);
            const put = (callId: string, i: number) => c.api(account.platformKey, i).put(`/api/v1/calls/${callId}/task`, TASK);
            // Instance 1 makes Tasks through the link: it holds the link in its cache now.
            for (let n = 0; n < 3; n++) assert.equal((await put(`cached-link-${n}`, 1)).status, 201);
            await c.api(account.key, 0).delete('/api/v1/link').expect(200);
            // Once instance 1 shows the unlink (the same notice empties its link cache), its calls use no stale link.
            await until('the unlink on instance 1', NOTICE_WITHIN_MS, async () =>
                (await c.api(account.key, 1).get('/api/v1/link')).body.status === 'unlinked' ? true : undefined
            );
            const start = c.emulator.state.requestCounts('acme');
            const kept = await put('cached-link-after', 1);
            assert.equal(kept.status, 202);
            assert.equal(kept.body.reason, 'not_linked');
            const counts = c.emulator.state.requestCounts('acme');
            assert.equal(counts.rest - start.rest + (counts.refresh - start.refresh), 0, 'nothing was sent to Salesforce');
            assert.equal(tasksWith('cached-link-after').length, 0);
        })
    );

    describe('webhook events', () => {
        interface Delivery {
            id: string;
            accountId: string;
            /** The status the event announces (data.to). */
            to: string;
            body: string;
            headers: IncomingMessage['headers'];
            /** The instance whose connection carried it. */
            sender?: number;
            answered?: number;
            res: ServerResponse;
        }
        let receiver: Server;
        let receiverUrl: string;
        const deliveries: Delivery[] = [];
        /** How the receiver answers a POST: a status, or 'hold' (no answer). */
        let policy: (d: Delivery, earlier: Delivery[]) => number | 'hold' = () => 200;

        before(async () => {
            receiver = createServer((req, res) => {
                let body = '';
                req.on('data', (chunk: Buffer) => (body += chunk.toString()));
                // Answered once the body is in; a failure here fails the test as an unhandled rejection.
                const respond = async () => {
                    let parsed: { id?: unknown; data?: { accountId?: unknown; to?: unknown } } = {};
                    try {
                        parsed = JSON.parse(body) as typeof parsed;
                    } catch {
                        // Recorded as it came; the test's assertions say what is wrong with it.
                    }
                    const delivery: Delivery = {
                        id: String(parsed.id),
                        accountId: String(parsed.data?.accountId),
                        to: String(parsed.data?.to),
                        body,
                        headers: req.headers,
                        res
                    };
                    delivery.sender = await c.instanceOfConnection(req.socket.remotePort!);
                    const earlier = deliveries.filter((d) => d.id === delivery.id);
                    deliveries.push(delivery);
                    const answer = policy(delivery, earlier);
                    if (answer === 'hold') return;
                    delivery.answered = answer;
                    res.writeHead(answer, { 'content-type': 'text/plain' }).end(answer < 300 ? 'ok' : 'not now');
                };
                req.on('end', () => void respond());
            });
            await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', () => resolve()));
            receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
        });
        after(async () => {
            for (const d of deliveries) if (d.answered === undefined) d.res.destroy();
            await new Promise<void>((resolve) => {
                receiver.close(() => resolve());
                receiver.closeAllConnections();
            });
        });

        /** A linked account with the receiver as its webhook; returns the webhook secret. */
        const hooked = async (name: string) => {
            const account = await c.newAccount(name);
            await c.link(account, PEOPLE.acmeApi);
            const set = await c.api(account.platformKey).put('/api/v1/webhook', { url: receiverUrl }).expect(200);
            return { account, secret: set.body.secret as string };
        };
        /** The POSTs of the account's unlink event (the tests' own; a webhook set after the link may also hear of the link). */
        const unlinkPosts = (accountId: string) => deliveries.filter((d) => d.accountId === accountId && d.to === 'unlinked');
        /** Over every POST the receiver saw: no event id answered 2xx twice. */
        const otherEvents = (accountId: string) =>
            deliveries.filter((d) => d.accountId === accountId && d.to !== 'unlinked').map((d) => d.to);
        const assertNoEventDeliveredTwice = () => {
            const answered = deliveries.filter((d) => d.answered !== undefined && d.answered < 300).map((d) => d.id);
            assert.deepEqual(
                answered.filter((id, i) => answered.indexOf(id) !== i),
                [],
                'event ids answered 2xx more than once'
            );
        };
        const recentDeliveries = async (account: TestAccount, i?: number) => {
            const res = await c.api(account.platformKey, i).get('/api/v1/webhook/deliveries');
            assert.equal(res.status, 200, `GET /api/v1/webhook/deliveries: ${res.status} ${res.text}`);
            const list = res.body.deliveries as
                Array<{ id: string; state: 'delivered' | 'pending' | 'failed'; attempts: number }> | undefined;
            assert.ok(Array.isArray(list), `the deliveries answer holds no list: ${res.text.slice(0, 300)}`);
            return list;
        };

        test(
            'an unlink announced to the webhook: one event, the same id on its retry, answered 2xx once, listed as delivered',
            withLogs(async (t) => {
                const { account, secret } = await hooked('Webhook once');
                // The receiver refuses the first POST of every event, then takes it.
                policy = (d, earlier) => (d.to === 'unlinked' && earlier.length === 0 ? 500 : 200);
                await c.api(account.key, 1).delete('/api/v1/link').expect(200);
                await until(
                    'the event is delivered',
                    REDELIVERY_WITHIN_MS,
                    () => unlinkPosts(account.id).some((d) => d.answered === 200) || undefined
                );
                // Long enough for another instance to send it once more, were it to.
                await sleep(3000);
                const posts = unlinkPosts(account.id);
                const ids = new Set(posts.map((d) => d.id));
                assert.equal(ids.size, 1, `event ids: ${[...ids].join(', ')}`);
                assert.ok(posts.length >= 2, 'the refused first POST was retried');
                assert.equal(posts.filter((d) => d.answered !== undefined && d.answered < 300).length, 1, 'answered 2xx exactly once');
                const event = JSON.parse(posts[0]!.body) as { id: string; type: string; createdAt: string; data: Record<string, unknown> };
                assert.equal(event.type, 'link.status_changed');
                assert.match(event.id, /\S{8,}/);
                assert.ok(Number.isFinite(Date.parse(event.createdAt)), `createdAt ${event.createdAt}`);
                assert.equal(event.data['accountId'], account.id);
                assert.equal(event.data['from'], 'linked');
                assert.equal(event.data['to'], 'unlinked');
                for (const d of posts) {
                    assert.equal(d.body, posts[0]!.body, 'a retry sends the same body');
                    const t0 = /t=(\d+)/.exec(String(d.headers['x-ccl-signature']))?.[1];
                    assert.equal(d.headers['x-ccl-signature'], signWebhook(secret, d.body, Number(t0)), 'signed with the webhook secret');
                }
                const listed = (await recentDeliveries(account, 2)).find((d) => d.id === event.id);
                assert.ok(listed, `the deliveries list names event ${event.id}`);
                assert.equal(listed.state, 'delivered');
                assert.equal(listed.attempts, posts.length);
                assertNoEventDeliveredTwice();
                report(t, 'instances-webhook-once', {
                    instances: 3,
                    posts: posts.length,
                    senders: posts.map((d) => d.sender),
                    otherEvents: otherEvents(account.id)
                });
            })
        );

        test(
            'the instance delivering an event dies with the POST open: another instance delivers it, answered once',
            withLogs(async (t) => {
                const { account } = await hooked('Webhook sender dies');
                policy = (d, earlier) => (d.to === 'unlinked' && earlier.length === 0 ? 'hold' : 200);
                await c.api(account.key, 0).delete('/api/v1/link').expect(200);
                const held = await until('the first POST arrives', REDELIVERY_WITHIN_MS, () => unlinkPosts(account.id)[0]);
                assert.notEqual(held.sender, undefined, 'the instance that sent the first POST is known by its connection');
                await c.kill(held.sender!);
                try {
                    const delivered = await until('another instance delivers the event', REDELIVERY_WITHIN_MS, () =>
                        unlinkPosts(account.id).find((d) => d.answered === 200)
                    );
                    assert.equal(delivered.id, held.id, 'the same event id');
                    assert.notEqual(delivered.sender, held.sender, 'delivered by another instance');
                    assert.ok(c.live().includes(delivered.sender!), 'by a running instance');
                    const instanceHeader = delivered.headers['x-ccl-instance'];
                    if (held.headers['x-ccl-instance'] !== undefined && instanceHeader !== undefined)
                        assert.notEqual(instanceHeader, held.headers['x-ccl-instance']);
                    await sleep(3000);
                    const posts = unlinkPosts(account.id);
                    assert.equal(new Set(posts.map((d) => d.id)).size, 1);
                    assert.equal(posts.filter((d) => d.answered !== undefined && d.answered < 300).length, 1, 'answered 2xx exactly once');
                    const listed = (await recentDeliveries(account)).find((d) => d.id === held.id);
                    assert.ok(listed, `the deliveries list names event ${held.id}`);
                    assert.equal(listed.state, 'delivered');
                    assertNoEventDeliveredTwice();
                    report(t, 'instances-webhook-sender-killed', {
                        instances: 3,
                        posts: posts.length,
                        killed: held.sender,
                        deliveredBy: delivered.sender,
                        otherEvents: otherEvents(account.id)
                    });
                } finally {
                    await c.restart(held.sender!);
                }
            })
        );
    });
});
