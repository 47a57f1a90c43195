import { createHmac, hkdfSync } from 'node:crypto';
import { parseEncryptionKeys, randomToken, safeEqual } from '../crypto.ts';

/**
 * Knowing consent: before the popup goes to Salesforce, the person in it either confirms the contact-center account
 * by a click, or the popup proves that the org's own card opened it (see docs/security.md, "Knowing consent").
 */

/** The cookie that ties a confirmation form to the browser that was shown it. */
export const consentCookieName = (sessionId: string): string => `ccl_consent_${sessionId}`;

const NONCE = /^[A-Za-z0-9_-]{43}$/;

/** Confirmation forms carry an HMAC of the session id and the browser's cookie nonce: only a page we rendered for that browser can post it. */
export class ConsentForms {
    readonly #key: Buffer;

    constructor(encryptionKeys: string) {
        // A key of its own, derived from the current encryption key: every instance shares it, nothing extra to configure.
        this.#key = Buffer.from(hkdfSync('sha256', parseEncryptionKeys(encryptionKeys)[0]!, Buffer.alloc(0), 'ccl consent form v1', 32));
    }

    /** The browser's nonce for this session: the one it already holds (a repeated page load), or a new one. */
    nonceFor(existing: string | undefined): string {
        return existing && NONCE.test(existing) ? existing : randomToken(32);
    }

    token(sessionId: string, nonce: string): string {
        return createHmac('sha256', this.#key).update(`${sessionId}.${nonce}`).digest('base64url');
    }

    verify(sessionId: string, nonce: string | undefined, token: unknown): boolean {
        return (
            typeof token === 'string' && typeof nonce === 'string' && NONCE.test(nonce) && safeEqual(this.token(sessionId, nonce), token)
        );
    }
}

const MY_DOMAIN_SUFFIX = '.my.salesforce.com';

/**
 * Where the org's own card runs, derived from the session's login host: a My Domain `NAME[.partition].my.salesforce.com`
 * serves Lightning pages from `NAME[.partition].lightning.force.com` and Setup from `NAME[.partition].my.salesforce-setup.com`.
 * login.salesforce.com, test.salesforce.com and any host we cannot derive give none: the popup then always asks.
 * `configured` maps other login origins (the emulator) to the origin of the page that plays the card (the preview).
 */
export function cardOrigins(loginUrl: string, configured: Record<string, string[]> = {}): string[] {
    let url: URL;
    try {
        url = new URL(loginUrl);
    } catch {
        return [];
    }
    const listed = configured[url.origin];
    if (listed) return listed;
    const host = url.hostname.toLowerCase();
    if (url.protocol !== 'https:' || url.port || !host.endsWith(MY_DOMAIN_SUFFIX)) return [];
    const name = host.slice(0, -MY_DOMAIN_SUFFIX.length);
    if (!/^[a-z0-9-]+(?:\.[a-z]+)?$/.test(name)) return [];
    return [`https://${name}.lightning.force.com`, `https://${name}.my.salesforce-setup.com`];
}

/** The message the popup sends its opener, and the answer only the card that made this session gives. */
export const OPENER_CHECK = 'ccl:opener-check';
export const OPENER_ANSWER = 'ccl:opener';
