import { setTimeout as sleep } from 'node:timers/promises';
import jsforce, { type HttpRequest } from 'jsforce';
import type { Clock } from '../clock.ts';
import { AppError } from '../errors.ts';
import type { LinkTokens, LiveSession } from './linkTokens.ts';
import type { Logger } from '../logger.ts';
import { assertOutsideTransaction, type Store } from '../store/store.ts';
import type { LinkRecord } from '../store/types.ts';
import { classify, SalesforceError, SalesforceUnavailable } from '../salesforce/gateway.ts';
import { untilDeadline } from './deadline.ts';
import type { LegacyLogin } from './legacyLogin.ts';
import type { LinkEvents } from './events.ts';
import { apiAllowanceLow, linkStopped, notLinked, permissionMissing } from './messages.ts';
import { queueCallEvent } from './outbox.ts';
import { abortableTransport, requestSignal } from '../salesforce/transport.ts';

const { Connection } = jsforce;
type JsforceConnection = InstanceType<typeof Connection>;

/** API usage is written to the store at most this often per link (the response headers carry it on every call). */
export const USAGE_WRITE_INTERVAL_MS = 5000;

export interface OrgRequest {
    method: 'GET' | 'POST';
    /** relative to /services/data/vXX.X, such as `/sobjects/Task` */
    path: string;
    body?: unknown;
    /** GETs and queries: sending it again cannot change anything, so network errors and 5xx are retried */
    idempotent: boolean;
}

export interface OrgClientDeps {
    store: Store;
    tokens: LinkTokens;
    legacyLogin: LegacyLogin;
    clock: Clock;
    logger: Logger;
    apiVersion: string;
    timeoutMs: number;
    /** pauses before the retries of an idempotent request (each gets ±25% jitter) */
    retryDelaysMs?: number[];
    /** told the outcome of every request sent (`ok` or Salesforce's error code), for metrics */
    onOutcome?: (outcome: string) => void;
    /** The share of the org's daily API requests kept for call Tasks when an account sets none (API_GUARD_RESERVE_PERCENT). */
    reservePercent?: number;
    /** Told when a webhook event was written (the guard engaged or lifted), so it is delivered at once. */
    events?: LinkEvents;
}

/** A usage reading older than this no longer holds lookups back: the next lookup is let through, and reads it anew. */
export const GUARD_STALE_MS = 10 * 60_000;

/** The reserve for a daily allowance of `max` at `percent`: lookups pause while fewer requests than this remain. */
export const reserveOf = (max: number, percent: number): number => (percent > 0 && max > 0 ? Math.ceil((max * percent) / 100) : 0);

const API_DISABLED = new Set(['API_CURRENTLY_DISABLED', 'API_DISABLED_FOR_ORG']);

type Sent = { ok: true; body: unknown } | { ok: false; error: SalesforceError };

/**
 * The connection layer: acts in a linked org as its API user.
 *
 * One access token per link, reused by every call: an OAuth link's is sealed in its row, so every
 * instance acts with the same one (LinkTokens keeps it opened), a legacy link's SOAP session stays
 * in this process. A 401 renews it once per link however many calls fail together (an OAuth refresh
 * through LinkTokens, or a new SOAP login for a legacy link), then the request is sent once more. Idempotent requests are retried
 * on network errors and 5xx with backoff; a create never is. jsforce's own retries are off, so
 * every request Salesforce sees is one we chose to send.
 */
export class OrgClient {
    readonly #connections = new Map<string, { token: string; conn: JsforceConnection }>();
    readonly #usage = new Map<
        string,
        { used: number; max: number; at: string; writtenAt: number; timer?: NodeJS.Timeout; link?: LinkRecord }
    >();
    readonly #retryDelays: number[];

    constructor(private readonly deps: OrgClientDeps) {
        this.#retryDelays = deps.retryDelaysMs ?? [150, 450];
    }

    /** The account's link when it can act; NOT_LINKED or NEEDS_RELINK (without asking Salesforce) otherwise. */
    async activeLink(accountId: string): Promise<LinkRecord> {
        const link = await this.deps.store.links.get(accountId);
        if (!link) throw notLinked();
        if (link.status === 'needs_relink') throw linkStopped(link);
        return link;
    }

    /**
     * The API allowance guard: a screen-pop lookup is refused, with no API call, while the link's org has fewer requests
     * left than the account's reserve (the reading every instance saved in the link's row). A reading older than
     * GUARD_STALE_MS lets the lookup through, which reads the usage anew: the guard lifts by itself.
     */
    guardLookup(link: LinkRecord): void {
        const guard = link.apiGuard;
        if (!guard || !link.apiUsage) return;
        if (this.deps.clock.now().getTime() - Date.parse(link.apiUsage.at) >= GUARD_STALE_MS) return;
        throw apiAllowanceLow(guard);
    }

    /** The org the link acts in; a legacy link learns it from its login (`signal`: the caller's deadline). */
    async orgIdOf(accountId: string, link: LinkRecord, signal?: AbortSignal): Promise<string> {
        if (link.orgId) return link.orgId;
        const session = await this.#session(accountId, link, signal);
        return orgOfSession(session);
    }

    /** The API user the link acts as; a legacy link learns it from its login (`signal`: the caller's deadline). */
    async userIdOf(accountId: string, link: LinkRecord, signal?: AbortSignal): Promise<string> {
        if (link.userId) return link.userId;
        return (await this.#session(accountId, link, signal)).userId;
    }

    /**
     * One REST call as the link's API user; see the class comment for what is retried. `signal` (the caller's deadline)
     * cancels it, retries included; a token refresh it waits for goes on for the others that share it.
     */
    async request<T>(accountId: string, link: LinkRecord, request: OrgRequest, signal?: AbortSignal): Promise<T> {
        assertOutsideTransaction('A Salesforce request');
        let session = await this.#session(accountId, link, signal);
        let renewed = false;
        let retries = 0;
        for (;;) {
            const sent = await this.#send(accountId, link, session, request, signal);
            if (sent.ok) return sent.body as T;
            const { error } = sent;
            if (error.code === 'INVALID_SESSION_ID') {
                if (renewed)
                    throw new AppError(
                        'SALESFORCE_ERROR',
                        `Salesforce refused a session it had just issued (${error.message}). Verify the link from the Contact Center Link card.`,
                        502
                    );
                session = await this.#renew(accountId, link, session.accessToken, signal);
                renewed = true;
                continue;
            }
            if (error.code === 'REQUEST_LIMIT_EXCEEDED') {
                throw new AppError(
                    'SALESFORCE_LIMIT_EXCEEDED',
                    'The Salesforce org has used up its daily API requests (REQUEST_LIMIT_EXCEEDED). Call actions resume when the 24-hour allowance frees up; an admin can see usage in Setup → Company Information.',
                    429
                );
            }
            if (API_DISABLED.has(error.code)) throw permissionMissing('The API user may not use the Salesforce API (API Enabled is off).');
            if (error.kind !== 'rejected') {
                if (request.idempotent && error.code !== 'TIMEOUT' && retries < this.#retryDelays.length && !signal?.aborted) {
                    await sleep(jitter(this.#retryDelays[retries++]!), undefined, { signal }).catch(() => undefined);
                    if (!signal?.aborted) continue;
                }
                const tries = retries > 0 ? ` after ${retries + 1} attempts` : '';
                throw new SalesforceUnavailable(
                    `Salesforce could not be reached${tries}: ${error.message} Try again in a minute.`,
                    !request.idempotent
                );
            }
            throw error;
        }
    }

    /**
     * Several GETs (relative paths, such as `sobjects/Contact/describe`) in one Composite request: one API call. Each
     * answer is under its key, with its own status (a subrequest Salesforce refused does not fail the others).
     */
    async compositeGet(
        accountId: string,
        link: LinkRecord,
        paths: Record<string, string>,
        signal?: AbortSignal
    ): Promise<Map<string, { status: number; body: unknown }>> {
        const base = `/services/data/v${this.deps.apiVersion}/`;
        const compositeRequest = Object.entries(paths).map(([referenceId, path]) => ({ method: 'GET', url: base + path, referenceId }));
        const body = await this.request<{ compositeResponse?: Array<{ referenceId: string; httpStatusCode: number; body: unknown }> }>(
            accountId,
            link,
            { method: 'POST', path: '/composite', body: { allOrNone: false, compositeRequest }, idempotent: true },
            signal
        );
        return new Map((body.compositeResponse ?? []).map((r) => [r.referenceId, { status: r.httpStatusCode, body: r.body }]));
    }

    async #send(accountId: string, link: LinkRecord, session: LiveSession, request: OrgRequest, signal?: AbortSignal): Promise<Sent> {
        const conn = this.#connection(accountId, session);
        let status: number | undefined;
        let limitInfo: string | undefined;
        // Our own transport: the request is cancelled when the signal fires, and we see the status and Sforce-Limit-Info.
        const transport = abortableTransport(requestSignal(this.deps.timeoutMs, signal), (response) => {
            status = response.statusCode;
            limitInfo = response.headers['sforce-limit-info'];
        });
        const httpRequest: HttpRequest = {
            method: request.method,
            url: request.path,
            ...(request.body === undefined ? {} : { body: JSON.stringify(request.body), headers: { 'content-type': 'application/json' } })
        };
        let outcome: Sent;
        try {
            const body = await conn.request<unknown>(httpRequest, { transport });
            outcome =
                body !== null && typeof body === 'object'
                    ? { ok: true, body }
                    : {
                          ok: false,
                          error: new SalesforceError(
                              'invalid_response',
                              'INVALID_RESPONSE',
                              `Salesforce answered HTTP ${status ?? '?'} with a body that is not JSON.`,
                              status
                          )
                      };
        } catch (raw) {
            outcome = { ok: false, error: describeFailure(raw, status) };
        }
        this.deps.onOutcome?.(outcome.ok ? 'ok' : outcome.error.code);
        // Over the limit: saved at once, so the guard and the card see it without waiting for the usage timer.
        if (limitInfo) await this.#noteUsage(accountId, link, limitInfo, !outcome.ok && outcome.error.code === 'REQUEST_LIMIT_EXCEEDED');
        return outcome;
    }

    #connection(accountId: string, session: LiveSession): JsforceConnection {
        const cached = this.#connections.get(accountId);
        if (cached && cached.token === session.accessToken) return cached.conn;
        const conn = new Connection({ instanceUrl: session.instanceUrl, accessToken: session.accessToken, version: this.deps.apiVersion });
        this.#connections.set(accountId, { token: session.accessToken, conn });
        return conn;
    }

    async #session(accountId: string, link: LinkRecord, signal?: AbortSignal): Promise<LiveSession> {
        return this.deps.tokens.current(accountId, link) ?? this.#renewFor(accountId, link, undefined, signal);
    }

    /** After a 401: a call that failed on a token already replaced (here or by another instance) just uses the new one. */
    async #renew(accountId: string, link: LinkRecord, failedToken: string, signal?: AbortSignal): Promise<LiveSession> {
        return this.#renewFor(accountId, link, failedToken, signal);
    }

    async #renewFor(accountId: string, link: LinkRecord, failedToken: string | undefined, signal?: AbortSignal): Promise<LiveSession> {
        try {
            if (link.method === 'legacy') {
                const current = this.deps.tokens.current(accountId, link);
                if (current && current.accessToken !== failedToken) return current;
                return await this.deps.legacyLogin.login(accountId, signal);
            }
            return await untilDeadline(this.deps.tokens.refresh(accountId, { failed: failedToken }), signal);
        } catch (error) {
            if (error instanceof AppError) throw error;
            const sf = classify(error);
            if (sf.kind === 'rejected' && !/already being processed/i.test(sf.message)) {
                throw new AppError('SALESFORCE_ERROR', `Salesforce would not renew the session (${sf.code}: ${sf.message}).`, 502);
            }
            throw new SalesforceUnavailable(`Salesforce could not renew the session: ${sf.message} Try again in a minute.`, false);
        }
    }

    async #noteUsage(accountId: string, link: LinkRecord, header: string, now_ = false): Promise<void> {
        const match = /api-usage=(\d+)\/(\d+)/.exec(header);
        if (!match) return;
        const now = this.deps.clock.now();
        let usage = this.#usage.get(accountId);
        if (!usage) {
            usage = { used: 0, max: 0, at: '', writtenAt: 0 };
            this.#usage.set(accountId, usage);
        }
        Object.assign(usage, { used: Number(match[1]), max: Number(match[2]), at: now.toISOString() });
        const since = now.getTime() - usage.writtenAt;
        if (since >= USAGE_WRITE_INTERVAL_MS || now_) {
            await this.#writeUsage(accountId, link);
        } else if (!usage.timer) {
            usage.link = link;
            usage.timer = setTimeout(() => void this.#writeUsage(accountId, link), USAGE_WRITE_INTERVAL_MS - since);
            usage.timer.unref();
        }
    }

    /** At shutdown: writes the API usage still waiting for its timer, so nothing is written after the store closes. */
    async flush(): Promise<void> {
        const waiting = [...this.#usage].filter(([, usage]) => usage.timer && usage.link);
        await Promise.all(waiting.map(([accountId, usage]) => this.#writeUsage(accountId, usage.link!)));
    }

    async #writeUsage(accountId: string, link: LinkRecord): Promise<void> {
        const usage = this.#usage.get(accountId);
        if (!usage) return;
        if (usage.timer) clearTimeout(usage.timer);
        delete usage.timer;
        usage.writtenAt = this.deps.clock.now().getTime();
        const value = { used: usage.used, max: usage.max, at: usage.at };
        try {
            const queued = await this.deps.store.transaction(async (tx) => {
                const stored = await tx.links.get(accountId, { forUpdate: true });
                if (!stored || stored.method !== link.method || stored.orgId !== link.orgId) return false;
                // The guard's state is kept in the row, so it engages (and its webhook is written) once across instances.
                const percent = (await tx.accounts.get(accountId))?.callSettings?.lookupReservePercent ?? this.deps.reservePercent ?? 0;
                const reserve = reserveOf(value.max, percent);
                const remaining = Math.max(value.max - value.used, 0);
                const engaged = reserve > 0 && remaining < reserve;
                const guard = engaged ? { since: stored.apiGuard?.since ?? value.at, remaining, max: value.max, reserve } : null;
                await tx.links.patch(accountId, { apiUsage: value, apiGuard: guard });
                if (engaged === Boolean(stored.apiGuard)) return false;
                await queueCallEvent(tx, {
                    accountId,
                    type: engaged ? 'api_guard.engaged' : 'api_guard.lifted',
                    at: value.at,
                    data: { orgId: stored.orgId, apiGuard: { engaged, remaining, max: value.max, reserve } }
                });
                this.deps.logger.info(
                    { accountId, remaining, max: value.max, reserve },
                    engaged ? 'API allowance guard engaged' : 'API allowance guard lifted'
                );
                return true;
            });
            if (queued) this.deps.events?.eventQueued();
        } catch (error) {
            this.deps.logger.warn({ accountId, err: error instanceof Error ? error.message : String(error) }, 'could not save API usage');
        }
    }
}

export const orgOfSession = (session: LiveSession): string => /\/id\/([A-Za-z0-9]{15,18})\//.exec(session.identityUrl)?.[1] ?? '';

function describeFailure(raw: unknown, status: number | undefined): SalesforceError {
    if (raw instanceof SalesforceError) return raw;
    const error = classify(raw);
    if (status !== undefined && (status >= 500 || status === 429)) {
        return new SalesforceError('unavailable', error.code, `Salesforce answered HTTP ${status} (${error.code}).`, status);
    }
    return error;
}

const jitter = (ms: number): number => Math.round(ms * (0.75 + Math.random() * 0.5));
