/**
 * Store scale, both stores side by side: lowdb (files in a temp dir) and PostgreSQL (a database of its
 * own, when DATABASE_URL names a server), 100 to 100,000 accounts, each linked, with a few audit entries and
 * `--calls` task-ledger entries per account, generated through the Store interface. For each size and
 * store, in a fresh process: link, unlink and task-ledger writes as the domain makes them, status reads,
 * the size on disk, the time to open, and the peak memory.
 *
 *   npm run bench:store
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm run bench:store -- --sizes 1000,100000 --calls 10
 *   npm run bench:store -- --sizes 1000 --calls 1000 --stores lowdb      # 1 million ledger entries beside 1,000 links
 *
 * Prints p50/p99 per operation, the PostgreSQL/lowdb ratio per size, and where a write's p99 passes 20 ms.
 */
import { fork } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { availableParallelism, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CallLedger } from '../server/calls/ledger.ts';
import { parseConfig, requireCompleteConfig } from '../server/config.ts';
import { generateApiKey, generateEncryptionKey, hashApiKey, TokenCipher } from '../server/crypto.ts';
import { createLogger } from '../server/logger.ts';
import { buildServices } from '../server/services.ts';
import { LowdbStore } from '../server/store/lowdbStore.ts';
import { PgStore } from '../server/store/pgStore.ts';
import { accountLock, apiUserLock } from '../server/store/store.ts';
import type { AuditEntry, LinkRecord, PermissionCheck, Snapshot } from '../server/store/types.ts';
import { createTestDatabase } from '../server/test/pgDatabase.ts';

type StoreKind = 'lowdb' | 'postgres';

const SELF = fileURLToPath(import.meta.url);
const WRITE_P99_LIMIT_MS = 20;

interface OpStats {
    p50: number;
    p99: number;
    samples: number;
}
interface SizeResult {
    accounts: number;
    fileBytes: number;
    generateMs: number;
    openMs: number;
    ops: Record<'link' | 'unlink' | 'ledger' | 'statusAfterWrite' | 'statusRepeat' | 'statusOtherAccount', OpStats>;
    peakRss: number;
    peakHeap: number;
}

const percentile = (values: number[], p: number): number => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
};
const stats = (values: number[]): OpStats => ({ p50: percentile(values, 50), p99: percentile(values, 99), samples: values.length });

/** The 13 permission checks a real preflight stores on every link, at their real size. */
const CHECKS: PermissionCheck[] = [
    ['api_enabled', 'API Enabled'],
    ['user_active', 'User is active'],
    ['api_only', 'API Only user (recommended)'],
    ['user_license', 'Integration user license (recommended)'],
    ['task_create', 'Create Tasks'],
    ['task_update', 'Edit Tasks'],
    ['task_fields', 'Task call fields writable'],
    ['read_contact', 'Read Contacts'],
    ['read_lead', 'Read Leads'],
    ['read_account', 'Read Accounts'],
    ['read_case', 'Read Cases'],
    ['phone_search', 'Search phone fields'],
    ['view_all_users', 'View All Users (recommended)']
].map(([id, label]) => ({ id: id!, label: label!, ok: true, severity: id!.includes('recommended') ? 'warning' : 'error' }));

// ---------------------------------------------------------------- one size, in its own process

async function measureSize(kind: StoreKind, accounts: number, writes: number, reads: number, callsPerAccount: number): Promise<SizeResult> {
    let cleanup: () => Promise<void> = async () => undefined;
    const dataDir = await mkdtemp(path.join(tmpdir(), 'ccl-bench-store-'));
    let peakRss = 0;
    let peakHeap = 0;
    const sample = () => {
        const m = process.memoryUsage();
        peakRss = Math.max(peakRss, m.rss);
        peakHeap = Math.max(peakHeap, m.heapUsed);
    };
    const memory = setInterval(sample, 20);
    try {
        const cipher = new TokenCipher(generateEncryptionKey());
        const now = new Date();
        const at = now.toISOString();
        const keys: string[] = [];
        const ids: string[] = [];
        const orgOf = (i: number) => `00D${String(Math.floor(i / 1000)).padStart(12, '0')}AAA`;
        /** Five accounts per API user, the most one may serve. */
        const userOf = (i: number) => `005${String(Math.floor(i / 5)).padStart(12, '0')}AAA`;
        const linkFor = (accountId: string, i: number): LinkRecord => ({
            accountId,
            method: 'oauth',
            status: 'linked',
            environment: 'production',
            orgId: orgOf(i),
            userId: userOf(i),
            username: `api${Math.floor(i / 5)}@customer${Math.floor(i / 1000)}.example`,
            displayName: 'Contact Center Integration',
            userType: 'STANDARD',
            instanceUrl: `https://customer${Math.floor(i / 1000)}.my.salesforce.com`,
            loginUrl: 'https://login.salesforce.com',
            linkedAt: at,
            linkedBy: { userId: '005000000000001AAA', username: `admin@customer${Math.floor(i / 1000)}.example` },
            lastVerifiedAt: at,
            refreshToken: cipher.seal(`5Aep861${'x'.repeat(80)}${i}`, { purpose: 'refresh_token', owner: accountId }),
            permissions: { checkedAt: at, checks: CHECKS },
            apiUsage: { used: 1200, max: 100_000, at }
        });

        // Generated through the Store interface (seed), in batches.
        const database = kind === 'postgres' ? await createTestDatabase() : undefined;
        cleanup = async () => database?.drop();
        const openStore = () => (database ? PgStore.open(database.url) : LowdbStore.open(dataDir));
        const store0 = await openStore();
        let started = performance.now();
        const CHUNK = 5000;
        for (let from = 0; from < accounts; from += CHUNK) {
            const batch: Partial<Snapshot> = { accounts: [], links: [], audit: [], taskLedger: { startedAt: at, calls: {} } };
            for (let i = from; i < Math.min(accounts, from + CHUNK); i++) {
                const id = `acc_${String(i).padStart(16, '0')}`;
                const key = generateApiKey();
                ids.push(id);
                keys.push(key);
                batch.accounts!.push({ id, name: `Contact center ${i}`, apiKeyHash: hashApiKey(key), createdAt: at });
                batch.links!.push(linkFor(id, i));
                const audit: AuditEntry[] = [
                    { at, accountId: id, action: 'account_created', outcome: 'ok' },
                    { at, accountId: id, action: 'link', outcome: 'ok', orgId: orgOf(i), username: `api${Math.floor(i / 5)}@customer.example` },
                    { at, accountId: id, action: 'verify', outcome: 'healthy', orgId: orgOf(i), username: `api${Math.floor(i / 5)}@customer.example` }
                ];
                batch.audit!.push(...audit);
                for (let c = 0; c < callsPerAccount; c++) batch.taskLedger!.calls[`${id}|${orgOf(i).slice(0, 15)}|call-${i}-${c}`] = { state: 'created', taskId: '00T000000000001AAA', at };
            }
            await store0.seed(batch);
        }
        const generateMs = performance.now() - started;
        await store0.close();
        sample();

        // A restart: lowdb reads every file before the first request; PostgreSQL opens a pool and checks the schema.
        started = performance.now();
        const store = await openStore();
        const openMs = performance.now() - started;
        const fileBytes = database
            ? Number((await (store as PgStore).pool.query<{ n: string }>('SELECT pg_database_size(current_database()) AS n')).rows[0]!.n)
            : (await stat(path.join(dataDir, 'db.json'))).size;

        const config = requireCompleteConfig(
            parseConfig({ PUBLIC_URL: 'http://ccl.bench', SF_CLIENT_ID: 'bench', SF_CLIENT_SECRET: 'bench', DATA_DIR: dataDir, TOKEN_ENCRYPTION_KEY: generateEncryptionKey(), HEALTH_SWEEP_INTERVAL_SECONDS: '0' })
        );
        const logger = createLogger('info', new PassThrough().resume());
        const services = buildServices({ config, store, logger });
        const ledger = new CallLedger(store, services.clock, logger);

        let seed = 42;
        const pick = () => {
            seed = (seed * 1103515245 + 12345) % 2 ** 31;
            return seed % accounts;
        };
        const timed = async (work: () => unknown) => {
            const t = performance.now();
            await work();
            const ms = performance.now() - t;
            sample();
            return ms;
        };
        /** What GET /api/v1/link does past HTTP: the key, then the status. */
        const statusRead = async (i: number) => services.links.status((await services.accounts.authenticate(keys[i]!))!.id);

        const ops = { link: [] as number[], unlink: [] as number[], ledger: [] as number[], statusAfterWrite: [] as number[], statusRepeat: [] as number[], statusOtherAccount: [] as number[] };
        await statusRead(0);
        for (let w = 0; w < writes; w++) {
            const i = pick();
            const id = ids[i]!;
            // Unlink as LinkService does it: the link out, an audit entry in, one transaction.
            ops.unlink.push(
                await timed(() =>
                    store.transaction(async (tx) => {
                        await tx.lock(accountLock(id));
                        await tx.links.delete(id);
                        await tx.audit.append({ at, accountId: id, action: 'unlink', outcome: 'ok' });
                    })
                )
            );
            ops.statusAfterWrite.push(await timed(() => statusRead(i)));
            // Link as LinkService's commit does it: the locks, the five-account rule, the swap, the audit entry.
            const link = linkFor(id, i);
            ops.link.push(
                await timed(() =>
                    store.transaction(async (tx) => {
                        await tx.lock(apiUserLock(link.orgId, link.userId), accountLock(id));
                        const holders = await tx.links.ofApiUser(link.orgId, link.userId, { except: id });
                        if (holders.length >= 5) throw new Error('five');
                        await tx.links.put(link);
                        await tx.audit.append({ at, accountId: id, action: 'link', outcome: 'ok', orgId: link.orgId, username: link.username });
                    })
                )
            );
            ops.statusAfterWrite.push(await timed(() => statusRead(i)));
            // A call's Task recorded in the ledger: the claim, then the Task id.
            ops.ledger.push(
                await timed(async () => {
                    await ledger.markPending(id, link.orgId, `bench-call-${w}`);
                    await ledger.markCreated(id, link.orgId, `bench-call-${w}`, '00T000000000002AAA');
                })
            );
            ops.statusAfterWrite.push(await timed(() => statusRead(i)));
        }
        for (let r = 0; r < reads; r++) {
            const i = pick();
            ops.statusOtherAccount.push(await timed(() => statusRead(i)));
            ops.statusRepeat.push(await timed(() => statusRead(i)));
        }
        await store.close();
        sample();
        return {
            accounts,
            fileBytes,
            generateMs,
            openMs,
            ops: Object.fromEntries(Object.entries(ops).map(([k, v]) => [k, stats(v)])) as SizeResult['ops'],
            peakRss,
            peakHeap
        };
    } finally {
        clearInterval(memory);
        await cleanup();
        await rm(dataDir, { recursive: true, force: true });
    }
}

// ---------------------------------------------------------------- the report

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;
const f = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));

async function main(): Promise<void> {
    const { values } = parseArgs({
        options: {
            sizes: { type: 'string', default: '100,1000,10000,100000' },
            writes: { type: 'string' },
            reads: { type: 'string', default: '400' },
            calls: { type: 'string', default: '3' },
            stores: { type: 'string', default: process.env.DATABASE_URL ? 'lowdb,postgres' : 'lowdb' },
            child: { type: 'string' },
            kind: { type: 'string', default: 'lowdb' }
        }
    });
    /** Writes sampled per operation: fewer as lowdb's file grows, since each of its writes rewrites all of it. */
    const writesFor = (n: number, kind: StoreKind) => (values.writes ? Number(values.writes) : kind === 'postgres' || n <= 1_000 ? 200 : n <= 10_000 ? 30 : n <= 100_000 ? 3 : 2);
    if (values.child) {
        const n = Number(values.child);
        const kind = values.kind as StoreKind;
        const result = await measureSize(kind, n, writesFor(n, kind), Number(values.reads), Number(values.calls));
        process.send!(result);
        return;
    }

    const sizes = values.sizes.split(',').map(Number);
    const kinds = values.stores.split(',') as StoreKind[];
    console.log(`Store scale benchmark · ${availableParallelism()} CPUs, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version} · ${new Date().toISOString()}`);
    console.log(`stores: ${kinds.join(', ')}${kinds.includes('postgres') ? '' : ' (set DATABASE_URL to compare PostgreSQL)'}; every account linked, 3 audit entries and ${values.calls} ledger entries each; one process per size and store`);
    console.log('size: lowdb = db.json (the links’ file; the audit and the ledger are appended to their own files), postgres = the database\n');
    const results: Record<string, SizeResult[]> = {};
    for (const n of sizes) {
        const row: Partial<Record<StoreKind, SizeResult>> = {};
        for (const kind of kinds) {
            const started = performance.now();
            const result = await new Promise<SizeResult>((resolve, reject) => {
                const child = fork(SELF, ['--child', String(n), '--kind', kind, '--reads', values.reads, '--calls', values.calls, ...(values.writes ? ['--writes', values.writes] : [])], {
                    execArgv: ['--import', 'tsx', '--max-old-space-size=8192'],
                    stdio: ['ignore', 'inherit', 'inherit', 'ipc']
                });
                child.once('message', (message) => resolve(message as SizeResult));
                child.once('exit', (code) => (code ? reject(new Error(`the ${n}-account ${kind} run exited with ${code}`)) : undefined));
            });
            (results[kind] ??= []).push(result);
            row[kind] = result;
            const o = result.ops;
            console.log(
                `${kind.padEnd(8)} ${String(n).padStart(7)} accounts  ${mb(result.fileBytes).padStart(9)}  open ${f(result.openMs)} ms  ` +
                    `link p50/p99 ${f(o.link.p50)}/${f(o.link.p99)} ms  unlink ${f(o.unlink.p50)}/${f(o.unlink.p99)}  ledger ${f(o.ledger.p50)}/${f(o.ledger.p99)}  ` +
                    `status after a write ${f(o.statusAfterWrite.p50)}/${f(o.statusAfterWrite.p99)}  another account ${f(o.statusOtherAccount.p50)}/${f(o.statusOtherAccount.p99)}  repeat ${f(o.statusRepeat.p50)}/${f(o.statusRepeat.p99)}  ` +
                    `peak RSS ${mb(result.peakRss)} heap ${mb(result.peakHeap)}  (${o.link.samples} writes per op, ${((performance.now() - started) / 1000).toFixed(0)} s)`
            );
        }
        if (row.lowdb && row.postgres) {
            const ratio = (op: keyof SizeResult['ops']) => (row.postgres!.ops[op].p99 / Math.max(row.lowdb!.ops[op].p99, 0.001)).toFixed(2);
            console.log(
                `  postgres/lowdb p99 at ${n}: link ×${ratio('link')}, unlink ×${ratio('unlink')}, ledger ×${ratio('ledger')}, status after a write ×${ratio('statusAfterWrite')}, another account ×${ratio('statusOtherAccount')}; open ×${(row.postgres.openMs / Math.max(row.lowdb.openMs, 0.001)).toFixed(2)}, peak RSS ×${(row.postgres.peakRss / row.lowdb.peakRss).toFixed(2)}`
            );
        }
    }

    for (const kind of kinds) {
        const list = results[kind] ?? [];
        const worst = (r: SizeResult) => Math.max(r.ops.link.p99, r.ops.unlink.p99, r.ops.ledger.p99);
        const over = list.findIndex((r) => worst(r) >= WRITE_P99_LIMIT_MS);
        if (over < 0) console.log(`\n${kind}: writes stay under p99 ${WRITE_P99_LIMIT_MS} ms up to ${list.at(-1)?.accounts} accounts`);
        else if (over === 0) console.log(`\n${kind}: writes pass p99 ${WRITE_P99_LIMIT_MS} ms already at ${list[0]!.accounts} accounts`);
        else {
            const a = list[over - 1]!;
            const b = list[over]!;
            const t = (WRITE_P99_LIMIT_MS - worst(a)) / (worst(b) - worst(a));
            console.log(`\n${kind}: writes pass p99 ${WRITE_P99_LIMIT_MS} ms between ${a.accounts} (${f(worst(a))} ms) and ${b.accounts} accounts (${f(worst(b))} ms); by linear interpolation at about ${Math.round(a.accounts + t * (b.accounts - a.accounts)).toLocaleString('en')} accounts`);
        }
    }
}

await main();
