import type { Repos } from '../store.ts';
import { applyPatch, copy, type Rows } from './rows.ts';

export const lowdbSessions = (rows: Rows): Repos['sessions'] => ({
    get: async (id) => (await rows.fresh(), copy(rows.findSession(id))),
    byStateHash: async (hash) => {
        await rows.fresh();
        const index = rows.index();
        return copy(index ? index.byStateHash.get(hash) : rows.rows('linkSessions').find((s) => s.attempt?.stateHash === hash));
    },
    countPending: async (accountId, now) => {
        await rows.fresh();
        return rows.rows('linkSessions').filter((s) => s.accountId === accountId && s.state === 'pending' && s.expiresAt > now).length;
    },
    insert: (session) =>
        rows.write((draft) => {
            if (draft.rows('linkSessions', false).some((s) => s.id === session.id))
                throw new Error(`A link session with the id ${session.id} already exists.`);
            draft.rows('linkSessions', true).push(structuredClone(session));
        }),
    patch: (id, patch) =>
        rows.write((draft) => {
            const current = draft.rows('linkSessions', false).find((s) => s.id === id);
            if (!current) return false;
            const next = applyPatch(current, patch);
            // The state hash is unique, as PostgreSQL's index makes it.
            if (
                next.attempt &&
                draft.rows('linkSessions', false).some((s) => s.id !== id && s.attempt?.stateHash === next.attempt!.stateHash)
            )
                throw new Error('This state is already in use.');
            rows.replace(draft, 'linkSessions', (s) => s.id === id, next);
            return true;
        }),
    purge: (before) =>
        rows.write((draft) => {
            const all = draft.rows('linkSessions', false);
            if (!all.some((s) => s.expiresAt < before)) return 0;
            const kept = all.filter((s) => s.expiresAt >= before);
            draft.doc.linkSessions = kept;
            draft.copied.add('linkSessions');
            return all.length - kept.length;
        })
});
