/**
 * Where lowdb stops being the right store (docs/performance.md, "Store scale"): at 1,000 accounts a link write, a
 * durable rewrite of the whole db.json, reaches 20 ms at p99 (14-21 ms measured on a quiet machine, more under load),
 * and it grows with the file; at a million task-ledger entries the process holds about 1 GB and takes seconds to start.
 */
export const LOWDB_ADVISED_MAX = { accounts: 1_000, ledgerEntries: 1_000_000 } as const;

export interface LowdbSize {
    accounts: number;
    ledgerEntries: number;
}

/** What the backend says at start when the embedded store is at or past its advised size; undefined below it. */
export function lowdbSizeAdvice(size: LowdbSize, dataDir: string): string | undefined {
    const past: string[] = [];
    if (size.accounts >= LOWDB_ADVISED_MAX.accounts)
        past.push(
            `${size.accounts.toLocaleString('en-US')} accounts (from ${LOWDB_ADVISED_MAX.accounts.toLocaleString('en-US')}, each link write takes 20 ms or more)`
        );
    if (size.ledgerEntries >= LOWDB_ADVISED_MAX.ledgerEntries)
        past.push(
            `${size.ledgerEntries.toLocaleString('en-US')} task-ledger entries (from ${LOWDB_ADVISED_MAX.ledgerEntries.toLocaleString('en-US')}, the process needs about 1 GB and seconds to start)`
        );
    if (!past.length) return undefined;
    return `The embedded store in ${dataDir} holds ${past.join(' and ')}: move it to PostgreSQL. Stop the server, run "DATABASE_URL=postgres://… npm run store -- move --from ${dataDir}", then start it with DATABASE_URL set (docs/operations.md, "Moving an installation from lowdb to PostgreSQL").`;
}
