import type { ChildProcess } from 'node:child_process';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import request from 'supertest';
import { authorizeInEmulator } from '../../emulator/driver.ts';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../emulator/index.ts';
import { Accounts } from '../accounts.ts';
import { systemClock } from '../clock.ts';
import { emulatorEnv } from '../../demo/emulatorEnv.ts';
import { PgStore } from '../store/pgStore.ts';
import { CLIENT, PUBLIC_URL, type Person } from './harness.ts';
import { createTestDatabase, type TestDatabase } from './pgDatabase.ts';
import { spawnBackend } from './spawnBackend.ts';

/*
 * Several backend processes (`node --import tsx server/main.ts`) on one PostgreSQL database, as a deployment behind a
 * load balancer runs them, with the Salesforce emulator in the test process. Accounts are made through the store; every
 * other step goes over HTTP to an instance the test picks, or to the next live one in turn.
 */

/** What a process may keep of its own log: the tail is what explains a failure. */
const LOG_LIMIT = 200_000;

export interface Instance {
    index: number;
    port: number;
    url: string;
    child: ChildProcess;
    alive: boolean;
    /** What the process wrote (its pino lines at LOG_LEVEL, and anything on stderr). */
    log: string;
}

export interface ClusterOptions {
    /** How many backends to start (default 3). */
    instances?: number;
    /** Added to every backend's environment (HEALTH_SWEEP_INTERVAL_SECONDS, SF_HTTP_TIMEOUT_MS, …). */
    env?: Record<string, string>;
    emulator?: EmulatorOptions;
    /** pino's level in the backends (default warn). */
    logLevel?: 'silent' | 'error' | 'warn' | 'info' | 'debug';
}

export interface TestAccount {
    id: string;
    /** The org's key (scope `link`): link sessions, verify, unlink. */
    key: string;
    /** The platform's key (scope `platform`): call actions and the webhook. */
    platformKey: string;
}

/** The popup up to Salesforce's redirect back: what the browser holds before it requests the callback. */
export interface Popup {
    sessionId: string;
    cookie: string;
    callbackPath: string;
}

/** Which instance serves each step of a popup: the session (the card's Apex), the confirmation page, its form's POST. */
export interface PopupRoute {
    session?: number;
    page?: number;
    confirm?: number;
}

export interface Cluster {
    emulator: Emulator;
    database: TestDatabase;
    /** The environment every backend shares (one encryption key, one database). */
    env: Record<string, string>;
    instances: Instance[];
    /** The URL of instance i. */
    url(i: number): string;
    /** The next live instance in turn: requests spread over the cluster as a round-robin balancer spreads them. */
    next(): number;
    live(): number[];
    /** supertest against instance i, or the next live one. */
    http(i?: number): ReturnType<typeof request>;
    /** Authorized requests with `key` against instance i, or the next live one. */
    api(
        key: string,
        i?: number
    ): {
        get(path: string): request.Test;
        post(path: string, body?: object): request.Test;
        put(path: string, body?: object): request.Test;
        delete(path: string): request.Test;
    };
    newAccount(name: string): Promise<TestAccount>;
    /** The popup's steps on the instances named in `route` (default: each on the next live one), up to Salesforce's redirect. */
    popup(key: string, person: Person, route?: PopupRoute, session?: Record<string, unknown>): Promise<Popup>;
    /** The popup's last step: the callback with the popup's cookies, on instance i (default the next live one). */
    callback(popup: Popup, i?: number): Promise<request.Response>;
    /** A whole link, its steps spread over the instances; throws unless the callback answers 200. */
    link(account: TestAccount, person: Person): Promise<void>;
    /** SQL on the test database, as an operator would run it. */
    sql<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
    /** SIGKILL: no shutdown, no flush, as a crashed machine. */
    kill(i: number): Promise<void>;
    /** Starts instance i again on its port (killing it first if it still runs). */
    restart(i: number): Promise<void>;
    /** Another backend process; returns its index. */
    add(): Promise<number>;
    /** Which instance holds the TCP connection whose local port is `port` (a connection it opened to us), if any. */
    instanceOfConnection(port: number): Promise<number | undefined>;
    /** Every instance's log, labelled, for a failure message. */
    logs(): string;
    close(): Promise<void>;
}

export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
    const emulator = await startEmulator({
        quiet: true,
        clients: [{ ...CLIENT, redirectUris: [`${PUBLIC_URL}/oauth/callback`] }],
        ...options.emulator
    });
    let database: TestDatabase | undefined;
    let pool: pg.Pool | undefined;
    const instances: Instance[] = [];
    try {
        database = await createTestDatabase();
        // Migrated here, as a deployment runs `npm run store -- migrate` before it starts its instances.
        const store = await PgStore.open(database.url);
        const accounts = new Accounts(store, systemClock);
        pool = new pg.Pool({ connectionString: database.url, max: 2 });
        const env = emulatorEnv(
            emulator,
            CLIENT,
            // No instance reads DATA_DIR while DATABASE_URL is set; it names a folder nobody makes.
            { PUBLIC_URL, DATA_DIR: path.join(tmpdir(), 'ccl-cluster-unused') },
            {
                DATABASE_URL: database.url,
                LOG_LEVEL: options.logLevel ?? 'warn',
                HEALTH_SWEEP_INTERVAL_SECONDS: '0',
                SF_HTTP_TIMEOUT_MS: '10000',
                WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
                ...options.env
            }
        );

        /** An instance on a port it picks itself, or on `port` (a restart stays where the balancer sends its share). */
        const spawnOn = async (index: number, port?: number): Promise<Instance> => {
            // What the process writes is kept from its first line: the tail explains a failure.
            const output = { log: '' };
            const keep = (chunk: Buffer) => {
                output.log += chunk.toString();
                if (output.log.length > LOG_LIMIT) output.log = output.log.slice(-LOG_LIMIT / 2);
            };
            const started = await spawnBackend(env, { port, onOutput: keep }).catch((error: Error) => {
                throw new Error(`backend ${index} did not start: ${error.message}`);
            });
            const instance: Instance = Object.assign(output, {
                index,
                port: started.port,
                url: started.url,
                child: started.child,
                alive: true
            });
            started.child.once('exit', () => (instance.alive = false));
            return instance;
        };
        const kill = (i: number): Promise<void> => {
            const instance = instances[i]!;
            if (!instance.alive) return Promise.resolve();
            return new Promise<void>((resolve) => {
                instance.child.once('exit', () => resolve());
                instance.child.kill('SIGKILL');
            });
        };

        const count = options.instances ?? 3;
        instances.push(...(await Promise.all(Array.from({ length: count }, (_, index) => spawnOn(index)))));

        let turn = 0;
        const live = () => instances.filter((x) => x.alive).map((x) => x.index);
        const next = () => {
            const up = live();
            if (!up.length) throw new Error('no backend instance is running');
            return up[turn++ % up.length]!;
        };
        const url = (i: number) => instances[i]!.url;
        const http = (i?: number) => request(url(i ?? next()));
        const api = (key: string, i?: number) => {
            const auth = (req: request.Test) => req.set('Authorization', `Bearer ${key}`);
            return {
                get: (path: string) => auth(http(i).get(path)),
                post: (path: string, body?: object) => (body ? auth(http(i).post(path)).send(body) : auth(http(i).post(path))),
                put: (path: string, body?: object) => (body ? auth(http(i).put(path)).send(body) : auth(http(i).put(path))),
                delete: (path: string) => auth(http(i).delete(path))
            };
        };
        const popup = async (
            key: string,
            person: Person,
            route: PopupRoute = {},
            session: Record<string, unknown> = { environment: 'production' }
        ): Promise<Popup> => {
            const created = await api(key, route.session).post('/api/v1/link-sessions', session);
            if (created.status !== 201) throw new Error(`link session: ${created.status} ${created.text}`);
            const startPath = new URL(created.body.authorizeUrl as string).pathname;
            // The person reads the confirmation page, then clicks Continue: two requests, which a balancer may send to two instances.
            const page = await http(route.page).get(startPath);
            if (page.status !== 200) throw new Error(`oauth start page: ${page.status} ${page.text.slice(0, 300)}`);
            const token = /name="token" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
            const pageCookie = cookiesOf(page);
            const confirmed = await http(route.confirm).post(startPath).set('Cookie', pageCookie).type('form').send({ token });
            if (confirmed.status !== 303) throw new Error(`oauth start confirm: ${confirmed.status} ${confirmed.text.slice(0, 300)}`);
            const final = await authorizeInEmulator(confirmed.headers.location!, person);
            return { sessionId: created.body.id as string, cookie: cookiesOf(confirmed), callbackPath: `${final.pathname}${final.search}` };
        };
        const callback = (p: Popup, i?: number) =>
            http(i)
                .get(p.callbackPath)
                .set('Cookie', p.cookie)
                .then((res) => res);

        return {
            emulator,
            database,
            env,
            instances,
            url,
            next,
            live,
            http,
            api,
            async newAccount(name) {
                const { account, apiKey, platformKey } = await accounts.create(name);
                return { id: account.id, key: apiKey, platformKey: platformKey! };
            },
            popup,
            callback,
            async link(account, person) {
                const done = await callback(await popup(account.key, person));
                if (done.status !== 200) throw new Error(`link of ${account.id}: ${done.status} ${done.text.slice(0, 500)}`);
            },
            sql: (text, values) => pool!.query(text, values),
            kill,
            async restart(i) {
                await kill(i);
                instances[i] = await spawnOn(i, instances[i]!.port);
            },
            async add() {
                const index = instances.length;
                instances.push(await spawnOn(index));
                return index;
            },
            async instanceOfConnection(port) {
                const inode = await socketInode(port);
                if (inode === undefined) return undefined;
                for (const instance of instances) {
                    if (instance.alive && instance.child.pid && (await socketsOf(instance.child.pid)).has(inode)) return instance.index;
                }
                return undefined;
            },
            logs: () =>
                instances
                    .map((x) => `--- instance ${x.index} (port ${x.port}, ${x.alive ? 'running' : 'stopped'}) ---\n${x.log.slice(-4000)}`)
                    .join('\n'),
            async close() {
                await Promise.all(instances.map((_, i) => kill(i)));
                await pool!.end();
                await store.close();
                await database!.drop();
                await emulator.close();
            }
        };
    } catch (error) {
        for (const instance of instances) instance.child.kill('SIGKILL');
        await pool?.end();
        await database?.drop();
        await emulator.close();
        throw error;
    }
}

/** The cookies an answer set, as the browser sends them back (a cleared one left out). */
function cookiesOf(res: request.Response): string {
    const set = (res.headers['set-cookie'] as unknown as string[] | undefined) ?? [];
    return set
        .map((c) => c.split(';')[0]!)
        .filter((pair) => !pair.endsWith('='))
        .join('; ');
}

/** The inode of the TCP socket whose local port is `port` (Linux: /proc/net/tcp and tcp6). */
async function socketInode(port: number): Promise<string | undefined> {
    const hex = port.toString(16).toUpperCase().padStart(4, '0');
    for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
        const text = await readFile(table, 'utf8').catch(() => '');
        for (const line of text.split('\n').slice(1)) {
            const fields = line.trim().split(/\s+/);
            if (fields[1]?.endsWith(`:${hex}`) && fields[9] && fields[9] !== '0') return fields[9];
        }
    }
    return undefined;
}

/** The socket inodes a process holds open. */
async function socketsOf(pid: number): Promise<Set<string>> {
    const inodes = new Set<string>();
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
        const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
        const match = /^socket:\[(\d+)\]$/.exec(target);
        if (match) inodes.add(match[1]!);
    }
    return inodes;
}
