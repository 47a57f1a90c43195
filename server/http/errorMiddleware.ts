import type { ErrorRequestHandler, RequestHandler } from 'express';
import { z } from 'zod';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';

/** A zod failure said as one sentence that names each bad field. */
export function validationError(error: z.ZodError, where = 'request body'): AppError {
    const problems = error.issues.slice(0, 5).map((issue) => {
        const field = issue.path.length ? issue.path.join('.') : where;
        return issue.code === 'unrecognized_keys'
            ? `${field === where ? where : field} has unknown fields: ${issue.keys.join(', ')}`
            : `${field} ${issue.message.replace(/^Invalid input: /, '')}`;
    });
    return new AppError('VALIDATION_FAILED', `The ${where} is not valid: ${problems.join('; ')}.`, 400);
}

export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, where?: string): z.infer<S> {
    const result = schema.safeParse(value);
    if (!result.success) throw validationError(result.error, where);
    return result.data;
}

export function toAppError(error: unknown): AppError {
    if (error instanceof AppError) return error;
    if (error instanceof z.ZodError) return validationError(error);
    const httpError = error as { type?: string; status?: number; expose?: boolean };
    if (httpError.type === 'entity.too.large')
        return new AppError('PAYLOAD_TOO_LARGE', 'The request body is larger than the 16 kB this API accepts.', 413);
    if (httpError.type === 'entity.parse.failed') return new AppError('INVALID_JSON', 'The request body is not valid JSON.', 400);
    if (httpError.type === 'charset.unsupported' || httpError.type === 'encoding.unsupported')
        return new AppError('UNSUPPORTED_ENCODING', 'Send the request body as UTF-8 JSON.', 415);
    if (httpError.expose && httpError.status && httpError.status < 500)
        return new AppError('BAD_REQUEST', 'The request could not be read.', httpError.status);
    // The router could not decode a path parameter: a % not followed by two hex digits.
    if (error instanceof URIError)
        return new AppError('BAD_REQUEST', 'The address is not valid: it holds a % that does not begin an escape such as %2F.', 400);
    return new AppError(
        'INTERNAL',
        'Something went wrong on our side; nothing was changed. Try again, and contact support if it keeps happening.',
        500
    );
}

export const notFound: RequestHandler = (req) => {
    throw new AppError('NOT_FOUND', `There is no ${req.method} ${req.path.slice(0, 100)} in this API.`, 404);
};

export function jsonErrors(logger: Logger): ErrorRequestHandler {
    return (error, req, res, _next) => {
        const appError = toAppError(error);
        if (appError.status >= 500) logger.error({ err: error, path: req.path }, 'request failed');
        if (res.headersSent) return;
        res.locals.errorCode = appError.code;
        const retryAfter = appError.details?.['retryAfterSeconds'];
        if (typeof retryAfter === 'number' && !res.get('Retry-After')) res.set('Retry-After', String(retryAfter));
        res.status(appError.status).json({ error: { code: appError.code, message: appError.message, ...(appError.details ?? {}) } });
    };
}
