import type { AuditPage, Repos } from '../store.ts';
import type { AuditEntry } from '../types.ts';
import { sameSalesforceId } from '../../salesforceIds.ts';
import type { Rows, SeqAudit } from './rows.ts';

/** A line of audit.jsonl: an entry, or (first line after a compaction) the highest number given so far. */
export type AuditLine = SeqAudit | { floor: number };

export const stripSeq = ({ seq: _seq, ...entry }: SeqAudit): AuditEntry => (void _seq, structuredClone(entry));

const sameAudit = (a: AuditEntry, b: AuditEntry): boolean => {
    const { at: _a, ...left } = a;
    const { at: _b, ...right } = b;
    void _a;
    void _b;
    return JSON.stringify(left) === JSON.stringify(right);
};

/** The committed audit: each account's entries in the order written, and the highest number ever given. */
export class AuditEntries {
    #byAccount = new Map<string, SeqAudit[]>();
    seq = 0;

    reset(): void {
        this.#byAccount = new Map();
        this.seq = 0;
    }

    apply(line: AuditLine): void {
        if ('floor' in line) {
            this.seq = Math.max(this.seq, line.floor);
            return;
        }
        const list = this.#byAccount.get(line.accountId);
        if (list) list.push(line);
        else this.#byAccount.set(line.accountId, [line]);
        this.seq = Math.max(this.seq, line.seq);
    }

    of(accountId: string): SeqAudit[] {
        return this.#byAccount.get(accountId) ?? [];
    }

    count(): number {
        let n = 0;
        for (const list of this.#byAccount.values()) n += list.length;
        return n;
    }

    /** Every entry, in the order written. */
    all(): SeqAudit[] {
        return [...this.#byAccount.values()].flat().sort((a, b) => a.seq - b.seq);
    }

    /** Drops entries older than `before` and each account's oldest beyond `keepPerAccount`; returns how many. */
    prune(before: string, keepPerAccount: number): number {
        let dropped = 0;
        for (const [accountId, entries] of this.#byAccount) {
            const kept = entries.filter((e) => e.at >= before).slice(-keepPerAccount);
            dropped += entries.length - kept.length;
            if (kept.length) this.#byAccount.set(accountId, kept);
            else this.#byAccount.delete(accountId);
        }
        return dropped;
    }

    /** The file after a compaction: the highest number ever given stays known, so a pruned entry is never taken for a missing one. */
    compacted(): AuditLine[] {
        return [{ floor: this.seq }, ...this.all()];
    }
}

export function lowdbAudit(rows: Rows): Repos['audit'] {
    const { store, draft } = rows;
    /** The committed entries, and those of the transaction (not yet committed) after them. */
    const entriesOf = (accountId: string): SeqAudit[] => {
        const committed = store.auditOf(accountId);
        const pending = draft?.audit.filter((e) => e.accountId === accountId) ?? [];
        return pending.length ? [...committed, ...pending] : committed;
    };
    return {
        append: (entry, options = {}) =>
            rows.write((target) => {
                if (options.unlessRepeat) {
                    const latest = entriesOf(entry.accountId).at(-1);
                    if (latest && sameAudit(stripSeq(latest), entry)) return false;
                }
                target.audit.push({ ...structuredClone(entry), seq: store.nextAuditSeq(target) });
                return true;
            }),
        page: async (accountId, { cursor, limit }) => {
            await rows.fresh();
            const before = cursor ? Number(cursor) : Infinity;
            const all = entriesOf(accountId);
            const entries: SeqAudit[] = [];
            for (let i = all.length - 1; i >= 0 && entries.length <= limit; i--) if (all[i]!.seq < before) entries.push(all[i]!);
            const page: AuditPage = { entries: entries.slice(0, limit).map(stripSeq) };
            if (entries.length > limit) page.nextCursor = String(entries[limit - 1]!.seq);
            return page;
        },
        firstLinkedAt: async (accountId, orgId) => {
            await rows.fresh();
            for (const e of entriesOf(accountId)) {
                if (e.outcome !== 'ok') continue;
                if (
                    e.action === 'legacy_import' ||
                    ((e.action === 'link' || e.action === 'relink') && e.orgId && sameSalesforceId(e.orgId, orgId))
                )
                    return e.at;
            }
            return undefined;
        },
        prune: async (before, keepPerAccount) => {
            if (draft) throw new Error('Prune the audit outside a transaction.');
            return store.pruneAudit(before, keepPerAccount);
        }
    };
}
