import { randomBytes } from 'node:crypto';
import express, { Router, type ErrorRequestHandler, type Request, type Response } from 'express';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { consentCookieName, type ConsentForms } from '../link/consent.ts';
import { sessionCookieName, type LinkAuthorization } from '../link/authorization.ts';
import { LinkFailure } from '../link/messages.ts';
import { consentPage } from './consentPage.ts';
import { closeAfterAnswer, refuseAnnouncedOversize } from './bodyLimit.ts';
import { toAppError } from './errorMiddleware.ts';
import { paragraph, popupPage } from './pages.ts';
import { callbackQuery, sessionIdParam } from './schemas.ts';

const WHAT_NEXT = 'Close this window and start again from the Contact Center Link card in Salesforce.';
const OAUTH_BODY_LIMIT = 2 * 1024;

/** The request's cookies that are text: cookie-parser makes a `j:` cookie a JSON value, which no cookie here is. */
function textCookies(req: Request): Record<string, string> {
    const cookies = (req.cookies ?? {}) as Record<string, unknown>;
    return Object.fromEntries(Object.entries(cookies).filter((cookie): cookie is [string, string] => typeof cookie[1] === 'string'));
}

export function oauthRouter(
    authorization: LinkAuthorization,
    options: { secureCookies: boolean; logger: Logger; consent: ConsentForms }
): Router {
    const router = Router();
    const cookieOptions = { httpOnly: true, sameSite: 'lax', secure: options.secureCookies, path: '/oauth' } as const;

    router.use((_req, res, next) => {
        res.set('Cache-Control', 'no-store');
        next();
    });
    // The only body here is the consent form's token: anything announced larger is refused unread, the connection closed.
    router.use(refuseAnnouncedOversize(() => OAUTH_BODY_LIMIT, 'this page accepts'));

    // The popup's first page names the account and writes nothing; only its form (or the card vouching) goes on to Salesforce.
    router.get('/start/:sessionId', async (req, res) => {
        const id = sessionIdParam.safeParse(req.params.sessionId);
        if (!id.success)
            return errorPage(res, 404, 'This link is not valid', `The address of this window is incomplete or altered. ${WHAT_NEXT}`);
        try {
            const view = await authorization.consent(id.data);
            const nonce = options.consent.nonceFor(textCookies(req)[consentCookieName(id.data)]);
            res.cookie(consentCookieName(id.data), nonce, {
                ...cookieOptions,
                maxAge: Math.max(Date.parse(view.expiresAt) - Date.now(), 1000)
            });
            // The form's answer redirects to the login host: CSP's form-action covers that redirect too.
            const csp = res.get('Content-Security-Policy');
            if (csp)
                res.set(
                    'Content-Security-Policy',
                    csp.replace("form-action 'self'", `form-action 'self' ${new URL(view.loginUrl).origin}`)
                );
            res.status(200)
                .type('html')
                .send(consentPage(view, { nonce: res.locals.cspNonce!, formToken: options.consent.token(id.data, nonce) }));
        } catch (error) {
            const appError = toAppError(error);
            errorPage(res, appError.status, headingFor(appError.code), `${appError.message}`);
        }
    });

    router.post(
        '/start/:sessionId',
        express.urlencoded({ extended: false, limit: OAUTH_BODY_LIMIT, parameterLimit: 5 }),
        async (req, res) => {
            const id = sessionIdParam.safeParse(req.params.sessionId);
            if (!id.success)
                return errorPage(res, 404, 'This link is not valid', `The address of this window is incomplete or altered. ${WHAT_NEXT}`);
            const consentNonce = textCookies(req)[consentCookieName(id.data)];
            if (!consentNonce || !options.consent.verify(id.data, consentNonce, (req.body as Record<string, unknown> | undefined)?.token)) {
                return errorPage(
                    res,
                    403,
                    'Confirm in the window the card opened',
                    `This confirmation did not come from the page that names the account, in this browser. ${WHAT_NEXT}`
                );
            }
            try {
                const { redirectTo, cookie } = await authorization.startAuthorization(id.data, consentNonce);
                res.clearCookie(consentCookieName(id.data), { path: '/oauth' });
                res.cookie(cookie.name, cookie.value, { ...cookieOptions, maxAge: cookie.maxAgeMs });
                res.redirect(303, redirectTo);
            } catch (error) {
                const appError = toAppError(error);
                errorPage(res, appError.status, headingFor(appError.code), `${appError.message}`);
            }
        }
    );

    router.get('/callback', async (req, res) => {
        const query = callbackQuery.safeParse(req.query);
        if (!query.success) return errorPage(res, 400, 'This sign-in could not be read', `Salesforce’s answer was malformed. ${WHAT_NEXT}`);
        const { state, code, error, error_description } = query.data;
        try {
            const { sessionId, link, account } = await authorization.completeAuthorization({
                state,
                code,
                error,
                errorDescription: error_description,
                cookies: textCookies(req)
            });
            res.clearCookie(sessionCookieName(sessionId), { path: '/oauth' });
            res.status(200)
                .type('html')
                .send(
                    popupPage({
                        nonce: res.locals.cspNonce!,
                        title: 'Linked',
                        heading: 'Linked to Salesforce',
                        tone: 'success',
                        body:
                            paragraph(
                                `The contact-center account “${account.name}” (${account.id}) now acts in Salesforce org ${link.orgId} as ${link.username}.`
                            ) +
                            paragraph(
                                'This window closes by itself; the card in Salesforce shows the link. If you did not mean to link this account, unlink it from the card.'
                            ),
                        message: { type: 'ccl:link', sessionId, state: 'linked' },
                        messageTargets: await authorization.sessionCardOrigins(sessionId),
                        closeAfterMs: 1500,
                        closeHint: 'This tab cannot close itself: you can close it now. The card in Salesforce shows the link.'
                    })
                );
        } catch (failure) {
            const appError = toAppError(failure);
            const sessionId = failure instanceof LinkFailure ? failure.sessionId : undefined;
            if (sessionId) res.clearCookie(sessionCookieName(sessionId), { path: '/oauth' });
            options.logger.info({ code: appError.code }, 'link callback refused');
            res.status(appError.status)
                .type('html')
                .send(
                    popupPage({
                        nonce: res.locals.cspNonce!,
                        title: 'Not linked',
                        heading: headingFor(appError.code),
                        tone: 'error',
                        body:
                            paragraph(failure instanceof LinkFailure ? failure.pageMessage : appError.message) +
                            paragraph(`Nothing was changed: any previous link stays as it was. Error code: ${appError.code}.`),
                        message: sessionId ? { type: 'ccl:link', sessionId, state: 'failed' } : undefined,
                        messageTargets: sessionId ? await authorization.sessionCardOrigins(sessionId) : undefined
                    })
                );
        }
    });

    // What the routes above could not read (an unknown address, one that does not decode) still gets a page, not JSON.
    router.use((req) => {
        throw new AppError('NOT_FOUND', `There is no page ${req.originalUrl.split('?')[0]!.slice(0, 100)}.`, 404);
    });
    router.use(((error, req, res, next) => {
        if (res.headersSent) return next(error);
        const appError = toAppError(error);
        // A body too large for the parser (sent without a length): the rest of it is not read either.
        if (appError.status === 413) closeAfterAnswer(req, res);
        if (appError.status >= 500) return next(error);
        errorPage(res, appError.status, 'This link is not valid', `${appError.message} ${WHAT_NEXT}`);
    }) as ErrorRequestHandler);

    return router;
}

function errorPage(res: Response, status: number, heading: string, text: string): void {
    res.status(status)
        .type('html')
        .send(popupPage({ nonce: res.locals.cspNonce!, title: 'Not linked', heading, tone: 'error', body: paragraph(text) }));
}

function headingFor(code: string): string {
    switch (code) {
        case 'ACCESS_DENIED':
            return 'Access was denied';
        case 'ORG_MISMATCH':
            return 'Wrong Salesforce org';
        case 'API_USER_LIMIT_REACHED':
            return 'This API user already serves five accounts';
        case 'API_NOT_ENABLED':
            return 'This user cannot use the API';
        case 'LINK_SESSION_EXPIRED':
            return 'This link expired';
        case 'STATE_MISMATCH':
            return 'This sign-in cannot be trusted';
        case 'APP_NOT_INSTALLED':
            return 'The Contact Center Link app is not installed in this org';
        case 'LINK_SESSION_COMPLETED':
            return 'This link was already used';
        default:
            return 'The link did not complete';
    }
}

export const newNonce = (): string => randomBytes(16).toString('base64');
