import type { Db, LinkRecord } from '../store/types.ts';

/** Salesforce keeps five approvals per user per app; a sixth silently revokes the oldest. */
export const API_USER_LIMIT = 5;
/** A bound on open popups per account, so a leaked key cannot fill the store with sessions. */
export const MAX_PENDING_SESSIONS = 20;

/** Salesforce ids compare on their first 15 characters; the 18-character form only adds a checksum. */
export const sameOrg = (a: string, b: string): boolean => a.slice(0, 15) === b.slice(0, 15);

/** The OAuth links held by one Salesforce user (org id + user id), leaving out one account's own. */
export function apiUserLinks(db: Readonly<Db>, orgId: string, userId: string, exceptAccountId?: string): LinkRecord[] {
    return db.links.filter((l) => l.method === 'oauth' && sameOrg(l.orgId, orgId) && l.userId === userId && l.accountId !== exceptAccountId);
}

/** "Name (id)" of the account behind each link, as the limit message names them. */
export function accountNames(db: Readonly<Db>, links: LinkRecord[]): string[] {
    return links.map((l) => `${db.accounts.find((a) => a.id === l.accountId)?.name ?? 'unknown'} (${l.accountId})`);
}
