import cookieParser from 'cookie-parser';
import express, { type Express } from 'express';
import helmet from 'helmet';
import { requireAccount, requireMetricsToken } from './http/auth.ts';
import { linkRouter, linkStatusHandler } from './http/apiRouter.ts';
import { requestBudget } from './http/requestBudget.ts';
import { refuseAnnouncedOversize } from './http/bodyLimit.ts';
import { webhookRouter } from './http/webhookRouter.ts';
import { CALLS_BODY_LIMIT, callsBodyParser, callsRouter } from './http/callsRouter.ts';
import { openApiHandler } from './http/openapi.ts';
import { AppError } from './errors.ts';
import { jsonErrors, notFound } from './http/errorMiddleware.ts';
import { newNonce, oauthRouter } from './http/oauthRouter.ts';
import { ConsentForms } from './link/consent.ts';
import type { Logger } from './logger.ts';
import type { Services } from './services.ts';
import { clientAddress, rateLimit } from './http/rateLimit.ts';

export interface AppOptions {
    /** Extra routes mounted before the 404 handler (the demo's preview page). */
    extend?: (app: Express) => void;
    /** Answer only requests whose Host is one of these names (any port): the demo's loopback names, against DNS rebinding. */
    hosts?: string[];
}

/** Builds the HTTP app from the services; it holds no state of its own. */
export function createApp(services: Services, options: AppOptions = {}): Express {
    const { config, logger, accounts, links, webhooks, metrics } = services;
    const app = express();
    app.disable('x-powered-by');
    // X-Forwarded-For names the client only when it comes from a proxy the operator listed; otherwise the peer counts.
    app.set('trust proxy', config.TRUST_PROXY.length > 0 ? config.TRUST_PROXY : false);
    app.set('query parser', 'simple');
    // Answers are per tenant and change under the client; nothing revalidates them, so no body hash per response.
    app.set('etag', false);

    const logRequest = requestLog(logger);

    if (options.hosts) {
        // Before anything else: a page on a name that rebinds to this machine gets nothing, not even a log line's worth.
        const allowed = new Set(options.hosts.map((host) => host.toLowerCase()));
        app.use((req, _res, next) => {
            const host = (req.headers.host ?? '').toLowerCase().replace(/:\d*$/, '');
            if (allowed.has(host)) return next();
            next(
                new AppError(
                    'HOST_NOT_ALLOWED',
                    `This server answers only as ${[...allowed].join(', ')}: open it by one of those names.`,
                    403
                )
            );
        });
    }

    // JSON answers need no script, style or framing, and are never a document: a fixed, strict set.
    const apiHeaders = Object.entries(API_SECURITY_HEADERS);
    // Pages (the popup's, the demo's) get a fresh nonce for their inline script and style.
    const pageHeaders = helmet({
        contentSecurityPolicy: {
            useDefaults: true,
            directives: {
                scriptSrc: ["'self'", (_req, res) => `'nonce-${(res as express.Response).locals.cspNonce}'`],
                styleSrc: ["'self'", (_req, res) => `'nonce-${(res as express.Response).locals.cspNonce}'`],
                frameAncestors: ["'none'"],
                formAction: ["'self'"],
                upgradeInsecureRequests: config.PUBLIC_URL.startsWith('https:') ? [] : null
            }
        },
        crossOriginOpenerPolicy: false,
        // As frame-ancestors 'none' says, for browsers that read only this header.
        xFrameOptions: { action: 'deny' }
    });
    // One layer for every request: its log line, and its security headers.
    app.use((req, res, next) => {
        logRequest(req, res);
        if (req.path.startsWith('/api/')) {
            for (const [name, value] of apiHeaders) res.setHeader(name, value);
            return next();
        }
        res.locals.cspNonce = newNonce();
        pageHeaders(req, res, next);
    });

    // The card and the Apex class poll the link status: its route comes first, and skips the body parsers (a GET has none).
    const authenticate = requireAccount(accounts, services.failedAuth);
    app.get('/api/v1/link', linkStatusHandler(links, authenticate));

    app.get('/healthz', (_req, res) => {
        res.json({ ok: true });
    });

    app.get('/metrics', requireMetricsToken(config.METRICS_TOKEN, config.PUBLIC_URL, services.failedAuth), async (_req, res) => {
        res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    });

    // Unauthenticated: limited per client address before anything reads the store.
    const oauthFlood = rateLimit(services.oauthRate, clientAddress, (res, error) => {
        res.status(error.status)
            .type('text')
            .send(`${error.message} Close this window and start the link again from the Contact Center Link card in a minute.`);
    });
    app.use(
        '/oauth',
        oauthFlood,
        cookieParser(),
        oauthRouter(services.authorization, {
            secureCookies: config.PUBLIC_URL.startsWith('https:'),
            logger,
            consent: new ConsentForms(config.TOKEN_ENCRYPTION_KEY)
        })
    );

    app.get('/api/v1/openapi.json', openApiHandler(config.PUBLIC_URL));

    const api = express.Router();
    // The request's budget starts before anything else, so Salesforce calls made for it stop in time for Apex.
    api.use(requestBudget(config.API_REQUEST_BUDGET_MS));
    // The key first: a request without one is refused before a byte of its body is read or parsed.
    api.use(authenticate);
    // Writes that leave an audit entry are limited per account, so no tenant can grow the audit at will; call actions are not.
    api.use(
        rateLimit(
            services.accountWriteRate,
            (req, res) => (req.method === 'GET' || req.path.startsWith('/calls/') ? undefined : res.locals.account?.id),
            (_res, error) => {
                throw error;
            }
        )
    );
    api.use(refuseAnnouncedOversize((req) => (req.path.startsWith('/calls/') ? kilobytes(CALLS_BODY_LIMIT) : API_BODY_LIMIT)));
    api.use(callsBodyParser());
    api.use(express.json({ limit: API_BODY_LIMIT, strict: true }));
    api.use('/calls', metrics.callActionTimer());
    api.use(linkRouter(links, services.authorization));
    api.use(webhookRouter(webhooks));
    api.use(callsRouter(services.calls, services.replay));
    api.use(notFound);
    app.use('/api/v1', api);

    options.extend?.(app);
    app.use(notFound);
    app.use(jsonErrors(logger));
    return app;
}

const API_BODY_LIMIT = 16 * 1024;
const kilobytes = (limit: string): number => Number.parseInt(limit, 10) * 1024;

/** The headers of every /api answer (OWASP's list for REST APIs); pages get helmet's full set. */
export const API_SECURITY_HEADERS = {
    'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Strict-Transport-Security': 'max-age=31536000; includeSubDomains'
} as const;

/**
 * One line per request, without the query string (the callback's carries the authorization code
 * and the state) or any header: successes at debug, refusals at info, failures at error. Nothing
 * is built for a line the level leaves out.
 */
function requestLog(logger: Logger): (req: express.Request, res: express.Response) => void {
    let sequence = 0;
    return (req, res) => {
        const started = performance.now();
        const id = ++sequence;
        res.once('finish', () => {
            const level = res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'info' : 'debug';
            if (!logger.isLevelEnabled(level)) return;
            const path = req.originalUrl.split('?')[0];
            logger[level](
                {
                    req: { id, method: req.method, path },
                    res: { statusCode: res.statusCode },
                    responseTime: Math.round(performance.now() - started)
                },
                'request completed'
            );
        });
    };
}
