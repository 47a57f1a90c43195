import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RequestHandler } from 'express';
import type { LinkEvents } from './link/events.ts';
import type { SalesforceGateway } from './salesforce/gateway.ts';
import { SalesforceError } from './salesforce/gateway.ts';
import { assertOutsideTransaction, type Store } from './store/store.ts';
import { LINK_STATUSES } from './store/types.ts';

/** The operator's view, for alerting: one registry per app, no global state. */
export class Metrics {
    readonly registry = new Registry();
    readonly linkAttempts = new Counter({
        name: 'ccl_link_attempts_total',
        help: 'Completed link attempts by outcome (linked or the error code).',
        labelNames: ['outcome'],
        registers: [this.registry]
    });
    readonly linkStatusChanges = new Counter({
        name: 'ccl_link_status_changes_total',
        help: 'Link status changes by new status.',
        labelNames: ['to'],
        registers: [this.registry]
    });
    readonly healthSweeps = new Counter({
        name: 'ccl_health_sweeps_total',
        help: 'Health sweep passes this instance ran (one instance sweeps per interval).',
        registers: [this.registry]
    });
    readonly refreshKeepalives = new Counter({
        name: 'ccl_refresh_keepalives_total',
        help: 'Refreshes made only to keep a link’s refresh token from idling out at Salesforce (one token request each, no API call), by outcome (ok, unavailable or the error code).',
        labelNames: ['outcome'],
        registers: [this.registry]
    });
    readonly callActions = new Counter({
        name: 'ccl_call_actions_total',
        help: 'Call actions by action and outcome (ok or the error code).',
        labelNames: ['action', 'outcome'],
        registers: [this.registry]
    });
    readonly callActionSeconds = new Histogram({
        name: 'ccl_call_action_duration_seconds',
        help: 'Call action latency, including Salesforce.',
        labelNames: ['action'],
        buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registers: [this.registry]
    });
    readonly salesforceRequests = new Counter({
        name: 'ccl_salesforce_requests_total',
        help: 'Requests to Salesforce by kind (token, refresh, revoke, identity, composite, rest) and outcome (ok or the error code).',
        labelNames: ['kind', 'outcome'],
        registers: [this.registry]
    });

    readonly keptTasks = new Counter({
        name: 'ccl_kept_tasks_total',
        help: 'Call Tasks kept for later instead of made at once, by reason (api_limit, salesforce_unavailable, needs_relink, not_linked).',
        labelNames: ['reason'],
        registers: [this.registry]
    });
    readonly replayedTasks = new Counter({
        name: 'ccl_replayed_tasks_total',
        help: 'Kept call Tasks this instance made later.',
        registers: [this.registry]
    });
    readonly droppedTasks = new Counter({
        name: 'ccl_dropped_tasks_total',
        help: 'Kept call Tasks dropped without being made, by reason (expired past the bound, rejected by Salesforce, admin_choice).',
        labelNames: ['reason'],
        registers: [this.registry]
    });

    constructor(store: Store, events: LinkEvents) {
        collectDefaultMetrics({ register: this.registry, prefix: 'ccl_' });
        new Gauge({
            name: 'ccl_links',
            help: 'Links by status.',
            labelNames: ['status'],
            registers: [this.registry],
            async collect() {
                // Every status a stored link can have, each shown even at 0.
                const none = Object.fromEntries(LINK_STATUSES.filter((status) => status !== 'unlinked').map((status) => [status, 0]));
                const counts = { ...none, ...(await store.links.countByStatus()) };
                this.reset();
                for (const [status, count] of Object.entries(counts)) this.set({ status }, count);
            }
        });
        new Gauge({
            name: 'ccl_kept_tasks',
            help: 'Call Tasks kept now, waiting to be made (every account, every instance: read from the store).',
            registers: [this.registry],
            async collect() {
                this.set(await store.kept.countAll());
            }
        });
        events.on('attempt', ({ outcome }) => this.linkAttempts.inc({ outcome }));
        events.on('status', ({ to }) => this.linkStatusChanges.inc({ to }));
    }

    /** Counts every gateway call to Salesforce by kind and outcome. */
    instrument(gateway: SalesforceGateway): SalesforceGateway {
        const count =
            <A extends unknown[], R>(kind: string, fn: (...args: A) => Promise<R>) =>
            async (...args: A): Promise<R> => {
                assertOutsideTransaction(`Salesforce (${kind})`);
                try {
                    const result = await fn(...args);
                    this.salesforceRequests.inc({ kind, outcome: 'ok' });
                    return result;
                } catch (error) {
                    this.salesforceRequests.inc({ kind, outcome: error instanceof SalesforceError ? error.code : 'error' });
                    throw error;
                }
            };
        return {
            ...gateway,
            exchangeCode: count('token', gateway.exchangeCode.bind(gateway)),
            refresh: count('refresh', gateway.refresh.bind(gateway)),
            revoke: count('revoke', gateway.revoke.bind(gateway)),
            identity: count('identity', gateway.identity.bind(gateway)),
            composite: count('composite', gateway.composite.bind(gateway))
        };
    }

    /** Times and counts the call actions from the outside: route and answer, whatever the handler. */
    callActionTimer(): RequestHandler {
        return (req, res, next) => {
            const action = req.path === '/lookup' ? 'lookup' : /\/task$/.test(req.path) ? 'task' : undefined;
            if (!action) return next();
            const stop = this.callActionSeconds.startTimer({ action });
            res.on('finish', () => {
                stop();
                this.callActions.inc({ action, outcome: res.statusCode < 400 ? 'ok' : String(res.locals.errorCode ?? res.statusCode) });
            });
            next();
        };
    }
}
