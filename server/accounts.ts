import { z } from 'zod';
import { generateApiKey, hashApiKey, randomToken, type TokenCipher } from './crypto.ts';
import { AppError } from './errors.ts';
import type { Clock } from './clock.ts';
import { ReadCache } from './store/readCache.ts';
import { accountLock, type Store } from './store/store.ts';
import type { AccountRecord, KeyScope, LinkRecord } from './store/types.ts';
import { resolveLoginUrl, type LoginHostPolicy } from './salesforce/loginHosts.ts';
import { CONTROL_MESSAGE, hasInvisibleOrControl, isPlainText } from './text.ts';

/** The name the consent page shows: normalised (NFKC), so it is what it looks like, and without hidden or reordering characters. */
export const accountNameSchema = z
    .string()
    .normalize('NFKC')
    .trim()
    .min(1, 'the account name is empty')
    .max(120, 'the account name is longer than 120 characters')
    .refine(
        (name) => !hasInvisibleOrControl(name),
        'the account name holds a control or format character (bidirectional, zero-width or other invisible): type it again'
    );

export const legacyRecordSchema = z.strictObject({
    accountId: z.string().min(1),
    username: z
        .string()
        .trim()
        .min(3)
        .max(80)
        .refine((value) => isPlainText(value), CONTROL_MESSAGE),
    password: z.string().min(1).max(256),
    securityToken: z.string().max(64).optional().default(''),
    environment: z.enum(['production', 'sandbox']),
    loginUrl: z.string().optional()
});
export const legacyFileSchema = z.array(legacyRecordSchema).min(1, 'the file holds no records');
export type LegacyRecord = z.infer<typeof legacyRecordSchema>;

/** The scopes of the key with this hash: the org's key manages the link, the platform's makes calls; one key alone does both. */
export function keyScopes(account: AccountRecord, keyHash: string): KeyScope[] {
    if (account.platformKeyHash && keyHash === account.platformKeyHash) return ['platform'];
    if (keyHash === account.apiKeyHash) return account.platformKeyHash ? ['link'] : ['link', 'platform'];
    return [];
}

/** Contact-center accounts and their API keys; a key is shown once and stored only as a hash. */
export class Accounts {
    /** The account of each key hash seen, until the store says the account changed (a rotation, a revoked key). */
    readonly #byKeyHash: ReadCache<AccountRecord>;

    constructor(
        private readonly store: Store,
        private readonly clock: Clock
    ) {
        this.#byKeyHash = new ReadCache(store.changes);
    }

    /**
     * A new account with the org's key and, unless `platformKey: false`, the platform's key. Without a platform key the
     * one key keeps every scope, as accounts made before scopes do.
     */
    async create(
        name: string,
        options: { platformKey?: boolean } = {}
    ): Promise<{ account: AccountRecord; apiKey: string; platformKey?: string }> {
        const parsedName = accountNameSchema.parse(name);
        const apiKey = generateApiKey();
        const platformKey = options.platformKey === false ? undefined : generateApiKey();
        const account: AccountRecord = {
            id: `acc_${randomToken(12)}`,
            name: parsedName,
            apiKeyHash: hashApiKey(apiKey),
            createdAt: this.clock.now().toISOString()
        };
        if (platformKey) account.platformKeyHash = hashApiKey(platformKey);
        await this.store.transaction(async (tx) => {
            await tx.accounts.insert(account);
            await tx.audit.append({ at: account.createdAt, accountId: account.id, action: 'account_created', outcome: 'ok' });
        });
        return { account, apiKey, platformKey };
    }

    async list(): Promise<
        Array<Pick<AccountRecord, 'id' | 'name' | 'createdAt' | 'keyRotatedAt'> & { status: string; username?: string }>
    > {
        return (await this.store.accounts.list()).map(({ account: a, link }) => ({
            id: a.id,
            name: a.name,
            createdAt: a.createdAt,
            keyRotatedAt: a.keyRotatedAt,
            status: link?.status ?? 'unlinked',
            username: link?.username
        }));
    }

    /** A new key for one scope; the old key of that scope stops working at once. Issuing the first platform key splits the scopes. */
    async rotateKey(accountId: string, scope: KeyScope = 'link'): Promise<string> {
        const apiKey = generateApiKey();
        const at = this.clock.now().toISOString();
        await this.store.transaction(async (tx) => {
            const account = await tx.accounts.get(accountId);
            if (!account)
                throw new AppError(
                    'ACCOUNT_NOT_FOUND',
                    `No account has the id ${accountId}. Run "npm run accounts -- list" to see the ids.`,
                    404
                );
            if (scope === 'platform') {
                await tx.accounts.patch(accountId, { platformKeyHash: hashApiKey(apiKey), platformKeyRotatedAt: at });
                await tx.audit.append({
                    at,
                    accountId,
                    action: account.platformKeyHash ? 'key_rotated' : 'platform_key_issued',
                    outcome: 'ok',
                    detail: 'platform'
                });
            } else {
                await tx.accounts.patch(accountId, { apiKeyHash: hashApiKey(apiKey), keyRotatedAt: at });
                await tx.audit.append({ at, accountId, action: 'key_rotated', outcome: 'ok', detail: 'link' });
            }
        });
        return apiKey;
    }

    /**
     * The key's account, by the key's hash (the org's key or the platform's): from this process's cache of the keys
     * seen, which the store empties of an account as soon as it changes (store/readCache.ts), else one indexed lookup
     * (unique indexes on PostgreSQL, a map on lowdb). An unknown key is looked up every time. The record is frozen.
     */
    async authenticate(apiKey: string): Promise<AccountRecord | undefined> {
        const hash = hashApiKey(apiKey);
        return this.#byKeyHash.get(hash, async () => {
            const account = await this.store.accounts.byKeyHash(hash);
            return account ? { value: account, tags: { accountId: account.id } } : undefined;
        });
    }

    /** All or nothing: one bad record leaves the store as it was. */
    async importLegacy(records: LegacyRecord[], cipher: TokenCipher, hosts: LoginHostPolicy): Promise<number> {
        const at = this.clock.now().toISOString();
        const links: LinkRecord[] = records.map((record, index) => {
            let loginUrl: string;
            try {
                loginUrl = resolveLoginUrl(hosts, record.environment, record.loginUrl);
            } catch (error) {
                throw new AppError('VALIDATION_FAILED', `Record ${index + 1} (${record.username}): ${(error as Error).message}`);
            }
            return {
                accountId: record.accountId,
                method: 'legacy',
                status: 'legacy',
                environment: record.environment,
                orgId: '',
                userId: '',
                username: record.username,
                displayName: '',
                instanceUrl: '',
                loginUrl,
                linkedAt: at,
                legacyCredentials: cipher.seal(JSON.stringify({ password: record.password, securityToken: record.securityToken }), {
                    purpose: 'legacy_credentials',
                    owner: record.accountId
                })
            };
        });
        await this.store.transaction(async (tx) => {
            await tx.lock(...links.map((l) => accountLock(l.accountId)));
            const seen = new Set<string>();
            for (const [index, link] of links.entries()) {
                const label = `Record ${index + 1} (${link.username})`;
                if (!(await tx.accounts.get(link.accountId)))
                    throw new AppError('VALIDATION_FAILED', `${label}: no account has the id ${link.accountId}.`);
                if (seen.has(link.accountId))
                    throw new AppError('VALIDATION_FAILED', `${label}: the account ${link.accountId} appears twice in the file.`);
                if (await tx.links.get(link.accountId, { forUpdate: true }))
                    throw new AppError(
                        'VALIDATION_FAILED',
                        `${label}: the account ${link.accountId} is already linked; unlink it first or leave it out.`
                    );
                seen.add(link.accountId);
            }
            for (const link of links) {
                await tx.links.put(link);
                await tx.audit.append({ at, accountId: link.accountId, action: 'legacy_import', outcome: 'ok', username: link.username });
            }
        });
        return links.length;
    }
}
