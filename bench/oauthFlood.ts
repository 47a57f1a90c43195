/**
 * Authenticated writes under a flood of unauthenticated popup requests that match nothing
 * (`/oauth/callback?state=<random>`, `/oauth/start/<random id>`), as a ratio to the same writes
 * when idle. The backend runs in a child process on a lowdb store of about 1 MB (the size at which
 * such a flood once stalled writes from 30 ms to over 2 s, when each unmatched request ran a locked
 * store write); autocannon floods it from this process.
 *
 *   npm run bench:oauth-flood
 *   npm run bench:oauth-flood -- --accounts 400 --writes 40 --connections 20
 *
 * Two rounds: the flood reaching the handlers (no rate limit: shows that an unmatched request takes
 * no lock), and the flood from one address against the default /oauth limit (60 a minute).
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { availableParallelism, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateEncryptionKey } from '../server/crypto.ts';
import { parseConfig, requireCompleteConfig } from '../server/config.ts';
import { OAUTH_RATE } from '../server/http/rateLimit.ts';
import { runServer } from '../server/main.ts';
import { createLogger } from '../server/logger.ts';
import { LowdbStore } from '../server/store/lowdb/store.ts';
import type { LinkRecord } from '../server/store/types.ts';

const SELF = fileURLToPath(import.meta.url);

interface AutocannonResult {
    requests: { average: number; total: number };
    non2xx: number;
    statusCodeStats: Record<string, { count: number }>;
}
type Autocannon = ((options: Record<string, unknown>) => Promise<AutocannonResult> & { stop?: () => void }) & { track?: unknown };
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const percentile = (values: number[], p: number): number => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
};

// ---------------------------------------------------------------- the backend process

async function serve(accounts: number, limited: boolean): Promise<void> {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'ccl-bench-flood-'));
    const at = new Date().toISOString();
    const seedStore = await LowdbStore.open(dataDir);
    const link = (accountId: string, i: number): LinkRecord => ({
        accountId,
        method: 'oauth',
        status: 'linked',
        environment: 'production',
        orgId: `00D${String(i).padStart(12, '0')}AAA`,
        userId: `005${String(i).padStart(12, '0')}AAA`,
        username: `api${i}@customer.example`,
        displayName: 'Integration User',
        instanceUrl: `https://customer${i}.my.salesforce.com`,
        loginUrl: 'https://login.salesforce.com',
        linkedAt: at,
        lastVerifiedAt: at,
        refreshToken: { v: 2, kid: '0123456789abcdef', iv: 'A'.repeat(16), tag: 'A'.repeat(24), data: 'x'.repeat(180) },
        permissions: {
            checkedAt: at,
            checks: Array.from({ length: 13 }, (_, c) => ({
                id: `check_${c}`,
                label: `Permission check number ${c}`,
                ok: true,
                severity: 'error' as const
            }))
        }
    });
    await seedStore.seed({
        accounts: Array.from({ length: accounts }, (_, i) => ({
            id: `acc_${String(i).padStart(12, '0')}`,
            name: `Contact center ${i}`,
            apiKeyHash: randomBytes(32).toString('hex'),
            createdAt: at
        })),
        links: Array.from({ length: accounts }, (_, i) => link(`acc_${String(i).padStart(12, '0')}`, i))
    });
    await seedStore.close();
    const config = requireCompleteConfig(
        parseConfig({
            PORT: '0',
            PUBLIC_URL: 'http://ccl.bench',
            SF_CLIENT_ID: 'bench',
            SF_CLIENT_SECRET: 'bench',
            DATA_DIR: dataDir,
            TOKEN_ENCRYPTION_KEY: generateEncryptionKey(),
            HEALTH_SWEEP_INTERVAL_SECONDS: '0',
            LOG_LEVEL: 'error'
        })
    );
    const running = await runServer(config, { logger: createLogger('error') });
    const { services } = running;
    // The app holds these limiters: their policies are changed in place.
    services.oauthRate.policy.limit = limited ? OAUTH_RATE.limit : Number.POSITIVE_INFINITY;
    services.accountWriteRate.policy.limit = Number.POSITIVE_INFINITY;
    const { account, platformKey } = await services.accounts.create('Bench tenant');
    void account;
    const fileBytes = (await stat(path.join(dataDir, 'db.json'))).size;
    process.send!({ url: running.url, key: platformKey, fileBytes });
    const stop = async () => {
        await running.close();
        await rm(dataDir, { recursive: true, force: true });
        process.exit(0);
    };
    // A failure to stop ends this process as an unhandled rejection: the parent sees it exit.
    process.once('message', () => void stop());
}

// ---------------------------------------------------------------- the load

async function round(accounts: number, writes: number, connections: number, limited: boolean) {
    const child = fork(SELF, ['--serve', String(accounts), ...(limited ? ['--limited'] : [])], {
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc']
    });
    const ready = await new Promise<{ url: string; key: string; fileBytes: number }>((resolve) =>
        child.once('message', (m) => resolve(m as never))
    );
    // An authenticated write: the webhook set again (the account row rewritten, the file replaced durably).
    const write = async () => {
        const started = performance.now();
        const res = await fetch(`${ready.url}/api/v1/webhook`, {
            method: 'PUT',
            headers: { authorization: `Bearer ${ready.key}`, 'content-type': 'application/json' },
            body: JSON.stringify({ url: 'https://93.184.215.14/hook' })
        });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`the write answered ${res.status}`);
        return performance.now() - started;
    };
    for (let i = 0; i < 5; i++) await write();
    const idle: number[] = [];
    for (let i = 0; i < writes; i++) idle.push(await write());

    let n = 0;
    const flood = autocannon({
        url: ready.url,
        connections,
        duration: 600,
        requests: [
            {
                setupRequest: (req: Record<string, unknown>) => ({
                    ...req,
                    path:
                        n++ % 2
                            ? `/oauth/callback?state=${randomBytes(32).toString('base64url')}&code=x`
                            : `/oauth/start/${randomBytes(24).toString('base64url')}`
                })
            }
        ]
    });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const flooded: number[] = [];
    for (let i = 0; i < writes; i++) flooded.push(await write());
    (flood as unknown as { stop: () => void }).stop();
    const load = await flood;
    child.send('stop');
    await new Promise((resolve) => child.once('exit', resolve));
    return {
        fileBytes: ready.fileBytes,
        idle,
        flooded,
        floodRate: load.requests.average,
        statuses: Object.fromEntries(Object.entries(load.statusCodeStats ?? {}).map(([code, s]) => [code, s.count]))
    };
}

async function main(): Promise<void> {
    const { values } = parseArgs({
        options: {
            accounts: { type: 'string', default: '400' },
            writes: { type: 'string', default: '40' },
            connections: { type: 'string', default: '20' },
            serve: { type: 'string' },
            limited: { type: 'boolean' }
        }
    });
    if (values.serve) return serve(Number(values.serve), values.limited ?? false);
    const accounts = Number(values.accounts);
    const writes = Number(values.writes);
    const connections = Number(values.connections);
    console.log(
        `/oauth flood benchmark · ${availableParallelism()} CPUs, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version} · ${new Date().toISOString()}`
    );
    console.log(
        `lowdb store of ${accounts} linked accounts; ${writes} authenticated writes (PUT /api/v1/webhook) idle, then under ${connections} connections of unmatched /oauth requests\n`
    );
    for (const limited of [false, true]) {
        const r = await round(accounts, writes, connections, limited);
        const f = (ms: number) => ms.toFixed(1);
        const ratio = (p: number) => (percentile(r.flooded, p) / percentile(r.idle, p)).toFixed(2);
        console.log(
            `${limited ? 'with the /oauth limit (60/min per address)' : 'no /oauth limit (every request reaches its handler)'} · data file ${(r.fileBytes / 2 ** 20).toFixed(2)} MB\n` +
                `  idle:        write p50 ${f(percentile(r.idle, 50))} ms, p99 ${f(percentile(r.idle, 99))} ms\n` +
                `  under flood: write p50 ${f(percentile(r.flooded, 50))} ms, p99 ${f(percentile(r.flooded, 99))} ms  (flood ${Math.round(r.floodRate)} req/s, answers ${JSON.stringify(r.statuses)})\n` +
                `  ratio flood/idle: p50 ×${ratio(50)}, p99 ×${ratio(99)}\n`
        );
    }
}

await main();
