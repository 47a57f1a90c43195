import type { RequestHandler } from 'express';
import type { Accounts } from '../accounts.ts';
import { AppError } from '../errors.ts';
import type { AccountRecord } from '../store/types.ts';
import { tooManyFailures, type FailedAuthLimiter } from './abuse.ts';

declare module 'express-serve-static-core' {
    interface Locals {
        account?: AccountRecord;
        cspNonce?: string;
        errorCode?: string;
    }
}

/**
 * Every /api/v1 request names its account by its API key; tenants never see each other. Wrong or
 * missing keys are counted per address by `limiter`: slowed, then refused with 429 and Retry-After.
 */
export function requireAccount(accounts: Accounts, limiter?: FailedAuthLimiter): RequestHandler {
    return (req, res, next) => {
        const header = req.get('authorization') ?? '';
        const match = /^Bearer\s+(\S{1,200})$/i.exec(header);
        const account = match ? accounts.authenticate(match[1]!) : undefined;
        if (account) {
            res.locals.account = account;
            return next();
        }
        res.set('WWW-Authenticate', match ? 'Bearer error="invalid_token"' : 'Bearer');
        const error = match
            ? new AppError('UNAUTHORIZED', 'This API key is not valid. Check the key in the Named Credential, or ask the operator for a new one.', 401)
            : new AppError('UNAUTHORIZED', 'Send the account API key as "Authorization: Bearer <key>".', 401);
        const verdict = limiter?.fail(req.ip ?? req.socket.remoteAddress ?? 'unknown');
        if (verdict?.refuseForMs) {
            res.set('Retry-After', String(Math.ceil(verdict.refuseForMs / 1000)));
            throw tooManyFailures(verdict.refuseForMs);
        }
        if (verdict?.delayMs) {
            setTimeout(() => next(error), verdict.delayMs).unref();
            return;
        }
        throw error;
    };
}

export function currentAccount(locals: { account?: AccountRecord }): AccountRecord {
    if (!locals.account) throw new AppError('UNAUTHORIZED', 'Send the account API key as "Authorization: Bearer <key>".', 401);
    return locals.account;
}
