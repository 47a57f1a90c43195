import type { CallClaim, Repos } from '../store.ts';
import type { KeptTaskRecord, TaskLedgerEntry } from '../types.ts';
import { keptKey } from './kept.ts';
import { copy, type Draft, type Rows } from './rows.ts';

/** A line of ledger.jsonl: when the ledger began, an entry as it is now, or an entry dropped. */
export type LedgerLine = { startedAt: string } | { k: string; e: TaskLedgerEntry } | { k: string; d: 1 };

/** The committed task ledger: one entry per call key, and when it began recording. */
export class LedgerEntries {
    readonly entries = new Map<string, TaskLedgerEntry>();
    startedAt?: string;

    reset(): void {
        this.entries.clear();
        this.startedAt = undefined;
    }

    apply(line: LedgerLine): void {
        if ('startedAt' in line) this.startedAt = line.startedAt;
        else if ('d' in line) this.entries.delete(line.k);
        else this.entries.set(line.k, line.e);
    }

    /** What a transaction's ledger changes append. */
    static linesOf(draft: Draft): LedgerLine[] {
        const lines: LedgerLine[] = [];
        if (draft.ledgerStartedAt) lines.push({ startedAt: draft.ledgerStartedAt });
        for (const [k, e] of draft.ledger) lines.push(e ? { k, e } : { k, d: 1 });
        return lines;
    }

    /** Drops entries older than `before`; returns how many. */
    prune(before: string): number {
        let dropped = 0;
        for (const [key, entry] of this.entries) {
            if (entry.at < before) {
                this.entries.delete(key);
                dropped++;
            }
        }
        return dropped;
    }

    /** The file after a compaction: when it began, then each entry once. */
    compacted(): LedgerLine[] {
        return [{ startedAt: this.startedAt ?? new Date().toISOString() }, ...[...this.entries].map(([k, e]) => ({ k, e }))];
    }
}

export function lowdbLedger(rows: Rows): Repos['ledger'] {
    const { store, draft } = rows;
    const current = (key: string): TaskLedgerEntry | undefined =>
        draft?.ledger.has(key) ? (draft.ledger.get(key) ?? undefined) : store.ledgerGet(key);
    return {
        startedAt: async () => {
            await rows.fresh();
            return (
                draft?.ledgerStartedAt ??
                store.ledgerStartedAt() ??
                (draft ? (draft.ledgerStartedAt = new Date().toISOString()) : await store.startLedger())
            );
        },
        get: async (key) => (await rows.fresh(), copy(current(key))),
        claim: (key, entry) => {
            if (!draft)
                return store.ledgerOp((get, set) =>
                    get(key) ? copy(get(key)) : (set(key, { state: 'pending', at: entry.at, by: entry.by }), undefined)
                );
            const found = current(key);
            if (found) return Promise.resolve(copy(found));
            draft.ledger.set(key, { state: 'pending', at: entry.at, by: entry.by });
            return Promise.resolve(undefined);
        },
        claimUnlessKept: async (key, entry, call) => {
            const k = keptKey(call.accountId, call.callId);
            const kept = (): KeptTaskRecord | undefined =>
                draft?.kept.has(k) ? (draft.kept.get(k) ?? undefined) : store.keptRows().get(k);
            const seen = (found: (key: string) => TaskLedgerEntry | undefined): CallClaim | undefined => {
                const row = kept();
                if (row) return { kept: copy(row) };
                const there = found(key);
                return there ? { entry: copy(there) } : undefined;
            };
            // A retry is answered from what is read, without the write lock; only a claim takes it.
            await rows.fresh();
            const read = seen(current);
            if (read) return read;
            if (!draft) return store.ledgerOp((get, set) => seen(get) ?? (set(key, { state: 'pending', at: entry.at, by: entry.by }), {}));
            draft.ledger.set(key, { state: 'pending', at: entry.at, by: entry.by });
            return {};
        },
        settle: (key, taskId, at) => {
            // The Task id is known in the caller's process already (calls/ledger.ts); lost in a crash, a retry looks first.
            if (!draft) return store.ledgerOp((_get, set) => set(key, { state: 'created', taskId, at }), { lazy: true });
            draft.ledger.set(key, { state: 'created', taskId, at });
            return Promise.resolve();
        },
        release: (key) => {
            if (!draft) return store.ledgerOp((get, set) => (get(key)?.state === 'pending' ? set(key, null) : undefined));
            if (current(key)?.state === 'pending') draft.ledger.set(key, null);
            return Promise.resolve();
        },
        reclaim: (key, expected, next) => {
            const holds = (found: TaskLedgerEntry | undefined) =>
                found?.state === 'pending' && found.at === expected.at && found.by === expected.by;
            const entry = (): TaskLedgerEntry => ({ state: 'pending', at: next.at, ...(next.by ? { by: next.by } : {}) });
            if (!draft) return store.ledgerOp((get, set) => (holds(get(key)) ? (set(key, entry()), true) : false));
            if (!holds(current(key))) return Promise.resolve(false);
            draft.ledger.set(key, entry());
            return Promise.resolve(true);
        },
        prune: async (before) => {
            if (draft) throw new Error('Prune the ledger outside a transaction.');
            return store.pruneLedger(before);
        }
    };
}
