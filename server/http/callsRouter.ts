import express, { Router, type RequestHandler } from 'express';
import type { CallActions } from '../calls/callActions.ts';
import type { KeptTaskReplay } from '../calls/replay.ts';
import { callIdParam, callSettingsBody, lookupBody, taskBody } from '../calls/schemas.ts';
import { AppError } from '../errors.ts';
import { currentAccount, requireScope } from './auth.ts';
import { parseOrThrow } from './errorMiddleware.ts';
import { keptDecisionBody } from './schemas.ts';
import { requestDeadline } from './requestBudget.ts';

/** A Task description may hold 32,000 characters, more than the 16 kB the rest of the API accepts. */
export const CALLS_BODY_LIMIT = '128kb';

/** The body parser of /calls/*, mounted before the API's general one (which then skips the parsed body). */
export function callsBodyParser(): RequestHandler {
    const parse = express.json({ limit: CALLS_BODY_LIMIT, strict: true });
    return (req, res, next) => {
        if (!req.path.startsWith('/calls/')) return next();
        parse(req, res, (error?: unknown) => {
            if ((error as { type?: string } | undefined)?.type === 'entity.too.large') {
                return next(new AppError('PAYLOAD_TOO_LARGE', 'The request body is larger than the 128 kB the calls API accepts.', 413));
            }
            next(error);
        });
    };
}

export function callsRouter(calls: CallActions, replay: KeptTaskReplay): Router {
    const router = Router();

    router.post('/calls/lookup', requireScope('platform'), async (req, res) => {
        const body = parseOrThrow(lookupBody, req.body);
        res.set('Cache-Control', 'no-store');
        const account = currentAccount(res.locals);
        res.json(await calls.lookup(account.id, body, requestDeadline(res.locals), { settings: account.callSettings?.matching }));
    });

    router.put('/calls/:callId/task', requireScope('platform'), async (req, res) => {
        const callId = parseOrThrow(callIdParam, req.params.callId, 'call id');
        const body = parseOrThrow(taskBody, req.body);
        const account = currentAccount(res.locals);
        const result = await calls.logTask(account.id, callId, body, requestDeadline(res.locals), { task: account.callSettings?.task });
        if ('state' in result) res.status(202).json(result);
        else res.status(result.created ? 201 : 200).json(result);
    });

    router.get('/calls/:callId/task', requireScope('platform'), async (req, res) => {
        const callId = parseOrThrow(callIdParam, req.params.callId, 'call id');
        res.set('Cache-Control', 'no-store');
        res.json(await calls.taskState(currentAccount(res.locals).id, callId));
    });

    // The account's kept Tasks: the org's admin (the card) and the platform both may read them; the admin decides.
    router.get('/calls/kept', requireScope('link', 'platform'), async (_req, res) => {
        res.set('Cache-Control', 'no-store');
        res.json(await calls.keptSummary(currentAccount(res.locals).id));
    });

    router.post('/calls/kept/decision', requireScope('link'), async (req, res) => {
        const body = parseOrThrow(keptDecisionBody, req.body);
        const actor = body.actor ? { ...body.actor, claimed: true as const } : undefined;
        res.json(await replay.decide(currentAccount(res.locals).id, body.choice, actor));
    });

    router.get('/calls/settings', requireScope('link', 'platform'), async (_req, res) => {
        res.json(await calls.settings(currentAccount(res.locals).id));
    });

    router.put('/calls/settings', requireScope('link', 'platform'), async (req, res) => {
        const body = parseOrThrow(callSettingsBody, req.body);
        res.json(await calls.updateSettings(currentAccount(res.locals).id, body, requestDeadline(res.locals)));
    });

    return router;
}
