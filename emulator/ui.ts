// The org's own UI on its My Domain: a login form and a stand-in for Setup, enough to model the admin's session.
// Salesforce keeps one session per domain per browser: a login as another user (the popup's OAuth login included)
// replaces it, and the admin's Setup tab then finds its session gone.

import { Access } from './permissions.ts';
import { cookie, formParams, redirect, send, sendHtml, type Ctx } from './http.ts';
import { browserId, cookieNames, currentSession, GENERIC_LOGIN_ERROR, hostLabel, newCsrf, takeCsrf } from './oauth.ts';
import { setupPage, uiLoginPage } from './pages.ts';

export const SETUP_PATH = '/lightning/setup/SetupOneHome/home';

/** Only paths on this host: a login never redirects elsewhere. */
function safeStartUrl(raw: string | null): string {
    return raw && /^\/[A-Za-z0-9/_.-]*$/.test(raw) && !raw.startsWith('//') ? raw : SETUP_PATH;
}

function showUiLogin(ctx: Ctx, startUrl: string, extra: { error?: string; notice?: string; username?: string } = {}, status = 200): void {
    const setCookies: string[] = [];
    const bid = browserId(ctx, setCookies);
    sendHtml(
        ctx,
        status,
        uiLoginPage({ hostLabel: hostLabel(ctx), csrf: newCsrf(ctx, bid), startUrl, ...extra }),
        setCookies.length ? { 'Set-Cookie': setCookies } : {}
    );
}

/** GET /lightning/…: Setup for a UI user of this org, else the login page (saying so when a session was replaced). */
export function handleLightning(ctx: Ctx): void {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return void send(ctx, 405, 'Method Not Allowed', { Allow: 'GET' });
    if (ctx.listener === 'production' || ctx.listener === 'sandbox')
        return void send(ctx, 404, 'Not Found', { 'Content-Type': 'text/plain' });
    const session = currentSession(ctx);
    if (session && !new Access(session.org, session.user).permissions.ApiUserOnly) {
        const name = `${session.user.firstName} ${session.user.lastName}`.trim();
        return sendHtml(ctx, 200, setupPage({ hostLabel: hostLabel(ctx), name, username: session.user.username }));
    }
    const hadCookie = Boolean(ctx.cookies[cookieNames(ctx.port).session]);
    showUiLogin(ctx, ctx.url.pathname, hadCookie ? { notice: 'Your session has ended. Log in again to continue.' } : {});
}

/** POST /login: the UI login; API-only users are refused, as Salesforce refuses them the UI. */
export function handleUiLogin(ctx: Ctx): void {
    if (ctx.method !== 'POST') return void send(ctx, 405, 'Method Not Allowed', { Allow: 'POST' });
    if (ctx.listener === 'production' || ctx.listener === 'sandbox')
        return void send(ctx, 404, 'Not Found', { 'Content-Type': 'text/plain' });
    const form = formParams(ctx);
    const startUrl = safeStartUrl(form.get('startURL'));
    if (!takeCsrf(ctx, form.get('_csrf'))) return showUiLogin(ctx, startUrl, { error: 'Your login page expired. Please log in again.' });
    const username = (form.get('username') ?? '').trim();
    const found = ctx.state.findUserByUsername(username);
    const password = form.get('password') ?? '';
    if (
        !found ||
        found.user.password !== password ||
        !ctx.state.serves(ctx.listener, found.org) ||
        !found.user.active ||
        found.user.frozen
    ) {
        return showUiLogin(ctx, startUrl, { error: GENERIC_LOGIN_ERROR, username });
    }
    if (new Access(found.org, found.user).permissions.ApiUserOnly) {
        return showUiLogin(ctx, startUrl, { error: 'This user is API-only and cannot log in to the Salesforce user interface.', username });
    }
    found.user.lastLoginAt = ctx.state.now();
    const setCookies: string[] = [];
    const session = ctx.state.startUiSession(ctx.listener, found.org, found.user, browserId(ctx, setCookies));
    setCookies.push(cookie(cookieNames(ctx.port).session, session.id));
    redirect(ctx, startUrl, { 'Set-Cookie': setCookies });
}
