/**
 * Several backend instances on one PostgreSQL: `npm run bench:instances -- [--calls 200] [--latency 20] [--rounds 3] [--instances 3]`.
 *
 * Starts the Salesforce emulator (with a per-request latency) in this process, a fresh PostgreSQL database and one
 * backend process (`server/main.ts`), links an account, then for 1, 2 … --instances backends on that one database sends
 * bursts of concurrent end-of-call Tasks spread over the instances in turn: with a live access token, and right after
 * the emulator expired it. Reports calls/s, p50/p99, token refreshes per expiry (goal: 1 in all, however many
 * instances), Salesforce API calls per Task (goal: 1), the CPU each part used, and every figure as a ratio to the
 * 1-instance run of the same invocation. Needs DATABASE_URL.
 */
import { readdir, readFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { PEOPLE } from '../server/test/harness.ts';
import { startCluster, type Cluster, type TestAccount } from '../server/test/cluster.ts';

const { values } = parseArgs({
    options: {
        calls: { type: 'string', short: 'n', default: '200' },
        latency: { type: 'string', short: 'l', default: '20' },
        rounds: { type: 'string', short: 'r', default: '3' },
        instances: { type: 'string', short: 'i', default: '3' }
    }
});
const CALLS = Number(values.calls);
const LATENCY_MS = Number(values.latency);
const ROUNDS = Number(values.rounds);
const MAX_INSTANCES = Number(values.instances);
if (!Number.isInteger(CALLS) || CALLS < 1 || CALLS > 5000) throw new Error('--calls must be an integer from 1 to 5000');
if (!Number.isFinite(LATENCY_MS) || LATENCY_MS < 0) throw new Error('--latency must be a number of milliseconds');
if (!Number.isInteger(ROUNDS) || ROUNDS < 1 || ROUNDS > 50) throw new Error('--rounds must be an integer from 1 to 50');
if (!Number.isInteger(MAX_INSTANCES) || MAX_INSTANCES < 1 || MAX_INSTANCES > 8)
    throw new Error('--instances must be an integer from 1 to 8');
if (!process.env.DATABASE_URL) {
    console.error(
        'bench:instances needs PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres (each run makes and drops a database of its own).'
    );
    process.exit(2);
}

const TASK = { direction: 'inbound', durationSeconds: 95, disposition: 'Resolved' };
/** Linux counts process CPU time in clock ticks of 1/100 s (USER_HZ). */
const TICKS_PER_SECOND = 100;

interface Burst {
    ok: number;
    failed: number;
    failures: Map<string, number>;
    wallMs: number;
    latencies: number[];
    refreshes: number;
    apiCalls: number;
    /** CPU seconds spent during the burst: this process (emulator and load generator), the backends, PostgreSQL. */
    cpu: { here: number; backends: number; postgres: number };
}

interface Run {
    instances: number;
    warm: Burst[];
    expired: Burst[];
}

const percentile = (sorted: number[], p: number): number =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
const median = (xs: number[]): number =>
    percentile(
        [...xs].sort((a, b) => a - b),
        50
    );

/** utime + stime of a process, in seconds; 0 once it is gone. */
async function cpuOf(pid: number): Promise<number> {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    // The command name may hold spaces: the fields counted from after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) / TICKS_PER_SECOND;
}

/** Every PostgreSQL server process's CPU time (the server and its backends), in seconds. */
async function postgresCpu(): Promise<number> {
    let sum = 0;
    for (const entry of await readdir('/proc')) {
        if (!/^\d+$/.test(entry)) continue;
        const comm = (await readFile(`/proc/${entry}/comm`, 'utf8').catch(() => '')).trim();
        if (comm === 'postgres') sum += await cpuOf(Number(entry));
    }
    return sum;
}

async function cpuNow(cluster: Cluster): Promise<Burst['cpu']> {
    const usage = process.cpuUsage();
    const backends = await Promise.all(cluster.instances.filter((x) => x.alive && x.child.pid).map((x) => cpuOf(x.child.pid!)));
    return { here: (usage.user + usage.system) / 1e6, backends: backends.reduce((a, b) => a + b, 0), postgres: await postgresCpu() };
}

/** The machine's load before this run started anything: other work shares the cores. */
const LOAD_BEFORE = loadavg()[0]!;

async function main(): Promise<void> {
    const cluster = await startCluster({
        instances: 1,
        logLevel: 'silent',
        env: { HEALTH_SWEEP_INTERVAL_SECONDS: '0', SF_HTTP_TIMEOUT_MS: '15000' }
    });
    try {
        const account = await cluster.newAccount('Bench contact center');
        await cluster.link(account, PEOPLE.acmeApi);
        const runs: Run[] = [];
        for (let n = 1; n <= MAX_INSTANCES; n++) {
            while (cluster.live().length < n) await cluster.add();
            runs.push(await measure(cluster, account, n));
        }
        report(runs);
    } finally {
        await cluster.close();
    }
}

async function measure(cluster: Cluster, account: TestAccount, n: number): Promise<Run> {
    const { emulator } = cluster;
    const put = async (callId: string, on: number): Promise<{ status: number; code?: string }> => {
        try {
            const res = await fetch(`${cluster.url(on)}/api/v1/calls/${callId}/task`, {
                method: 'PUT',
                headers: { Authorization: `Bearer ${account.platformKey}`, 'Content-Type': 'application/json' },
                body: JSON.stringify(TASK)
            });
            const body = (await res.json()) as { error?: { code?: string } };
            return { status: res.status, code: body.error?.code };
        } catch (error) {
            return {
                status: 0,
                code: (error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message
            };
        }
    };
    const burst = async (label: string): Promise<Burst> => {
        const live = cluster.live();
        const before = emulator.state.requestCounts('acme');
        const usedBefore = emulator.state.org('acme').apiUsage.used;
        const cpuBefore = await cpuNow(cluster);
        const latencies: number[] = [];
        const failures = new Map<string, number>();
        const started = performance.now();
        await Promise.all(
            Array.from({ length: CALLS }, async (_, k) => {
                const t0 = performance.now();
                const res = await put(`${label}-${k}`, live[k % live.length]!);
                if (res.status >= 200 && res.status < 300) latencies.push(performance.now() - t0);
                else failures.set(res.code ?? `HTTP ${res.status}`, (failures.get(res.code ?? `HTTP ${res.status}`) ?? 0) + 1);
            })
        );
        const wallMs = performance.now() - started;
        const cpuAfter = await cpuNow(cluster);
        const after = emulator.state.requestCounts('acme');
        return {
            ok: latencies.length,
            failed: CALLS - latencies.length,
            failures,
            wallMs,
            latencies: latencies.sort((a, b) => a - b),
            refreshes: after.refresh - before.refresh,
            apiCalls: emulator.state.org('acme').apiUsage.used - usedBefore,
            cpu: {
                here: cpuAfter.here - cpuBefore.here,
                backends: cpuAfter.backends - cpuBefore.backends,
                postgres: cpuAfter.postgres - cpuBefore.postgres
            }
        };
    };

    // Warm up every instance (its code paths, its sockets, a live session with Salesforce) before measuring.
    emulator.state.setLatency(0);
    for (const i of cluster.live()) for (let k = 0; k < 5; k++) await put(`n${n}-warmup-${i}-${k}`, i);
    await Promise.all(Array.from({ length: 50 }, (_, k) => put(`n${n}-warmup-burst-${k}`, cluster.live()[k % n]!)));
    emulator.state.setLatency(LATENCY_MS);

    const run: Run = { instances: n, warm: [], expired: [] };
    for (let round = 0; round < ROUNDS; round++) {
        run.warm.push(await burst(`n${n}-r${round}-warm`));
        emulator.state.expireAccessTokens(PEOPLE.acmeApi.username);
        run.expired.push(await burst(`n${n}-r${round}-expired`));
    }
    emulator.state.setLatency(0);
    return run;
}

function report(runs: Run[]): void {
    const fmt = (x: number, d = 1): string => (Number.isFinite(x) ? x.toFixed(d) : '—');
    const cps = (b: Burst): number => (b.ok / b.wallMs) * 1000;
    const pooled = (bursts: Burst[]): number[] => bursts.flatMap((b) => b.latencies).sort((a, b) => a - b);
    const summary = (bursts: Burst[]) => {
        const ok = bursts.reduce((s, b) => s + b.ok, 0);
        const cpu = (part: keyof Burst['cpu']) => bursts.reduce((s, b) => s + b.cpu[part], 0);
        const wall = bursts.reduce((s, b) => s + b.wallMs, 0) / 1000;
        return {
            ok,
            failed: bursts.reduce((s, b) => s + b.failed, 0),
            callsPerSecond: median(bursts.map(cps)),
            p50: percentile(pooled(bursts), 50),
            p99: percentile(pooled(bursts), 99),
            refreshes: bursts.map((b) => b.refreshes),
            apiCallsPerTask: bursts.reduce((s, b) => s + b.apiCalls, 0) / Math.max(1, ok),
            /** CPU milliseconds per call, by part, and the share of the machine's cores the burst kept busy. */
            cpuMsPerCall: {
                here: (cpu('here') * 1000) / Math.max(1, ok),
                backends: (cpu('backends') * 1000) / Math.max(1, ok),
                postgres: (cpu('postgres') * 1000) / Math.max(1, ok)
            },
            busy: (cpu('here') + cpu('backends') + cpu('postgres')) / wall / availableParallelism()
        };
    };

    const cores = availableParallelism();
    console.log(
        `\nSeveral instances on one PostgreSQL: ${CALLS} concurrent Tasks per burst, ${ROUNDS} bursts per row, emulator latency ${LATENCY_MS} ms per Salesforce request` +
            `\n${new Date().toISOString().slice(0, 10)} · ${cores} CPUs (${cpus()[0]?.model ?? 'unknown'}) · ${(totalmem() / 2 ** 30).toFixed(1)} GB · Node ${process.version} · load average ${LOAD_BEFORE.toFixed(2)} before the run\n`
    );
    const header = [
        'instances',
        'burst',
        'ok/failed',
        'calls/s',
        '× 1 inst.',
        'p50 ms',
        'p99 ms',
        'refreshes per expiry',
        'API calls/Task',
        'CPU ms/call: here · backends · pg',
        'cores busy'
    ];
    const rows: string[][] = [];
    const base = { warm: summary(runs[0]!.warm), expired: summary(runs[0]!.expired) };
    for (const run of runs) {
        for (const kind of ['warm', 'expired'] as const) {
            const s = summary(run[kind]);
            rows.push([
                String(run.instances),
                kind === 'warm' ? 'live token' : 'token just expired',
                `${s.ok}/${s.failed}`,
                fmt(s.callsPerSecond, 0),
                fmt(s.callsPerSecond / base[kind].callsPerSecond, 2),
                fmt(s.p50),
                fmt(s.p99),
                kind === 'warm' ? `(${s.refreshes.reduce((a, b) => a + b, 0)} in all)` : s.refreshes.join(', '),
                fmt(s.apiCallsPerTask, 2),
                `${fmt(s.cpuMsPerCall.here, 2)} · ${fmt(s.cpuMsPerCall.backends, 2)} · ${fmt(s.cpuMsPerCall.postgres, 2)}`,
                `${fmt(s.busy * 100, 0)}%`
            ]);
        }
    }
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
    const line = (cells: string[]): string => cells.map((c, i) => (i <= 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
    console.log(line(header));
    console.log(widths.map((w) => '-'.repeat(w)).join('  '));
    for (const row of rows) console.log(line(row));

    for (const run of runs) {
        for (const kind of ['warm', 'expired'] as const) {
            const failures = new Map<string, number>();
            for (const b of run[kind]) for (const [why, count] of b.failures) failures.set(why, (failures.get(why) ?? 0) + count);
            if (failures.size)
                console.log(
                    `\n${run.instances} instance(s), ${kind}: ${[...failures].map(([why, count]) => `${count} × ${why}`).join(', ')}`
                );
        }
    }

    const last = runs[runs.length - 1]!;
    const lastExpired = summary(last.expired);
    const refreshGoal = runs.every((run) => run.expired.every((b) => b.refreshes === 1));
    const apiGoal = runs.every((run) => Math.abs(summary(run.warm).apiCallsPerTask - 1) < 0.005);
    console.log(
        `\nGoals: one token refresh per expiry in all: ${refreshGoal ? 'met' : 'NOT met'} (${runs.map((r) => `${r.instances}: ${r.expired.map((b) => b.refreshes).join('/')}`).join('; ')}).`
    );
    console.log(
        `       one Salesforce API call per Task with a live token: ${apiGoal ? 'met' : 'NOT met'} (${runs.map((r) => `${r.instances}: ${fmt(summary(r.warm).apiCallsPerTask, 2)}`).join('; ')}).`
    );
    console.log(
        `\n${last.instances} instances against 1: ${fmt(summary(last.warm).callsPerSecond / base.warm.callsPerSecond, 2)}× the calls/s with a live token, ` +
            `${fmt(lastExpired.callsPerSecond / base.expired.callsPerSecond, 2)}× right after an expiry; p50 ${fmt(summary(last.warm).p50 / base.warm.p50, 2)}× the 1-instance p50.`
    );
    const lastWarm = summary(last.warm);
    const cpuPerCall = lastWarm.cpuMsPerCall.here + lastWarm.cpuMsPerCall.backends + lastWarm.cpuMsPerCall.postgres;
    const ceiling = (cores * 1000) / cpuPerCall;
    console.log(
        `What limits it here: every call costs ${fmt(cpuPerCall, 2)} CPU ms in all (${fmt(lastWarm.cpuMsPerCall.backends, 2)} in the backends, ${fmt(lastWarm.cpuMsPerCall.postgres, 2)} in PostgreSQL, ` +
            `${fmt(lastWarm.cpuMsPerCall.here, 2)} in this process, which plays Salesforce and the ${CALLS} callers), and all of them share ${cores} cores: at most ~${fmt(ceiling, 0)} calls/s ` +
            `were the machine ours alone; the ${last.instances}-instance run reached ${fmt(lastWarm.callsPerSecond, 0)} with ${fmt(lastWarm.busy * 100, 0)}% of the cores, the rest going to other work ` +
            `on the machine. Another instance adds no core, it only splits the same CPU: the ratios show what the instances cost and save each other, not how far they scale.`
    );
}

await main();
