import type { Db } from './types.ts';

/**
 * The storage boundary: link logic sees only this, so a database can replace the JSON file later.
 * `update` runs one write at a time; a callback that throws leaves the data exactly as it was.
 */
export interface Store {
    read<T>(view: (db: Readonly<Db>) => T): T;
    update<T>(change: (db: Db) => T): Promise<T>;
    close(): Promise<void>;
}
