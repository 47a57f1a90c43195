import type { Request, RequestHandler, Response } from 'express';
import { AppError } from '../errors.ts';

/** Closes the connection once this answer is sent, rather than reading (draining) the rest of a body nobody will parse. */
export function closeAfterAnswer(req: Request, res: Response): void {
    if (!res.headersSent) res.set('Connection', 'close');
    res.once('finish', () => req.socket.destroySoon());
}

/** Whether the request carries a body that has not been read. */
export const hasUnreadBody = (req: Request): boolean =>
    !req.complete && (Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined);

/**
 * A body announced larger than the route accepts is refused at once, before a byte of it is read,
 * and the connection is closed rather than drained (the body parsers would read it all first).
 */
export function refuseAnnouncedOversize(limitFor: (req: Request) => number, accepts = 'this API accepts'): RequestHandler {
    return (req, res, next) => {
        const announced = req.headers['content-length'];
        if (announced === undefined || Number(announced) <= limitFor(req)) return next();
        closeAfterAnswer(req, res);
        next(
            new AppError('PAYLOAD_TOO_LARGE', `The request body is larger than the ${Math.round(limitFor(req) / 1024)} kB ${accepts}.`, 413)
        );
    };
}
