import { SealedValueError, type Sealed, type SealContext, type TokenCipher } from './crypto.ts';
import { AppError } from './errors.ts';
import type { Store } from './store/store.ts';
import type { AccountRecord, LinkRecord, LinkSessionRecord, Snapshot } from './store/types.ts';

type Row = { table: 'links'; row: LinkRecord } | { table: 'accounts'; row: AccountRecord } | { table: 'sessions'; row: LinkSessionRecord };

/** Every sealed value in the data, with what it is and whose it is (its additional data), and how to replace it in its row. */
function* sealedValues(
    db: Snapshot
): Generator<{ where: string; value: Sealed; context: SealContext; row: Row; replace: (sealed: Sealed) => void }> {
    for (const link of db.links) {
        const row: Row = { table: 'links', row: link };
        if (link.refreshToken)
            yield {
                where: `the refresh token of ${link.accountId}`,
                value: link.refreshToken,
                context: { purpose: 'refresh_token', owner: link.accountId },
                row,
                replace: (s) => (link.refreshToken = s)
            };
        if (link.method === 'oauth' && link.session) {
            const session = link;
            yield {
                where: `the access token of ${link.accountId}`,
                value: link.session,
                context: { purpose: 'access_session', owner: link.accountId },
                row,
                replace: (s) => (session.session = s)
            };
        }
        if (link.legacyCredentials) {
            yield {
                where: `the legacy credentials of ${link.accountId}`,
                value: link.legacyCredentials,
                context: { purpose: 'legacy_credentials', owner: link.accountId },
                row,
                replace: (s) => (link.legacyCredentials = s)
            };
        }
    }
    for (const account of db.accounts) {
        const hook = account.webhook;
        if (hook)
            yield {
                where: `the webhook secret of ${account.id}`,
                value: hook.secret,
                context: { purpose: 'webhook_secret', owner: account.id },
                row: { table: 'accounts', row: account },
                replace: (s) => (hook.secret = s)
            };
    }
    for (const session of db.linkSessions) {
        const attempt = session.attempt;
        if (!attempt) continue;
        const row: Row = { table: 'sessions', row: session };
        yield {
            where: `the verifier of link session ${session.id}`,
            value: attempt.codeVerifier,
            context: { purpose: 'pkce_verifier', owner: session.id },
            row,
            replace: (s) => (attempt.codeVerifier = s)
        };
        if (attempt.replay)
            yield {
                where: `the replay of link session ${session.id}`,
                value: attempt.replay,
                context: { purpose: 'link_replay', owner: session.id },
                row,
                replace: (s) => (attempt.replay = s)
            };
    }
}

const sealedIn = (row: Row): string =>
    JSON.stringify(
        row.table === 'links'
            ? [row.row.refreshToken, row.row.method === 'oauth' ? row.row.session : undefined, row.row.legacyCredentials]
            : row.table === 'accounts'
              ? [row.row.webhook?.secret]
              : [row.row.attempt?.codeVerifier, row.row.attempt?.replay]
    );

/**
 * Key rotation's last step: every sealed value that is of the first format or sealed with an older key is sealed again
 * with the current key and its additional data, in one transaction. All or nothing: a value no listed key opens stops
 * it, and so does a row whose sealed values changed while they were resealed (run it again).
 */
export async function resealSecrets(store: Store, cipher: TokenCipher): Promise<{ resealed: number; total: number }> {
    const db = await store.dump();
    let resealed = 0;
    let total = 0;
    const changed = new Map<Row['row'], { row: Row; before: string }>();
    for (const { where, value, context, row, replace } of sealedValues(db)) {
        total++;
        if (!cipher.isStale(value)) continue;
        const before = changed.get(row.row)?.before ?? sealedIn(row);
        try {
            replace(cipher.reseal(value, context));
        } catch (error) {
            if (error instanceof SealedValueError || (error as Error).message?.includes('authenticate')) {
                throw new AppError('RESEAL_FAILED', `Could not open ${where}: ${(error as Error).message} Nothing was changed.`);
            }
            throw error;
        }
        changed.set(row.row, { row, before });
        resealed++;
    }
    await store.transaction(async (tx) => {
        for (const { row, before } of changed.values()) {
            const current: Row | undefined =
                row.table === 'links'
                    ? await tx.links.get(row.row.accountId, { forUpdate: true }).then((r) => r && { table: 'links' as const, row: r })
                    : row.table === 'accounts'
                      ? await tx.accounts.get(row.row.id).then((r) => r && { table: 'accounts' as const, row: r })
                      : await tx.sessions.get(row.row.id, { forUpdate: true }).then((r) => r && { table: 'sessions' as const, row: r });
            if (!current || sealedIn(current) !== before)
                throw new AppError('RESEAL_FAILED', 'The data changed while it was resealed. Nothing was changed; run reseal again.');
            if (row.table === 'links')
                await tx.links.patch(
                    row.row.accountId,
                    row.row.method === 'oauth'
                        ? { refreshToken: row.row.refreshToken, session: row.row.session ?? null }
                        : { legacyCredentials: row.row.legacyCredentials }
                );
            else if (row.table === 'accounts') await tx.accounts.patch(row.row.id, { webhook: row.row.webhook ?? null });
            else await tx.sessions.patch(row.row.id, { attempt: row.row.attempt ?? null });
        }
    });
    return { resealed, total };
}
