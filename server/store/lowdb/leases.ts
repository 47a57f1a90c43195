import type { Repos } from '../store.ts';
import type { Rows } from './rows.ts';

/** One process serves a data directory (server.pid): its leases live in its memory, outside any transaction. */
export const lowdbLeases = ({ store }: Rows): Repos['leases'] => ({
    acquire: async (key, by, { now, until }) => {
        const held = store.leaseTable.get(key);
        if (held && held.by !== by && held.until >= now) return false;
        store.leaseTable.set(key, { by, until });
        return true;
    },
    release: async (key, by) => {
        if (store.leaseTable.get(key)?.by === by) store.leaseTable.delete(key);
    },
    get: async (key) => {
        const held = store.leaseTable.get(key);
        return held ? { ...held } : undefined;
    },
    prune: async (before) => {
        let dropped = 0;
        for (const [key, held] of store.leaseTable) {
            if (held.until < before) {
                store.leaseTable.delete(key);
                dropped++;
            }
        }
        return dropped;
    }
});
