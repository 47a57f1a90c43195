import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A secret at rest: AES-256-GCM with a fresh 12-byte IV per value, IV and tag stored beside the ciphertext. */
export interface Sealed {
    v: 1;
    iv: string;
    tag: string;
    data: string;
}

export class TokenCipher {
    readonly #key: Buffer;

    constructor(base64Key: string) {
        const key = Buffer.from(base64Key, 'base64');
        if (key.length !== 32) throw new Error('TOKEN_ENCRYPTION_KEY must be 32 bytes, base64 encoded');
        this.#key = key;
    }

    seal(plaintext: string): Sealed {
        const iv = randomBytes(12);
        const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
        const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
        return { v: 1, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') };
    }

    open(sealed: Sealed): string {
        const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(sealed.iv, 'base64'));
        decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
        return Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64')), decipher.final()]).toString('utf8');
    }
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
