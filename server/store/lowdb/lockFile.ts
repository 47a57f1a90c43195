import { link, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

const LOCK_WAIT_MS = 10_000;
const STALE_LOCK_MS = 30_000;
const EMPTY_LOCK_MS = 1_000;

/** Runs `work` holding the lock file `lock` (it holds our pid), across processes: the writers of one data directory take turns. */
export async function withLockFile<T>(lock: string, work: () => Promise<T>): Promise<T> {
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

/** Whether a process with this pid runs (EPERM: it does, as another user). Shared with the serving claim. */
export function processAlive(pid: number): boolean {
    if (pid === process.pid) return true;
    try {
        process.kill(pid, 0);
        return true;
    } catch (error) {
        return (error as NodeJS.ErrnoException).code === 'EPERM';
    }
}
