import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import request from 'supertest';
import type { Express } from 'express';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../emulator/index.ts';
import { authorizeInEmulator } from '../../emulator/driver.ts';
import { createApp } from '../app.ts';
import { parseConfig, requireCompleteConfig, type Config } from '../config.ts';
import { emulatorEnv } from '../../demo/emulatorEnv.ts';
import { createLogger } from '../logger.ts';
import { buildServices, type Services } from '../services.ts';
import { LowdbStore } from '../store/lowdb/store.ts';
import { RateLimiter, type RatePolicy } from '../http/rateLimit.ts';
import { PgStore } from '../store/pgStore.ts';
import type { Store } from '../store/store.ts';
import { createTestDatabase, type TestDatabase } from './pgDatabase.ts';
import type { SalesforceGateway } from '../salesforce/gateway.ts';
import { DEFAULT_FAILED_AUTH_POLICY, FailedAuthLimiter, type FailedAuthPolicy } from '../http/abuse.ts';

/** Plain http on this machine's name: a backend may run on it (an http PUBLIC_URL elsewhere is refused at start). */
export const PUBLIC_URL = 'http://localhost:3000';
const UNLIMITED_FAILED_AUTH: FailedAuthPolicy = {
    ...DEFAULT_FAILED_AUTH_POLICY,
    freeFailures: Number.MAX_SAFE_INTEGER,
    blockAfter: Number.MAX_SAFE_INTEGER
};
export const CLIENT = { clientId: 'ccl-test-client', clientSecret: 'ccl-test-secret-0123456789' };

export interface Person {
    username: string;
    password: string;
    decision?: 'allow' | 'deny';
}

export const PEOPLE = {
    acmeApi: { username: 'api@acme.example', password: 'demo-api-pass' },
    acmeAdmin: { username: 'admin@acme.example', password: 'demo-admin-pass' },
    acmeNoApi: { username: 'noapi@acme.example', password: 'demo-noapi-pass' },
    uatApi: { username: 'api@acme.example.uat', password: 'demo-api-pass' }
} satisfies Record<string, Person>;

/** Which store the integration tests run on: lowdb unless CCL_TEST_STORE=postgres (with DATABASE_URL). */
export const TEST_STORE = process.env.CCL_TEST_STORE === 'postgres' ? 'postgres' : 'lowdb';

/** A store for one test: lowdb in `dataDir`, or a PostgreSQL database of its own, dropped by `drop`. */
export async function openTestStore(
    kind: 'lowdb' | 'postgres',
    dataDir: string
): Promise<{ store: Store; database?: TestDatabase; drop(this: void): Promise<void> }> {
    if (kind === 'lowdb') return { store: await LowdbStore.open(dataDir), drop: () => Promise.resolve() };
    const database = await createTestDatabase();
    return { store: await PgStore.open(database.url), database, drop: () => database.drop() };
}

export interface Harness {
    emulator: Emulator;
    store: Store;
    /** Another store over the same data (a restarted process); the caller closes it. */
    reopenStore(): Promise<Store>;
    /** Everything the store keeps, as text: lowdb's files as written, or every PostgreSQL row. */
    storedText(): Promise<string>;
    services: Services;
    app: Express;
    dataDir: string;
    clock: TestClock;
    logs: () => string;
    config: Config;
    newAccount(name?: string): Promise<{ id: string; key: string }>;
    api(key: string): {
        get(path: string): request.Test;
        post(path: string, body?: object): request.Test;
        put(path: string): request.Test;
        delete(path: string): request.Test;
    };
    /** Drives a whole popup: session, /oauth/start, the emulator's pages, /oauth/callback. */
    link(key: string, person: Person, session?: Record<string, unknown>): Promise<{ sessionId: string; callback: request.Response }>;
    close(): Promise<void>;
}

type Target = Parameters<typeof request>[0];

/**
 * The popup's first step as a person who reads the page and clicks Continue: GET /oauth/start shows the account and its
 * form, the form's POST answers 303 to Salesforce with the state cookie. Returns that answer.
 */
export async function confirmPopup(target: Target, startPath: string): Promise<request.Response> {
    const page = await request(target).get(startPath);
    if (page.status !== 200) throw new Error(`oauth start page: ${page.status} ${page.text.slice(0, 300)}`);
    const token = /name="token" value="([^"]+)"/.exec(page.text)?.[1];
    const cookie = (page.headers['set-cookie'] as unknown as string[]).map((c) => c.split(';')[0]).join('; ');
    const answer = await request(target)
        .post(startPath)
        .set('Cookie', cookie)
        .type('form')
        .send({ token: token ?? '' });
    if (answer.status !== 303) throw new Error(`oauth start confirm: ${answer.status} ${answer.text.slice(0, 300)}`);
    return answer;
}

/** A clock tests can move forward, to expire sessions without waiting. */
export class TestClock {
    offsetMs = 0;
    now = (): Date => new Date(Date.now() + this.offsetMs);
    advance(ms: number): void {
        this.offsetMs += ms;
    }
}

/** Remembers every token that passed through the gateway, so tests can look for them where they must not be. */
export function recordingGateway(real: SalesforceGateway, seen: Set<string>): SalesforceGateway {
    const note = <T extends { accessToken?: string; refreshToken?: string }>(tokens: T): T => {
        if (tokens.accessToken) seen.add(tokens.accessToken);
        if (tokens.refreshToken) seen.add(tokens.refreshToken);
        return tokens;
    };
    return {
        ...real,
        exchangeCode: async (...args) => note(await real.exchangeCode(...args)),
        refresh: async (...args) => note(await real.refresh(...args))
    };
}

const UNLIMITED_RATE: RatePolicy = { limit: Number.POSITIVE_INFINITY, windowMs: 60_000, maxKeys: 10 };

export async function startHarness(
    options: {
        emulator?: EmulatorOptions;
        gateway?: (real: SalesforceGateway) => SalesforceGateway;
        env?: Record<string, string>;
        envFor?: (emulator: Emulator) => Record<string, string>;
        /** The wrong-key limiter's policy; by default one that never slows or refuses, since every test client is one address. */
        failedAuth?: FailedAuthPolicy;
        /** The /oauth and per-account write limits; by default none, for the same reason. */
        oauthRate?: RatePolicy;
        accountWriteRate?: RatePolicy;
        store?: 'lowdb' | 'postgres';
    } = {}
): Promise<Harness> {
    const emulator = await startEmulator({
        quiet: true,
        clients: [{ ...CLIENT, redirectUris: [`${PUBLIC_URL}/oauth/callback`] }],
        ...options.emulator
    });
    const dataDir = await mkdtemp(path.join(tmpdir(), 'ccl-test-'));
    const config = requireCompleteConfig(
        parseConfig(
            emulatorEnv(
                emulator,
                CLIENT,
                { PUBLIC_URL, DATA_DIR: dataDir },
                {
                    LOG_LEVEL: 'debug',
                    SF_HTTP_TIMEOUT_MS: '5000',
                    // The tests' webhook receivers listen on this machine.
                    WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
                    ...options.env,
                    ...options.envFor?.(emulator)
                }
            )
        )
    );
    const logStream = new PassThrough();
    let logText = '';
    logStream.on('data', (chunk: Buffer) => (logText += chunk.toString()));
    const logger = createLogger('debug', logStream);
    const opened = await openTestStore(options.store ?? TEST_STORE, dataDir);
    const { store } = opened;
    const clock = new TestClock();
    let services = buildServices({ config, store, logger, clock });
    if (options.gateway) services = buildServices({ config, store, logger, clock, gateway: options.gateway(services.gateway) });
    services.failedAuth = new FailedAuthLimiter(options.failedAuth ?? UNLIMITED_FAILED_AUTH, () => clock.now().getTime());
    services.oauthRate = new RateLimiter(options.oauthRate ?? UNLIMITED_RATE, () => clock.now().getTime());
    services.accountWriteRate = new RateLimiter(options.accountWriteRate ?? UNLIMITED_RATE, () => clock.now().getTime());
    const app = createApp(services);

    const api = (key: string) => ({
        get: (p: string) => request(app).get(p).set('Authorization', `Bearer ${key}`),
        post: (p: string, body?: object) => {
            const req = request(app).post(p).set('Authorization', `Bearer ${key}`);
            return body ? req.send(body) : req;
        },
        put: (p: string) => request(app).put(p).set('Authorization', `Bearer ${key}`),
        delete: (p: string) => request(app).delete(p).set('Authorization', `Bearer ${key}`)
    });

    return {
        emulator,
        store,
        reopenStore: () => (opened.database ? PgStore.open(opened.database.url) : LowdbStore.open(dataDir)),
        async storedText() {
            if (!opened.database)
                return (
                    await Promise.all(
                        ['db.json', 'audit.jsonl', 'ledger.jsonl'].map((name) => readFile(path.join(dataDir, name), 'utf8').catch(() => ''))
                    )
                ).join('\n');
            const other = await PgStore.open(opened.database.url);
            try {
                return JSON.stringify(await other.dump());
            } finally {
                await other.close();
            }
        },
        services,
        app,
        dataDir,
        config,
        clock,
        logs: () => logText,
        async newAccount(name = 'Acme EMEA') {
            // One key with every scope, as accounts made before scopes have: the scope tests issue the platform key themselves.
            const { account, apiKey } = await services.accounts.create(name, { platformKey: false });
            return { id: account.id, key: apiKey };
        },
        api,
        async link(key, person, session = { environment: 'production' }) {
            const created = await api(key).post('/api/v1/link-sessions', session).expect(201);
            const sessionId = created.body.id as string;
            const start = await confirmPopup(app, new URL(created.body.authorizeUrl).pathname);
            const cookie = start.headers['set-cookie'] as unknown as string[];
            const final = await authorizeInEmulator(start.headers.location!, person);
            const callback = await request(app)
                .get(`${final.pathname}${final.search}`)
                .set('Cookie', cookie.map((c) => c.split(';')[0]).join('; '));
            return { sessionId, callback };
        },
        async close() {
            await services.replay.stop();
            await services.org.flush();
            await services.calls.settled();
            await store.close();
            await opened.drop();
            await emulator.close();
            await rm(dataDir, { recursive: true, force: true });
        }
    };
}
