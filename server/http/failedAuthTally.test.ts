import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { after, before, beforeEach, describe, test } from 'node:test';
import pg from 'pg';
import request from 'supertest';
import { createApp } from '../app.ts';
import { parseConfig, requireCompleteConfig } from '../config.ts';
import { generateEncryptionKey } from '../crypto.ts';
import {
    DEFAULT_FAILED_AUTH_POLICY,
    FailedAuthLimiter,
    MemoryFailedAuthTally,
    tallyKey,
    type FailedAuthPolicy,
    type FailedAuthTally
} from './abuse.ts';
import { PgFailedAuthTally, PRUNE_EVERY_MS, type TallyPool } from './failedAuthTally.ts';
import { createLogger } from '../logger.ts';
import { buildServices } from '../services.ts';
import { migrate, PgStore } from '../store/pgStore.ts';
import { startHarness } from '../test/harness.ts';
import { createTestDatabase, PG_SKIP, warnIfNoPostgres, type TestDatabase } from '../test/pgDatabase.ts';

warnIfNoPostgres();

const POLICY = DEFAULT_FAILED_AUTH_POLICY;
/** The delay of the 1st to the 19th failure in a window under the default policy: 5 free, then 250 ms steps up to 2 s. */
const DELAYS = [0, 0, 0, 0, 0, 250, 500, 750, 1000, 1250, 1500, 1750, 2000, 2000, 2000, 2000, 2000, 2000, 2000];
const START = Date.parse('2025-12-08T09:00:00Z');

interface Kind {
    name: 'memory' | 'postgres';
    skip: string | false;
    setup(): Promise<void>;
    /** An empty tally. */
    fresh(): Promise<FailedAuthTally>;
    teardown(): Promise<void>;
}

let database: TestDatabase | undefined;
const pools: pg.Pool[] = [];
/** A pool of its own on the test database, as each backend instance has. */
const newPool = (): pg.Pool => {
    const pool = new pg.Pool({ connectionString: database!.url, max: 5 });
    pool.on('error', () => undefined); // an idle connection the database dropped: the pool replaces it
    pools.push(pool);
    return pool;
};
const openDatabase = async () => {
    database = await createTestDatabase();
    await migrate(database.url);
};
const closeDatabase = async () => {
    await Promise.all(pools.splice(0).map((pool) => pool.end()));
    await database?.drop();
    database = undefined;
};

const KINDS: Kind[] = [
    {
        name: 'memory',
        skip: false,
        setup: () => Promise.resolve(),
        fresh: () => Promise.resolve(new MemoryFailedAuthTally()),
        teardown: () => Promise.resolve()
    },
    {
        name: 'postgres',
        skip: PG_SKIP,
        setup: openDatabase,
        fresh: async () => {
            const pool = pools[0] ?? newPool();
            await pool.query('TRUNCATE auth_failures');
            return new PgFailedAuthTally(pool);
        },
        teardown: closeDatabase
    }
];

for (const kind of KINDS) {
    describe(`the wrong-key limiter's policy, counted in ${kind.name}`, { skip: kind.skip }, () => {
        let now: number;
        let limiter: FailedAuthLimiter;
        before(() => kind.setup());
        after(() => kind.teardown());
        beforeEach(async () => {
            now = START;
            limiter = new FailedAuthLimiter(POLICY, () => now, { tally: await kind.fresh() });
        });
        const delays = async (address: string, count: number) => {
            const answers: number[] = [];
            for (let i = 0; i < count; i++) {
                const verdict = await limiter.fail(address);
                assert.equal(verdict.refuseForMs, 0, `failure ${i + 1} was refused`);
                answers.push(verdict.delayMs);
            }
            return answers;
        };

        test('five failures at once, then each 250 ms later up to 2 s, and the 20th refuses the address for 15 minutes', async () => {
            assert.deepEqual(await delays('203.0.113.1', 19), DELAYS);
            assert.deepEqual(await limiter.fail('203.0.113.1'), { refuseForMs: POLICY.blockMs, delayMs: 0 });
            // Refused for what remains of the block.
            now += 60_000;
            assert.deepEqual(await limiter.fail('203.0.113.1'), { refuseForMs: POLICY.blockMs - 60_000, delayMs: 0 });
            now += POLICY.blockMs - 60_000 - 1;
            assert.deepEqual(await limiter.fail('203.0.113.1'), { refuseForMs: 1, delayMs: 0 });
            // When the block ends the address is answered again, at once.
            now += 1;
            assert.deepEqual(await limiter.fail('203.0.113.1'), { refuseForMs: 0, delayMs: 0 });
        });

        test('failures while blocked are refused and not counted: the window after the block starts from zero', async () => {
            await delays('203.0.113.9', 19);
            await limiter.fail('203.0.113.9');
            for (let i = 0; i < 30; i++) assert.ok((await limiter.fail('203.0.113.9')).refuseForMs > 0);
            assert.equal(await limiter.failures('203.0.113.9'), 0);
            now += POLICY.blockMs;
            assert.deepEqual(await delays('203.0.113.9', 19), DELAYS, 'the same allowance as a first window');
        });

        test('failures are counted over a window from the first one; the next window starts from zero', async () => {
            assert.deepEqual(await delays('198.51.100.7', 7), DELAYS.slice(0, 7));
            now += POLICY.windowMs - 1;
            assert.deepEqual(await delays('198.51.100.7', 1), [750]);
            assert.equal(await limiter.failures('198.51.100.7'), 8);
            now += 1;
            assert.deepEqual(await delays('198.51.100.7', 6), DELAYS.slice(0, 6));
            assert.equal(await limiter.failures('198.51.100.7'), 6);
        });

        test('addresses are counted apart; IPv6 by its /64, an IPv4-mapped address as IPv4', async () => {
            await delays('2001:db8:1:2::1', 10);
            assert.deepEqual(await delays('2001:0db8:0001:0002:ffff::9', 1), [DELAYS[10]]);
            assert.deepEqual(await delays('2001:db8:1:3::1', 1), [0]);
            await delays('203.0.113.7', 8);
            assert.deepEqual(await delays('::ffff:203.0.113.7', 1), [DELAYS[8]]);
            assert.deepEqual(await delays('203.0.113.8', 1), [0]);
            assert.equal(await limiter.failures('2001:db8:1:2:abcd::1'), 11);
            assert.equal(await limiter.size(), 4);
        });

        test('an address that is no address (long, empty, odd bytes) is counted under a short key, and refused like any other', async () => {
            for (const odd of ['x'.repeat(5000), '', 'unknown', 'évil\u0000\ud83d\ude00; DROP TABLE auth_failures']) {
                assert.ok(tallyKey(odd).length <= 64, `a key of ${tallyKey(odd).length} characters`);
                assert.deepEqual(await delays(odd, 19), DELAYS);
                assert.deepEqual(await limiter.fail(odd), { refuseForMs: POLICY.blockMs, delayMs: 0 });
            }
            assert.notEqual(tallyKey('x'.repeat(5000)), tallyKey('x'.repeat(5001)));
            assert.deepEqual(await delays('203.0.113.9', 1), [0]);
        });
    });
}

describe('the wrong-key counts in PostgreSQL', { skip: PG_SKIP }, () => {
    before(openDatabase);
    after(closeDatabase);
    beforeEach(async () => {
        await (pools[0] ?? newPool()).query('TRUNCATE auth_failures');
    });

    test('three instances (a pool each) failing from one address at once: the block comes after exactly 20 failures in all, 3 rounds', async () => {
        const instances = [newPool(), newPool(), newPool()].map(
            (pool) => new FailedAuthLimiter(POLICY, () => START, { tally: new PgFailedAuthTally(pool) })
        );
        for (let round = 0; round < 3; round++) {
            const address = `203.0.113.${100 + round}`;
            // 20 from each instance, interleaved, all at once.
            const verdicts = await Promise.all(Array.from({ length: 60 }, (_, i) => instances[i % 3]!.fail(address)));
            const answered = verdicts.filter((v) => v.refuseForMs === 0);
            const refused = verdicts.filter((v) => v.refuseForMs > 0);
            // Each of the first 19 failures was counted once: one answer for each place in the window, none lost or doubled.
            assert.deepEqual(
                answered.map((v) => v.delayMs).sort((a, b) => a - b),
                DELAYS,
                `round ${round}`
            );
            assert.equal(refused.length, 41, `round ${round}`);
            assert.ok(refused.every((v) => v.refuseForMs === POLICY.blockMs && v.delayMs === 0));
            // Every instance refuses the address now, and counts another address apart.
            for (const limiter of instances) assert.equal((await limiter.fail(address)).refuseForMs, POLICY.blockMs);
            assert.deepEqual(await instances[round]!.fail(`198.51.100.${round}`), { refuseForMs: 0, delayMs: 0 });
        }
    });

    test('rows whose window and block are over are pruned, once a minute per instance after a count; the rest stay', async () => {
        const pool = pools[0]!;
        const tally = new PgFailedAuthTally(pool);
        let now = START;
        const limiter = new FailedAuthLimiter(POLICY, () => now, { tally });
        await limiter.fail('192.0.2.1');
        for (let i = 0; i < POLICY.blockAfter; i++) await limiter.fail('192.0.2.2');
        now += POLICY.windowMs - 1;
        await limiter.fail('192.0.2.3');
        await tally.settled();
        const rows = async () =>
            (await pool.query<{ address: string }>('SELECT address FROM auth_failures ORDER BY address')).rows.map((r) => r.address);
        assert.deepEqual(await rows(), ['192.0.2.1', '192.0.2.2', '192.0.2.3']);

        // Within the minute since that prune, no other runs.
        now += 1;
        await limiter.fail('192.0.2.4');
        await tally.settled();
        assert.deepEqual(await rows(), ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4']);
        // A minute later the next count prunes: the first address's window is over; the blocked one stays.
        now += PRUNE_EVERY_MS;
        await limiter.fail('192.0.2.5');
        await tally.settled();
        assert.deepEqual(await rows(), ['192.0.2.2', '192.0.2.3', '192.0.2.4', '192.0.2.5']);
        // A window after the block, nothing is left.
        now = START + POLICY.blockMs + POLICY.windowMs;
        assert.equal(await tally.prune(now, POLICY), 4);
        assert.deepEqual(await rows(), []);
        // Counted from zero after its row is gone.
        assert.deepEqual(await limiter.fail('192.0.2.2'), { refuseForMs: 0, delayMs: 0 });
        assert.equal(await limiter.failures('192.0.2.2'), 1);
    });

    test('a flood of addresses is cut back to maxAddresses, the longest-counted first; a blocked address stays blocked', async () => {
        const pool = pools[0]!;
        const policy: FailedAuthPolicy = { ...POLICY, maxAddresses: 50 };
        const tally = new PgFailedAuthTally(pool);
        let now = START;
        const limiter = new FailedAuthLimiter(policy, () => now, { tally });
        for (let i = 0; i < policy.blockAfter; i++) await limiter.fail('192.0.2.66');
        for (let i = 0; i < 200; i++) {
            now += 1000;
            await limiter.fail(`10.1.${i >> 8}.${i & 255}`);
        }
        await tally.settled();
        await tally.prune(now, policy);
        assert.equal(await limiter.size(), 50);
        assert.ok((await limiter.fail('192.0.2.66')).refuseForMs > 0, 'the blocked address was forgotten');
        // The newest are kept.
        assert.equal(await limiter.failures('10.1.0.199'), 1);
        assert.equal(await limiter.failures('10.1.0.0'), 0);
    });

    test('valid keys cause no query to the tally; each wrong one, one statement (three instances built as the server builds them)', async () => {
        const config = requireCompleteConfig(
            parseConfig({
                PUBLIC_URL: 'http://ccl.test',
                DATA_DIR: 'unused',
                DATABASE_URL: database!.url,
                SF_CLIENT_ID: 'ccl-test-client',
                SF_CLIENT_SECRET: 'ccl-test-secret-0123456789',
                TOKEN_ENCRYPTION_KEY: generateEncryptionKey(),
                TRUST_PROXY: 'loopback'
            })
        );
        const logger = createLogger('silent');
        const stores = await Promise.all([0, 1, 2].map(() => PgStore.open(database!.url, { migrate: false, max: 3 })));
        try {
            const statements: string[] = [];
            const instances = stores.map((store) => {
                const services = buildServices({ config, store, logger });
                assert.ok(services.failedAuth.tally instanceof PgFailedAuthTally, 'on PostgreSQL the server counts in the database');
                // The server's own wiring, over a pool that notes what it is asked.
                const recording: TallyPool = {
                    query: ((text: string, values?: unknown[]) => {
                        statements.push(text);
                        return store.pool.query(text, values);
                    }) as TallyPool['query']
                };
                services.failedAuth = new FailedAuthLimiter(services.failedAuth.policy, () => Date.now(), {
                    tally: new PgFailedAuthTally(recording),
                    logger
                });
                return { services, app: createApp(services) };
            });
            const { apiKey } = await instances[0]!.services.accounts.create('Three instances', { platformKey: false });
            const from = (i: number, bearer: string | undefined) => {
                const req = request(instances[i % 3]!.app)
                    .get('/api/v1/link')
                    .set('X-Forwarded-For', '203.0.113.77');
                return bearer ? req.set('Authorization', `Bearer ${bearer}`) : req;
            };

            for (let i = 0; i < 9; i++) await from(i, apiKey).expect(200);
            assert.equal(statements.length, 0, 'a valid key reached the tally');

            // 19 wrong keys over the three instances, at once (the slowed ones wait up to 2 s): all answered 401.
            const wrong = await Promise.all(Array.from({ length: 19 }, (_, i) => from(i, i % 4 === 0 ? undefined : `ccl_wrong_${i}`)));
            assert.deepEqual([...new Set(wrong.map((r) => r.status))], [401]);
            assert.equal(statements.filter((s) => s.includes('INSERT INTO auth_failures')).length, 19);
            assert.ok(statements.every((s) => /auth_failures/.test(s)));
            const counted = statements.length;
            // Valid keys from that address still pass on every instance, and still cause no query.
            for (let i = 0; i < 3; i++) await from(i, apiKey).expect(200);
            assert.equal(statements.length, counted);
            // The 20th, on any instance, refuses the address on all of them.
            const refused = await from(1, 'ccl_wrong_last').expect(429);
            assert.equal(refused.body.error.code, 'TOO_MANY_FAILED_AUTHENTICATIONS');
            assert.equal(Number(refused.headers['retry-after']), POLICY.blockMs / 1000);
            for (let i = 0; i < 3; i++) await from(i, 'ccl_wrong_again').expect(429);
            for (let i = 0; i < 3; i++) await from(i, apiKey).expect(200);
            await request(instances[2]!.app)
                .get('/api/v1/link')
                .set('X-Forwarded-For', '198.51.100.77')
                .set('Authorization', 'Bearer typo')
                .expect(401);
        } finally {
            await Promise.all(stores.map((store) => store.close()));
        }
    });
});

describe('when the tally cannot count', () => {
    test('a database that refuses connections: wrong keys are answered 401 at once (never 500, never let through), one warning logged', async () => {
        const unreachable = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/postgres' });
        const h = await startHarness();
        try {
            h.services.failedAuth = new FailedAuthLimiter(POLICY, () => h.clock.now().getTime(), {
                tally: new PgFailedAuthTally(unreachable),
                logger: h.services.logger
            });
            const app = createApp(h.services);
            const { key } = await h.newAccount('Database down');
            const answers = await Promise.all(
                Array.from({ length: POLICY.blockAfter + 5 }, (_, i) =>
                    request(app).get('/api/v1/link').set('Authorization', `Bearer ccl_wrong_${i}`)
                )
            );
            assert.deepEqual([...new Set(answers.map((r) => r.status))], [401]);
            assert.ok(answers.every((r) => r.body.error.code === 'UNAUTHORIZED'));
            await request(app).get('/api/v1/link').set('Authorization', `Bearer ${key}`).expect(200);
            const warnings = h
                .logs()
                .split('\n')
                .filter((line) => line.includes('could not count a failed authentication'));
            assert.equal(warnings.length, 1, 'one warning a minute, not one per failure');
            assert.match(warnings[0]!, /ECONNREFUSED|connect/);
            // A minute later, the next warning says how many went uncounted since.
            h.clock.advance(60_000);
            await request(app).get('/api/v1/link').set('Authorization', 'Bearer ccl_wrong_later').expect(401);
            const next = h
                .logs()
                .split('\n')
                .filter((line) => line.includes('could not count a failed authentication'));
            assert.equal(next.length, 2);
            assert.equal(JSON.parse(next[1]!).uncounted, POLICY.blockAfter + 5);
        } finally {
            await h.close();
            await unreachable.end();
        }
    });

    test('a database that accepts connections and never answers: wrong keys are answered 401 when the count times out', async () => {
        const sockets = new Set<Socket>();
        const silent = createServer((socket) => {
            sockets.add(socket);
            socket.on('close', () => sockets.delete(socket));
        });
        await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
        // Its own connect timeout (far above the limiter's) only bounds the cleanup.
        const pool = new pg.Pool({
            connectionString: `postgres://postgres@127.0.0.1:${(silent.address() as AddressInfo).port}/postgres`,
            connectionTimeoutMillis: 5000
        });
        pool.on('error', () => undefined);
        const logs = new PassThrough();
        let logged = '';
        logs.on('data', (chunk: Buffer) => (logged += chunk.toString()));
        try {
            const limiter = new FailedAuthLimiter(POLICY, Date.now, {
                tally: new PgFailedAuthTally(pool),
                logger: createLogger('warn', logs),
                countTimeoutMs: 300
            });
            const started = performance.now();
            const verdicts = await Promise.all(Array.from({ length: 25 }, () => limiter.fail('203.0.113.5')));
            const ms = performance.now() - started;
            assert.deepEqual(new Set(verdicts.map((v) => JSON.stringify(v))), new Set([JSON.stringify({ refuseForMs: 0, delayMs: 0 })]));
            assert.ok(ms >= 250 && ms < 2000, `answered after ${ms.toFixed(0)} ms`);
            assert.match(logged, /no answer in 300 ms/);
        } finally {
            silent.close();
            for (const socket of sockets) socket.destroy();
            await pool.end();
        }
    });
});
