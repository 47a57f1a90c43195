import type { RequestHandler } from 'express';
import type { Accounts } from '../accounts.ts';
import { AppError } from '../errors.ts';
import type { AccountRecord } from '../store/types.ts';

declare module 'express-serve-static-core' {
    interface Locals {
        account?: AccountRecord;
        cspNonce?: string;
        errorCode?: string;
    }
}

/** Every /api/v1 request names its account by its API key; tenants never see each other. */
export function requireAccount(accounts: Accounts): RequestHandler {
    return (req, res, next) => {
        const header = req.get('authorization') ?? '';
        const match = /^Bearer\s+(\S{1,200})$/i.exec(header);
        if (!match) {
            res.set('WWW-Authenticate', 'Bearer');
            throw new AppError('UNAUTHORIZED', 'Send the account API key as "Authorization: Bearer <key>".', 401);
        }
        const account = accounts.authenticate(match[1]!);
        if (!account) {
            res.set('WWW-Authenticate', 'Bearer error="invalid_token"');
            throw new AppError('UNAUTHORIZED', 'This API key is not valid. Check the key in the Named Credential, or ask the operator for a new one.', 401);
        }
        res.locals.account = account;
        next();
    };
}

export function currentAccount(locals: { account?: AccountRecord }): AccountRecord {
    if (!locals.account) throw new AppError('UNAUTHORIZED', 'Send the account API key as "Authorization: Bearer <key>".', 401);
    return locals.account;
}
