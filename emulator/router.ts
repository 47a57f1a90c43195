// Dispatch for one listener: classify, count, apply latency and faults, then hand to the endpoint.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { handleControl } from './control.ts';
import { escapeHtml, parseCookies, readBody, send, sendHtml, sendJson, sleep, type Ctx } from './http.ts';
import type { OrgKey, OriginKey } from './model.ts';
import {
    grantTypeOf,
    handleAuthorize,
    handleIdentity,
    handleRevoke,
    handleToken,
    handleUserinfo,
    hostLabel,
    orgOfOAuthRequest
} from './oauth.ts';
import { maintenancePage } from './pages.ts';
import { classifyRest, handleRestRequest } from './rest.ts';
import { handleSoapLogin, orgOfSoapLogin, SOAP_LOGIN_PATH } from './soap.ts';
import { handleLightning, handleUiLogin } from './ui.ts';
import type { EmulatorState, FaultMode, RequestKind } from './state.ts';

type Route = { kind: RequestKind | null; run: (ctx: Ctx) => void | Promise<void>; rest: boolean };

function route(ctx: Ctx): Route | undefined {
    const path = ctx.url.pathname;
    if (path === '/services/oauth2/authorize') {
        const action = ctx.method === 'POST' ? new URLSearchParams(ctx.body.toString('utf8')).get('_action') : null;
        return { kind: action === 'login' ? 'login' : action === 'approve' ? 'approve' : 'authorize', run: handleAuthorize, rest: false };
    }
    if (path === '/services/oauth2/token') {
        return { kind: grantTypeOf(ctx) === 'refresh_token' ? 'refresh' : 'token', run: handleToken, rest: false };
    }
    if (path === '/services/oauth2/revoke') return { kind: 'revoke', run: handleRevoke, rest: false };
    if (path === '/services/oauth2/userinfo') return { kind: 'identity', run: handleUserinfo, rest: false };
    const id = /^\/id\/([A-Za-z0-9]{15,18})\/([A-Za-z0-9]{15,18})\/?$/.exec(path);
    if (id) return { kind: 'identity', run: (c) => handleIdentity(c, id[1]!, id[2]!), rest: false };
    const soap = SOAP_LOGIN_PATH.exec(path);
    if (soap) return { kind: 'soap-login', run: (c) => handleSoapLogin(c, soap[1]!), rest: false };
    if (path === '/services/data' || path.startsWith('/services/data/')) {
        return { kind: classifyRest(ctx.method, path), run: handleRestRequest, rest: true };
    }
    if (path === '/' && (ctx.method === 'GET' || ctx.method === 'HEAD')) return { kind: null, run: landing, rest: false };
    if (path.startsWith('/lightning/')) return { kind: null, run: handleLightning, rest: false };
    if (path === '/login') return { kind: null, run: handleUiLogin, rest: false };
    return undefined;
}

function landing(ctx: Ctx): void {
    const st = ctx.state;
    const what =
        ctx.listener === 'production' || ctx.listener === 'sandbox'
            ? `This listener stands for ${ctx.listener === 'production' ? 'https://login.salesforce.com' : 'https://test.salesforce.com'}.`
            : `This listener is the My Domain of ${escapeHtml(st.orgModel(ctx.listener).name)} (org id ${st.orgModel(ctx.listener).orgId}).`;
    sendHtml(
        ctx,
        200,
        `<!doctype html><meta charset="utf-8"><title>Salesforce emulator</title><body style="font-family:Arial,sans-serif;margin:40px">
<h1>Salesforce emulator</h1><p>${escapeHtml(hostLabel(ctx))}</p><p>${what}</p>
<p>OAuth endpoints live under <code>/services/oauth2/</code>, the REST API under <code>/services/data/</code>, and the controls under <code>/__emulator/</code>.</p></body>`
    );
}

function applyFault(ctx: Ctx, how: FaultMode, rest: boolean): boolean {
    switch (how) {
        case 'reset':
            ctx.req.socket.destroy();
            return true;
        case 'http500':
            if (rest)
                sendJson(ctx, 500, [
                    {
                        errorCode: 'UNKNOWN_EXCEPTION',
                        message:
                            'An unexpected error occurred. Please include this ErrorId if you contact support: 1473096153-57142 (-1391424318)'
                    }
                ]);
            else sendJson(ctx, 500, { error: 'server_error', error_description: 'internal server error' });
            return true;
        case 'http503':
            if (rest) sendJson(ctx, 503, [{ errorCode: 'SERVER_UNAVAILABLE', message: 'Server temporarily unavailable' }]);
            else sendJson(ctx, 503, { error: 'temporarily_unavailable', error_description: 'service temporarily unavailable' });
            return true;
        case 'html503':
            sendHtml(ctx, 503, maintenancePage());
            return true;
        case 'malformed':
            send(ctx, 200, rest ? '{"totalSize":1,"done":true,"records":[{"attributes":' : '{"access_token":"00D', {
                'Content-Type': 'application/json;charset=UTF-8'
            });
            return true;
        case 'slow':
            return false;
    }
}

export function makeHandler(
    state: EmulatorState,
    listener: OriginKey,
    quiet: boolean
): (req: IncomingMessage, res: ServerResponse) => void {
    return (req, res) => {
        void (async () => {
            const origin = state.origins[listener];
            const port = Number(new URL(origin).port);
            let body: Buffer;
            try {
                body = await readBody(req);
            } catch {
                if (!res.headersSent) {
                    res.writeHead(413, { 'Content-Type': 'text/plain' });
                    res.end('Request body too large');
                }
                return;
            }
            const ctx: Ctx = {
                state,
                listener,
                origin,
                port,
                req,
                res,
                method: (req.method ?? 'GET').toUpperCase(),
                url: new URL(req.url ?? '/', origin),
                body,
                cookies: parseCookies(req.headers.cookie),
                quiet
            };
            try {
                if (ctx.url.pathname === '/__emulator' || ctx.url.pathname.startsWith('/__emulator/')) return handleControl(ctx);
                const r = route(ctx);
                if (!r) {
                    send(ctx, 404, 'Not Found', { 'Content-Type': 'text/plain' });
                    return;
                }
                let orgKey: OrgKey | undefined;
                if (r.kind) {
                    if (listener === 'acme' || listener === 'acmeUat') orgKey = listener;
                    else if (r.kind === 'soap-login') orgKey = orgOfSoapLogin(ctx);
                    else orgKey = orgOfOAuthRequest(ctx, r.kind) as OrgKey | undefined;
                    state.count(r.kind, orgKey);
                    const fault = state.takeFault(r.kind, orgKey);
                    if (fault?.how === 'slow') await sleep(fault.delayMs);
                    else if (fault && applyFault(ctx, fault.how, r.rest)) return;
                }
                // refreshes spend the latency while marked in flight (see oauth.ts)
                if (r.kind !== 'refresh') await sleep(state.latency());
                await r.run(ctx);
            } catch (err) {
                if (!quiet) console.error('[emulator] unexpected error', err);
                if (!res.headersSent)
                    sendJson(ctx, 500, [{ errorCode: 'UNKNOWN_EXCEPTION', message: 'An unexpected error occurred in the emulator.' }]);
            }
        })();
    };
}
