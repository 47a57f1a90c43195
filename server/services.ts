import { Accounts } from './accounts.ts';
import { systemClock, type Clock } from './clock.ts';
import type { Config } from './config.ts';
import { TokenCipher } from './crypto.ts';
import { LinkEvents } from './link/events.ts';
import { LinkAuthorization } from './link/authorization.ts';
import { LinkService } from './link/linkService.ts';
import { LinkTokens } from './link/linkTokens.ts';
import { DEFAULT_SWEEP, HealthSweep } from './link/healthSweep.ts';
import { keepaliveInterval, RefreshKeepalive } from './link/refreshKeepalive.ts';
import { Webhooks } from './link/webhooks.ts';
import { Metrics } from './metrics.ts';
import type { Logger } from './logger.ts';
import { createSalesforceGateway, type SalesforceGateway } from './salesforce/gateway.ts';
import type { LoginHostPolicy } from './salesforce/loginHosts.ts';
import type { Store } from './store/store.ts';
import { CallActions } from './calls/callActions.ts';
import { CallLedger } from './calls/ledger.ts';
import { KeptTaskReplay } from './calls/replay.ts';
import { LegacyLogin } from './link/legacyLogin.ts';
import { OrgClient } from './link/orgClient.ts';
import { DEFAULT_FAILED_AUTH_POLICY, FailedAuthLimiter } from './http/abuse.ts';
import { failedAuthTallyFor } from './http/failedAuthTally.ts';
import { ACCOUNT_WRITE_RATE, OAUTH_RATE, RateLimiter } from './http/rateLimit.ts';
import { sharedRateWindows } from './http/pgRateWindows.ts';
import { AuditRetention } from './link/auditRetention.ts';

export interface ServiceDeps {
    config: Config;
    store: Store;
    logger: Logger;
    clock?: Clock;
    /** The Salesforce client factory; tests may wrap the real one to inject faults. */
    gateway?: SalesforceGateway;
    /**
     * This process serves the store alone (lowdb: it holds DATA_DIR's server.pid), so a call claimed by any other
     * process was claimed by an earlier one, dead now: taken over at once instead of waited for (calls/ledger.ts).
     */
    servesAlone?: boolean;
}

export interface Services {
    config: Config;
    store: Store;
    logger: Logger;
    clock: Clock;
    cipher: TokenCipher;
    hosts: LoginHostPolicy;
    gateway: SalesforceGateway;
    accounts: Accounts;
    tokens: LinkTokens;
    links: LinkService;
    authorization: LinkAuthorization;
    events: LinkEvents;
    health: HealthSweep;
    /** Uses every link's refresh token at least every SF_REFRESH_KEEPALIVE_SECONDS. */
    keepalive: RefreshKeepalive;
    webhooks: Webhooks;
    metrics: Metrics;
    org: OrgClient;
    legacyLogin: LegacyLogin;
    calls: CallActions;
    /** Makes the kept call Tasks in the background (rule 13). */
    replay: KeptTaskReplay;
    /** Wrong API keys per address: slowed, then refused. */
    failedAuth: FailedAuthLimiter;
    /** /oauth requests per client address. */
    oauthRate: RateLimiter;
    /** Audited writes per account. */
    accountWriteRate: RateLimiter;
    /** Keeps the audit within its age and count. */
    auditRetention: AuditRetention;
}

export const redirectUri = (config: Config): string => `${config.PUBLIC_URL}/oauth/callback`;

export function loginHostPolicy(config: Config): LoginHostPolicy {
    return {
        productionUrl: config.SF_LOGIN_URL_PRODUCTION,
        sandboxUrl: config.SF_LOGIN_URL_SANDBOX,
        allowedOrigins: config.SF_ALLOWED_LOGIN_ORIGINS
    };
}

export function buildServices(deps: ServiceDeps): Services {
    const { config, store, logger } = deps;
    const clock = deps.clock ?? systemClock;
    const cipher = new TokenCipher(config.TOKEN_ENCRYPTION_KEY);
    const hosts = loginHostPolicy(config);
    const events = new LinkEvents();
    const metrics = new Metrics(store, events);
    const baseGateway =
        deps.gateway ??
        createSalesforceGateway({
            clientId: config.SF_CLIENT_ID,
            clientSecret: config.SF_CLIENT_SECRET,
            redirectUri: redirectUri(config),
            apiVersion: config.SF_API_VERSION,
            timeoutMs: config.SF_HTTP_TIMEOUT_MS,
            hosts
        });
    const gateway = metrics.instrument(baseGateway);
    const accounts = new Accounts(store, clock);
    const tokens = new LinkTokens(store, cipher, gateway, clock, logger, events, config.SF_HTTP_TIMEOUT_MS, config.SF_EGRESS_ADDRESSES);
    const legacyLogin = new LegacyLogin({
        store,
        tokens,
        cipher,
        hosts,
        logger,
        apiVersion: config.SF_API_VERSION,
        timeoutMs: config.SF_HTTP_TIMEOUT_MS
    });
    const links = new LinkService({
        store,
        cipher,
        gateway,
        tokens,
        legacyLogin,
        clock,
        logger,
        events,
        egressAddresses: config.SF_EGRESS_ADDRESSES,
        keptBound: { maxPerAccount: config.KEPT_TASKS_MAX_PER_ACCOUNT, maxAgeDays: config.KEPT_TASKS_MAX_AGE_DAYS }
    });
    const authorization = new LinkAuthorization({
        store,
        cipher,
        gateway,
        clock,
        logger,
        events,
        links,
        publicUrl: config.PUBLIC_URL,
        sessionTtlSeconds: config.LINK_SESSION_TTL_SECONDS,
        hosts,
        cardOrigins: config.SF_CARD_ORIGINS,
        egressAddresses: config.SF_EGRESS_ADDRESSES
    });
    const health = new HealthSweep(
        store,
        links,
        clock,
        logger,
        { ...DEFAULT_SWEEP, intervalMs: Math.max(config.HEALTH_SWEEP_INTERVAL_SECONDS, 1) * 1000 },
        () => metrics.healthSweeps.inc()
    );
    const keepaliveMs = config.SF_REFRESH_KEEPALIVE_SECONDS * 1000;
    const keepalive = new RefreshKeepalive(
        store,
        tokens,
        clock,
        logger,
        {
            keepaliveMs,
            intervalMs: keepaliveInterval(keepaliveMs, config.HEALTH_SWEEP_INTERVAL_SECONDS * 1000),
            concurrency: DEFAULT_SWEEP.concurrency
        },
        (outcome) => metrics.refreshKeepalives.inc({ outcome })
    );
    // Off unless the operator asks (the demo and the tests do): a tenant's webhook must not reach the backend's network.
    const privateTargets = config.WEBHOOK_ALLOW_PRIVATE_TARGETS;
    const webhooks = new Webhooks(store, cipher, clock, logger, events, {
        allowHttp: privateTargets,
        allowPrivateNetworks: privateTargets
    });
    const org = new OrgClient({
        store,
        tokens,
        legacyLogin,
        clock,
        logger,
        apiVersion: config.SF_API_VERSION,
        timeoutMs: config.SF_HTTP_TIMEOUT_MS,
        onOutcome: (outcome) => metrics.salesforceRequests.inc({ kind: 'rest', outcome }),
        reservePercent: config.API_GUARD_RESERVE_PERCENT,
        events
    });
    let replay: KeptTaskReplay | undefined;
    const calls = new CallActions({
        org,
        ledger: new CallLedger(store, clock, logger, { alone: deps.servesAlone ?? false }),
        clock,
        logger,
        store,
        maxKeptPerAccount: config.KEPT_TASKS_MAX_PER_ACCOUNT,
        maxKeptAgeDays: config.KEPT_TASKS_MAX_AGE_DAYS,
        defaultReservePercent: config.API_GUARD_RESERVE_PERCENT,
        events,
        onKept: (reason) => metrics.keptTasks.inc({ reason }),
        onOrgAnswered: (accountId) =>
            void replay
                ?.wake(accountId)
                .catch((error: unknown) => logger.warn({ accountId, err: (error as Error).message }, 'could not wake the kept call Tasks'))
    });
    replay = new KeptTaskReplay({
        store,
        calls,
        holder: calls.claimant,
        clock,
        logger,
        events,
        options: { maxAgeMs: config.KEPT_TASKS_MAX_AGE_DAYS * 24 * 3600_000 },
        onReplayed: (count) => metrics.replayedTasks.inc(count),
        onDropped: (reason, count) => metrics.droppedTasks.inc({ reason }, count)
    });
    // Counted in the database on PostgreSQL, so every instance on it counts an address together.
    const failedAuth = new FailedAuthLimiter(DEFAULT_FAILED_AUTH_POLICY, () => clock.now().getTime(), {
        tally: failedAuthTallyFor(store, logger),
        logger
    });
    const now = () => clock.now().getTime();
    const oauthRate = new RateLimiter(OAUTH_RATE, now);
    // Counted in the database on PostgreSQL, so the limit holds once for every instance; /oauth's stays per instance (answered without the store).
    const accountWriteRate = new RateLimiter(ACCOUNT_WRITE_RATE, now, sharedRateWindows(store, 'account-writes', logger));
    const auditRetention = new AuditRetention(store, clock, logger, {
        maxAgeDays: config.AUDIT_RETENTION_DAYS,
        maxPerAccount: config.AUDIT_MAX_PER_ACCOUNT
    });
    return {
        config,
        store,
        logger,
        clock,
        cipher,
        hosts,
        gateway,
        accounts,
        tokens,
        links,
        authorization,
        events,
        health,
        keepalive,
        webhooks,
        metrics,
        org,
        legacyLogin,
        calls,
        replay,
        failedAuth,
        oauthRate,
        accountWriteRate,
        auditRetention
    };
}
