import { LowdbStore } from './lowdb/store.ts';
import type { Store } from './store.ts';

/** PostgreSQL when DATABASE_URL is set (migrated at open), otherwise the files in DATA_DIR. */
export async function openStore(config: { DATA_DIR: string; DATABASE_URL?: string; DATABASE_POOL_SIZE?: number }): Promise<Store> {
    if (config.DATABASE_URL) {
        // Loaded only when used: the embedded store starts without the PostgreSQL client and migrator.
        const { PgStore } = await import('./pgStore.ts');
        return PgStore.open(config.DATABASE_URL, { max: config.DATABASE_POOL_SIZE });
    }
    return LowdbStore.open(config.DATA_DIR);
}
