import type { AccountOverview, Repos } from '../store.ts';
import { applyPatch, copy, type Rows } from './rows.ts';

export const lowdbAccounts = (rows: Rows): Repos['accounts'] => ({
    get: async (id) => (await rows.fresh(), copy(rows.findAccount(id))),
    byKeyHash: async (hash) => {
        await rows.fresh();
        const index = rows.index();
        return copy(
            index ? index.byKeyHash.get(hash) : rows.rows('accounts').find((a) => a.apiKeyHash === hash || a.platformKeyHash === hash)
        );
    },
    names: async (ids) => {
        await rows.fresh();
        return new Map(
            ids.flatMap((id) => {
                const account = rows.findAccount(id);
                return account ? [[id, account.name] as const] : [];
            })
        );
    },
    list: async () => {
        await rows.fresh();
        return rows.rows('accounts').map((account): AccountOverview => {
            const link = rows.findLink(account.id);
            return { account: copy(account), ...(link ? { link: { status: link.status, username: link.username } } : {}) };
        });
    },
    insert: (account) =>
        rows.write((draft) => {
            const hashes = [account.apiKeyHash, account.platformKeyHash].filter(Boolean);
            if (
                draft
                    .rows('accounts', false)
                    .some(
                        (a) =>
                            a.id === account.id ||
                            hashes.includes(a.apiKeyHash) ||
                            (a.platformKeyHash && hashes.includes(a.platformKeyHash))
                    )
            )
                throw new Error(`An account with the id ${account.id} or its key already exists.`);
            draft.rows('accounts', true).push(structuredClone(account));
            draft.changes.push({ accountId: account.id });
        }),
    patch: (id, patch) =>
        rows.write((draft) => {
            const current = draft.rows('accounts', false).find((a) => a.id === id);
            if (!current) return false;
            rows.replace(draft, 'accounts', (a) => a.id === id, applyPatch(current, patch));
            return true;
        })
});
