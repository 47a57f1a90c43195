import { SealedValueError, type Sealed, type SealContext, type TokenCipher } from './crypto.ts';
import { AppError } from './errors.ts';
import type { Store } from './store/store.ts';
import type { Db } from './store/types.ts';

/** Every sealed value in the data, with what it is and whose it is (its additional data), and how to replace it. */
function* sealedValues(db: Db): Generator<{ where: string; value: Sealed; context: SealContext; replace: (sealed: Sealed) => void }> {
    for (const link of db.links) {
        if (link.refreshToken) yield { where: `the refresh token of ${link.accountId}`, value: link.refreshToken, context: { purpose: 'refresh_token', owner: link.accountId }, replace: (s) => (link.refreshToken = s) };
        if (link.legacyCredentials) {
            yield { where: `the legacy credentials of ${link.accountId}`, value: link.legacyCredentials, context: { purpose: 'legacy_credentials', owner: link.accountId }, replace: (s) => (link.legacyCredentials = s) };
        }
    }
    for (const account of db.accounts) {
        const hook = account.webhook;
        if (hook) yield { where: `the webhook secret of ${account.id}`, value: hook.secret, context: { purpose: 'webhook_secret', owner: account.id }, replace: (s) => (hook.secret = s) };
    }
    for (const session of db.linkSessions) {
        const attempt = session.attempt;
        if (!attempt) continue;
        yield { where: `the verifier of link session ${session.id}`, value: attempt.codeVerifier, context: { purpose: 'pkce_verifier', owner: session.id }, replace: (s) => (attempt.codeVerifier = s) };
        if (attempt.replay) yield { where: `the replay of link session ${session.id}`, value: attempt.replay, context: { purpose: 'link_replay', owner: session.id }, replace: (s) => (attempt.replay = s) };
    }
}

/**
 * Key rotation's last step: every sealed value that is of the first format or sealed with an older key is sealed again
 * with the current key and its additional data, in one write. All or nothing: a value no listed key opens stops it.
 */
export async function resealSecrets(store: Store, cipher: TokenCipher): Promise<{ resealed: number; total: number }> {
    return store.update((db) => {
        let resealed = 0;
        let total = 0;
        for (const { where, value, context, replace } of sealedValues(db)) {
            total++;
            if (!cipher.isStale(value)) continue;
            try {
                replace(cipher.reseal(value, context));
            } catch (error) {
                if (error instanceof SealedValueError || (error as Error).message?.includes('authenticate')) {
                    throw new AppError('RESEAL_FAILED', `Could not open ${where}: ${(error as Error).message} Nothing was changed.`);
                }
                throw error;
            }
            resealed++;
        }
        return { resealed, total };
    });
}
