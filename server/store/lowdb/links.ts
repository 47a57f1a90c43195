import type { Repos } from '../store.ts';
import { apiUserKey, applyPatch, copy, type Rows } from './rows.ts';

export const lowdbLinks = (rows: Rows): Repos['links'] => ({
    get: async (accountId) => (await rows.fresh(), copy(rows.findLink(accountId))),
    ofApiUser: async (orgId, userId, options = {}) => {
        await rows.fresh();
        const index = rows.index();
        const key = apiUserKey(orgId, userId);
        const all = index
            ? (index.byApiUser.get(key) ?? [])
            : rows.rows('links').filter((l) => l.method === 'oauth' && apiUserKey(l.orgId, l.userId) === key);
        return all.filter((l) => l.accountId !== options.except).map(copy);
    },
    dueForCheck: async (verifiedBefore) => {
        await rows.fresh();
        return rows
            .rows('links')
            .filter(
                (l) =>
                    ((l.method === 'oauth' && l.status === 'linked') || (l.method === 'legacy' && l.status === 'legacy')) &&
                    (verifiedBefore === undefined || !l.lastVerifiedAt || l.lastVerifiedAt < verifiedBefore)
            )
            .sort((a, b) => (a.lastVerifiedAt ?? '').localeCompare(b.lastVerifiedAt ?? ''))
            .map((l) => l.accountId);
    },
    dueForKeepalive: async (refreshedBefore) => {
        await rows.fresh();
        const due: Array<[string, string]> = [];
        for (const l of rows.rows('links')) {
            if (l.method !== 'oauth' || l.status !== 'linked') continue;
            const used = l.lastRefreshedAt ?? l.linkedAt;
            if (used < refreshedBefore) due.push([used, l.accountId]);
        }
        return due.sort(([a], [b]) => a.localeCompare(b)).map(([, accountId]) => accountId);
    },
    countByStatus: async () => {
        await rows.fresh();
        const counts: Record<string, number> = {};
        for (const link of rows.rows('links')) counts[link.status] = (counts[link.status] ?? 0) + 1;
        return counts;
    },
    put: (link) => rows.write((draft) => copy(rows.replace(draft, 'links', (l) => l.accountId === link.accountId, structuredClone(link)))),
    patch: (accountId, patch) =>
        rows.write((draft) => {
            const current = draft.rows('links', false).find((l) => l.accountId === accountId);
            if (!current) return false;
            rows.replace(draft, 'links', (l) => l.accountId === accountId, applyPatch(current, patch));
            return true;
        }),
    delete: (accountId) => rows.write((draft) => copy(rows.replace(draft, 'links', (l) => l.accountId === accountId, undefined)))
});
