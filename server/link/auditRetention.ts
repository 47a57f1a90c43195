import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import type { Store } from '../store/store.ts';

const EVERY_MS = 3600_000;

export interface AuditPolicy {
    maxAgeDays: number;
    maxPerAccount: number;
}

/** Keeps the audit bounded: entries older than the retention go, and an account's oldest beyond its count. Hourly, and at start. */
export class AuditRetention {
    #timer?: NodeJS.Timeout;

    constructor(
        private readonly store: Store,
        private readonly clock: Clock,
        private readonly logger: Logger,
        readonly policy: AuditPolicy
    ) {}

    start(): void {
        if (this.#timer) return;
        const run = () =>
            void this.prune().catch((error: unknown) =>
                this.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'could not prune the audit')
            );
        run();
        this.#timer = setInterval(run, EVERY_MS);
        this.#timer.unref();
    }

    stop(): void {
        clearInterval(this.#timer);
        this.#timer = undefined;
    }

    async prune(): Promise<number> {
        const before = new Date(this.clock.now().getTime() - this.policy.maxAgeDays * 86_400_000).toISOString();
        const dropped = await this.store.audit.prune(before, this.policy.maxPerAccount);
        if (dropped > 0) this.logger.info({ dropped, before, maxPerAccount: this.policy.maxPerAccount }, 'audit pruned');
        return dropped;
    }
}
