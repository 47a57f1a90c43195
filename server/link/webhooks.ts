import { createHmac } from 'node:crypto';
import http from 'node:http';
import { hostname } from 'node:os';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../clock.ts';
import { randomToken, type TokenCipher } from '../crypto.ts';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Store } from '../store/store.ts';
import type { OutboxEvent } from '../store/types.ts';
import type { LinkEvents } from './events.ts';
import { bareHost, checkedLookup, publicAddresses, systemResolver, WebhookTargetRefused, type Resolver } from './webhookTarget.ts';

export const SIGNATURE_HEADER = 'X-CCL-Signature';
/** Attempts per event before it is given up: at 1 s, then 4 s, 16 s, 64 s and 256 s later (about 6 minutes in all). */
export const WEBHOOK_ATTEMPTS = 6;
const TIMEOUT_MS = 5_000;
/** How long an instance's claim on an event holds: above one attempt's timeout, so only an instance that died lets it lapse. */
export const DELIVERY_CLAIM_MS = 15_000;
/** Finished events kept per account for the deliveries list, and for how long. */
const KEEP_PER_ACCOUNT = 50;
const KEEP_MS = 30 * 24 * 3600_000;

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed by the webhook secret>`, as receivers verify it. */
export function signWebhook(secret: string, body: string, unixSeconds: number): string {
    return `t=${unixSeconds},v1=${createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex')}`;
}

export interface WebhookOptions {
    /** http:// targets: only with WEBHOOK_ALLOW_PRIVATE_TARGETS (the demo and tests). */
    allowHttp: boolean;
    /** Loopback, private and link-local targets likewise. */
    allowPrivateNetworks: boolean;
    /** The first retry's delay; each next one is four times longer. */
    retryDelayMs?: number;
    /** How often every instance looks for events that are due (its own are delivered at once). */
    pollMs?: number;
    /** Name resolution (tests swap it to play a DNS change between set and delivery). */
    resolve?: Resolver;
}

/** What `GET /api/v1/webhook/deliveries` shows of an event: never the secret, the URL's origin only. */
export interface DeliveryView {
    id: string;
    type: OutboxEvent['type'];
    createdAt: string;
    from?: OutboxEvent['data']['from'];
    to?: OutboxEvent['data']['to'];
    calls?: OutboxEvent['data']['calls'];
    apiGuard?: OutboxEvent['data']['apiGuard'];
    state: OutboxEvent['state'];
    attempts: number;
    nextAttemptAt?: string;
    deliveredAt?: string;
    lastAttempt?: OutboxEvent['lastAttempt'];
}

/**
 * One webhook per account, told when its link changes status, so the platform can alert its admins. The change writes
 * its event to the outbox in its own transaction (outbox.ts); any instance delivers it: the one that wrote it at once,
 * the others when they poll. An instance claims an event for DELIVERY_CLAIM_MS, makes one attempt and records its
 * outcome; a failed attempt is retried later with backoff, by whichever instance claims it then; an instance that dies
 * mid-attempt leaves its claim to lapse. The body's `id` is the event's, the same on every attempt: receivers drop repeats by it.
 */
export class Webhooks {
    readonly #deliveries = new Set<Promise<void>>();
    readonly #resolve: Resolver;
    readonly #lookup: LookupFunction | undefined;
    /** Opaque, per process: says which instance sent an attempt (X-CCL-Instance), names no host. */
    readonly instance = randomToken(6);
    readonly #holder = `${hostname()}:${process.pid}:${this.instance}`;
    #timer?: NodeJS.Timeout;
    #draining?: Promise<number>;
    #again = false;
    /** The retries this instance scheduled, each settled once its timer has fired and its round is over. */
    readonly #retries = new Set<Promise<unknown>>();
    #prunedAt = 0;
    #stopped = false;

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
        // The change is committed with its event: deliver it now rather than at the next poll.
        events.on('status', () => void (this.#stopped || this.poke()));
        events.on('queued', () => void (this.#stopped || this.poke()));
    }

    /** Polls the outbox every `pollMs` (the server calls it; tests poke instead). */
    start(): void {
        this.#stopped = false;
        this.#timer ??= setInterval(() => void this.poke(), this.options.pollMs ?? 1000);
        this.#timer.unref();
    }

    /** No more polls nor deliveries on status changes; attempts under way finish. */
    async stop(): Promise<void> {
        this.#stopped = true;
        clearInterval(this.#timer);
        this.#timer = undefined;
        await this.#draining;
        await Promise.all([...this.#deliveries]);
    }

    /** Delivers what is due now; a poke while a round runs makes one more round after it. */
    poke(): Promise<number> {
        if (this.#draining) {
            this.#again = true;
            return this.#draining;
        }
        this.#draining = this.#drain()
            .catch((error: unknown) => {
                this.logger.warn(
                    { err: error instanceof Error ? error.message : String(error) },
                    'could not read the webhook outbox; trying again at the next poll'
                );
                return 0;
            })
            .finally(() => (this.#draining = undefined));
        return this.#draining;
    }

    async #drain(): Promise<number> {
        let handled = 0;
        do {
            this.#again = false;
            const now = this.clock.now();
            const claimed = await this.store.outbox.claimDue({
                now: now.toISOString(),
                by: this.#holder,
                until: new Date(now.getTime() + DELIVERY_CLAIM_MS).toISOString(),
                limit: 20
            });
            handled += claimed.length;
            await Promise.all(claimed.map((event) => this.#track(this.#attempt(event))));
            if (claimed.length === 20) this.#again = true;
        } while (this.#again);
        this.#pruneNowAndThen();
        return handled;
    }

    /** Waits until every event this instance knows of is delivered or given up (shutdown, tests). */
    async settle(): Promise<void> {
        for (;;) {
            await this.poke();
            await Promise.all([...this.#deliveries]);
            // A retry scheduled while this one waited is in the set too: wait until none is left.
            if (this.#retries.size === 0) return;
            await Promise.all([...this.#retries]);
        }
    }

    /** The account's latest events with their delivery state, newest first. */
    async deliveries(accountId: string, limit = 20): Promise<DeliveryView[]> {
        const events = await this.store.outbox.recent(accountId, limit);
        return events.map((e) => ({
            id: e.id,
            type: e.type,
            createdAt: e.createdAt,
            ...(e.data.from ? { from: e.data.from } : {}),
            ...(e.data.to ? { to: e.data.to } : {}),
            ...(e.data.calls ? { calls: e.data.calls } : {}),
            ...(e.data.apiGuard ? { apiGuard: e.data.apiGuard } : {}),
            state: e.state,
            attempts: e.attempts,
            ...(e.state === 'pending' ? { nextAttemptAt: e.nextAttemptAt } : {}),
            ...(e.deliveredAt ? { deliveredAt: e.deliveredAt } : {}),
            ...(e.lastAttempt ? { lastAttempt: e.lastAttempt } : {})
        }));
    }

    /** Checked when set, and again on every delivery (see #post): the name must resolve to public addresses only. */
    async validateUrl(raw: string): Promise<string> {
        let url: URL;
        try {
            url = new URL(raw);
        } catch {
            throw new AppError('VALIDATION_FAILED', 'The webhook url is not a URL.');
        }
        if (url.protocol !== 'https:' && !(this.options.allowHttp && url.protocol === 'http:'))
            throw new AppError('VALIDATION_FAILED', 'The webhook url must use https.');
        if (url.username || url.password)
            throw new AppError('VALIDATION_FAILED', 'The webhook url must not carry credentials; verify the signature header instead.');
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
            if (
                !(await tx.accounts.patch(accountId, {
                    webhook: { url, secret: this.cipher.seal(secret, { purpose: 'webhook_secret', owner: accountId }), createdAt }
                }))
            ) {
                throw new AppError('UNAUTHORIZED', 'The account for this API key no longer exists.', 401);
            }
            // Setting the same address again (a new secret) is not news for the audit.
            await tx.audit.append(
                { at: createdAt, accountId, action: 'webhook_set', outcome: 'ok', detail: new URL(url).origin },
                { unlessRepeat: true }
            );
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

    #track(delivery: Promise<void>): Promise<void> {
        const tracked = delivery.finally(() => this.#deliveries.delete(tracked));
        this.#deliveries.add(tracked);
        return tracked;
    }

    /** One attempt at a claimed event, and its outcome recorded (only while the claim still holds). */
    async #attempt(event: OutboxEvent): Promise<void> {
        const hook = (await this.store.accounts.get(event.accountId))?.webhook;
        const at = this.clock.now().toISOString();
        if (!hook) {
            await this.store.outbox.record(event.id, this.#holder, {
                state: 'failed',
                claim: null,
                lastAttempt: { at, error: 'The webhook was removed before this event was delivered.' }
            });
            return;
        }
        const attempts = event.attempts + 1;
        const body = JSON.stringify({ id: event.id, type: event.type, createdAt: event.createdAt, data: event.data });
        let outcome: { status?: number; error?: string };
        try {
            const secret = this.cipher.open(hook.secret, { purpose: 'webhook_secret', owner: event.accountId });
            const status = await this.#post(new URL(hook.url), body, {
                'content-type': 'application/json',
                'user-agent': 'ContactCenterLink-Webhook/1',
                'x-ccl-event': event.type,
                'x-ccl-delivery-attempt': String(attempts),
                'x-ccl-instance': this.instance,
                [SIGNATURE_HEADER.toLowerCase()]: signWebhook(secret, body, Math.floor(this.clock.now().getTime() / 1000))
            });
            outcome = status >= 200 && status < 300 ? { status } : { status, error: `The webhook answered HTTP ${status}.` };
        } catch (error) {
            outcome = { error: `The webhook could not be reached: ${(error as Error).message}` };
        }
        const done = this.clock.now();
        const lastAttempt = { at: done.toISOString(), ...outcome };
        if (!outcome.error) {
            await this.store.outbox.record(event.id, this.#holder, {
                state: 'delivered',
                attempts,
                deliveredAt: lastAttempt.at,
                lastAttempt,
                claim: null
            });
            return;
        }
        this.logger.warn(
            { accountId: event.accountId, eventId: event.id, attempt: attempts, status: outcome.status, reason: outcome.error },
            'webhook attempt failed'
        );
        if (attempts >= WEBHOOK_ATTEMPTS) {
            this.logger.error({ accountId: event.accountId, eventId: event.id, to: event.data.to }, 'webhook delivery gave up');
            await this.store.outbox.record(event.id, this.#holder, { state: 'failed', attempts, lastAttempt, claim: null });
            return;
        }
        const retryAt = done.getTime() + (this.options.retryDelayMs ?? 1000) * 4 ** (attempts - 1);
        if (
            await this.store.outbox.record(event.id, this.#holder, {
                attempts,
                lastAttempt,
                nextAttemptAt: new Date(retryAt).toISOString(),
                claim: null
            })
        ) {
            const retry: Promise<unknown> = sleep(retryAt - done.getTime() + 5, undefined, { ref: false })
                .then(() => (this.#stopped ? 0 : this.poke()))
                .finally(() => this.#retries.delete(retry));
            this.#retries.add(retry);
        }
    }

    #pruneNowAndThen(): void {
        const now = this.clock.now().getTime();
        if (now - this.#prunedAt < 3600_000) return;
        this.#prunedAt = now;
        void this.store.outbox
            .prune(new Date(now - KEEP_MS).toISOString(), KEEP_PER_ACCOUNT)
            .catch((error: unknown) => this.logger.warn({ err: (error as Error).message }, 'could not prune the webhook outbox'));
    }

    /** One POST, no redirect followed; the socket connects only to an address the checked lookup let through. */
    async #post(url: URL, body: string, headers: Record<string, string>): Promise<number> {
        if (!this.options.allowPrivateNetworks) await publicAddresses(bareHost(url), this.#resolve);
        return new Promise((resolve, reject) => {
            const client = url.protocol === 'https:' ? https : http;
            const request = client.request(
                url,
                {
                    method: 'POST',
                    headers: { ...headers, 'content-length': Buffer.byteLength(body) },
                    lookup: this.#lookup,
                    timeout: TIMEOUT_MS
                },
                (response) => {
                    response.resume();
                    response.once('end', () => resolve(response.statusCode ?? 0));
                    response.once('error', reject);
                }
            );
            request.once('timeout', () => request.destroy(new Error(`no answer within ${TIMEOUT_MS / 1000} s`)));
            request.once('error', reject);
            request.end(body);
        });
    }
}
