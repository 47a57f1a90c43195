import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import request from 'supertest';
import { startEmulator } from '../../../emulator/index.ts';
import { emulatorEnv } from '../../../demo/emulatorEnv.ts';
import { Accounts } from '../../accounts.ts';
import { ALIVE_FOR_MS, CLAIM_TTL_MS } from '../../calls/ledger.ts';
import { systemClock } from '../../clock.ts';
import { parseConfig, requireCompleteConfig } from '../../config.ts';
import { openStore } from '../../store/openStore.ts';
import { CLIENT, PEOPLE, PUBLIC_URL } from '../harness.ts';
import { createTestDatabase, PG_SKIP, warnIfNoPostgres } from '../pgDatabase.ts';
import { report, startPopup } from '../reliabilityHarness.ts';
import { spawnBackend } from '../spawnBackend.ts';

warnIfNoPostgres();

const CALLS = 40;
/** Every create is held this long at Salesforce: the kill comes while they all are in flight. */
const LATENCY_MS = 600;
const TASK = { direction: 'inbound', durationSeconds: 95, disposition: 'Resolved' };
/**
 * lowdb: the restarted process serves the data directory alone, so it takes over its predecessor's claims at once.
 * PostgreSQL: another instance may still be alive, so a claim is waited for until its instance stops saying it is
 * alive (ALIVE_FOR_MS). Each bound with room for a busy machine; far below the claim's CLAIM_TTL_MS either way.
 */
const ANSWERED_WITHIN_MS = { lowdb: 5_000, postgres: ALIVE_FOR_MS + 8_000 } as const;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const recoverySuite = (kind: 'lowdb' | 'postgres') =>
    void describe(`${kind}: SIGKILLed mid-burst and started again`, { skip: kind === 'postgres' && PG_SKIP }, () => {
        test('every call that was in flight is answered, each with one Task; the seconds until then are measured', async (t) => {
            assert.ok(ANSWERED_WITHIN_MS[kind] < CLAIM_TTL_MS);
            const emulator = await startEmulator({ quiet: true, clients: [{ ...CLIENT, redirectUris: [`${PUBLIC_URL}/oauth/callback`] }] });
            const dataDir = await mkdtemp(path.join(tmpdir(), 'ccl-recovery-'));
            const database = kind === 'postgres' ? await createTestDatabase() : undefined;
            const env = emulatorEnv(
                emulator,
                CLIENT,
                { PUBLIC_URL, DATA_DIR: dataDir },
                { HEALTH_SWEEP_INTERVAL_SECONDS: '0', LOG_LEVEL: 'silent', DATABASE_URL: database?.url ?? '' }
            );
            let child: ChildProcess | undefined;
            const kill = (process: ChildProcess) =>
                new Promise<void>((resolve) => {
                    process.once('exit', () => resolve());
                    process.kill('SIGKILL');
                });
            try {
                const store = await openStore(requireCompleteConfig(parseConfig(env)));
                const accounts = new Accounts(store, systemClock);
                const { account, apiKey } = await accounts.create('Recovered');
                const platformKey = await accounts.rotateKey(account.id, 'platform');
                await store.close();

                let server = await spawnBackend(env);
                child = server.child;
                const popup = await startPopup(server.url, apiKey, PEOPLE.acmeApi);
                await request(server.url).get(popup.callbackPath).set('Cookie', popup.cookie).expect(200);
                const putTask = (url: string, callId: string) =>
                    request(url).put(`/api/v1/calls/${callId}/task`).set('Authorization', `Bearer ${platformKey}`).send(TASK);
                // A live session first: the burst measures the creates.
                assert.ok((await putTask(server.url, 'warm-up')).status < 300);

                emulator.state.setLatency(LATENCY_MS);
                const callIds = Array.from({ length: CALLS }, (_, i) => `in-flight-${i}`);
                const first = new Map<string, number>();
                const burst = callIds.map((callId) =>
                    putTask(server.url, callId).then(
                        (res) => void first.set(callId, res.status),
                        () => undefined
                    )
                );
                // Every call claimed and its create held at Salesforce: then the kill.
                await sleep(LATENCY_MS / 2);
                await kill(server.child);
                await Promise.all(burst);
                const inFlight = callIds.filter((callId) => !(first.get(callId)! < 300));
                assert.ok(inFlight.length > 0, 'the kill came before the calls were answered');
                // The creates the dead process sent land at Salesforce meanwhile: the retries must find them, not make more.
                await sleep(LATENCY_MS + 200);
                emulator.state.setLatency(0);

                server = await spawnBackend(env);
                child = server.child;
                const restarted = performance.now();
                let inProgress = 0;
                const answeredAt: number[] = [];
                await Promise.all(
                    inFlight.map(async (callId) => {
                        for (;;) {
                            const res = await putTask(server.url, callId);
                            if (res.status < 300) return void answeredAt.push(performance.now() - restarted);
                            assert.equal(res.status, 409, `${callId}: ${res.status} ${res.text}`);
                            assert.equal(res.body.error.code, 'CALL_IN_PROGRESS');
                            inProgress++;
                            if (performance.now() - restarted > ANSWERED_WITHIN_MS[kind])
                                assert.fail(`${callId} still in progress ${ANSWERED_WITHIN_MS[kind]} ms after the restart`);
                            await sleep(100);
                        }
                    })
                );
                const seconds = Math.max(...answeredAt) / 1000;
                const tasks = (callId: string) => emulator.state.tasks('acme').filter((task) => task['CallObject'] === callId);
                for (const callId of callIds) assert.equal(tasks(callId).length, 1, `Tasks for ${callId}`);
                report(t, `recovery-${kind}`, {
                    calls: CALLS,
                    inFlightAtKill: inFlight.length,
                    secondsFromRestartUntilAllAnswered: Number(seconds.toFixed(2)),
                    inProgressAnswers: inProgress,
                    boundMs: ANSWERED_WITHIN_MS[kind],
                    tasksPerCall: 1
                });
            } finally {
                if (child && child.exitCode === null && child.signalCode === null) await kill(child);
                await emulator.close();
                await database?.drop();
                await rm(dataDir, { recursive: true, force: true });
            }
        });
    });

recoverySuite('lowdb');
recoverySuite('postgres');
