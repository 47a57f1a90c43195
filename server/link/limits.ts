/** Salesforce keeps five approvals per user per app; a sixth silently revokes the oldest. */
export const API_USER_LIMIT = 5;
/** A bound on open popups per account, so a leaked key cannot fill the store with sessions. */
export const MAX_PENDING_SESSIONS = 20;
