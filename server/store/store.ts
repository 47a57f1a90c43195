import type { Db } from './types.ts';

/**
 * The storage boundary: link logic sees only this, so a database can replace the JSON file later.
 * `update` runs one write at a time; a callback that throws leaves the data exactly as it was.
 */
export interface Store {
    read<T>(view: (db: Readonly<Db>) => T): T;
    /**
     * Changes whenever the data may have changed (a write, a rolled-back write, a reload of another
     * process's change), so a caller may keep an index of the data until it moves. Optional: without
     * it a caller must read the data every time.
     */
    readonly version?: number;
    update<T>(change: (db: Db) => T): Promise<T>;
    close(): Promise<void>;
}

