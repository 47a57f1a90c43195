import type { Repos } from '../store.ts';
import type { Rows } from './rows.ts';

/** One process serves a data directory (server.pid): its leases live in its memory, outside any transaction. */
export const lowdbLeases = ({ store }: Rows): Repos['leases'] => ({
    acquire: (key, by, { now, until }) => {
        const held = store.leaseTable.get(key);
        if (held && held.by !== by && held.until >= now) return Promise.resolve(false);
        store.leaseTable.set(key, { by, until });
        return Promise.resolve(true);
    },
    release: (key, by) => {
        if (store.leaseTable.get(key)?.by === by) store.leaseTable.delete(key);
        return Promise.resolve();
    },
    get: (key) => {
        const held = store.leaseTable.get(key);
        return Promise.resolve(held ? { ...held } : undefined);
    },
    prune: (before) => {
        let dropped = 0;
        for (const [key, held] of store.leaseTable) {
            if (held.until < before) {
                store.leaseTable.delete(key);
                dropped++;
            }
        }
        return Promise.resolve(dropped);
    }
});
