import { hostname } from 'node:os';
import type { Clock } from '../clock.ts';
import { randomToken } from '../crypto.ts';
import { isAppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { SalesforceError } from '../salesforce/gateway.ts';
import type { Store } from '../store/store.ts';
import { takeInterval } from './intervalLease.ts';
import type { LinkService } from './linkService.ts';

export interface SweepReport {
    checked: number;
    healthy: number;
    needsRelink: number;
    unavailable: number;
    coolingDown: number;
}

export interface HealthSweepOptions {
    /** A link not verified for this long is checked (below 24 h, so "expire if not used" policies never bite). */
    maxAgeMs: number;
    intervalMs: number;
    concurrency: number;
    /** After a failure to reach Salesforce, wait this long (doubling, up to an hour) before trying the link again. */
    cooldownMs: number;
}

export const DEFAULT_SWEEP: HealthSweepOptions = {
    maxAgeMs: 20 * 3600_000,
    intervalMs: 10 * 60_000,
    concurrency: 4,
    cooldownMs: 5 * 60_000
};

/** The lease that makes one instance sweep per interval. */
export const SWEEP_LEASE = 'health-sweep';

/**
 * Keeps every OAuth link used: refreshes its token and re-reads the identity at least daily, so a
 * link that died quietly is marked before the first call fails. Only Salesforce's own "no"
 * (invalid_grant, inactive user, another org) marks a link dead, never an outage.
 *
 * With several instances on one database, each one's timer asks for the interval's lease: one of
 * them sweeps per interval. A link's cooldown after a failure is kept in its row, so whichever
 * instance sweeps next honours it.
 */
export class HealthSweep {
    #timer?: NodeJS.Timeout;
    #running?: Promise<SweepReport>;
    readonly #holder = `${hostname()}:${process.pid}:${randomToken(4)}`;

    constructor(
        private readonly store: Store,
        private readonly links: LinkService,
        private readonly clock: Clock,
        private readonly logger: Logger,
        private readonly options: HealthSweepOptions = DEFAULT_SWEEP,
        /** Told of every pass this instance ran (metrics). */
        private readonly onPass: (report: SweepReport) => void = () => undefined
    ) {}

    start(): void {
        this.#timer ??= setInterval(
            () => void this.tick().catch((error: unknown) => this.logger.error({ err: error }, 'health sweep failed')),
            this.options.intervalMs
        );
        this.#timer.unref();
    }

    /** The timer's turn: a pass when this instance gets the interval's lease (held to the interval's end, never released early), else none. */
    async tick(): Promise<SweepReport | undefined> {
        if (!(await takeInterval(this.store, SWEEP_LEASE, this.#holder, this.clock, this.options.intervalMs))) return undefined;
        return this.sweep();
    }

    async stop(): Promise<void> {
        clearInterval(this.#timer);
        this.#timer = undefined;
        await this.#running;
    }

    /** One pass over the links that are due; a pass already running is shared, never doubled. */
    sweep(options: { all?: boolean } = {}): Promise<SweepReport> {
        this.#running ??= this.#sweep(options.all ?? false).finally(() => (this.#running = undefined));
        return this.#running;
    }

    async #sweep(all: boolean): Promise<SweepReport> {
        const now = this.clock.now().getTime();
        // Verified at or before the cutoff is due: a just-verified link is not.
        const cutoff = new Date(now - this.options.maxAgeMs + 1).toISOString();
        const due = await this.store.links.dueForCheck(all ? undefined : cutoff);
        const report: SweepReport = { checked: 0, healthy: 0, needsRelink: 0, unavailable: 0, coolingDown: 0 };
        const queue = [...due];
        const worker = async () => {
            for (let accountId = queue.shift(); accountId; accountId = queue.shift()) {
                const cooling = (await this.store.links.get(accountId))?.checkCooldown;
                if (cooling && cooling.until > this.clock.now().toISOString()) {
                    report.coolingDown++;
                    continue;
                }
                try {
                    const outcome = await this.links.checkHealth(accountId);
                    if (outcome === 'not_due') continue;
                    report.checked++;
                    if (cooling) await this.store.links.patch(accountId, { checkCooldown: null });
                    if (outcome === 'healthy') report.healthy++;
                    else report.needsRelink++;
                } catch (error) {
                    if (isAppError(error, 'NOT_LINKED')) continue;
                    report.checked++;
                    report.unavailable++;
                    const failures = (cooling?.failures ?? 0) + 1;
                    const wait = Math.min(this.options.cooldownMs * 2 ** (failures - 1), 3600_000);
                    await this.store.links
                        .patch(accountId, { checkCooldown: { failures, until: new Date(this.clock.now().getTime() + wait).toISOString() } })
                        .catch((patchError: unknown) =>
                            this.logger.warn({ accountId, err: (patchError as Error).message }, 'could not save the link’s cooldown')
                        );
                    const reason = error instanceof SalesforceError ? `${error.code}: ${error.message}` : String(error);
                    this.logger.warn(
                        { accountId, reason, retryInMs: wait },
                        'link health check could not reach Salesforce; the link is left as it is'
                    );
                }
            }
        };
        await Promise.all(Array.from({ length: this.options.concurrency }, worker));
        this.onPass(report);
        if (report.checked) this.logger.info(report, 'link health sweep');
        return report;
    }
}
