import { mkdir, open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { processAlive } from './lowdb/lockFile.ts';

/** Thrown when another live backend already serves the data directory. */
export class DataDirInUse extends Error {
    override name = 'DataDirInUse';
}

/** The files this process holds now. */
const claimedHere = new Set<string>();

/**
 * lowdb serves one backend per data directory: `DATA_DIR/server.pid` names the one that does.
 * A second backend on the same directory is refused at start, saying why; a file left by a
 * process that died is taken over. The operator's commands do not take it.
 */
export async function claimServing(dataDir: string): Promise<() => Promise<void>> {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    const file = path.join(dataDir, 'server.pid');
    for (let attempt = 0; attempt < 3; attempt++) {
        try {
            const handle = await open(file, 'wx', 0o600);
            await handle.writeFile(String(process.pid));
            await handle.close();
            claimedHere.add(file);
            return async () => {
                claimedHere.delete(file);
                const holder = await readFile(file, 'utf8').catch(() => '');
                if (holder.trim() === String(process.pid)) await rm(file, { force: true });
            };
        } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
            const holder = Number((await readFile(file, 'utf8').catch(() => '')).trim());
            // Our own pid, not claimed by this process, is a previous life of its slot (a container restarted on a kept
            // volume, where the backend is pid 1 again): taken over like a dead one's.
            const ours = holder === process.pid && !claimedHere.has(file);
            if (Number.isInteger(holder) && holder > 0 && !ours && processAlive(holder)) {
                throw new DataDirInUse(
                    `Another backend (pid ${holder}) already serves ${dataDir}. The embedded store serves one process per data directory: stop the other one, give this one its own DATA_DIR, or run several instances on PostgreSQL (DATABASE_URL). If no backend runs there (pid ${holder} is some other program now), remove ${file}.`
                );
            }
            await rm(file, { force: true });
        }
    }
    throw new DataDirInUse(`Could not claim ${file}; remove it if no backend is running.`);
}
