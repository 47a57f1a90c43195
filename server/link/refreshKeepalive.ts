import { hostname } from 'node:os';
import type { Clock } from '../clock.ts';
import { randomToken } from '../crypto.ts';
import { isAppError, type ErrorCode } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Store } from '../store/store.ts';
import { takeInterval } from './intervalLease.ts';
import type { LinkTokens } from './linkTokens.ts';

/** How a keepalive refresh of one link ended: `ok`, the link's error code (NEEDS_RELINK, IP_NOT_ALLOWED), or `unavailable`. */
export type KeepaliveOutcome = 'ok' | 'unavailable' | ErrorCode;

export interface KeepaliveReport {
    due: number;
    refreshed: number;
    failed: number;
}

export interface RefreshKeepaliveOptions {
    /** Every link's refresh token is used for a refresh at least this often (SF_REFRESH_KEEPALIVE_SECONDS). */
    keepaliveMs: number;
    /** How often one instance looks for due links. */
    intervalMs: number;
    concurrency: number;
}

/** The lease that makes one instance run the keepalive per interval. */
export const KEEPALIVE_LEASE = 'refresh-keepalive';

/** Looks at most every ten minutes, and at least six times per keepalive period, so a due link never waits past it. */
export const keepaliveInterval = (keepaliveMs: number, sweepIntervalMs: number): number =>
    Math.max(1000, Math.min(sweepIntervalMs > 0 ? sweepIntervalMs : 600_000, 600_000, Math.floor(keepaliveMs / 6)));

/**
 * Salesforce expires a partner app's refresh token that is not used for a refresh for a period (30 days), however busy
 * its access token is: a contact center whose calls keep one access token alive never refreshes, and its link dies on
 * the first quiet night after the period. The keepalive uses every linked OAuth link's refresh token at least every
 * `keepaliveMs`, whatever its access token does: one token request (no API call) through LinkTokens, so the usual
 * single refresh per link across instances holds, and the new tokens are saved as any refresh saves them. When the
 * token was last used is kept in the link's row (`lastRefreshedAt`, set by every refresh), so whichever instance takes
 * the interval's lease sees what the others did, and a link a call or the health sweep refreshed meanwhile is skipped.
 */
export class RefreshKeepalive {
    #timer?: NodeJS.Timeout;
    #running?: Promise<KeepaliveReport>;
    readonly #holder = `${hostname()}:${process.pid}:${randomToken(4)}`;

    constructor(
        private readonly store: Store,
        private readonly tokens: LinkTokens,
        private readonly clock: Clock,
        private readonly logger: Logger,
        private readonly options: RefreshKeepaliveOptions,
        /** Told how each keepalive refresh ended (metrics). */
        private readonly onRefresh: (outcome: KeepaliveOutcome) => void = () => undefined
    ) {}

    start(): void {
        this.#timer ??= setInterval(
            () => void this.tick().catch((error: unknown) => this.logger.error({ err: error }, 'refresh keepalive failed')),
            this.options.intervalMs
        );
        this.#timer.unref();
    }

    async stop(): Promise<void> {
        clearInterval(this.#timer);
        this.#timer = undefined;
        await this.#running;
    }

    /** The timer's turn: a pass when this instance takes the interval's lease, else none. */
    async tick(): Promise<KeepaliveReport | undefined> {
        if (!(await takeInterval(this.store, KEEPALIVE_LEASE, this.#holder, this.clock, this.options.intervalMs))) return undefined;
        return this.pass();
    }

    /** One pass over the links due; a pass already running is shared. */
    pass(): Promise<KeepaliveReport> {
        this.#running ??= this.#pass().finally(() => (this.#running = undefined));
        return this.#running;
    }

    /** A link is due when waiting for the next pass would let its token go unused for longer than the keepalive. */
    #cutoff(): string {
        const { keepaliveMs, intervalMs } = this.options;
        return new Date(this.clock.now().getTime() - Math.max(keepaliveMs - intervalMs, 0)).toISOString();
    }

    async #pass(): Promise<KeepaliveReport> {
        const due = await this.store.links.dueForKeepalive(this.#cutoff());
        const report: KeepaliveReport = { due: due.length, refreshed: 0, failed: 0 };
        const queue = [...due];
        const worker = async () => {
            for (let accountId = queue.shift(); accountId; accountId = queue.shift()) {
                // Read again: a call's refresh or the health sweep may have used the token since the list was read.
                const link = await this.store.links.get(accountId);
                if (link?.method !== 'oauth' || link.status !== 'linked' || (link.lastRefreshedAt ?? link.linkedAt) >= this.#cutoff())
                    continue;
                const outcome = await this.#refresh(accountId);
                if (outcome === 'ok') report.refreshed++;
                else report.failed++;
                this.onRefresh(outcome);
            }
        };
        await Promise.all(Array.from({ length: this.options.concurrency }, worker));
        if (report.due) this.logger.info(report, 'refresh token keepalive');
        return report;
    }

    async #refresh(accountId: string): Promise<KeepaliveOutcome> {
        try {
            await this.tokens.refresh(accountId, { force: true });
            return 'ok';
        } catch (error) {
            // Salesforce's own no marked the link (LinkTokens did); anything else leaves it for the next pass.
            if (isAppError(error) && error.code !== 'SALESFORCE_UNAVAILABLE') return error.code;
            this.logger.warn(
                { accountId, err: (error as Error).message },
                'refresh keepalive could not reach Salesforce; next pass tries again'
            );
            return 'unavailable';
        }
    }
}
