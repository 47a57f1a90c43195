import { Router } from 'express';
import type { LinkService } from '../link/linkService.ts';
import { currentAccount } from './auth.ts';
import { parseOrThrow } from './errorMiddleware.ts';
import { actorBody, linkSessionBody, sessionIdParam } from './schemas.ts';

export function linkRouter(links: LinkService): Router {
    const router = Router();

    router.get('/link', (_req, res) => {
        res.json(links.status(currentAccount(res.locals).id));
    });

    router.post('/link-sessions', async (req, res) => {
        const body = parseOrThrow(linkSessionBody, req.body);
        const session = await links.createSession(currentAccount(res.locals).id, body);
        res.status(201).location(`/api/v1/link-sessions/${session.id}`).json(session);
    });

    router.get('/link-sessions/:id', (req, res) => {
        const id = parseOrThrow(sessionIdParam, req.params.id, 'link session id');
        res.json(links.session(currentAccount(res.locals).id, id));
    });

    router.post('/link/verify', async (req, res) => {
        const body = parseOrThrow(actorBody, req.body);
        res.json(await links.verify(currentAccount(res.locals).id, body?.actor));
    });

    router.delete('/link', async (req, res) => {
        const body = parseOrThrow(actorBody, req.body);
        res.json(await links.unlink(currentAccount(res.locals).id, body?.actor));
    });

    return router;
}
