/**
 * Link flow cost: complete links (session, /oauth/start, the popup at Salesforce, /oauth/callback with its
 * token exchange, identity and permission preflight) against the emulator with its latency at 0.
 * Our side's time is each of our requests' wall time minus the time spent waiting for Salesforce (every
 * gateway call is timed); Salesforce round trips are the emulator's own request counts.
 *
 *   npm run bench:link
 *   npm run bench:link -- --links 1000 --latency 40
 *
 * Prints p50/p99 of our side per step, the round trips per link and per relink (goal: 2 and 3), and the
 * ratio of our side's time to Salesforce's time in the same run.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { parseArgs } from 'node:util';
import request from 'supertest';
import { startEmulator, type RequestCounts } from '../emulator/index.ts';
import { authorizeInEmulator } from '../emulator/driver.ts';
import { createApp } from '../server/app.ts';
import { parseConfig, requireCompleteConfig } from '../server/config.ts';
import { emulatorEnv } from '../demo/emulatorEnv.ts';
import { createLogger } from '../server/logger.ts';
import { buildServices } from '../server/services.ts';
import { RateLimiter } from '../server/http/rateLimit.ts';
import type { SalesforceGateway } from '../server/salesforce/gateway.ts';
import { LowdbStore } from '../server/store/lowdb/store.ts';
import { confirmPopup } from '../server/test/harness.ts';

const CLIENT = { clientId: 'ccl-bench-client', clientSecret: 'ccl-bench-secret-0123456789' };
const PUBLIC_URL = 'http://ccl.bench';
const API_USER = { username: 'api@acme.example', password: 'demo-api-pass' };
const OTHER_USER = { username: 'admin@acme.example', password: 'demo-admin-pass' };

const percentile = (values: number[], p: number): number => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
};
const ms = (value: number) => `${value.toFixed(2)} ms`;

/** Times every call to Salesforce, so it can be taken out of our requests' wall time. */
function timedGateway(real: SalesforceGateway, clock: { salesforceMs: number }): SalesforceGateway {
    const time =
        <A extends unknown[], R>(work: (...args: A) => Promise<R>) =>
        async (...args: A): Promise<R> => {
            const started = performance.now();
            try {
                return await work(...args);
            } finally {
                clock.salesforceMs += performance.now() - started;
            }
        };
    return {
        authorizeUrl: real.authorizeUrl.bind(real),
        exchangeCode: time(real.exchangeCode.bind(real)),
        refresh: time(real.refresh.bind(real)),
        revoke: time(real.revoke.bind(real)),
        identity: time(real.identity.bind(real)),
        composite: time(real.composite.bind(real))
    };
}

/** Round trips the backend made (the popup's own pages at Salesforce are the browser's, not ours). */
const BACKEND_KINDS = ['token', 'refresh', 'revoke', 'identity', 'rest'] as const;
const backendTrips = (before: RequestCounts, after: RequestCounts) =>
    Object.fromEntries(BACKEND_KINDS.map((kind) => [kind, after[kind] - before[kind]]).filter(([, n]) => (n as number) > 0)) as Record<
        string,
        number
    >;
const total = (trips: Record<string, number>) => Object.values(trips).reduce((a, b) => a + b, 0);

async function main(): Promise<void> {
    const { values } = parseArgs({
        options: {
            links: { type: 'string', default: '200' },
            warmup: { type: 'string', default: '20' },
            latency: { type: 'string', default: '0' }
        }
    });
    const links = Number(values.links);
    console.log(
        `Link flow benchmark · ${availableParallelism()} CPUs, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version} · ${new Date().toISOString()}`
    );
    console.log(
        `${links} links and ${links} relinks against the emulator (latency ${values.latency} ms), after ${values.warmup} warm-up links\n`
    );

    const emulator = await startEmulator({ quiet: true, clients: [{ ...CLIENT, redirectUris: [`${PUBLIC_URL}/oauth/callback`] }] });
    emulator.state.setLatency(Number(values.latency));
    const dataDir = await mkdtemp(path.join(tmpdir(), 'ccl-bench-link-'));
    const config = requireCompleteConfig(
        parseConfig(
            emulatorEnv(emulator, CLIENT, { PUBLIC_URL, DATA_DIR: dataDir }, { HEALTH_SWEEP_INTERVAL_SECONDS: '0', LOG_LEVEL: 'info' })
        )
    );
    const store = await LowdbStore.open(dataDir);
    const clock = { salesforceMs: 0 };
    const logger = createLogger('info', new PassThrough().resume());
    const plain = buildServices({ config, store, logger });
    const services = buildServices({ config, store, logger, gateway: timedGateway(plain.gateway, clock) });
    // One client address and one account make every link here: the abuse limits would refuse the benchmark itself.
    services.oauthRate = new RateLimiter({ limit: Number.POSITIVE_INFINITY, windowMs: 60_000, maxKeys: 10 });
    services.accountWriteRate = new RateLimiter({ limit: Number.POSITIVE_INFINITY, windowMs: 60_000, maxKeys: 10 });
    const server = await new Promise<Server>((resolve) => {
        const s = createApp(services).listen(0, '127.0.0.1', () => resolve(s));
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    /** One of our requests: its wall time, the part spent waiting for Salesforce, and Salesforce's round trips. */
    const ours = async <T>(work: () => Promise<T>) => {
        const counts = emulator.state.requestCounts();
        const sf = clock.salesforceMs;
        const started = performance.now();
        const value = await work();
        const wall = performance.now() - started;
        const salesforce = clock.salesforceMs - sf;
        return { value, wall, salesforce, own: wall - salesforce, trips: backendTrips(counts, emulator.state.requestCounts()) };
    };

    const { apiKey } = await services.accounts.create('Bench tenant');
    const auth = { Authorization: `Bearer ${apiKey}` };
    const once = async (person: typeof API_USER) => {
        const session = await ours(() =>
            request(url).post('/api/v1/link-sessions').set(auth).send({ environment: 'production' }).expect(201)
        );
        const start = await ours(() => confirmPopup(url, new URL((session.value.body as { authorizeUrl: string }).authorizeUrl).pathname));
        const cookie = (start.value.headers['set-cookie'] as unknown as string[]).map((c) => c.split(';')[0]).join('; ');
        const final = await authorizeInEmulator(start.value.headers.location!, person);
        const callback = await ours(() => request(url).get(`${final.pathname}${final.search}`).set('Cookie', cookie).expect(200));
        return { session, start, callback };
    };

    type Sample = Awaited<ReturnType<typeof once>>;
    const measure = async (count: number, relink: boolean) => {
        const samples: Sample[] = [];
        for (let i = 0; i < count; i++) {
            // A relink replaces a link of another user, so its old token is revoked (one more round trip).
            if (relink) await once(OTHER_USER);
            samples.push(await once(API_USER));
            await request(url).delete('/api/v1/link').set(auth).expect(200);
        }
        return samples;
    };
    await measure(Number(values.warmup), false);
    const fresh = await measure(links, false);
    const relinks = await measure(links, true);

    const summarise = (label: string, samples: Sample[], goal: number) => {
        const own = samples.map((s) => s.session.own + s.start.own + s.callback.own);
        const salesforce = samples.map((s) => s.session.salesforce + s.start.salesforce + s.callback.salesforce);
        const trips = samples.map((s) => ({ ...s.session.trips, ...s.start.trips, ...s.callback.trips }));
        const roundTrips = trips.map(total);
        const kinds = trips[trips.length - 1]!;
        console.log(`${label}`);
        console.log(
            `  our side   p50 ${ms(percentile(own, 50))}   p99 ${ms(percentile(own, 99))}   (session p50 ${ms(
                percentile(
                    samples.map((s) => s.session.own),
                    50
                )
            )}, /oauth/start ${ms(
                percentile(
                    samples.map((s) => s.start.own),
                    50
                )
            )}, callback ${ms(
                percentile(
                    samples.map((s) => s.callback.own),
                    50
                )
            )})`
        );
        console.log(
            `  Salesforce p50 ${ms(percentile(salesforce, 50))}   p99 ${ms(percentile(salesforce, 99))}   (our waits on its answers)`
        );
        console.log(
            `  round trips to Salesforce: ${Math.max(...roundTrips)} at most, ${Math.min(...roundTrips)} at least (${Object.entries(kinds)
                .map(([k, n]) => `${k} ${n}`)
                .join(', ')}); goal ${goal}`
        );
        const ratio = percentile(own, 50) / percentile(salesforce, 50);
        console.log(`  ratio our side / Salesforce side (p50): ${ratio.toFixed(2)}\n`);
        return {
            own50: percentile(own, 50),
            own99: percentile(own, 99),
            sf50: percentile(salesforce, 50),
            maxTrips: Math.max(...roundTrips)
        };
    };
    // Goals: the token, then one Composite request (identity facts and permission checks); a relink adds the old token's revoke.
    const l = summarise(`link (${links})`, fresh, 2);
    const r = summarise(`relink (${links})`, relinks, 3);
    console.log(`round trips per link: ${l.maxTrips} (goal 2); per relink: ${r.maxTrips} (goal 3)`);

    server.close();
    await store.close();
    await emulator.close();
    await rm(dataDir, { recursive: true, force: true });
}

await main();
