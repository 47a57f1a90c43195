import { id15 } from '../../salesforceIds.ts';
import type { Repos } from '../store.ts';
import type { KeptTaskRecord, KeptTasksSummary } from '../types.ts';
import { applyPatch, copy, type Draft, type Rows } from './rows.ts';

/** A line of kept.jsonl: a kept Task as it is now, or one removed. */
export type KeptLine = { k: string; r: KeptTaskRecord } | { k: string; d: 1 };

export const keptKey = (accountId: string, callId: string): string => `${accountId}|${callId}`;

const byCall = (a: KeptTaskRecord, b: KeptTaskRecord): number => a.callAt.localeCompare(b.callAt) || a.callId.localeCompare(b.callId);

/** The committed kept Tasks: one row per account and call id. */
export class KeptEntries {
    readonly rows = new Map<string, KeptTaskRecord>();

    reset(): void {
        this.rows.clear();
    }

    apply(line: KeptLine): void {
        if ('d' in line) this.rows.delete(line.k);
        else this.rows.set(line.k, line.r);
    }

    static linesOf(draft: Draft): KeptLine[] {
        return [...draft.kept].map(([k, r]) => (r ? { k, r } : { k, d: 1 }));
    }

    /** The file after a compaction: each row once. */
    compacted(): KeptLine[] {
        return [...this.rows].map(([k, r]) => ({ k, r }));
    }
}

export function lowdbKept(rows: Rows): Repos['kept'] {
    const { store } = rows;
    /** The rows as this view sees them: the committed ones with the draft's changes over them. */
    const all = (draft?: Draft): KeptTaskRecord[] => {
        const committed = store.keptRows();
        if (!draft?.kept.size) return [...committed.values()];
        const merged = new Map(committed);
        for (const [k, r] of draft.kept) {
            if (r) merged.set(k, r);
            else merged.delete(k);
        }
        return [...merged.values()];
    };
    const current = (draft: Draft | undefined, key: string): KeptTaskRecord | undefined =>
        draft?.kept.has(key) ? (draft.kept.get(key) ?? undefined) : store.keptRows().get(key);
    const read = async (): Promise<KeptTaskRecord[]> => (await rows.fresh(), all(rows.draft));
    const due = (now: string) => (r: KeptTaskRecord) =>
        r.state === 'waiting' && r.nextAttemptAt <= now && (!r.claim || r.claim.until < now);
    const put = (draft: Draft, row: KeptTaskRecord) => draft.kept.set(keptKey(row.accountId, row.callId), row);

    return {
        add: (record) =>
            rows.write((draft) => {
                const found = current(draft, keptKey(record.accountId, record.callId));
                if (found) return copy(found);
                put(draft, structuredClone(record));
                return undefined;
            }),
        get: async (accountId, callId) => (await rows.fresh(), copy(current(rows.draft, keptKey(accountId, callId)))),
        summary: async (accountId) => {
            const mine = (await read()).filter((r) => r.accountId === accountId).sort(byCall);
            const summary: KeptTasksSummary = { count: mine.length, awaitingChoice: 0, reasons: {} };
            for (const r of mine) {
                summary.reasons[r.reason] = (summary.reasons[r.reason] ?? 0) + 1;
                if (r.state === 'awaiting_choice') {
                    summary.awaitingChoice++;
                    summary.awaitingOrgId ??= r.orgId;
                }
            }
            if (mine[0]) summary.oldestCallAt = mine[0].callAt;
            return summary;
        },
        countAll: async () => (await read()).length,
        accountsDue: async (now, limit) => {
            const first = new Map<string, string>();
            for (const r of (await read()).filter((row) => row.state === 'waiting' && row.nextAttemptAt <= now)) {
                const at = first.get(r.accountId);
                if (!at || r.nextAttemptAt < at) first.set(r.accountId, r.nextAttemptAt);
            }
            return [...first]
                .sort((a, b) => a[1].localeCompare(b[1]) || a[0].localeCompare(b[0]))
                .slice(0, limit)
                .map(([accountId]) => accountId);
        },
        claim: async ({ accountId, now, by, until, limit }) => {
            // Polled often: nothing due is answered from a read, without the write lock.
            if (!rows.draft && !(await read()).some((r) => r.accountId === accountId && due(now)(r))) return [];
            return rows.write((draft) =>
                all(draft)
                    .filter((r) => r.accountId === accountId && due(now)(r))
                    .sort(byCall)
                    .slice(0, limit)
                    .map((r) => {
                        const claimed = { ...r, claim: { by, until } };
                        put(draft, claimed);
                        return structuredClone(claimed);
                    })
            );
        },
        releaseClaims: (accountId, by) =>
            rows.write((draft) => {
                let freed = 0;
                for (const r of all(draft)) {
                    if (r.accountId !== accountId || r.claim?.by !== by) continue;
                    const { claim: _gone, ...rest } = r;
                    put(draft, rest);
                    freed++;
                }
                return freed;
            }),
        record: (accountId, callId, by, patch) =>
            rows.write((draft) => {
                const found = current(draft, keptKey(accountId, callId));
                if (found?.claim?.by !== by) return false;
                put(draft, applyPatch(found, patch));
                return true;
            }),
        remove: (accountId, callId, by) =>
            rows.write((draft) => {
                const key = keptKey(accountId, callId);
                const found = current(draft, key);
                if (!found || (by !== undefined && found.claim?.by !== by)) return false;
                draft.kept.set(key, null);
                return true;
            }),
        defer: (accountId, until) =>
            rows.write((draft) => {
                let moved = 0;
                for (const r of all(draft)) {
                    if (r.accountId !== accountId || r.state !== 'waiting' || r.nextAttemptAt >= until) continue;
                    put(draft, { ...r, nextAttemptAt: until });
                    moved++;
                }
                return moved;
            }),
        relinked: (accountId, orgId, now) =>
            rows.write((draft) => {
                const counts = { waiting: 0, awaitingChoice: 0 };
                for (const r of all(draft)) {
                    if (r.accountId !== accountId) continue;
                    if (id15(r.orgId) === id15(orgId)) {
                        put(draft, { ...r, state: 'waiting', nextAttemptAt: now });
                        counts.waiting++;
                    } else {
                        if (r.state === 'waiting') put(draft, { ...r, state: 'awaiting_choice' });
                        counts.awaitingChoice++;
                    }
                }
                return counts;
            }),
        decide: (accountId, choice, orgId, now) =>
            rows.write((draft) => {
                let n = 0;
                for (const r of all(draft)) {
                    if (r.accountId !== accountId || r.state !== 'awaiting_choice') continue;
                    if (choice === 'drop') draft.kept.set(keptKey(r.accountId, r.callId), null);
                    else put(draft, { ...r, state: 'waiting', orgId, attempts: 0, nextAttemptAt: now });
                    n++;
                }
                return n;
            }),
        expire: (before) =>
            rows.write((draft) => {
                const counts = new Map<string, number>();
                for (const r of all(draft)) {
                    if (r.callAt >= before) continue;
                    draft.kept.set(keptKey(r.accountId, r.callId), null);
                    counts.set(r.accountId, (counts.get(r.accountId) ?? 0) + 1);
                }
                return [...counts].map(([accountId, count]) => ({ accountId, count }));
            })
    };
}
