import { closeSync, fstatSync, openSync, readFileSync, statSync, watch, type FSWatcher } from 'node:fs';
import { link, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Low } from 'lowdb';
import type { Adapter } from 'lowdb';
import { emptyDb, type Db } from './types.ts';
import type { Store } from './store.ts';

const LOCK_WAIT_MS = 10_000;
const STALE_LOCK_MS = 30_000;
const EMPTY_LOCK_MS = 1_000;

const parseDb = (text: string): Db => {
    try {
        return { ...emptyDb(), ...(JSON.parse(text) as Partial<Db>) };
    } catch (error) {
        throw new Error(`The data file is not valid JSON; restore it from a backup: ${(error as Error).message}`);
    }
};

/**
 * lowdb adapter that remembers the last text it committed, so a failed change can be rolled back, and
 * which version of the file (mtime, size, inode) that text is, so a change by another process is seen.
 * A write is durable before it is acknowledged: temp file, fsync, rename over the old file, fsync of
 * the directory. A change that changes nothing writes nothing.
 */
class CommittedJsonFile implements Adapter<Db> {
    committed = JSON.stringify(emptyDb());
    version = 'absent';
    readonly #temp: string;

    constructor(private readonly filename: string) {
        this.#temp = path.join(path.dirname(filename), `.${path.basename(filename)}.tmp`);
    }

    /** Reads through one file handle, so the text and its version are of the same file even while another process renames a new one in. */
    async read(): Promise<Db | null> {
        let handle;
        try {
            handle = await open(this.filename, 'r');
        } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
            this.version = 'absent';
            return null;
        }
        try {
            const version = versionOf(await handle.stat());
            const text = await handle.readFile('utf8');
            const db = parseDb(text);
            this.committed = text;
            this.version = version;
            return db;
        } finally {
            await handle.close();
        }
    }

    readSync(): Db | null {
        let fd: number;
        try {
            fd = openSync(this.filename, 'r');
        } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
            return null;
        }
        try {
            const version = versionOf(fstatSync(fd));
            const text = readFileSync(fd, 'utf8');
            const db = parseDb(text);
            this.committed = text;
            this.version = version;
            return db;
        } finally {
            closeSync(fd);
        }
    }

    async write(data: Db): Promise<void> {
        const text = JSON.stringify(data);
        if (text === this.committed) return;
        const handle = await open(this.#temp, 'w', 0o600);
        try {
            await handle.writeFile(text);
            await handle.sync();
        } finally {
            await handle.close();
        }
        await rename(this.#temp, this.filename);
        await syncDirectory(path.dirname(this.filename));
        this.committed = text;
        this.version = versionOf(await stat(this.filename));
    }
}

/** The rename itself is durable only once the directory is; some platforms cannot open a directory, and there is nothing more to do. */
async function syncDirectory(dir: string): Promise<void> {
    let handle;
    try {
        handle = await open(dir, 'r');
        await handle.sync();
    } catch {
        // EISDIR / EPERM on Windows: the rename is as durable as the platform makes it.
    } finally {
        await handle?.close();
    }
}

const versionOf = (s: { mtimeMs: number; size: number; ino: number }): string => `${s.mtimeMs}:${s.size}:${s.ino}`;

/**
 * lowdb keeps the whole file in memory and writes it atomically and durably (temp file, fsync, rename) on every change.
 * Writes take a lock file, so the operator's accounts command and the server can share one data
 * directory; each picks up the other's changes before it reads or writes.
 */
export class LowdbStore implements Store {
    #queue: Promise<unknown> = Promise.resolve();
    #stale = false;
    #watcher?: FSWatcher;
    #version = 0;

    private constructor(
        private readonly db: Low<Db>,
        private readonly adapter: CommittedJsonFile,
        private readonly file: string
    ) {}

    static async open(dataDir: string): Promise<LowdbStore> {
        await mkdir(dataDir, { recursive: true, mode: 0o700 });
        const file = path.join(dataDir, 'db.json');
        const adapter = new CommittedJsonFile(file);
        const db = new Low<Db>(adapter, emptyDb());
        await db.read();
        const store = new LowdbStore(db, adapter, file);
        store.#watcher = watch(dataDir, (_event, name) => {
            if (name === 'db.json') store.#stale = true;
        });
        store.#watcher.unref();
        return store;
    }

    read<T>(view: (db: Readonly<Db>) => T): T {
        if (this.#stale) this.#reloadIfChangedSync();
        return view(this.db.data);
    }

    get version(): number {
        if (this.#stale) this.#reloadIfChangedSync();
        return this.#version;
    }

    update<T>(change: (db: Db) => T): Promise<T> {
        const run = this.#queue.then(() =>
            this.#locked(async () => {
                if ((await fileVersion(this.file)) !== this.adapter.version) await this.#reload();
                let result: T;
                this.#version++;
                try {
                    result = change(this.db.data);
                    await this.db.write();
                } catch (error) {
                    this.db.data = JSON.parse(this.adapter.committed) as Db;
                    throw error;
                } finally {
                    this.#version++;
                }
                return result;
            })
        );
        this.#queue = run.catch(() => undefined);
        return run;
    }

    async close(): Promise<void> {
        await this.#queue;
        this.#watcher?.close();
    }

    async #reload(): Promise<void> {
        await this.db.read();
        this.#version++;
        this.#stale = false;
    }

    #reloadIfChangedSync(): void {
        this.#stale = false;
        let version: string;
        try {
            version = versionOf(statSync(this.file));
        } catch {
            return;
        }
        if (version === this.adapter.version) return;
        const db = this.adapter.readSync();
        if (!db) return;
        this.db.data = db;
        this.#version++;
    }

    async #locked<T>(work: () => Promise<T>): Promise<T> {
        const lock = `${this.file}.lock`;
        const deadline = Date.now() + LOCK_WAIT_MS;
        for (;;) {
            try {
                const handle = await open(lock, 'wx', 0o600);
                try {
                    await handle.writeFile(String(process.pid));
                } finally {
                    await handle.close();
                }
                break;
            } catch (error) {
                if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
                if (await breakStaleLock(lock)) continue;
                if (Date.now() > deadline) throw new Error(`The data file is locked by another process (${lock}).`);
                await sleep(5);
            }
        }
        try {
            return await work();
        } finally {
            await rm(lock, { force: true });
        }
    }
}

/**
 * A lock whose process is gone (killed mid-write, power cut) is stale and is removed at once; so is
 * one older than STALE_LOCK_MS whatever it says (its pid may have been reused), and an empty one
 * older than a second (its process died between creating and filling it). Two waiters may find the
 * same stale lock: it is renamed away first, so only one of them removes it, and a fresh lock moved
 * by mistake is put back.
 */
async function breakStaleLock(lock: string): Promise<boolean> {
    let content: string;
    let seen: { ino: number; mtimeMs: number };
    try {
        seen = await stat(lock);
        content = await readFile(lock, 'utf8');
    } catch {
        return true; // gone meanwhile: try again
    }
    const age = Date.now() - seen.mtimeMs;
    const pid = /^\d+$/.test(content.trim()) ? Number(content.trim()) : undefined;
    const stale = age > STALE_LOCK_MS || (pid === undefined ? age > EMPTY_LOCK_MS : !processAlive(pid));
    if (!stale) return false;
    const aside = `${lock}.stale-${process.pid}-${Math.random().toString(36).slice(2)}`;
    try {
        await rename(lock, aside);
    } catch {
        return true; // another waiter moved it first
    }
    const moved = await stat(aside).catch(() => undefined);
    if (moved && moved.ino !== seen.ino) await link(aside, lock).catch(() => undefined);
    await rm(aside, { force: true });
    return true;
}

function processAlive(pid: number): boolean {
    if (pid === process.pid) return true;
    try {
        process.kill(pid, 0);
        return true;
    } catch (error) {
        return (error as NodeJS.ErrnoException).code === 'EPERM';
    }
}

async function fileVersion(file: string): Promise<string> {
    try {
        return versionOf(await stat(file));
    } catch {
        return 'absent';
    }
}
