import { Router, type RequestHandler, type Response } from 'express';
import type { LinkAuthorization } from '../link/authorization.ts';
import type { LinkService } from '../link/linkService.ts';
import type { LinkStatusView } from '../link/statusView.ts';
import type { Actor } from '../store/types.ts';
import { currentAccount, requireScope } from './auth.ts';
import { parseOrThrow } from './errorMiddleware.ts';
import { requestDeadline } from './requestBudget.ts';
import { activityQuery, actorBody, linkSessionBody, sessionIdParam } from './schemas.ts';

/** Who the caller says asked: kept, but marked as said rather than proven. */
const claimed = (actor: Omit<Actor, 'claimed'> | undefined): Actor | undefined => (actor ? { ...actor, claimed: true } : undefined);

/** Routes of /api/v1 that the app serves itself, ahead of `linkRouter` (see `linkStatusHandler`). */
export const APP_LEVEL_ROUTES = ['get /link'] as const;

/**
 * GET /api/v1/link: the card and the Apex class poll it, so the app serves it as one handler ahead of the API router,
 * skipping the body parsers and limits a GET never needs (docs/performance.md measured the difference).
 */
export function linkStatusHandler(links: LinkService, authenticate: RequestHandler): RequestHandler {
    const linkScope = requireScope('link');
    // A view stays the same object while LinkService keeps it (it is frozen): serialised once, not per request.
    const bodies = new WeakMap<LinkStatusView, Buffer>();
    const send = (res: Response, view: LinkStatusView) => {
        let body = bodies.get(view);
        if (!body) {
            body = Buffer.from(JSON.stringify(view));
            if (Object.isFrozen(view)) bodies.set(view, body);
        }
        res.statusCode = 200;
        res.setHeader('Content-Type', 'application/json; charset=utf-8');
        res.setHeader('Content-Length', body.length);
        res.end(body);
    };
    return (req, res, next) => {
        void authenticate(req, res, (error?: unknown) => {
            if (error) return next(error);
            linkScope(req, res, (denied?: unknown) => {
                if (denied) return next(denied);
                links.status(currentAccount(res.locals).id).then((view) => send(res, view), next);
            });
        });
    };
}

export function linkRouter(links: LinkService, authorization: LinkAuthorization): Router {
    const router = Router();

    // The link's history: the org's admin (the card) and the platform both may read it.
    router.get('/link/activity', requireScope('link', 'platform'), async (req, res) => {
        const query = parseOrThrow(activityQuery, req.query, 'query');
        res.json(await links.activity(currentAccount(res.locals).id, query));
    });

    router.post('/link-sessions', requireScope('link'), async (req, res) => {
        const body = parseOrThrow(linkSessionBody, req.body);
        const session = await authorization.createSession(currentAccount(res.locals).id, {
            ...body,
            initiatedBy: claimed(body.initiatedBy)
        });
        res.status(201).location(`/api/v1/link-sessions/${session.id}`).json(session);
    });

    router.get('/link-sessions/:id', requireScope('link'), async (req, res) => {
        const id = parseOrThrow(sessionIdParam, req.params.id, 'link session id');
        res.json(await authorization.session(currentAccount(res.locals).id, id));
    });

    router.post('/link/verify', requireScope('link'), async (req, res) => {
        const body = parseOrThrow(actorBody, req.body);
        res.json(await links.verify(currentAccount(res.locals).id, claimed(body?.actor), requestDeadline(res.locals)));
    });

    router.delete('/link', requireScope('link'), async (req, res) => {
        const body = parseOrThrow(actorBody, req.body);
        res.json(await links.unlink(currentAccount(res.locals).id, claimed(body?.actor), requestDeadline(res.locals)));
    });

    return router;
}
