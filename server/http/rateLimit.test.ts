/**
 * The per-account limit on audited writes, counted in PostgreSQL so it holds once for every instance on the database;
 * in memory on lowdb. A database that cannot count lets the request go on (never a 500), and says so.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Writable } from 'node:stream';
import pg from 'pg';
import request from 'supertest';
import { Accounts } from '../accounts.ts';
import { createApp } from '../app.ts';
import { systemClock } from '../clock.ts';
import { parseConfig, requireCompleteConfig } from '../config.ts';
import { generateEncryptionKey } from '../crypto.ts';
import { MemoryRateWindows, RateLimiter, type RatePolicy } from './rateLimit.ts';
import { PgRateWindows } from './pgRateWindows.ts';
import { createLogger } from '../logger.ts';
import { buildServices } from '../services.ts';
import { PgStore } from '../store/pgStore.ts';
import { createTestDatabase, PG_SKIP, warnIfNoPostgres, type TestDatabase } from '../test/pgDatabase.ts';

warnIfNoPostgres();

const POLICY: RatePolicy = { limit: 30, windowMs: 60_000, maxKeys: 100 };
const START = Date.parse('2026-12-01T00:00:00.000Z');

test('memory windows: the limit per key and window, then a new window from zero; keys apart', async () => {
    let now = START;
    const limiter = new RateLimiter(POLICY, () => now, new MemoryRateWindows());
    const waits = [];
    for (let i = 0; i < 31; i++) waits.push(await limiter.hit('a'));
    assert.deepEqual(waits.slice(0, 30), Array(30).fill(0));
    assert.equal(waits[30], 60_000);
    assert.equal(await limiter.hit('b'), 0);
    now += 60_000;
    assert.equal(await limiter.hit('a'), 0);
});

describe('windows in PostgreSQL', { skip: PG_SKIP }, () => {
    let database: TestDatabase;
    let pools: pg.Pool[];
    before(async () => {
        database = await createTestDatabase();
        await (await PgStore.open(database.url)).close(); // migrates
        pools = [0, 1, 2].map(() => new pg.Pool({ connectionString: database.url, max: 3 }));
    });
    after(async () => {
        await Promise.all(pools.map((p) => p.end()));
        await database.drop();
    });

    test('three instances hitting one key at once: exactly the limit goes through in all, 3 windows in a row', async () => {
        let now = START;
        const limiters = pools.map((pool) => new RateLimiter(POLICY, () => now, new PgRateWindows(pool, 'test')));
        for (let round = 0; round < 3; round++) {
            const waits = await Promise.all(Array.from({ length: 90 }, (_, i) => limiters[i % 3]!.hit('account-1')));
            assert.equal(waits.filter((w) => w === 0).length, 30, `round ${round}`);
            assert.ok(waits.filter((w) => w > 0).every((w) => w <= 60_000));
            assert.equal(await limiters[0]!.hit('account-2'), 0, 'another key has its own window');
            now += 60_000;
        }
    });

    test('two limiters sharing the table do not share counts', async () => {
        const now = START + 10 * 60_000;
        const first = new RateLimiter({ ...POLICY, limit: 1 }, () => now, new PgRateWindows(pools[0]!, 'one'));
        const second = new RateLimiter({ ...POLICY, limit: 1 }, () => now, new PgRateWindows(pools[1]!, 'two'));
        assert.equal(await first.hit('k'), 0);
        assert.equal(await second.hit('k'), 0);
        assert.ok((await first.hit('k')) > 0);
    });

    test('the server as built: the 31st audited write of one account is refused, whichever of three instances it lands on', async () => {
        const config = requireCompleteConfig(
            parseConfig({
                PUBLIC_URL: 'http://ccl.test',
                DATA_DIR: 'unused',
                DATABASE_URL: database.url,
                SF_CLIENT_ID: 'ccl-test-client',
                SF_CLIENT_SECRET: 'ccl-test-secret-0123456789',
                TOKEN_ENCRYPTION_KEY: generateEncryptionKey()
            })
        );
        const stores = await Promise.all([0, 1, 2].map(() => PgStore.open(database.url, { migrate: false, max: 3 })));
        try {
            const apps = stores.map((store) => createApp(buildServices({ config, store, logger: createLogger('silent') })));
            const { apiKey } = await new Accounts(stores[0]!, systemClock).create('Limited', { platformKey: false });
            const answers = [];
            for (let i = 0; i < 31; i++)
                answers.push(
                    await request(apps[i % 3]!)
                        .delete('/api/v1/link')
                        .set('Authorization', `Bearer ${apiKey}`)
                );
            assert.deepEqual(
                answers.slice(0, 30).map((a) => a.status),
                Array(30).fill(200)
            );
            assert.equal(answers[30]!.status, 429);
            assert.equal(answers[30]!.body.error.code, 'RATE_LIMITED');
            assert.ok(Number(answers[30]!.headers['retry-after']) > 0);
            // Reads are not counted.
            await request(apps[1]!).get('/api/v1/link').set('Authorization', `Bearer ${apiKey}`).expect(200);
        } finally {
            await Promise.all(stores.map((s) => s.close()));
        }
    });
});

test('a database that cannot count: the request goes on uncounted, one warning a minute, never an error', async () => {
    let logged = '';
    const logger = createLogger('warn', new Writable({ write: (chunk: Buffer, _e, done) => ((logged += chunk.toString()), done()) }));
    const refusing = new pg.Pool({ connectionString: 'postgres://nobody@127.0.0.1:1/none', connectionTimeoutMillis: 500 });
    try {
        const limiter = new RateLimiter({ ...POLICY, limit: 1 }, () => START, new PgRateWindows(refusing, 'down', logger));
        for (let i = 0; i < 5; i++) assert.equal(await limiter.hit('k'), 0);
        assert.equal(logged.match(/could not count a rate-limited request/g)?.length, 1);
    } finally {
        await refusing.end();
    }
});
