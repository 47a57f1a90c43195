import { open, stat } from 'node:fs/promises';
import type { Adapter } from 'lowdb';
import type { AuditEntry, TaskLedgerEntry } from '../types.ts';
import { replaceFile } from './jsonFiles.ts';
import { emptyDoc, rowsOf, type Doc } from './rows.ts';

/** db.json as read: the rows, and what a data directory from before the split kept in it (audit, task ledger). */
type RawDoc = Doc & { audit?: AuditEntry[]; taskLedger?: { startedAt?: string; calls?: Record<string, TaskLedgerEntry> } };

const parseDoc = (text: string): RawDoc => {
    try {
        return { ...emptyDoc(), ...(JSON.parse(text) as Partial<Doc>) };
    } catch (error) {
        throw new Error(`The data file is not valid JSON; restore it from a backup: ${(error as Error).message}`);
    }
};

const versionOf = (s: { mtimeMs: number; size: number; ino: number }): string => `${s.mtimeMs}:${s.size}:${s.ino}`;

/** The version of a file now ('absent' when there is none), to compare with the one last read or written. */
export async function fileVersion(file: string): Promise<string> {
    try {
        return versionOf(await stat(file));
    } catch {
        return 'absent';
    }
}

/** lowdb adapter for db.json: remembers which version of the file it read or wrote, so a change by another process is seen; durable writes. */
export class DocFile implements Adapter<Doc> {
    version = 'absent';
    committed = '';
    raw: RawDoc | undefined;

    constructor(readonly filename: string) {}

    async read(): Promise<Doc | null> {
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
            const doc = parseDoc(text);
            this.raw = doc;
            this.committed = text;
            this.version = version;
            return { ...rowsOf(doc), ...(doc.auditPending ? { auditPending: doc.auditPending } : {}) };
        } finally {
            await handle.close();
        }
    }

    async write(data: Doc): Promise<void> {
        const text = JSON.stringify(data);
        if (text === this.committed) return;
        await replaceFile(this.filename, text);
        this.committed = text;
        this.version = versionOf(await stat(this.filename));
    }
}
