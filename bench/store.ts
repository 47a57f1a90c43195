/**
 * Store scale, both stores side by side: lowdb (files in a temp dir) and PostgreSQL (a database of its
 * own, when DATABASE_URL names a server), 100 to 100,000 accounts, each linked, with 3 audit entries
 * each and a task ledger of up to a million calls, generated through the Store interface (`seed`, in
 * chunks). For each case and store, in a fresh process: link, unlink and task-ledger writes as the
 * domain makes them, status reads, the size on disk, the time to open, and the memory.
 *
 *   npm run bench:store                              # lowdb; both stores when DATABASE_URL is set
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm run bench:store
 *   npm run bench:store -- --sizes 1000:1000000 --stores lowdb       # 1 million ledger entries beside 1,000 links
 *   npm run bench:store -- --lowdb-max 100000                        # lowdb measured at 100,000 accounts too (minutes)
 *
 * A size is `accounts` (with `--calls` ledger entries per account) or `accounts:ledgerEntries`.
 * Prints p50/p99 per operation, each store's curve as ratios to its smallest size, the
 * PostgreSQL/lowdb ratio per size, a machine baseline measured in every process (the machine is
 * shared: compare ratios), and whether a link write's p99 stays under 20 ms where the goals ask.
 */
import { fork } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { PerformanceObserver } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CallLedger, ledgerKey } from '../server/calls/ledger.ts';
import { parseConfig, requireCompleteConfig } from '../server/config.ts';
import { generateApiKey, generateEncryptionKey, hashApiKey, TokenCipher } from '../server/crypto.ts';
import { createLogger } from '../server/logger.ts';
import { buildServices } from '../server/services.ts';
import { replaceFile } from '../server/store/lowdb/jsonFiles.ts';
import { LowdbStore } from '../server/store/lowdb/store.ts';
import { PgStore } from '../server/store/pgStore.ts';
import { accountLock, apiUserLock, type Store } from '../server/store/store.ts';
import type { AuditEntry, LinkRecord, PermissionCheck, Snapshot, TaskLedgerEntry } from '../server/store/types.ts';
import { createTestDatabase } from '../server/test/pgDatabase.ts';
import { LOWDB_ADVISED_MAX } from '../server/store/lowdb/sizeAdvice.ts';

type StoreKind = 'lowdb' | 'postgres';
type Op = 'link' | 'unlink' | 'ledger' | 'statusAfterWrite' | 'statusOtherAccount';

const SELF = fileURLToPath(import.meta.url);
const WRITE_P99_LIMIT_MS = 20;
/** Accounts per seed() call: PostgreSQL inserts them in one transaction; lowdb rewrites db.json once per call, so fewer, bigger ones. */
const SEED_ACCOUNTS: Record<StoreKind, number> = { postgres: 5_000, lowdb: 25_000 };
/** Ledger entries per seed() call (lowdb appends them to ledger.jsonl, db.json untouched). */
const SEED_LEDGER = 100_000;

interface Case {
    accounts: number;
    ledger: number;
}
interface OpStats {
    p50: number;
    p99: number;
    /** The p99 with the garbage-collection pauses inside each sample taken out: what the store's own work costs. */
    p99NetOfGc: number;
    samples: number;
}
interface CaseResult extends Case {
    kind: StoreKind;
    /** lowdb: db.json, the file every link write rewrites; PostgreSQL: the database. */
    mainBytes: number;
    /** lowdb: db.json, audit.jsonl and ledger.jsonl; PostgreSQL: the database. */
    totalBytes: number;
    seedMs: number;
    openMs: number;
    ops: Record<Op, OpStats>;
    /** After open and a full GC: what the store holds. */
    rssAfterOpen: number;
    heapAfterOpen: number;
    /** While measuring (seeding excluded). */
    peakRss: number;
    /** The machine baseline, before and after the samples: p50 of a durable 1 MB JSON file replace (serialise, write, fsync, rename). */
    baselineBefore: number;
    baselineAfter: number;
    /** Garbage-collection pauses while measuring: a bigger heap (a million ledger entries in memory) makes them longer. */
    gc: { pauses: number; maxMs: number; totalMs: number; measuringMs: number };
    wallMs: number;
}

const percentile = (values: number[], p: number): number => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
};
/** One timed operation, on performance.now()'s clock (as the GC entries are). */
interface Span {
    start: number;
    ms: number;
}
interface Pause {
    start: number;
    ms: number;
}
const stats = (spans: Span[], pauses: Pause[]): OpStats => {
    const values = spans.map((s) => s.ms);
    const gcInside = (s: Span) =>
        pauses.reduce((sum, p) => sum + Math.max(0, Math.min(s.start + s.ms, p.start + p.ms) - Math.max(s.start, p.start)), 0);
    return {
        p50: percentile(values, 50),
        p99: percentile(values, 99),
        p99NetOfGc: percentile(
            spans.map((s) => s.ms - gcInside(s)),
            99
        ),
        samples: values.length
    };
};

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

// ---------------------------------------------------------------- one case, in its own process

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

async function measureCase(kind: StoreKind, { accounts, ledger: ledgerEntries }: Case, writes: number, reads: number): Promise<CaseResult> {
    const wallStarted = performance.now();
    let cleanup: () => Promise<void> = () => Promise.resolve();
    const dataDir = await mkdtemp(path.join(tmpdir(), 'ccl-bench-store-'));
    let peakRss = 0;
    const sample = () => void (peakRss = Math.max(peakRss, process.memoryUsage().rss));
    let memory: NodeJS.Timeout | undefined;
    try {
        const cipher = new TokenCipher(generateEncryptionKey());
        const at = new Date().toISOString();
        const keys: string[] = [];
        const ids: string[] = [];
        const idOf = (i: number) => `acc_${String(i).padStart(16, '0')}`;
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

        // Generated through the Store interface (seed), in chunks: accounts with their links and audit, then the ledger.
        const database = kind === 'postgres' ? await createTestDatabase() : undefined;
        cleanup = async () => database?.drop();
        const openStore = (): Promise<Store> => (database ? PgStore.open(database.url) : LowdbStore.open(dataDir));
        const store0 = await openStore();
        let started = performance.now();
        for (let from = 0; from < accounts; from += SEED_ACCOUNTS[kind]) {
            const batch: Pick<Snapshot, 'accounts' | 'links' | 'audit'> = { accounts: [], links: [], audit: [] };
            for (let i = from; i < Math.min(accounts, from + SEED_ACCOUNTS[kind]); i++) {
                const id = idOf(i);
                const key = generateApiKey();
                ids.push(id);
                keys.push(key);
                batch.accounts.push({ id, name: `Contact center ${i}`, apiKeyHash: hashApiKey(key), createdAt: at });
                batch.links.push(linkFor(id, i));
                const audit: AuditEntry[] = [
                    { at, accountId: id, action: 'account_created', outcome: 'ok' },
                    {
                        at,
                        accountId: id,
                        action: 'link',
                        outcome: 'ok',
                        orgId: orgOf(i),
                        username: `api${Math.floor(i / 5)}@customer.example`
                    },
                    {
                        at,
                        accountId: id,
                        action: 'verify',
                        outcome: 'healthy',
                        orgId: orgOf(i),
                        username: `api${Math.floor(i / 5)}@customer.example`
                    }
                ];
                batch.audit.push(...audit);
            }
            await store0.seed(batch);
        }
        // Ledger entries spread over the accounts, as many calls each (the last ones one fewer).
        for (let from = 0; from < ledgerEntries; from += SEED_LEDGER) {
            const calls: Record<string, TaskLedgerEntry> = {};
            for (let j = from; j < Math.min(ledgerEntries, from + SEED_LEDGER); j++) {
                const i = j % accounts;
                calls[ledgerKey(idOf(i), orgOf(i), `call-${i}-${Math.floor(j / accounts)}`)] = {
                    state: 'created',
                    taskId: '00T000000000001AAA',
                    at
                };
            }
            await store0.seed({ taskLedger: { startedAt: at, calls } });
        }
        // As autovacuum would soon after such a load: the planner's statistics for the tables' real sizes.
        if (store0 instanceof PgStore) await store0.pool.query('ANALYZE');
        const seedMs = performance.now() - started;
        await store0.close();
        gc();

        // A restart: lowdb reads every file before the first request; PostgreSQL opens a pool and checks the schema.
        started = performance.now();
        const store = await openStore();
        const openMs = performance.now() - started;
        gc();
        const { rss: rssAfterOpen, heapUsed: heapAfterOpen } = process.memoryUsage();
        const sizeOf = async (file: string) => (await stat(path.join(dataDir, file)).catch(() => ({ size: 0 }))).size;
        let mainBytes: number;
        let totalBytes: number;
        if (store instanceof PgStore) {
            mainBytes = totalBytes = Number(
                (await store.pool.query<{ n: string }>('SELECT pg_database_size(current_database()) AS n')).rows[0]!.n
            );
        } else {
            mainBytes = await sizeOf('db.json');
            totalBytes = mainBytes + (await sizeOf('audit.jsonl')) + (await sizeOf('ledger.jsonl'));
        }

        const config = requireCompleteConfig(
            parseConfig({
                PUBLIC_URL: 'http://ccl.bench',
                SF_CLIENT_ID: 'bench',
                SF_CLIENT_SECRET: 'bench',
                DATA_DIR: dataDir,
                TOKEN_ENCRYPTION_KEY: generateEncryptionKey(),
                HEALTH_SWEEP_INTERVAL_SECONDS: '0'
            })
        );
        const logger = createLogger('info', new PassThrough().resume());
        const services = buildServices({ config, store, logger });
        const ledger = new CallLedger(store, services.clock, logger);

        let seed = 42;
        const pick = () => {
            seed = (seed * 1103515245 + 12345) % 2 ** 31;
            return seed % accounts;
        };
        const timed = async (work: () => unknown): Promise<Span> => {
            const start = performance.now();
            await work();
            const ms = performance.now() - start;
            sample();
            return { start, ms };
        };
        /** What GET /api/v1/link does past HTTP: the key, then the status. */
        const statusRead = async (i: number) => services.links.status((await services.accounts.authenticate(keys[i]!))!.id);
        // Unlink as LinkService does it: the link out, an audit entry in, one transaction.
        const unlink = (id: string) =>
            store.transaction(async (tx) => {
                await tx.lock(accountLock(id));
                await tx.links.delete(id);
                await tx.audit.append({ at, accountId: id, action: 'unlink', outcome: 'ok' });
            });
        // Link as LinkService's commit does it: the locks, the five-account rule, the swap, the audit entry.
        const link = (record: LinkRecord) =>
            store.transaction(async (tx) => {
                await tx.lock(apiUserLock(record.orgId, record.userId), accountLock(record.accountId));
                const holders = await tx.links.ofApiUser(record.orgId, record.userId, { except: record.accountId });
                if (holders.length >= 5) throw new Error('five');
                await tx.links.put(record);
                await tx.audit.append({
                    at,
                    accountId: record.accountId,
                    action: 'link',
                    outcome: 'ok',
                    orgId: record.orgId,
                    username: record.username
                });
            });
        // A call's Task recorded in the ledger: the claim (what a call waits for before its create), then the Task id, which
        // the call's answer does not wait for (lowdb writes it with the next change, or 20 ms later): timed is the claim.
        const recordCall = async (id: string, orgId: string, callId: string) => {
            await ledger.markPending(id, orgId, callId);
            void ledger.markCreated(id, orgId, callId, '00T000000000002AAA');
        };

        // Warm-up, untimed: the code paths compiled, and the ledger's hourly prune (its first claim starts one) done.
        for (let w = 0; w < 3; w++) {
            const i = pick();
            await unlink(ids[i]!);
            await link(linkFor(ids[i]!, i));
            await recordCall(ids[i]!, orgOf(i), `warm-up-${w}`);
            await statusRead(i);
        }
        await ledger.settled();

        const baselineBefore = await machineBaseline(dataDir);
        peakRss = process.memoryUsage().rss;
        memory = setInterval(sample, 20);
        const pauses: Pause[] = [];
        const observer = new PerformanceObserver(
            (list) => void pauses.push(...list.getEntries().map((e) => ({ start: e.startTime, ms: e.duration })))
        );
        observer.observe({ entryTypes: ['gc'] });
        const measuring = performance.now();
        const ops: Record<Op, Span[]> = { link: [], unlink: [], ledger: [], statusAfterWrite: [], statusOtherAccount: [] };
        for (let w = 0; w < writes; w++) {
            const i = pick();
            const id = ids[i]!;
            ops.unlink.push(await timed(() => unlink(id)));
            ops.statusAfterWrite.push(await timed(() => statusRead(i)));
            ops.link.push(await timed(() => link(linkFor(id, i))));
            ops.statusAfterWrite.push(await timed(() => statusRead(i)));
            ops.ledger.push(await timed(() => recordCall(id, orgOf(i), `bench-call-${w}`)));
        }
        for (let r = 0; r < reads; r++) ops.statusOtherAccount.push(await timed(() => statusRead(pick())));
        const measuringMs = performance.now() - measuring;
        clearInterval(memory);
        await nextTurn(); // the observer's last entries are delivered
        observer.disconnect();
        const baselineAfter = await machineBaseline(dataDir);
        await store.close();
        return {
            kind,
            accounts,
            ledger: ledgerEntries,
            mainBytes,
            totalBytes,
            seedMs,
            openMs,
            ops: Object.fromEntries(Object.entries(ops).map(([k, v]) => [k, stats(v, pauses)])) as CaseResult['ops'],
            rssAfterOpen,
            heapAfterOpen,
            peakRss,
            baselineBefore,
            baselineAfter,
            gc: {
                pauses: pauses.length,
                maxMs: Math.max(0, ...pauses.map((p) => p.ms)),
                totalMs: pauses.reduce((sum, p) => sum + p.ms, 0),
                measuringMs
            },
            wallMs: performance.now() - wallStarted
        };
    } finally {
        clearInterval(memory);
        await cleanup();
        await rm(dataDir, { recursive: true, force: true });
    }
}

/** p50 of 15 durable replaces of a 1 MB JSON file: the unit of lowdb's link writes, and a measure of how busy the machine is (CPU and disk). */
async function machineBaseline(dir: string): Promise<number> {
    const rows = Array.from({ length: 4_000 }, (_, i) => ({ id: `row-${i}`, text: 'x'.repeat(220) }));
    const times: number[] = [];
    for (let i = 0; i < 15; i++) {
        const t = performance.now();
        await replaceFile(path.join(dir, 'baseline.json'), JSON.stringify(rows));
        times.push(performance.now() - t);
    }
    await rm(path.join(dir, 'baseline.json'), { force: true });
    return percentile(times, 50);
}

// ---------------------------------------------------------------- the report

const mb = (bytes: number) => (bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(2)} GB` : `${(bytes / 2 ** 20).toFixed(1)} MB`);
const f = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));
const n = (count: number) => count.toLocaleString('en');
const x = (ratio: number) =>
    `×${ratio >= 100 ? ratio.toFixed(0) : ratio >= 10 ? ratio.toFixed(1) : ratio >= 0.1 ? ratio.toFixed(2) : ratio.toPrecision(2)}`;
const label = (c: Case) => `${n(c.accounts)} accounts, ${n(c.ledger)} ledger entries`;
const sameCase = (a: Case, b: Case) => a.accounts === b.accounts && a.ledger === b.ledger;

function parseCases(sizes: string, callsPerAccount: number): Case[] {
    return sizes.split(',').map((part) => {
        const [accounts, ledger] = part.split(':').map(Number);
        if (!Number.isInteger(accounts) || accounts! < 1 || (ledger !== undefined && !(Number.isInteger(ledger) && ledger >= 0)))
            throw new Error(`--sizes: "${part}" is not accounts or accounts:ledgerEntries`);
        return { accounts: accounts!, ledger: ledger ?? accounts! * callsPerAccount };
    });
}

function printRow(r: CaseResult): void {
    const o = r.ops;
    const size = r.kind === 'lowdb' ? `db.json ${mb(r.mainBytes)} (all files ${mb(r.totalBytes)})` : `database ${mb(r.totalBytes)}`;
    console.log(
        `${r.kind.padEnd(8)} ${label(r)}: ${size}, seeded in ${(r.seedMs / 1000).toFixed(1)} s, open ${f(r.openMs)} ms, RSS after open ${mb(r.rssAfterOpen)} (heap ${mb(r.heapAfterOpen)}), peak RSS ${mb(r.peakRss)}\n` +
            `         link p50/p99 ${f(o.link.p50)}/${f(o.link.p99)} ms  unlink ${f(o.unlink.p50)}/${f(o.unlink.p99)}  ledger ${f(o.ledger.p50)}/${f(o.ledger.p99)}  ` +
            `status after a write ${f(o.statusAfterWrite.p50)}/${f(o.statusAfterWrite.p99)}  another account ${f(o.statusOtherAccount.p50)}/${f(o.statusOtherAccount.p99)}\n` +
            `         ${o.link.samples} writes per op, ${o.statusOtherAccount.samples} reads; baseline ${f(r.baselineBefore)} ms before, ${f(r.baselineAfter)} ms after; link p99 = ${x(o.link.p99 / r.baselineBefore)} baseline; ` +
            `GC while measuring ${r.gc.pauses} pauses, longest ${f(r.gc.maxMs)} ms, ${((100 * r.gc.totalMs) / r.gc.measuringMs).toFixed(1)}% of the time; link p99 net of GC ${f(o.link.p99NetOfGc)} ms; ${(r.wallMs / 1000).toFixed(0)} s in all`
    );
}

/**
 * lowdb's link writes and open grow with db.json, which is linear in accounts: p50s on a straight line
 * through the two largest sizes measured; a p99 (too noisy for a line) at the largest size's p99/p50.
 * A floor more than a forecast: the heap's garbage collection grows faster than the file.
 */
function extrapolate(
    measured: CaseResult[],
    target: Case
): { link: OpStats; unlink: OpStats; openMs: number; mainBytes: number; rssAfterOpen: number; from: [CaseResult, CaseResult] } | undefined {
    const byAccounts = measured.filter((r) => r.accounts < target.accounts).sort((a, b) => a.accounts - b.accounts);
    if (byAccounts.length < 2) return undefined;
    const [a, b] = byAccounts.slice(-2) as [CaseResult, CaseResult];
    const line = (va: number, vb: number) => va + ((vb - va) * (target.accounts - a.accounts)) / (b.accounts - a.accounts);
    const op = (k: Op): OpStats => {
        const p50 = line(a.ops[k].p50, b.ops[k].p50);
        const p99 = (p50 * b.ops[k].p99) / b.ops[k].p50;
        return { p50, p99, p99NetOfGc: p99, samples: 0 };
    };
    return {
        link: op('link'),
        unlink: op('unlink'),
        openMs: line(a.openMs, b.openMs),
        mainBytes: line(a.mainBytes, b.mainBytes),
        rssAfterOpen: line(a.rssAfterOpen, b.rssAfterOpen),
        from: [a, b]
    };
}

async function main(): Promise<void> {
    const { values } = parseArgs({
        options: {
            sizes: { type: 'string', default: '100,1000,10000,100000,1000:1000000' },
            calls: { type: 'string', default: '10' },
            writes: { type: 'string' },
            reads: { type: 'string', default: '400' },
            stores: { type: 'string', default: process.env.DATABASE_URL ? 'lowdb,postgres' : 'lowdb' },
            'lowdb-max': { type: 'string', default: '10000' },
            child: { type: 'string' },
            kind: { type: 'string', default: 'lowdb' }
        }
    });
    /** Writes sampled per operation: fewer as lowdb's links' file grows, since each of its link writes rewrites all of it. */
    const writesFor = (accounts: number, kind: StoreKind) =>
        values.writes ? Number(values.writes) : kind === 'postgres' || accounts <= 1_000 ? 200 : accounts <= 10_000 ? 30 : 5;
    if (values.child) {
        const [target] = parseCases(values.child, 0);
        const kind = values.kind as StoreKind;
        const result = await measureCase(kind, target!, writesFor(target!.accounts, kind), Number(values.reads));
        process.send!(result);
        return;
    }

    const cases = parseCases(values.sizes, Number(values.calls));
    const stores = values.stores.split(',');
    for (const kind of stores)
        if (kind !== 'lowdb' && kind !== 'postgres') throw new Error(`--stores: "${kind}" is neither lowdb nor postgres`);
    const kinds = stores as StoreKind[];
    if (kinds.includes('postgres') && !process.env.DATABASE_URL)
        throw new Error('--stores postgres needs DATABASE_URL (a server this benchmark may create a database on)');
    const lowdbMax = Number(values['lowdb-max']);
    const load = () => loadavg()[0]!.toFixed(1);
    console.log(
        `Store scale benchmark · ${availableParallelism()} CPUs, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version} · ${new Date().toISOString()} · load average ${load()}`
    );
    console.log(
        `stores: ${kinds.join(', ')}${kinds.includes('postgres') ? '' : ' (set DATABASE_URL to compare PostgreSQL)'}; every account linked, 3 audit entries each; one process per case and store`
    );
    console.log(
        'baseline: p50 of a durable 1 MB JSON file replace in the same process (lowdb rewrites db.json this way on every link write)\n'
    );

    const results: CaseResult[] = [];
    const skipped: Case[] = [];
    for (const target of cases) {
        for (const kind of kinds) {
            if (kind === 'lowdb' && target.accounts > lowdbMax) {
                skipped.push(target);
                console.log(
                    `lowdb    ${label(target)}: skipped, above --lowdb-max ${n(lowdbMax)} (every link write rewrites db.json, whose size grows with the accounts); see the extrapolation below`
                );
                continue;
            }
            const args = [
                '--child',
                `${target.accounts}:${target.ledger}`,
                '--kind',
                kind,
                '--reads',
                values.reads,
                ...(values.writes ? ['--writes', values.writes] : [])
            ];
            const result = await new Promise<CaseResult | undefined>((resolve) => {
                const child = fork(SELF, args, {
                    execArgv: ['--import', 'tsx', '--expose-gc', '--max-old-space-size=8192'],
                    stdio: ['ignore', 'inherit', 'inherit', 'ipc']
                });
                let answer: CaseResult | undefined;
                child.once('message', (message) => (answer = message as CaseResult));
                child.once('exit', (code, signal) => {
                    if (!answer) console.log(`${kind.padEnd(8)} ${label(target)}: failed (exit ${code ?? signal})`);
                    resolve(answer);
                });
            });
            if (!result) continue;
            results.push(result);
            printRow(result);
        }
        const lowdb = results.find((r) => r.kind === 'lowdb' && sameCase(r, target));
        const postgres = results.find((r) => r.kind === 'postgres' && sameCase(r, target));
        if (lowdb && postgres) {
            const p99 = (op: Op) => x(postgres.ops[op].p99 / Math.max(lowdb.ops[op].p99, 0.001));
            console.log(
                `  postgres/lowdb at ${label(target)}: link p99 ${p99('link')}, unlink ${p99('unlink')}, ledger ${p99('ledger')}, status after a write ${p99('statusAfterWrite')}, another account ${p99('statusOtherAccount')}; ` +
                    `open ${x(postgres.openMs / lowdb.openMs)}, RSS after open ${x(postgres.rssAfterOpen / lowdb.rssAfterOpen)}; baselines ${x(postgres.baselineBefore / lowdb.baselineBefore)}`
            );
        }
        console.log(`  (load average ${load()})`);
    }

    // Each store's curve: its figures as ratios to its smallest case measured in this run.
    const onCurve = (r: CaseResult) => r.ledger === r.accounts * Number(values.calls);
    for (const kind of kinds) {
        const list = results.filter((r) => r.kind === kind).sort((a, b) => a.accounts - b.accounts || a.ledger - b.ledger);
        if (list.length < 2) continue;
        const base = list[0]!;
        console.log(
            `\n${kind}, as ratios to ${label(base)} (link p99 ${f(base.ops.link.p99)} ms, open ${f(base.openMs)} ms, RSS after open ${mb(base.rssAfterOpen)}):`
        );
        for (const r of list.slice(1)) {
            const p99 = (op: Op) => x(r.ops[op].p99 / Math.max(base.ops[op].p99, 0.001));
            console.log(
                `  ${label(r).padEnd(44)} link p99 ${p99('link')}, unlink ${p99('unlink')}, ledger ${p99('ledger')}, status after a write ${p99('statusAfterWrite')}, another account ${p99('statusOtherAccount')}; ` +
                    `open ${x(r.openMs / base.openMs)}, ${kind === 'lowdb' ? 'db.json' : 'database'} ${x(r.mainBytes / base.mainBytes)}, RSS after open ${x(r.rssAfterOpen / base.rssAfterOpen)}; baseline ${x(r.baselineBefore / base.baselineBefore)}`
            );
        }
    }

    // lowdb where it was not measured: extrapolated, and said so.
    const measuredLowdb = results.filter((r) => r.kind === 'lowdb' && onCurve(r));
    for (const target of skipped) {
        const guess = extrapolate(measuredLowdb, target);
        if (!guess) {
            console.log(`\nlowdb at ${label(target)}: not measured, and too few lowdb sizes measured to extrapolate`);
            continue;
        }
        const [a, b] = guess.from;
        console.log(
            `\nlowdb at ${label(target)}: EXTRAPOLATED, NOT MEASURED, and likely low, since garbage collection grows faster than the file (p50s on a straight line through ${n(a.accounts)} and ${n(b.accounts)} accounts measured above, p99s at ${n(b.accounts)}'s p99/p50): ` +
                `db.json ≈ ${mb(guess.mainBytes)}, open ≈ ${f(guess.openMs)} ms, RSS after open ≈ ${mb(guess.rssAfterOpen)}, link p50/p99 ≈ ${f(guess.link.p50)}/${f(guess.link.p99)} ms, unlink ≈ ${f(guess.unlink.p50)}/${f(guess.unlink.p99)} ms; ` +
                `measure it with --lowdb-max ${target.accounts}`
        );
        const postgres = results.find((r) => r.kind === 'postgres' && sameCase(r, target));
        if (postgres)
            console.log(
                `  postgres (measured) / lowdb (extrapolated): link p99 ${x(postgres.ops.link.p99 / guess.link.p99)}, open ${x(postgres.openMs / guess.openMs)}`
            );
    }

    // Where writes pass 20 ms, along each store's curve (the cases with the default ledger per account).
    for (const kind of kinds) {
        const list = results.filter((r) => r.kind === kind && onCurve(r)).sort((a, b) => a.accounts - b.accounts);
        if (!list.length) continue;
        const worst = (r: CaseResult) => Math.max(r.ops.link.p99, r.ops.unlink.p99, r.ops.ledger.p99);
        const over = list.findIndex((r) => worst(r) >= WRITE_P99_LIMIT_MS);
        if (over < 0)
            console.log(`\n${kind}: every write's p99 stays under ${WRITE_P99_LIMIT_MS} ms up to ${n(list.at(-1)!.accounts)} accounts`);
        else if (over === 0)
            console.log(
                `\n${kind}: a write's p99 passes ${WRITE_P99_LIMIT_MS} ms already at ${n(list[0]!.accounts)} accounts (${f(worst(list[0]!))} ms)`
            );
        else {
            const a = list[over - 1]!;
            const b = list[over]!;
            const t = (WRITE_P99_LIMIT_MS - worst(a)) / (worst(b) - worst(a));
            console.log(
                `\n${kind}: a write's p99 passes ${WRITE_P99_LIMIT_MS} ms between ${n(a.accounts)} (${f(worst(a))} ms) and ${n(b.accounts)} accounts (${f(worst(b))} ms); by linear interpolation at about ${n(Math.round(a.accounts + t * (b.accounts - a.accounts)))} accounts`
            );
        }
    }

    // The goals: a link write's p99 under 20 ms.
    console.log(`\nGoals (a link write's p99 under ${WRITE_P99_LIMIT_MS} ms):`);
    const goal = (what: string, found: CaseResult | undefined, compare?: CaseResult) => {
        if (!found) return console.log(`  ${what}: not measured in this run`);
        const p99 = found.ops.link.p99;
        const against = compare ? `; against ${label(compare)} in this run ${x(p99 / compare.ops.link.p99)}` : '';
        console.log(
            `  ${what}: link p99 ${f(p99)} ms (${label(found)}) — ${p99 < WRITE_P99_LIMIT_MS ? 'met' : 'NOT met'}${against}; net of GC pauses ${f(found.ops.link.p99NetOfGc)} ms`
        );
    };
    const largest = (list: CaseResult[]) => list.sort((a, b) => b.ledger - a.ledger)[0];
    goal('postgres at 100,000 accounts', largest(results.filter((r) => r.kind === 'postgres' && r.accounts === 100_000)));
    const bigLedger = largest(results.filter((r) => r.kind === 'lowdb' && r.accounts === 1_000 && r.ledger >= 1_000_000));
    const smallLedger = results
        .filter((r) => r.kind === 'lowdb' && r.accounts === 1_000 && r.ledger < 1_000_000)
        .sort((a, b) => a.ledger - b.ledger)[0];
    goal('lowdb at 1,000 accounts with 1,000,000 ledger entries', bigLedger, smallLedger);
    console.log(
        `  lowdb's advised size: under ${n(LOWDB_ADVISED_MAX.accounts)} accounts and ${n(LOWDB_ADVISED_MAX.ledgerEntries)} ledger entries; at or past either the backend says at start to move to PostgreSQL (server/store/lowdb/sizeAdvice.ts)`
    );
}

await main();
