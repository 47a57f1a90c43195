import { watch, readFileSync, statSync, type FSWatcher } from 'node:fs';
import { mkdir, open, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Low } from 'lowdb';
import { TextFile } from 'lowdb/node';
import type { Adapter } from 'lowdb';
import { emptyDb, type Db } from './types.ts';
import type { Store } from './store.ts';

const LOCK_WAIT_MS = 10_000;
const STALE_LOCK_MS = 30_000;

const parseDb = (text: string): Db => {
    try {
        return { ...emptyDb(), ...(JSON.parse(text) as Partial<Db>) };
    } catch (error) {
        throw new Error(`The data file is not valid JSON; restore it from a backup: ${(error as Error).message}`);
    }
};

/** lowdb adapter that remembers the last text it committed, so a failed change can be rolled back. */
class CommittedJsonFile implements Adapter<Db> {
    readonly #file: TextFile;
    committed = JSON.stringify(emptyDb());

    constructor(filename: string) {
        this.#file = new TextFile(filename);
    }

    async read(): Promise<Db | null> {
        const text = await this.#file.read();
        if (text === null) return null;
        const db = parseDb(text);
        this.committed = text;
        return db;
    }

    async write(data: Db): Promise<void> {
        const text = JSON.stringify(data);
        await this.#file.write(text);
        this.committed = text;
    }
}

/**
 * lowdb keeps the whole file in memory and writes it atomically (temp file + rename) on every change.
 * Writes take a lock file, so the operator's accounts command and the server can share one data
 * directory; each picks up the other's changes before it reads or writes.
 */
export class LowdbStore implements Store {
    #queue: Promise<unknown> = Promise.resolve();
    #known = '';
    #stale = false;
    #watcher?: FSWatcher;

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
        store.#known = await fileVersion(file);
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

    update<T>(change: (db: Db) => T): Promise<T> {
        const run = this.#queue.then(() =>
            this.#locked(async () => {
                if ((await fileVersion(this.file)) !== this.#known) await this.#reload();
                let result: T;
                try {
                    result = change(this.db.data);
                    await this.db.write();
                } catch (error) {
                    this.db.data = JSON.parse(this.adapter.committed) as Db;
                    throw error;
                }
                this.#known = await fileVersion(this.file);
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
        this.#known = await fileVersion(this.file);
        this.#stale = false;
    }

    #reloadIfChangedSync(): void {
        this.#stale = false;
        let version: string;
        try {
            const s = statSync(this.file);
            version = `${s.mtimeMs}:${s.size}:${s.ino}`;
        } catch {
            return;
        }
        if (version === this.#known) return;
        const text = readFileSync(this.file, 'utf8');
        this.db.data = parseDb(text);
        this.adapter.committed = text;
        this.#known = version;
    }

    async #locked<T>(work: () => Promise<T>): Promise<T> {
        const lock = `${this.file}.lock`;
        const deadline = Date.now() + LOCK_WAIT_MS;
        for (;;) {
            try {
                const handle = await open(lock, 'wx', 0o600);
                await handle.writeFile(String(process.pid));
                await handle.close();
                break;
            } catch (error) {
                if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
                const age = await stat(lock).then((s) => Date.now() - s.mtimeMs, () => 0);
                // A lock left by a process that died mid-write must not block the store forever.
                if (age > STALE_LOCK_MS) await rm(lock, { force: true });
                else if (Date.now() > deadline) throw new Error(`The data file is locked by another process (${lock}).`);
                else await sleep(5);
            }
        }
        try {
            return await work();
        } finally {
            await rm(lock, { force: true });
        }
    }
}

async function fileVersion(file: string): Promise<string> {
    try {
        const s = await stat(file);
        return `${s.mtimeMs}:${s.size}:${s.ino}`;
    } catch {
        return 'absent';
    }
}
