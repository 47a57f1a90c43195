import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * A secret at rest: AES-256-GCM with a fresh 12-byte IV per value, IV and full 16-byte tag stored beside the
 * ciphertext. v2 names its key (`kid`, so keys can rotate) and is bound to what it is and whose it is (GCM additional
 * data `ccl|<purpose>|<owner>`), so a value copied to another account or field does not open. v1 (no key id, no
 * additional data) is still read, and `npm run accounts -- reseal` rewrites it as v2.
 */
export type Sealed = SealedV1 | SealedV2;
export interface SealedV1 {
    v: 1;
    iv: string;
    tag: string;
    data: string;
}
export interface SealedV2 {
    v: 2;
    /** First 16 hex characters of the SHA-256 of the key: which configured key opens it. */
    kid: string;
    iv: string;
    tag: string;
    data: string;
}

/** What a sealed value is and whose it is; part of the ciphertext's authentication. */
export interface SealContext {
    purpose: 'refresh_token' | 'access_session' | 'legacy_credentials' | 'pkce_verifier' | 'link_replay' | 'webhook_secret';
    /** The account id (a link's, a webhook's) or the link session id (a popup's verifier). */
    owner: string;
}

const TAG_BYTES = 16;
const additionalData = (context: SealContext): Buffer => Buffer.from(`ccl|${context.purpose}|${context.owner}`, 'utf8');
export const keyId = (key: Buffer): string => createHash('sha256').update(key).digest('hex').slice(0, 16);

export class SealedValueError extends Error {
    override name = 'SealedValueError';
}

/** TOKEN_ENCRYPTION_KEY is a comma list: the first key seals, every key listed opens (rotation). */
export function parseEncryptionKeys(value: string): Buffer[] {
    const keys = value
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean)
        .map((item) => Buffer.from(item, 'base64'));
    if (keys.length === 0 || keys.some((key) => key.length !== 32))
        throw new Error('TOKEN_ENCRYPTION_KEY must be 32 bytes, base64 encoded (older keys after the current one, comma separated)');
    return keys;
}

export class TokenCipher {
    readonly #current: { id: string; key: Buffer };
    readonly #byId: Map<string, Buffer>;

    constructor(base64Keys: string) {
        const keys = parseEncryptionKeys(base64Keys);
        this.#current = { id: keyId(keys[0]!), key: keys[0]! };
        this.#byId = new Map(keys.map((key) => [keyId(key), key]));
    }

    /** The id of the key that seals now. */
    get currentKeyId(): string {
        return this.#current.id;
    }

    seal(plaintext: string, context: SealContext): SealedV2 {
        const iv = randomBytes(12);
        const cipher = createCipheriv('aes-256-gcm', this.#current.key, iv, { authTagLength: TAG_BYTES });
        cipher.setAAD(additionalData(context));
        const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
        return {
            v: 2,
            kid: this.#current.id,
            iv: iv.toString('base64'),
            tag: cipher.getAuthTag().toString('base64'),
            data: data.toString('base64')
        };
    }

    open(sealed: Sealed, context: SealContext): string {
        const tag = Buffer.from(sealed.tag, 'base64');
        if (tag.length !== TAG_BYTES) throw new SealedValueError('A sealed value has a shortened authentication tag; it is refused.');
        if (sealed.v === 2) {
            const key = this.#byId.get(sealed.kid);
            if (!key)
                throw new SealedValueError(
                    `A sealed value needs the key ${sealed.kid}, which TOKEN_ENCRYPTION_KEY does not list. Add that key after the current one.`
                );
            return decrypt(key, sealed, tag, additionalData(context));
        }
        // v1 names no key: try each configured key (the current first).
        for (const key of this.#byId.values()) {
            try {
                return decrypt(key, sealed, tag);
            } catch {
                // the next key
            }
        }
        throw new SealedValueError('A sealed value of the first format opens with none of the keys TOKEN_ENCRYPTION_KEY lists.');
    }

    /** Whether a value should be sealed again: the first format, or a key other than the current one. */
    isStale(sealed: Sealed): boolean {
        return sealed.v !== 2 || sealed.kid !== this.#current.id;
    }

    /** The value sealed again with the current key and its context (rotation, and v1 → v2). */
    reseal(sealed: Sealed, context: SealContext): SealedV2 {
        return this.seal(this.open(sealed, context), context);
    }
}

function decrypt(key: Buffer, sealed: Sealed, tag: Buffer, aad?: Buffer): string {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'), { authTagLength: TAG_BYTES });
    if (aad) decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64')), decipher.final()]).toString('utf8');
}

export const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');

export const randomToken = (bytes = 32): string => randomBytes(bytes).toString('base64url');

export const generateEncryptionKey = (): string => randomBytes(32).toString('base64');

/** API keys carry a recognisable prefix so a leaked one is easy to find in a scanner. */
export const generateApiKey = (): string => `ccl_${randomToken(32)}`;

export const hashApiKey = (apiKey: string): string => sha256(apiKey);

export function safeEqual(a: string, b: string): boolean {
    const left = Buffer.from(a);
    const right = Buffer.from(b);
    return left.length === right.length && timingSafeEqual(left, right);
}

/** PKCE with our own verifier: 64 characters of base64url (RFC 7636 allows 43 to 128). */
export function createPkcePair(): { verifier: string; challenge: string } {
    const verifier = randomToken(48);
    return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}
