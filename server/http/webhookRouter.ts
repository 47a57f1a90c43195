import { Router } from 'express';
import { z } from 'zod';
import { AppError } from '../errors.ts';
import type { Webhooks } from '../link/webhooks.ts';
import { currentAccount, requireScope } from './auth.ts';
import { parseOrThrow } from './errorMiddleware.ts';
import { deliveriesQuery, plainText } from './schemas.ts';

export const webhookBody = z.strictObject({ url: plainText(z.string().trim().min(1).max(500)) });

export function webhookRouter(webhooks: Webhooks): Router {
    const router = Router();

    router.get('/webhook', requireScope('platform'), async (_req, res) => {
        const hook = await webhooks.get(currentAccount(res.locals).id);
        if (!hook) throw new AppError('NOT_FOUND', 'This account has no webhook. Set one with PUT /api/v1/webhook.', 404);
        res.json(hook);
    });

    router.get('/webhook/deliveries', requireScope('platform'), async (req, res) => {
        const { limit } = parseOrThrow(deliveriesQuery, req.query, 'query');
        res.json({ deliveries: await webhooks.deliveries(currentAccount(res.locals).id, limit) });
    });

    router.put('/webhook', requireScope('platform'), async (req, res) => {
        const body = parseOrThrow(webhookBody, req.body);
        res.json(await webhooks.set(currentAccount(res.locals).id, body.url));
    });

    router.delete('/webhook', requireScope('platform'), async (_req, res) => {
        res.json({ removed: await webhooks.remove(currentAccount(res.locals).id) });
    });

    return router;
}
