import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { safeEqual } from '../crypto.ts';
import { keyScopes, type Accounts } from '../accounts.ts';
import { hashApiKey } from '../crypto.ts';
import { AppError } from '../errors.ts';
import type { AccountRecord, KeyScope } from '../store/types.ts';
import { tooManyFailures, type FailedAuthLimiter } from './abuse.ts';
import { closeAfterAnswer, hasUnreadBody } from './bodyLimit.ts';

declare module 'express-serve-static-core' {
    interface Locals {
        account?: AccountRecord;
        /** What the request's key may do. */
        scopes?: KeyScope[];
        cspNonce?: string;
        errorCode?: string;
    }
}

/**
 * Every /api/v1 request names its account by its API key; tenants never see each other. Wrong or
 * missing keys are counted per address by `limiter`: slowed, then refused with 429 and Retry-After.
 */
export function requireAccount(accounts: Accounts, limiter?: FailedAuthLimiter): RequestHandler {
    return async (req, res, next) => {
        const header = req.get('authorization') ?? '';
        const match = /^Bearer\s+(\S{1,200})$/i.exec(header);
        let account: AccountRecord | undefined;
        try {
            account = match ? await accounts.authenticate(match[1]!) : undefined;
        } catch (error) {
            return next(error);
        }
        if (account) {
            res.locals.account = account;
            res.locals.scopes = keyScopes(account, hashApiKey(match![1]!));
            return next();
        }
        res.set('WWW-Authenticate', match ? 'Bearer error="invalid_token"' : 'Bearer');
        const error = match
            ? new AppError(
                  'UNAUTHORIZED',
                  'This API key is not valid. Check the key in the Named Credential, or ask the operator for a new one.',
                  401
              )
            : new AppError('UNAUTHORIZED', 'Send the account API key as "Authorization: Bearer <key>".', 401);
        return refuse(req, res, next, error, limiter);
    };
}

/**
 * A failed authentication: counted per address, answered at once, later, or with 429 once the address is refused.
 * Always answered as a failure: a failure the limiter cannot count is answered at once (`fail` never rejects).
 */
async function refuse(req: Request, res: Response, next: NextFunction, error: AppError, limiter?: FailedAuthLimiter): Promise<void> {
    // Its body is never parsed: the connection closes after the answer instead of reading the rest of it.
    if (hasUnreadBody(req)) closeAfterAnswer(req, res);
    const verdict = await limiter?.fail(req.ip ?? req.socket.remoteAddress ?? 'unknown');
    if (verdict?.refuseForMs) {
        res.set('Retry-After', String(Math.ceil(verdict.refuseForMs / 1000)));
        return next(tooManyFailures(verdict.refuseForMs));
    }
    if (verdict?.delayMs) {
        setTimeout(() => next(error), verdict.delayMs).unref();
        return;
    }
    next(error);
}

/**
 * /metrics: the token when one is set (wrong ones count as failed authentications); without one, open only to a
 * backend on plain http (the demo, a private network), never on an https PUBLIC_URL.
 */
export function requireMetricsToken(token: string | undefined, publicUrl: string, limiter?: FailedAuthLimiter): RequestHandler {
    return async (req, res, next) => {
        if (!token) {
            if (!publicUrl.startsWith('https:')) return next();
            return next(
                new AppError(
                    'METRICS_TOKEN_REQUIRED',
                    'Metrics are not served on a public https address without a token. Set METRICS_TOKEN and send it as "Authorization: Bearer <METRICS_TOKEN>".',
                    403
                )
            );
        }
        if (safeEqual(req.get('authorization') ?? '', `Bearer ${token}`)) return next();
        res.set('WWW-Authenticate', 'Bearer');
        return refuse(
            req,
            res,
            next,
            new AppError('UNAUTHORIZED', 'Send the metrics token as "Authorization: Bearer <METRICS_TOKEN>".', 401),
            limiter
        );
    };
}

const SCOPE_HELP: Record<KeyScope, string> = {
    link: 'Managing the link needs the org’s key (the one in the org’s External Credential).',
    platform: 'Call actions and the webhook need the platform’s key, not the key in the org’s External Credential.'
};

/** Refuses a valid key that lacks the scope (or every one of several): 403 FORBIDDEN, saying which key to use. */
export function requireScope(...scopes: [KeyScope, ...KeyScope[]]): RequestHandler {
    return (_req, res, next) => {
        if (scopes.some((scope) => res.locals.scopes?.includes(scope))) return next();
        next(new AppError('FORBIDDEN', `This key may not do this. ${SCOPE_HELP[scopes[0]]}`, 403));
    };
}

export function currentAccount(locals: { account?: AccountRecord }): AccountRecord {
    if (!locals.account) throw new AppError('UNAUTHORIZED', 'Send the account API key as "Authorization: Bearer <key>".', 401);
    return locals.account;
}
