import { JsonLines, markOf, type FileMark } from './jsonFiles.ts';

/** What an append-only file holds in memory: emptied, then built again line by line. */
export interface LogState<Line> {
    reset(): void;
    apply(line: Line): void;
}

const sameMark = (a: FileMark | undefined, b: FileMark | undefined): boolean => a?.ino === b?.ino && a?.size === b?.size;

/**
 * An append-only JSON-lines file (audit.jsonl, ledger.jsonl) and the state read from it, kept in step with other
 * processes: lines they appended are read as a tail, a file they replaced (a compaction) is read whole.
 */
export class AppendLog<Line> {
    readonly #file: JsonLines;
    /** Lines in the file, this process's and others': a file much longer than what it holds is compacted. */
    lines = 0;

    constructor(
        file: string,
        private readonly state: LogState<Line>
    ) {
        this.#file = new JsonLines(file);
    }

    get path(): string {
        return this.#file.file;
    }

    /** Reads the whole file into the state. */
    async load(): Promise<void> {
        this.state.reset();
        const lines = (await this.#file.read()) as Line[];
        for (const line of lines) this.state.apply(line);
        this.lines = lines.length;
    }

    /** Whether the file changed since this process last read or wrote it. */
    async changed(): Promise<boolean> {
        return !sameMark(await markOf(this.path), this.#file.mark);
    }

    /** Under the write lock: whatever another process wrote since, read into the state. True when there was some. */
    async refresh(): Promise<boolean> {
        const now = await markOf(this.path);
        const known = this.#file.mark;
        if (sameMark(now, known)) return false;
        if (now && known && now.ino === known.ino && now.size > known.size) {
            const tail = (await this.#file.read(known.size)) as Line[];
            for (const line of tail) this.state.apply(line);
            this.lines += tail.length;
        } else {
            await this.load();
        }
        return true;
    }

    /** Appends durably; the caller applies the lines to the state once they may be seen. */
    async append(lines: Line[]): Promise<void> {
        await this.#file.append(lines);
        this.lines += lines.length;
    }

    /** Replaces the whole file durably (a compaction of what the state holds). */
    async replace(lines: Line[]): Promise<void> {
        await this.#file.replace(lines);
        this.lines = lines.length;
    }
}
