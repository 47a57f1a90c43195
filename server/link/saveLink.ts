import type { TokenCipher } from '../crypto.ts';
import type { AppError } from '../errors.ts';
import type { TokenSet } from '../salesforce/gateway.ts';
import { accountLock, apiUserLock, type Store } from '../store/store.ts';
import type { LinkRecord, LinkSessionRecord, OAuthLinkRecord } from '../store/types.ts';
import type { LinkStatusChange } from './events.ts';
import { accountNames, API_USER_LIMIT } from './limits.ts';
import { sealSession } from './linkTokens.ts';
import { apiUserLimitReached, cancelledWhileSigningIn, newerLinkSaved, revokedAmidApprovals, revokedAtSixthApproval } from './messages.ts';
import { queueStatusEvent } from './outbox.ts';
import type { LinkIdentity } from './preflight.ts';

/** A new link's row: its tokens sealed, and what the sign-in told of the user, the org and the permissions. */
export function newLinkRecord(
    cipher: TokenCipher,
    made: { session: LinkSessionRecord; tokens: TokenSet; identity: LinkIdentity; permissions: LinkRecord['permissions']; at: string }
): OAuthLinkRecord {
    const { session, tokens, identity, permissions, at } = made;
    const liveSession = {
        accessToken: tokens.accessToken,
        instanceUrl: tokens.instanceUrl,
        identityUrl: tokens.identityUrl,
        userId: tokens.userId
    };
    return {
        accountId: session.accountId,
        method: 'oauth',
        status: 'linked',
        environment: session.environment,
        orgId: identity.orgId,
        ...(identity.orgName ? { orgName: identity.orgName } : {}),
        userId: identity.userId,
        username: identity.username,
        displayName: identity.displayName,
        userType: identity.userType,
        instanceUrl: tokens.instanceUrl,
        loginUrl: session.loginUrl,
        linkedAt: at,
        linkedBy: session.initiatedBy,
        lastVerifiedAt: at,
        ...(tokens.issuedAt !== undefined ? { approvedAt: new Date(tokens.issuedAt).toISOString() } : {}),
        refreshToken: cipher.seal(tokens.refreshToken!, { purpose: 'refresh_token', owner: session.accountId }),
        session: sealSession(cipher, session.accountId, liveSession),
        permissions
    };
}

/**
 * The one write that makes a link: the five-account rule and the swap happen together, all or nothing (the previous
 * link replaced unless its approval is newer than this one, the session marked linked, the audit entry and the status event). `crowded`: Salesforce now holds
 * more than five approvals of this user, so it revoked the oldest.
 */
export async function saveLink(
    store: Store,
    session: LinkSessionRecord,
    link: OAuthLinkRecord,
    at: string
): Promise<{ previous?: LinkRecord; crowded: boolean; change: LinkStatusChange }> {
    return store.transaction(async (tx) => {
        // One holder of this API user's links and of this account at a time.
        await tx.lock(apiUserLock(link.orgId, link.userId), accountLock(session.accountId));
        const current = await tx.sessions.get(session.id, { forUpdate: true });
        if (current?.state !== 'pending') throw cancelledWhileSigningIn();
        // Of two sign-ins that finish together, the newer approval stays: Salesforce revokes the oldest beyond five.
        const standing = await tx.links.get(session.accountId);
        if (standing?.method === 'oauth' && standing.approvedAt && link.approvedAt && standing.approvedAt > link.approvedAt)
            throw newerLinkSaved(standing.username);
        const holders = await tx.links.ofApiUser(link.orgId, link.userId, { except: session.accountId });
        if (holders.length >= API_USER_LIMIT)
            throw apiUserLimitReached(link.username, accountNames(await tx.accounts.names(holders.map((l) => l.accountId)), holders));
        const previous = await tx.links.put(link);
        await tx.sessions.patch(session.id, { state: 'linked', completedAt: at });
        await tx.audit.append({
            at,
            accountId: session.accountId,
            action: previous ? 'relink' : 'link',
            outcome: 'ok',
            orgId: link.orgId,
            username: link.username,
            actor: session.initiatedBy
        });
        // Tasks kept for this org are due now; those kept for another org wait for the admin's choice (rule 13).
        const kept = await tx.kept.relinked(session.accountId, link.orgId, at);
        if (kept.awaitingChoice > 0)
            await tx.audit.append({
                at,
                accountId: session.accountId,
                action: 'tasks_kept',
                outcome: 'awaiting_choice',
                orgId: link.orgId,
                username: link.username,
                detail: `${kept.awaitingChoice} kept call ${kept.awaitingChoice === 1 ? 'Task was' : 'Tasks were'} kept for another org: ${kept.awaitingChoice === 1 ? 'it waits' : 'they wait'} for an admin's choice on the card (make them in this org, or drop them).`
            });
        // Salesforce counts approvals, not our links: the old token of a same-user relink is one more.
        const approvals = holders.length + 1 + (previous?.method === 'oauth' && previous.userId === link.userId ? 1 : 0);
        const change: LinkStatusChange = {
            accountId: session.accountId,
            from: previous?.status ?? 'unlinked',
            to: 'linked',
            at,
            orgId: link.orgId,
            username: link.username
        };
        await queueStatusEvent(tx, change);
        return { previous, crowded: approvals > API_USER_LIMIT, change };
    });
}

/** What to say when Salesforce revoked the new approval before the link was saved: a sixth approval, or approvals that raced. */
export async function revokedDuringLink(store: Store, session: LinkSessionRecord, tokens: TokenSet): Promise<AppError> {
    const links = await store.links.ofApiUser(tokens.orgId, tokens.userId, { except: session.accountId });
    const holders = accountNames(await store.accounts.names(links.map((l) => l.accountId)), links);
    return holders.length >= API_USER_LIMIT ? revokedAtSixthApproval(holders) : revokedAmidApprovals();
}
