import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { startEmulator, type Emulator } from '../../../emulator/index.ts';
import { parseConfig, requireCompleteConfig, type Config } from '../../config.ts';
import { emulatorEnv } from '../../../demo/emulatorEnv.ts';
import { createLogger } from '../../logger.ts';
import { runServer } from '../../main.ts';
import { openStore } from '../../store/openStore.ts';
import { createTestDatabase, PG_SKIP, warnIfNoPostgres, type TestDatabase } from '../pgDatabase.ts';
import { Accounts } from '../../accounts.ts';
import { systemClock } from '../../clock.ts';
import { CLIENT, confirmPopup, PEOPLE, PUBLIC_URL } from '../harness.ts';
import { report, startPopup } from '../reliabilityHarness.ts';
import { spawnBackend, type SpawnedBackend } from '../spawnBackend.ts';

warnIfNoPostgres();

// node:test runs each suite itself: the wrapper hands back nothing to wait for.
const restartSuite = (kind: 'lowdb' | 'postgres') =>
    void describe(
        `${kind}: the backend restarts between the popup’s /oauth/start and its callback`,
        { skip: kind === 'postgres' && PG_SKIP },
        () => {
            let emulator: Emulator;
            let database: TestDatabase | undefined;
            let dataDir: string;
            let env: Record<string, string>;
            let config: Config;
            before(async () => {
                emulator = await startEmulator({ quiet: true, clients: [{ ...CLIENT, redirectUris: [`${PUBLIC_URL}/oauth/callback`] }] });
                dataDir = await mkdtemp(path.join(tmpdir(), 'ccl-restart-'));
                database = kind === 'postgres' ? await createTestDatabase() : undefined;
                env = emulatorEnv(
                    emulator,
                    CLIENT,
                    { PUBLIC_URL, DATA_DIR: dataDir },
                    { PORT: '0', HEALTH_SWEEP_INTERVAL_SECONDS: '0', LOG_LEVEL: 'silent', DATABASE_URL: database?.url ?? '' }
                );
                config = requireCompleteConfig(parseConfig(env));
            });
            after(async () => {
                await emulator.close();
                await database?.drop();
                await rm(dataDir, { recursive: true, force: true });
            });

            const newAccount = async (name: string) => {
                const store = await openStore(config);
                const accounts = new Accounts(store, systemClock);
                const { account, apiKey } = await accounts.create(name);
                const platformKey = await accounts.rotateKey(account.id, 'platform');
                await store.close();
                return { id: account.id, key: apiKey, platformKey };
            };

            test('stopped cleanly and started again (runServer over the same DATA_DIR): the link completes', async (t) => {
                const { key, platformKey } = await newAccount('Restarted cleanly');
                const first = await runServer(config, { logger: createLogger('silent') });
                const popup = await startPopup(first.url, key, PEOPLE.acmeApi);
                await first.close();

                const second = await runServer(config, { logger: createLogger('silent') });
                try {
                    const callback = await request(second.url).get(popup.callbackPath).set('Cookie', popup.cookie);
                    assert.equal(callback.status, 200, callback.text);
                    const status = await request(second.url).get('/api/v1/link').set('Authorization', `Bearer ${key}`).expect(200);
                    assert.equal(status.body.status, 'linked');
                    const session = await request(second.url)
                        .get(`/api/v1/link-sessions/${popup.sessionId}`)
                        .set('Authorization', `Bearer ${key}`)
                        .expect(200);
                    assert.equal(session.body.state, 'linked');
                    // The restarted server uses the link: a verify refreshes with the token the first one never saw.
                    const verified = await request(second.url)
                        .post('/api/v1/link/verify')
                        .set('Authorization', `Bearer ${key}`)
                        .expect(200);
                    assert.equal(verified.body.status, 'linked');
                } finally {
                    await second.close();
                }
                // Refresh tokens rotate: the third server acts with the token the second one's Verify got, and an expiry costs one refresh.
                assert.equal(emulator.state.tokenPolicy().rotateRefreshTokens, true);
                const third = await runServer(config, { logger: createLogger('silent') });
                try {
                    assert.ok(emulator.state.expireAccessTokens(PEOPLE.acmeApi.username) > 0, 'no live access token to expire');
                    const before = emulator.state.requestCounts().refresh;
                    const lookups = await Promise.all(
                        Array.from({ length: 5 }, () =>
                            request(third.url)
                                .post('/api/v1/calls/lookup')
                                .set('Authorization', `Bearer ${platformKey}`)
                                .send({ phone: '(415) 555-1212' })
                        )
                    );
                    assert.deepEqual(
                        lookups.map((r) => r.status),
                        [200, 200, 200, 200, 200],
                        lookups.map((r) => r.text).join('\n')
                    );
                    assert.equal(emulator.state.requestCounts().refresh - before, 1, 'one refresh for the expiry after two restarts');
                    assert.equal(emulator.state.tokensFor(PEOPLE.acmeApi.username), 1, 'the grant lives: no retired token was used');
                    await request(third.url).delete('/api/v1/link').set('Authorization', `Bearer ${key}`).expect(200);
                } finally {
                    await third.close();
                }
                report(t, `restart-clean-${kind}`, { restarts: 2, linked: 1 });
            });

            test('killed (SIGKILL) and started again: the link completes', async (t) => {
                const { key } = await newAccount('Killed');
                const start = (): Promise<SpawnedBackend> => spawnBackend(env);
                const kill = (child: ChildProcess) =>
                    new Promise<void>((resolve) => {
                        child.once('exit', () => resolve());
                        child.kill('SIGKILL');
                    });

                // Killed after the session is made, and again after /oauth/start.
                let server = await start();
                const created = await request(server.url)
                    .post('/api/v1/link-sessions')
                    .set('Authorization', `Bearer ${key}`)
                    .send({ environment: 'production' })
                    .expect(201);
                await kill(server.child);
                server = await start();
                const begin = await confirmPopup(server.url, new URL(created.body.authorizeUrl as string).pathname);
                await kill(server.child);
                const cookie = (begin.headers['set-cookie'] as unknown as string[]).map((c) => c.split(';')[0]).join('; ');
                const { authorizeInEmulator } = await import('../../../emulator/driver.ts');
                const final = await authorizeInEmulator(begin.headers.location!, PEOPLE.acmeApi);
                server = await start();
                try {
                    const callback = await request(server.url).get(`${final.pathname}${final.search}`).set('Cookie', cookie);
                    assert.equal(callback.status, 200, callback.text);
                    const status = await request(server.url).get('/api/v1/link').set('Authorization', `Bearer ${key}`).expect(200);
                    assert.equal(status.body.status, 'linked');
                    assert.equal(status.body.link.username, PEOPLE.acmeApi.username);
                } finally {
                    await kill(server.child);
                }
                report(t, `restart-sigkill-${kind}`, { kills: 2, linked: 1 });
            });
        }
    );

restartSuite('lowdb');
restartSuite('postgres');
