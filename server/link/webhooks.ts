import { createHmac, randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../clock.ts';
import { randomToken, type TokenCipher } from '../crypto.ts';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Store } from '../store/store.ts';
import type { LinkEvents, LinkStatusChange } from './events.ts';
import { bareHost, checkedLookup, publicAddresses, systemResolver, WebhookTargetRefused, type Resolver } from './webhookTarget.ts';

export const SIGNATURE_HEADER = 'X-CCL-Signature';
const ATTEMPTS = 3;
const TIMEOUT_MS = 5_000;

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed by the webhook secret>`, as receivers verify it. */
export function signWebhook(secret: string, body: string, unixSeconds: number): string {
    return `t=${unixSeconds},v1=${createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex')}`;
}

export interface WebhookOptions {
    /** http:// targets only when the backend itself runs on plain http (the demo and tests). */
    allowHttp: boolean;
    /** Loopback and private targets likewise: only a backend on plain http, on a developer's machine. */
    allowPrivateNetworks: boolean;
    retryDelayMs?: number;
    /** Name resolution (tests swap it to play a DNS change between set and delivery). */
    resolve?: Resolver;
}

/** One webhook per account, fired when its link changes status, so the platform can alert its admins. */
export class Webhooks {
    readonly #deliveries = new Set<Promise<void>>();
    readonly #resolve: Resolver;
    readonly #lookup: LookupFunction | undefined;

    constructor(
        private readonly store: Store,
        private readonly cipher: TokenCipher,
        private readonly clock: Clock,
        private readonly logger: Logger,
        events: LinkEvents,
        private readonly options: WebhookOptions
    ) {
        this.#resolve = options.resolve ?? systemResolver;
        this.#lookup = options.allowPrivateNetworks ? undefined : checkedLookup(this.#resolve);
        events.on('status', (change) => {
            const delivery = this.#deliver(change).finally(() => this.#deliveries.delete(delivery));
            this.#deliveries.add(delivery);
        });
    }

    /** Checked when set, and again on every delivery (see #post): the name must resolve to public addresses only. */
    async validateUrl(raw: string): Promise<string> {
        let url: URL;
        try {
            url = new URL(raw);
        } catch {
            throw new AppError('VALIDATION_FAILED', 'The webhook url is not a URL.');
        }
        if (url.protocol !== 'https:' && !(this.options.allowHttp && url.protocol === 'http:')) throw new AppError('VALIDATION_FAILED', 'The webhook url must use https.');
        if (url.username || url.password) throw new AppError('VALIDATION_FAILED', 'The webhook url must not carry credentials; verify the signature header instead.');
        if (!this.options.allowPrivateNetworks) {
            try {
                await publicAddresses(bareHost(url), this.#resolve);
            } catch (error) {
                if (!(error instanceof WebhookTargetRefused)) throw error;
                throw new AppError('VALIDATION_FAILED', `The webhook url must reach a public address: ${error.message}.`);
            }
        }
        return url.toString();
    }

    /** Sets (or replaces) the account's webhook; the secret is returned this once. */
    async set(accountId: string, rawUrl: string): Promise<{ url: string; secret: string; createdAt: string }> {
        const url = await this.validateUrl(rawUrl);
        const secret = `whsec_${randomToken(32)}`;
        const createdAt = this.clock.now().toISOString();
        await this.store.transaction(async (tx) => {
            if (!(await tx.accounts.patch(accountId, { webhook: { url, secret: this.cipher.seal(secret, { purpose: 'webhook_secret', owner: accountId }), createdAt } }))) {
                throw new AppError('UNAUTHORIZED', 'The account for this API key no longer exists.', 401);
            }
            // Setting the same address again (a new secret) is not news for the audit.
            await tx.audit.append({ at: createdAt, accountId, action: 'webhook_set', outcome: 'ok', detail: new URL(url).origin }, { unlessRepeat: true });
        });
        return { url, secret, createdAt };
    }

    async get(accountId: string): Promise<{ url: string; createdAt: string } | undefined> {
        const hook = (await this.store.accounts.get(accountId))?.webhook;
        return hook ? { url: hook.url, createdAt: hook.createdAt } : undefined;
    }

    async remove(accountId: string): Promise<boolean> {
        // Removing no webhook changes nothing: answered from a read, no write.
        if (!(await this.store.accounts.get(accountId))?.webhook) return false;
        return this.store.transaction(async (tx) => {
            const account = await tx.accounts.get(accountId);
            if (!account?.webhook) return false;
            await tx.accounts.patch(accountId, { webhook: null });
            await tx.audit.append({ at: this.clock.now().toISOString(), accountId, action: 'webhook_removed', outcome: 'ok' });
            return true;
        });
    }

    /** Waits for deliveries under way (shutdown, tests). */
    async settle(): Promise<void> {
        await Promise.all([...this.#deliveries]);
    }

    async #deliver(change: LinkStatusChange): Promise<void> {
        const hook = (await this.store.accounts.get(change.accountId))?.webhook;
        if (!hook) return;
        const secret = this.cipher.open(hook.secret, { purpose: 'webhook_secret', owner: change.accountId });
        const body = JSON.stringify({
            id: randomUUID(),
            type: 'link.status_changed',
            createdAt: change.at,
            data: { accountId: change.accountId, from: change.from, to: change.to, orgId: change.orgId, username: change.username, reason: change.reason }
        });
        for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
            try {
                const status = await this.#post(new URL(hook.url), body, {
                    'content-type': 'application/json',
                    'user-agent': 'ContactCenterLink-Webhook/1',
                    'x-ccl-event': 'link.status_changed',
                    [SIGNATURE_HEADER.toLowerCase()]: signWebhook(secret, body, Math.floor(this.clock.now().getTime() / 1000))
                });
                if (status >= 200 && status < 300) return;
                this.logger.warn({ accountId: change.accountId, status, attempt }, 'webhook answered with an error');
            } catch (error) {
                this.logger.warn({ accountId: change.accountId, attempt, reason: (error as Error).message }, 'webhook could not be reached');
            }
            if (attempt < ATTEMPTS) await sleep((this.options.retryDelayMs ?? 1000) * 4 ** (attempt - 1));
        }
        this.logger.error({ accountId: change.accountId, to: change.to }, 'webhook delivery gave up');
    }

    /** One POST, no redirect followed; the socket connects only to an address the checked lookup let through. */
    async #post(url: URL, body: string, headers: Record<string, string>): Promise<number> {
        if (!this.options.allowPrivateNetworks) await publicAddresses(bareHost(url), this.#resolve);
        return new Promise((resolve, reject) => {
            const client = url.protocol === 'https:' ? https : http;
            const request = client.request(url, { method: 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(body) }, lookup: this.#lookup, timeout: TIMEOUT_MS }, (response) => {
                response.resume();
                response.once('end', () => resolve(response.statusCode ?? 0));
                response.once('error', reject);
            });
            request.once('timeout', () => request.destroy(new Error(`no answer within ${TIMEOUT_MS / 1000} s`)));
            request.once('error', reject);
            request.end(body);
        });
    }
}
