/**
 * Status API benchmark: `GET /api/v1/link` with a valid key of a linked account, against a bare
 * Express route that answers the same JSON, both served by one child process (same process setup,
 * same store), loaded alternately by autocannon from this process.
 *
 *   npm run bench:status
 *   npm run bench:status -- --duration 10 --rounds 5 --connections 20 --accounts 10000
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm run bench:status -- --store postgres
 *
 * Prints requests/s and p99 of each round, the medians, the machine's load, and the ratio ours/bare (goal ≥ 0.8),
 * saying whether the goal was met.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { availableParallelism, loadavg, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import express from 'express';
import request from 'supertest';
import { startEmulator } from '../emulator/index.ts';
import { authorizeInEmulator } from '../emulator/driver.ts';
import { parseConfig, requireCompleteConfig } from '../server/config.ts';
import { emulatorEnv } from '../demo/emulatorEnv.ts';
import { hashApiKey, randomToken } from '../server/crypto.ts';
import { createLogger } from '../server/logger.ts';
import { runServer } from '../server/main.ts';
import { confirmPopup } from '../server/test/harness.ts';
import { createTestDatabase } from '../server/test/pgDatabase.ts';

const SELF = fileURLToPath(import.meta.url);
const CLIENT = { clientId: 'ccl-bench-client', clientSecret: 'ccl-bench-secret-0123456789' };
const PUBLIC_URL = 'http://ccl.bench';

interface AutocannonResult {
    requests: { average: number; total: number };
    latency: { p50: number; p99: number; average: number };
    non2xx: number;
    errors: number;
    timeouts: number;
}
type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

interface Ready {
    ours: string;
    bare: string;
    key: string;
    accounts: number;
}

// ---------------------------------------------------------------- the server process

async function serve(accountCount: number, store: 'lowdb' | 'postgres'): Promise<void> {
    const emulator = await startEmulator({ quiet: true, clients: [{ ...CLIENT, redirectUris: [`${PUBLIC_URL}/oauth/callback`] }] });
    const dataDir = await mkdtemp(path.join(tmpdir(), 'ccl-bench-status-'));
    const database = store === 'postgres' ? await createTestDatabase() : undefined;
    const config = requireCompleteConfig(
        parseConfig(
            emulatorEnv(
                emulator,
                CLIENT,
                { PUBLIC_URL, DATA_DIR: dataDir },
                // The production default: successful requests are logged at debug, so not at all.
                { PORT: '0', HEALTH_SWEEP_INTERVAL_SECONDS: '0', LOG_LEVEL: 'info', ...(database ? { DATABASE_URL: database.url } : {}) }
            )
        )
    );
    const running = await runServer(config, { logger: createLogger('info') });
    const { services } = running;

    // Other tenants, so the key lookup and the status view work on a store of a realistic size.
    await services.store.seed({
        accounts: Array.from({ length: accountCount }, (_, i) => ({
            id: `acc_${randomToken(12)}`,
            name: `Tenant ${i}`,
            apiKeyHash: hashApiKey(`ccl_${randomToken(32)}`),
            createdAt: new Date().toISOString()
        }))
    });

    // The benchmarked account: linked for real, through the popup flow against the emulator.
    const { apiKey } = await services.accounts.create('Bench tenant');
    const created = await request(running.url)
        .post('/api/v1/link-sessions')
        .set('Authorization', `Bearer ${apiKey}`)
        .send({ environment: 'production' })
        .expect(201);
    const start = await confirmPopup(running.url, new URL((created.body as { authorizeUrl: string }).authorizeUrl).pathname);
    const cookie = (start.headers['set-cookie'] as unknown as string[]).map((c) => c.split(';')[0]).join('; ');
    const final = await authorizeInEmulator(start.headers.location!, { username: 'api@acme.example', password: 'demo-api-pass' });
    await request(running.url).get(`${final.pathname}${final.search}`).set('Cookie', cookie).expect(200);
    const status = await request(running.url).get('/api/v1/link').set('Authorization', `Bearer ${apiKey}`).expect(200);
    const linkStatus = (status.body as { status: string }).status;
    if (linkStatus !== 'linked') throw new Error(`the bench account is ${linkStatus}, not linked`);

    // The bare route: the same JSON, from a plain Express app in the same process.
    const body = status.body as unknown;
    const bareApp = express();
    bareApp.get('/api/v1/link', (_req, res) => {
        res.json(body);
    });
    const bare = await new Promise<import('node:http').Server>((resolve) => {
        const server = bareApp.listen(0, '127.0.0.1', () => resolve(server));
    });
    const barePort = (bare.address() as import('node:net').AddressInfo).port;

    const ready: Ready = {
        ours: running.url.replace('localhost', '127.0.0.1'),
        bare: `http://127.0.0.1:${barePort}`,
        key: apiKey,
        accounts: accountCount + 1
    };
    process.send!(ready);
    const stop = async () => {
        bare.close();
        await running.close();
        await emulator.close();
        await database?.drop();
        await rm(dataDir, { recursive: true, force: true });
        process.exit(0);
    };
    process.on('message', (message) => {
        // The server process's CPU time so far, so the parent can charge each round its CPU per request.
        if (message === 'cpu') {
            const { user, system } = process.cpuUsage();
            process.send!({ cpuMicros: user + system });
            return;
        }
        // A failure to stop ends this process as an unhandled rejection: the parent sees it exit.
        void stop();
    });
}

// ---------------------------------------------------------------- the load generator

const median = (values: number[]): number => {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

export function machine(): string {
    return `${availableParallelism()} CPUs, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}, ${process.platform}/${process.arch}`;
}

async function main(): Promise<void> {
    const { values } = parseArgs({
        options: {
            duration: { type: 'string', default: '3' },
            warmup: { type: 'string', default: '2' },
            rounds: { type: 'string', default: '12' },
            connections: { type: 'string', default: '10' },
            accounts: { type: 'string', default: '1000' },
            server: { type: 'boolean', default: false },
            /** lowdb (a temp dir) or postgres (a database of its own on the DATABASE_URL server) */
            store: { type: 'string', default: 'lowdb' },
            /** Writes a V8 CPU profile of the server process into this directory (open it in Chrome DevTools). */
            profile: { type: 'string' }
        }
    });
    if (values.store !== 'lowdb' && values.store !== 'postgres') throw new Error('--store must be lowdb or postgres');
    if (values.store === 'postgres' && !process.env.DATABASE_URL)
        throw new Error('--store postgres needs DATABASE_URL (postgres://postgres@127.0.0.1:5432/postgres)');
    if (values.server) return serve(Number(values.accounts), values.store);

    const duration = Number(values.duration);
    const rounds = Number(values.rounds);
    const connections = Number(values.connections);
    const loadBefore = loadavg()[0]!;
    console.log(
        `Status API benchmark on ${values.store} · ${machine()} · ${new Date().toISOString()} · load average ${loadBefore.toFixed(2)}`
    );
    console.log(
        `GET /api/v1/link (valid key, linked account) vs a bare Express route with the same JSON; ${connections} connections, ${rounds} rounds of ${duration} s each, alternating\n`
    );

    const child: ChildProcess = fork(SELF, ['--server', '--accounts', String(Number(values.accounts)), '--store', values.store], {
        execArgv: ['--import', 'tsx', ...(values.profile ? ['--cpu-prof', `--cpu-prof-dir=${values.profile}`] : [])],
        stdio: ['ignore', 'ignore', 'inherit', 'ipc']
    });
    const ready = await new Promise<Ready>((resolve, reject) => {
        child.once('message', (message) => resolve(message as Ready));
        child.once('exit', (code) => reject(new Error(`the server process exited (${code})`)));
    });
    try {
        const cpu = () =>
            new Promise<number>((resolve) => {
                child.once('message', (message) => resolve((message as { cpuMicros: number }).cpuMicros));
                child.send('cpu');
            });
        const run = async (target: 'ours' | 'bare', seconds: number) => {
            const before = await cpu();
            const result = await autocannon({
                url: `${ready[target]}/api/v1/link`,
                connections,
                duration: seconds,
                headers: target === 'ours' ? { authorization: `Bearer ${ready.key}` } : {}
            });
            const cpuPerRequest = (await cpu()) - before;
            if (result.non2xx || result.errors) throw new Error(`${target}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
            return {
                rps: result.requests.average,
                p50: result.latency.p50,
                p99: result.latency.p99,
                cpuUs: cpuPerRequest / result.requests.total
            };
        };
        await run('bare', Number(values.warmup));
        await run('ours', Number(values.warmup));

        type Round = Awaited<ReturnType<typeof run>>;
        const ours: Round[] = [];
        const bare: Round[] = [];
        for (let round = 1; round <= rounds; round++) {
            // Alternate the order so neither side always runs on a warmer or quieter machine.
            const order: Array<'ours' | 'bare'> = round % 2 ? ['bare', 'ours'] : ['ours', 'bare'];
            for (const target of order) {
                const r = await run(target, duration);
                (target === 'ours' ? ours : bare).push(r);
                console.log(
                    `round ${String(round).padStart(2)}  ${target.padEnd(4)}  ${r.rps.toFixed(0).padStart(6)} req/s   p50 ${String(r.p50).padStart(3)} ms   p99 ${String(r.p99).padStart(3)} ms   server CPU ${r.cpuUs.toFixed(0).padStart(4)} µs/request`
                );
            }
        }
        const med = (rs: Round[], pick: (r: Round) => number) => median(rs.map(pick));
        const o = { rps: med(ours, (r) => r.rps), p99: med(ours, (r) => r.p99), cpu: med(ours, (r) => r.cpuUs) };
        const b = { rps: med(bare, (r) => r.rps), p99: med(bare, (r) => r.p99), cpu: med(bare, (r) => r.cpuUs) };
        const pairs = ours.map((r, i) => r.rps / bare[i]!.rps);
        console.log(`\nmedians over ${rounds} rounds (${ready.accounts} accounts in the store):`);
        console.log(`  ours  ${o.rps.toFixed(0)} req/s   p99 ${o.p99} ms   server CPU ${o.cpu.toFixed(0)} µs/request`);
        console.log(`  bare  ${b.rps.toFixed(0)} req/s   p99 ${b.p99} ms   server CPU ${b.cpu.toFixed(0)} µs/request`);
        const ratio = median(pairs);
        console.log(
            `ratio ours/bare requests/s: ${ratio.toFixed(2)} (median of the rounds' ratios ${pairs.map((p) => p.toFixed(2)).join(', ')}) on ${values.store}, load average ${loadBefore.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after`
        );
        console.log(`goal ≥ 0.80× bare Express: ${ratio >= 0.8 ? 'met' : 'NOT met'}`);
        console.log(
            `ratio bare/ours server CPU per request: ${(b.cpu / o.cpu).toFixed(2)} (the same ratio measured by CPU time, which a busy machine disturbs less)`
        );
        console.log(`ratio ours/bare p99: ${b.p99 ? (o.p99 / b.p99).toFixed(2) : 'n/a'}`);
    } finally {
        child.send('stop');
        await new Promise((resolve) => child.once('exit', resolve));
    }
}

await main();
