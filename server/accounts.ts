import { z } from 'zod';
import { generateApiKey, hashApiKey, randomToken, type TokenCipher } from './crypto.ts';
import { AppError } from './errors.ts';
import type { Clock } from './clock.ts';
import type { Store } from './store/store.ts';
import type { AccountRecord, KeyScope, LinkRecord } from './store/types.ts';
import { resolveLoginUrl, type LoginHostPolicy } from './salesforce/loginHosts.ts';

export const accountNameSchema = z.string().trim().min(1, 'the account name is empty').max(120, 'the account name is longer than 120 characters');

export const legacyRecordSchema = z.strictObject({
    accountId: z.string().min(1),
    username: z.string().trim().min(3).max(80),
    password: z.string().min(1).max(256),
    securityToken: z.string().max(64).optional().default(''),
    environment: z.enum(['production', 'sandbox']),
    loginUrl: z.string().optional()
});
export const legacyFileSchema = z.array(legacyRecordSchema).min(1, 'the file holds no records');
export type LegacyRecord = z.infer<typeof legacyRecordSchema>;

const accountsOf = (db: { accounts: AccountRecord[] }): readonly AccountRecord[] => db.accounts;

/** The scopes of the key with this hash: the org's key manages the link, the platform's makes calls; one key alone does both. */
export function keyScopes(account: AccountRecord, keyHash: string): KeyScope[] {
    if (account.platformKeyHash && keyHash === account.platformKeyHash) return ['platform'];
    if (keyHash === account.apiKeyHash) return account.platformKeyHash ? ['link'] : ['link', 'platform'];
    return [];
}

/** Contact-center accounts and their API keys; a key is shown once and stored only as a hash. */
export class Accounts {
    /**
     * API key hash → where the account was found. An entry is checked against the data on every use (the
     * account still at that place, with that hash), so it survives writes; a key it does not know is
     * looked for in the whole data once per version of the store, and then known to be wrong.
     */
    #byKeyHash = new Map<string, { account: AccountRecord; at: number }>();
    #completeAt: number | undefined;

    constructor(
        private readonly store: Store,
        private readonly clock: Clock
    ) {}

    /**
     * A new account with the org's key and, unless `platformKey: false`, the platform's key. Without a platform key the
     * one key keeps every scope, as accounts made before scopes do.
     */
    async create(name: string, options: { platformKey?: boolean } = {}): Promise<{ account: AccountRecord; apiKey: string; platformKey?: string }> {
        const parsedName = accountNameSchema.parse(name);
        const apiKey = generateApiKey();
        const platformKey = options.platformKey === false ? undefined : generateApiKey();
        const account: AccountRecord = { id: `acc_${randomToken(12)}`, name: parsedName, apiKeyHash: hashApiKey(apiKey), createdAt: this.clock.now().toISOString() };
        if (platformKey) account.platformKeyHash = hashApiKey(platformKey);
        await this.store.update((db) => {
            db.accounts.push(account);
            db.audit.push({ at: account.createdAt, accountId: account.id, action: 'account_created', outcome: 'ok' });
        });
        return { account, apiKey, platformKey };
    }

    list(): Array<Pick<AccountRecord, 'id' | 'name' | 'createdAt' | 'keyRotatedAt'> & { status: string; username?: string }> {
        return this.store.read((db) =>
            db.accounts.map((a) => {
                const link = db.links.find((l) => l.accountId === a.id);
                return { id: a.id, name: a.name, createdAt: a.createdAt, keyRotatedAt: a.keyRotatedAt, status: link?.status ?? 'unlinked', username: link?.username };
            })
        );
    }

    /** A new key for one scope; the old key of that scope stops working at once. Issuing the first platform key splits the scopes. */
    async rotateKey(accountId: string, scope: KeyScope = 'link'): Promise<string> {
        const apiKey = generateApiKey();
        const at = this.clock.now().toISOString();
        await this.store.update((db) => {
            const account = db.accounts.find((a) => a.id === accountId);
            if (!account) throw new AppError('ACCOUNT_NOT_FOUND', `No account has the id ${accountId}. Run "npm run accounts -- list" to see the ids.`, 404);
            if (scope === 'platform') {
                const first = !account.platformKeyHash;
                account.platformKeyHash = hashApiKey(apiKey);
                account.platformKeyRotatedAt = at;
                db.audit.push({ at, accountId, action: first ? 'platform_key_issued' : 'key_rotated', outcome: 'ok', detail: 'platform' });
            } else {
                account.apiKeyHash = hashApiKey(apiKey);
                account.keyRotatedAt = at;
                db.audit.push({ at, accountId, action: 'key_rotated', outcome: 'ok', detail: 'link' });
            }
        });
        return apiKey;
    }

    /** O(1) between writes: every request looks its key up here, and every write is O(n) anyway. */
    authenticate(apiKey: string): AccountRecord | undefined {
        const hash = hashApiKey(apiKey);
        const found = this.#live(hash);
        if (found) return found;
        const version = this.store.version;
        if (version !== undefined && version === this.#completeAt) return undefined;
        this.#byKeyHash = this.store.read(
            (db) => new Map(db.accounts.flatMap((account, at) => [[account.apiKeyHash, { account, at }] as const, ...(account.platformKeyHash ? [[account.platformKeyHash, { account, at }] as const] : [])]))
        );
        this.#completeAt = version;
        return this.#live(hash);
    }

    /** The indexed account of this hash, if it is still where it was found and still has this hash. */
    #live(hash: string): AccountRecord | undefined {
        const entry = this.#byKeyHash.get(hash);
        if (!entry || keyScopes(entry.account, hash).length === 0) return undefined;
        return this.store.read(accountsOf)[entry.at] === entry.account ? entry.account : undefined;
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
                legacyCredentials: cipher.seal(JSON.stringify({ password: record.password, securityToken: record.securityToken }), { purpose: 'legacy_credentials', owner: record.accountId })
            };
        });
        await this.store.update((db) => {
            const seen = new Set<string>();
            for (const [index, link] of links.entries()) {
                const label = `Record ${index + 1} (${link.username})`;
                if (!db.accounts.some((a) => a.id === link.accountId)) throw new AppError('VALIDATION_FAILED', `${label}: no account has the id ${link.accountId}.`);
                if (seen.has(link.accountId)) throw new AppError('VALIDATION_FAILED', `${label}: the account ${link.accountId} appears twice in the file.`);
                if (db.links.some((l) => l.accountId === link.accountId)) throw new AppError('VALIDATION_FAILED', `${label}: the account ${link.accountId} is already linked; unlink it first or leave it out.`);
                seen.add(link.accountId);
            }
            for (const link of links) {
                db.links.push(link);
                db.audit.push({ at, accountId: link.accountId, action: 'legacy_import', outcome: 'ok', username: link.username });
            }
        });
        return links.length;
    }
}
