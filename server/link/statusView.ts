import { AppError } from '../errors.ts';
import type { Repos } from '../store/store.ts';
import type { Actor, Environment, KeptTasksSummary, LinkRecord, LinkStatus, PermissionCheck } from '../store/types.ts';
import { API_USER_LIMIT } from './limits.ts';

export interface LinkStatusView {
    status: LinkStatus;
    account: { id: string; name: string };
    link?: {
        method: LinkRecord['method'];
        environment: Environment;
        orgId?: string;
        orgName?: string;
        userId?: string;
        username: string;
        displayName?: string;
        instanceUrl?: string;
        loginUrl: string;
        linkedAt: string;
        linkedBy?: Actor;
        lastVerifiedAt?: string;
        /** When the link's refresh token was last used for a refresh (OAuth links; none before the first). */
        lastRefreshedAt?: string;
        lastError?: { code: string; message: string; at: string };
    };
    apiUser?: { linkedAccounts: number; limit: number };
    permissions?: { checkedAt: string; checks: PermissionCheck[] };
    apiUsage?: { used: number; max: number; at: string };
    /** The addresses this backend reaches Salesforce from (SF_EGRESS_ADDRESSES), for the app's IP allowlist. */
    egressAddresses?: string[];
    /** While the org has fewer daily API requests left than the reserve: screen-pop lookups pause. */
    apiGuard?: { since: string; remaining: number; max: number; reserve: number };
    /** While call Tasks are kept for later (rule 13), linked or not. */
    keptTasks?: KeptTasksSummary & { bound: KeptTasksBound };
}

/** The bound on kept Tasks per account (KEPT_TASKS_MAX_PER_ACCOUNT, KEPT_TASKS_MAX_AGE_DAYS), shown beside them. */
export interface KeptTasksBound {
    maxPerAccount: number;
    maxAgeDays: number;
}

const present = <T>(value: T | '' | undefined): T | undefined => (value === '' ? undefined : value);

/** The `GET /api/v1/link` body: what the card shows, never a secret. */
export async function statusView(
    store: Pick<Repos, 'accounts' | 'links' | 'kept'>,
    accountId: string,
    keptBound?: KeptTasksBound
): Promise<LinkStatusView> {
    const [account, link, kept] = await Promise.all([
        store.accounts.get(accountId),
        store.links.get(accountId),
        keptBound ? store.kept.summary(accountId) : undefined
    ]);
    if (!account) throw new AppError('UNAUTHORIZED', 'The account for this API key no longer exists.', 401);
    const view: LinkStatusView = { status: link?.status ?? 'unlinked', account: { id: account.id, name: account.name } };
    if (kept?.count && keptBound) view.keptTasks = { ...kept, bound: keptBound };
    if (!link) return view;
    view.link = {
        method: link.method,
        environment: link.environment,
        orgId: present(link.orgId),
        orgName: present(link.orgName),
        userId: present(link.userId),
        username: link.username,
        displayName: present(link.displayName),
        instanceUrl: present(link.instanceUrl),
        loginUrl: link.loginUrl,
        linkedAt: link.linkedAt,
        linkedBy: link.linkedBy,
        lastVerifiedAt: link.lastVerifiedAt,
        ...(link.method === 'oauth' && link.lastRefreshedAt ? { lastRefreshedAt: link.lastRefreshedAt } : {}),
        lastError: link.lastError
    };
    if (link.method === 'oauth') {
        const linkedAccounts = (await store.links.ofApiUser(link.orgId, link.userId)).length;
        view.apiUser = { linkedAccounts, limit: API_USER_LIMIT };
    }
    if (link.permissions) view.permissions = link.permissions;
    if (link.apiUsage) view.apiUsage = link.apiUsage;
    if (link.apiGuard) view.apiGuard = link.apiGuard;
    return view;
}
