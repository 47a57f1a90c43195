import type { LinkRecord } from '../store/types.ts';

/** Salesforce keeps five approvals per user per app; a sixth silently revokes the oldest. */
export const API_USER_LIMIT = 5;
/** A bound on open popups per account, so a leaked key cannot fill the store with sessions. */
export const MAX_PENDING_SESSIONS = 20;

/** "Name (id)" of the account behind each link, as the limit message names them. */
export function accountNames(names: Map<string, string>, links: LinkRecord[]): string[] {
    return links.map((l) => `${names.get(l.accountId) ?? 'unknown'} (${l.accountId})`);
}
