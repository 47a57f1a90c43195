import { open, rename, stat, truncate } from 'node:fs/promises';
import path from 'node:path';

/** The rename itself is durable only once the directory is; some platforms cannot open a directory, and there is nothing more to do. */
export async function syncDirectory(dir: string): Promise<void> {
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

/** Replaces a file durably: temp file, fsync, rename over the old one, fsync of the directory. */
export async function replaceFile(file: string, text: string): Promise<void> {
    const temp = path.join(path.dirname(file), `.${path.basename(file)}.tmp`);
    const handle = await open(temp, 'w', 0o600);
    try {
        await handle.writeFile(text);
        await handle.sync();
    } finally {
        await handle.close();
    }
    await rename(temp, file);
    await syncDirectory(path.dirname(file));
}

export interface FileMark {
    ino: number;
    size: number;
}

export async function markOf(file: string): Promise<FileMark | undefined> {
    try {
        const s = await stat(file);
        return { ino: s.ino, size: s.size };
    } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
    }
}

/**
 * An append-only JSON-lines file: one record per line, appended and fsynced before a write is
 * acknowledged. A crash can leave a torn last line (never acknowledged): it is cut off on open.
 */
export class JsonLines {
    mark: FileMark | undefined;

    constructor(readonly file: string) {}

    /** Every record from `fromByte` on; cuts a torn last line off the file. */
    async read(fromByte = 0): Promise<unknown[]> {
        let handle;
        try {
            handle = await open(this.file, 'r');
        } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
            this.mark = undefined;
            return [];
        }
        let text: string;
        let s;
        try {
            s = await handle.stat();
            const length = s.size - fromByte;
            const buffer = Buffer.alloc(Math.max(0, length));
            if (length > 0) await handle.read(buffer, 0, length, fromByte);
            text = buffer.toString('utf8');
        } finally {
            await handle.close();
        }
        const end = text.lastIndexOf('\n') + 1;
        if (end < text.length) {
            await truncate(this.file, fromByte + Buffer.byteLength(text.slice(0, end)));
        }
        this.mark = { ino: s.ino, size: fromByte + Buffer.byteLength(text.slice(0, end)) };
        const records: unknown[] = [];
        for (const line of text.slice(0, end).split('\n')) {
            if (!line) continue;
            try {
                records.push(JSON.parse(line));
            } catch {
                throw new Error(`${path.basename(this.file)} holds a line that is not JSON; restore it from a backup.`);
            }
        }
        return records;
    }

    async append(records: unknown[]): Promise<void> {
        if (records.length === 0) return;
        const handle = await open(this.file, 'a', 0o600);
        try {
            await handle.writeFile(records.map((r) => `${JSON.stringify(r)}\n`).join(''));
            await handle.sync();
            const s = await handle.stat();
            this.mark = { ino: s.ino, size: s.size };
        } finally {
            await handle.close();
        }
    }

    async replace(records: unknown[]): Promise<void> {
        await replaceFile(this.file, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
        this.mark = await markOf(this.file);
    }
}
