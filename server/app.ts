import cookieParser from 'cookie-parser';
import express, { type Express } from 'express';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import { requireAccount } from './http/auth.ts';
import { linkRouter } from './http/apiRouter.ts';
import { webhookRouter } from './http/webhookRouter.ts';
import { AppError } from './errors.ts';
import { safeEqual } from './crypto.ts';
import { jsonErrors, notFound } from './http/errorMiddleware.ts';
import { newNonce, oauthRouter } from './http/oauthRouter.ts';
import type { Services } from './services.ts';

export interface AppOptions {
    /** Extra routes mounted before the 404 handler (the demo's preview page). */
    extend?: (app: Express) => void;
}

/** Builds the HTTP app from the services; it holds no state of its own. */
export function createApp(services: Services, options: AppOptions = {}): Express {
    const { config, logger, accounts, links, webhooks, metrics } = services;
    const app = express();
    app.disable('x-powered-by');
    app.set('trust proxy', 'loopback');
    app.set('query parser', 'simple');

    app.use(
        pinoHttp({
            logger,
            // Paths only: the callback's query string carries the authorization code and state.
            serializers: {
                req: (req: { method: string; url: string; id: unknown }) => ({ id: req.id, method: req.method, path: req.url.split('?')[0] }),
                // Headers stay out: a redirect's Location carries the OAuth state.
                res: (res: { statusCode: number }) => ({ statusCode: res.statusCode })
            },
            customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'info' : 'debug')
        })
    );
    app.use((_req, res, next) => {
        res.locals.cspNonce = newNonce();
        next();
    });
    app.use(
        helmet({
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
            crossOriginOpenerPolicy: false
        })
    );

    app.get('/healthz', (_req, res) => {
        res.json({ ok: true });
    });

    app.get('/metrics', async (req, res) => {
        if (config.METRICS_TOKEN && !safeEqual(req.get('authorization') ?? '', `Bearer ${config.METRICS_TOKEN}`)) {
            throw new AppError('UNAUTHORIZED', 'Send the metrics token as "Authorization: Bearer <METRICS_TOKEN>".', 401);
        }
        res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    });

    app.use('/oauth', cookieParser(), oauthRouter(links, { secureCookies: config.PUBLIC_URL.startsWith('https:'), logger }));

    const api = express.Router();
    api.use(express.json({ limit: '16kb', strict: true }));
    api.use(requireAccount(accounts));
    api.use('/calls', metrics.callActionTimer());
    api.use(linkRouter(links));
    api.use(webhookRouter(webhooks));
    api.use(notFound);
    app.use('/api/v1', api);

    options.extend?.(app);
    app.use(notFound);
    app.use(jsonErrors(logger));
    return app;
}
