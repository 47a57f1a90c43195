// OAuth 2.0 endpoints: authorize (login and approval pages), token, revoke, userinfo and the identity URL.

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { cookie, formParams, redirect, send, sendHtml, sendJson, sleep, type Ctx } from './http.ts';
import { normalizeId, to15 } from './ids.ts';
import type { OrgModel, OriginKey, UserModel } from './model.ts';
import { approvePage, errorPage, loginPage } from './pages.ts';
import { CODE_TTL_MS, randomToken, type AccessGrant, type EmulatorClient, type RefreshFamily } from './state.ts';

const KNOWN_SCOPES = new Set([
    'api',
    'refresh_token',
    'offline_access',
    'id',
    'profile',
    'email',
    'address',
    'phone',
    'openid',
    'web',
    'full',
    'chatter_api',
    'visualforce',
    'custom_permissions'
]);
const DEFAULT_SCOPES = ['api', 'refresh_token', 'id'];
const AUTHORIZE_PARAMS = [
    'response_type',
    'client_id',
    'redirect_uri',
    'state',
    'scope',
    'code_challenge',
    'code_challenge_method',
    'display',
    'prompt',
    'login_hint',
    'nonce'
];
const CSRF_TTL_MS = 30 * 60_000;
const VERIFIER_RE = /^[A-Za-z0-9\-._~]{43,128}$/;
export const GENERIC_LOGIN_ERROR =
    "Please check your username and password. If you still can't log in, contact your Salesforce administrator.";

export function cookieNames(port: number): { session: string; browser: string } {
    // cookies ignore ports, so each listener namespaces its own
    return { session: `sfem_sid_${port}`, browser: `sfem_bid_${port}` };
}

export function hostLabel(ctx: Ctx): string {
    switch (ctx.listener) {
        case 'production':
            return `login.salesforce.com (emulated) · ${ctx.origin}`;
        case 'sandbox':
            return `test.salesforce.com (emulated) · ${ctx.origin}`;
        default: {
            const org = ctx.state.orgModel(ctx.listener);
            return `${org.name} My Domain (emulated) · ${ctx.origin}`;
        }
    }
}

function oauthError(ctx: Ctx, error: string, description: string, status = 400): void {
    sendJson(ctx, status, { error, error_description: description });
}

function parseScopes(raw: string | null): string[] {
    const list = (raw ?? '').split(/[\s+]+/).filter(Boolean);
    return list.length ? [...new Set(list)] : [...DEFAULT_SCOPES];
}

function withQuery(base: string, params: Record<string, string | undefined>): string {
    const u = new URL(base);
    for (const [k, v] of Object.entries(params)) if (v !== undefined) u.searchParams.append(k, v);
    return u.toString();
}

// ------------------------------------------------------------------ authorize

interface AuthorizeRequest {
    client: EmulatorClient;
    params: Record<string, string>;
    redirectUri: string;
    scopes: string[];
    state?: string;
    prompt: string[];
    popup: boolean;
}

/** Validates the authorize parameters; answers the error itself (page or redirect) and returns undefined on failure. */
function validateAuthorize(ctx: Ctx, source: URLSearchParams): AuthorizeRequest | undefined {
    const params: Record<string, string> = {};
    for (const k of AUTHORIZE_PARAMS) {
        const v = source.get(k);
        if (v !== null) params[k] = v;
    }
    const label = hostLabel(ctx);
    const client = params['client_id'] ? ctx.state.client(params['client_id']) : undefined;
    if (!client) {
        sendHtml(ctx, 400, errorPage({ hostLabel: label, error: 'invalid_client_id', description: 'client identifier invalid' }));
        return undefined;
    }
    const redirectUri = params['redirect_uri'];
    if (!redirectUri || !client.redirectUris.includes(redirectUri)) {
        sendHtml(
            ctx,
            400,
            errorPage({ hostLabel: label, error: 'redirect_uri_mismatch', description: 'redirect_uri must match configuration' })
        );
        return undefined;
    }
    const state = params['state'];
    const back = (error: string, description: string): undefined => {
        redirect(ctx, withQuery(redirectUri, { error, error_description: description, state }));
        return undefined;
    };
    if (params['response_type'] !== 'code') return back('unsupported_response_type', 'response type not supported');
    const scopes = parseScopes(params['scope'] ?? null);
    if (scopes.some((s) => !KNOWN_SCOPES.has(s))) return back('invalid_scope', 'the requested scope is not allowed');
    const challenge = params['code_challenge'];
    const method = params['code_challenge_method'];
    if (challenge !== undefined) {
        const m = method ?? 'plain';
        if (m !== 'S256' && m !== 'plain') return back('invalid_request', 'invalid code_challenge_method');
        if (m === 'S256' && !/^[A-Za-z0-9_-]{43}$/.test(challenge)) return back('invalid_request', 'invalid code_challenge');
        if (m === 'plain' && !VERIFIER_RE.test(challenge)) return back('invalid_request', 'invalid code_challenge');
    } else if (method !== undefined) {
        return back('invalid_request', 'missing code_challenge');
    }
    const prompt = (params['prompt'] ?? '').split(/\s+/).filter(Boolean);
    return { client, params, redirectUri, scopes, state, prompt, popup: params['display'] === 'popup' };
}

export function currentSession(ctx: Ctx): { org: OrgModel; user: UserModel; id: string } | undefined {
    const sid = ctx.cookies[cookieNames(ctx.port).session];
    if (!sid) return undefined;
    const s = ctx.state.sessions.get(sid);
    if (!s || s.listener !== ctx.listener) return undefined;
    const org = ctx.state.orgModel(s.orgKey);
    const user = org.users.find((u) => u.id === s.userId);
    if (!user || !user.active || user.frozen) return undefined;
    return { org, user, id: sid };
}

export function browserId(ctx: Ctx, setCookies: string[]): string {
    const name = cookieNames(ctx.port).browser;
    let bid = ctx.cookies[name];
    if (!bid) {
        bid = randomToken(16);
        setCookies.push(cookie(name, bid));
    }
    return bid;
}

export function newCsrf(ctx: Ctx, bid: string, sessionId?: string): string {
    const token = randomToken(24);
    ctx.state.csrf.set(token, { listener: ctx.listener, browserId: bid, sessionId, expiresAt: ctx.state.now() + CSRF_TTL_MS });
    return token;
}

export function takeCsrf(ctx: Ctx, token: string | null, sessionId?: string): boolean {
    if (!token) return false;
    const entry = ctx.state.csrf.get(token);
    if (!entry) return false;
    ctx.state.csrf.delete(token);
    const bid = ctx.cookies[cookieNames(ctx.port).browser];
    return entry.listener === ctx.listener && entry.browserId === bid && entry.expiresAt > ctx.state.now() && entry.sessionId === sessionId;
}

function showLogin(ctx: Ctx, ar: AuthorizeRequest, error?: string, username?: string): void {
    const setCookies: string[] = [];
    const bid = browserId(ctx, setCookies);
    const html = loginPage({ hostLabel: hostLabel(ctx), popup: ar.popup, params: ar.params, csrf: newCsrf(ctx, bid), error, username });
    sendHtml(ctx, 200, html, setCookies.length ? { 'Set-Cookie': setCookies } : {});
}

function showApprove(
    ctx: Ctx,
    ar: AuthorizeRequest,
    session: { org: OrgModel; user: UserModel; id: string },
    setCookies: string[] = []
): void {
    const bid = browserId(ctx, setCookies);
    const html = approvePage({
        hostLabel: hostLabel(ctx),
        popup: ar.popup,
        params: ar.params,
        csrf: newCsrf(ctx, bid, session.id),
        clientName: ar.client.name ?? ar.client.clientId,
        username: session.user.username,
        orgName: session.org.name,
        scopes: ar.scopes
    });
    sendHtml(ctx, 200, html, setCookies.length ? { 'Set-Cookie': setCookies } : {});
}

function issueCode(ctx: Ctx, ar: AuthorizeRequest, org: OrgModel, user: UserModel): void {
    const code = `aPrx${randomToken(48)}`;
    const method =
        ar.params['code_challenge'] !== undefined ? ((ar.params['code_challenge_method'] ?? 'plain') as 'S256' | 'plain') : undefined;
    ctx.state.codes.set(code, {
        code,
        clientId: ar.client.clientId,
        redirectUri: ar.redirectUri,
        orgKey: org.key,
        orgId: org.orgId,
        userId: user.id,
        listener: ctx.listener,
        scopes: ar.scopes,
        challenge: ar.params['code_challenge'],
        challengeMethod: method,
        expiresAt: ctx.state.now() + CODE_TTL_MS,
        used: false
    });
    redirect(ctx, withQuery(ar.redirectUri, { code, state: ar.state }));
}

/** Salesforce's answer (since September 2025) when a user without the permissions authorizes an app the org has not installed. */
function appNotInstalled(ctx: Ctx, ar: AuthorizeRequest, setCookies: string[] = []): void {
    const location = withQuery(ar.redirectUri, {
        error: 'invalid_client',
        error_description: 'app must be installed into org',
        state: ar.state
    });
    redirect(ctx, location, setCookies.length ? { 'Set-Cookie': setCookies } : {});
}

export function handleAuthorize(ctx: Ctx): void {
    if (ctx.method !== 'GET' && ctx.method !== 'POST') {
        send(ctx, 405, 'Method Not Allowed', { Allow: 'GET, POST' });
        return;
    }
    const source = ctx.method === 'POST' ? formParams(ctx) : ctx.url.searchParams;
    const ar = validateAuthorize(ctx, source);
    if (!ar) return;
    const action = ctx.method === 'POST' ? source.get('_action') : null;

    if (action === 'login') {
        if (!takeCsrf(ctx, source.get('_csrf'))) return showLogin(ctx, ar, 'Your login page expired. Please log in again.');
        const username = (source.get('username') ?? '').trim();
        const password = source.get('password') ?? '';
        const found = ctx.state.findUserByUsername(username);
        if (!found || !safeEqual(found.user.password, password) || !ctx.state.serves(ctx.listener, found.org)) {
            return showLogin(ctx, ar, GENERIC_LOGIN_ERROR, username);
        }
        if (!found.user.active)
            return showLogin(ctx, ar, 'Your user account is inactive. Contact your Salesforce administrator.', username);
        if (found.user.frozen) return showLogin(ctx, ar, 'Your account is frozen. Contact your Salesforce administrator.', username);
        found.user.lastLoginAt = ctx.state.now();
        const setCookies: string[] = [];
        const session = ctx.state.startUiSession(ctx.listener, found.org, found.user, browserId(ctx, setCookies));
        setCookies.push(cookie(cookieNames(ctx.port).session, session.id));
        if (!ctx.state.mayAuthorize(found.org, found.user, ar.client.clientId)) return appNotInstalled(ctx, ar, setCookies);
        return showApprove(ctx, ar, { org: found.org, user: found.user, id: session.id }, setCookies);
    }

    if (action === 'approve') {
        const session = currentSession(ctx);
        if (!session) return showLogin(ctx, ar, 'Your session has ended. Please log in again.');
        if (!takeCsrf(ctx, source.get('_csrf'), session.id)) return showApprove(ctx, ar, session);
        if (!ctx.state.mayAuthorize(session.org, session.user, ar.client.clientId)) return appNotInstalled(ctx, ar);
        if (source.get('decision') !== 'allow') {
            redirect(
                ctx,
                withQuery(ar.redirectUri, { error: 'access_denied', error_description: 'end-user denied authorization', state: ar.state })
            );
            return;
        }
        return issueCode(ctx, ar, session.org, session.user);
    }

    const session = ar.prompt.includes('login') ? undefined : currentSession(ctx);
    if (session && !ctx.state.mayAuthorize(session.org, session.user, ar.client.clientId)) return appNotInstalled(ctx, ar);
    if (ar.prompt.includes('none')) {
        if (!session) {
            redirect(
                ctx,
                withQuery(ar.redirectUri, { error: 'login_required', error_description: 'user is not logged in', state: ar.state })
            );
            return;
        }
        return issueCode(ctx, ar, session.org, session.user);
    }
    if (session) return showApprove(ctx, ar, session);
    return showLogin(ctx, ar, undefined, ar.params['login_hint']);
}

function safeEqual(a: string, b: string): boolean {
    const x = Buffer.from(a);
    const y = Buffer.from(b);
    return x.length === y.length && timingSafeEqual(x, y);
}

// ------------------------------------------------------------------ token

function signature(id: string, issuedAt: string, secret: string): string {
    return createHmac('sha256', secret)
        .update(id + issuedAt)
        .digest('base64');
}

function tokenBody(ctx: Ctx, client: EmulatorClient, grant: AccessGrant, refreshToken?: string): Record<string, string> {
    const org = ctx.state.orgModel(grant.orgKey);
    const id = `${ctx.origin}/id/${org.orgId}/${grant.userId}`;
    const issuedAt = String(grant.issuedAt);
    const body: Record<string, string> = { access_token: grant.token };
    if (refreshToken) body['refresh_token'] = refreshToken;
    body['signature'] = signature(id, issuedAt, client.clientSecret);
    body['scope'] = grant.scopes.join(' ');
    body['instance_url'] = ctx.state.origins[org.key];
    body['id'] = id;
    body['token_type'] = 'Bearer';
    body['issued_at'] = issuedAt;
    return body;
}

/** Client authentication shared by both grants; answers the error itself. */
function authenticateClient(ctx: Ctx, p: URLSearchParams): EmulatorClient | undefined {
    const clientId = p.get('client_id');
    const client = clientId ? ctx.state.client(clientId) : undefined;
    if (!client) {
        oauthError(ctx, 'invalid_client_id', 'client identifier invalid');
        return undefined;
    }
    const secret = p.get('client_secret');
    if (secret === null || !safeEqual(secret, client.clientSecret)) {
        oauthError(ctx, 'invalid_client', 'invalid client credentials');
        return undefined;
    }
    return client;
}

function userProblem(user: UserModel | undefined): string | null {
    if (!user || !user.active || user.frozen) return 'inactive user';
    if (user.loginRestriction === 'ip') return 'ip restricted';
    if (user.loginRestriction === 'hours') return 'login hours restricted';
    return null;
}

function pkceMatches(challenge: string, method: 'S256' | 'plain', verifier: string): boolean {
    if (!VERIFIER_RE.test(verifier)) return false;
    const expected = method === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier;
    return safeEqual(expected, challenge);
}

export function grantTypeOf(ctx: Ctx): string | null {
    return formParams(ctx).get('grant_type');
}

export async function handleToken(ctx: Ctx): Promise<void> {
    if (ctx.method !== 'POST') return oauthError(ctx, 'invalid_request', 'must use HTTP POST');
    const p = formParams(ctx);
    const grantType = p.get('grant_type');
    if (grantType === 'authorization_code') return exchangeCode(ctx, p);
    if (grantType === 'refresh_token') return refresh(ctx, p);
    if (!grantType) return oauthError(ctx, 'unsupported_grant_type', 'grant type not supported');
    return oauthError(ctx, 'unsupported_grant_type', 'grant type not supported');
}

/** The app's Refresh Token IP Allowlist: a code exchange or refresh from another address is refused outright. */
function ipRestricted(ctx: Ctx, client: EmulatorClient): boolean {
    if (ctx.state.tokenRequestAllowed(client.clientId, ctx.req.socket.remoteAddress)) return false;
    oauthError(ctx, 'invalid_grant', 'ip restricted');
    return true;
}

function exchangeCode(ctx: Ctx, p: URLSearchParams): void {
    const client = authenticateClient(ctx, p);
    if (!client || ipRestricted(ctx, client)) return;
    const codeValue = p.get('code');
    if (!codeValue) return oauthError(ctx, 'invalid_request', 'missing required code parameter');
    const code = ctx.state.codes.get(codeValue);
    if (!code || code.used || code.clientId !== client.clientId || code.listener !== ctx.listener) {
        return oauthError(ctx, 'invalid_grant', 'invalid authorization code');
    }
    // a code is good for one attempt, whatever its outcome
    code.used = true;
    if (code.expiresAt <= ctx.state.now()) return oauthError(ctx, 'invalid_grant', 'expired authorization code');
    if (p.get('redirect_uri') !== code.redirectUri)
        return oauthError(ctx, 'redirect_uri_mismatch', 'redirect_uri must match configuration');
    if (code.challenge !== undefined) {
        const verifier = p.get('code_verifier');
        if (!verifier || !pkceMatches(code.challenge, code.challengeMethod ?? 'plain', verifier)) {
            return oauthError(ctx, 'invalid_grant', 'invalid code verifier');
        }
    }
    const org = ctx.state.orgModel(code.orgKey);
    if (org.orgId !== code.orgId) return oauthError(ctx, 'invalid_grant', 'invalid authorization code');
    const user = org.users.find((u) => u.id === code.userId);
    const problem = userProblem(user);
    if (problem) return oauthError(ctx, 'invalid_grant', problem);

    let family: RefreshFamily | undefined;
    if (code.scopes.includes('refresh_token') || code.scopes.includes('offline_access')) {
        family = ctx.state.issueRefreshFamily({ clientId: client.clientId, org, userId: code.userId, scopes: code.scopes });
    }
    const grant = ctx.state.issueAccessToken({
        clientId: client.clientId,
        org,
        userId: code.userId,
        scopes: code.scopes,
        familyId: family?.id
    });
    sendJson(ctx, 200, tokenBody(ctx, client, grant, family?.current));
}

async function refresh(ctx: Ctx, p: URLSearchParams): Promise<void> {
    const client = authenticateClient(ctx, p);
    if (!client || ipRestricted(ctx, client)) return;
    const token = p.get('refresh_token');
    if (!token) return oauthError(ctx, 'invalid_request', 'missing required refresh_token parameter');
    const inFlight = ctx.state.refreshesInFlight;
    if (inFlight.has(token)) return oauthError(ctx, 'invalid_request', 'token request is already being processed');
    inFlight.add(token);
    try {
        // the configured latency is spent while the refresh is in flight, so parallel refreshes collide
        await sleep(ctx.state.latency());
        const famId = ctx.state.refreshIndex.get(token);
        const fam = famId ? ctx.state.families.get(famId) : undefined;
        if (!fam || fam.clientId !== client.clientId) return oauthError(ctx, 'invalid_grant', 'expired access/refresh token');
        const org = ctx.state.orgModel(fam.orgKey);
        if (!ctx.state.serves(ctx.listener, org)) return oauthError(ctx, 'invalid_grant', 'expired access/refresh token');
        if (fam.current !== token) {
            // reuse of a retired (rotated) refresh token: the grant's current refresh token and every access token die
            if (!fam.revoked) ctx.state.revokeFamily(fam, 'rotated refresh token reused');
            return oauthError(ctx, 'invalid_grant', 'expired access/refresh token');
        }
        // revoked, issued to an org since refreshed, or idle for the refresh token policy's TTL
        if (!ctx.state.familyAlive(fam)) return oauthError(ctx, 'invalid_grant', 'expired access/refresh token');
        const problem = userProblem(org.users.find((u) => u.id === fam.userId));
        if (problem) return oauthError(ctx, 'invalid_grant', problem);
        fam.lastUsedAt = ctx.state.now();
        const rotated = ctx.state.rotates(client.clientId) ? ctx.state.rotate(fam) : undefined;
        const grant = ctx.state.issueAccessToken({
            clientId: client.clientId,
            org,
            userId: fam.userId,
            scopes: fam.scopes,
            familyId: fam.id
        });
        sendJson(ctx, 200, tokenBody(ctx, client, grant, rotated));
    } finally {
        inFlight.delete(token);
    }
}

// ------------------------------------------------------------------ revoke

export function handleRevoke(ctx: Ctx): void {
    if (ctx.method !== 'POST' && ctx.method !== 'GET') return oauthError(ctx, 'invalid_request', 'must use HTTP POST');
    const token =
        ctx.method === 'POST' ? (formParams(ctx).get('token') ?? ctx.url.searchParams.get('token')) : ctx.url.searchParams.get('token');
    if (!token) return oauthError(ctx, 'invalid_request', 'missing required token parameter');
    const famId = ctx.state.refreshIndex.get(token);
    if (famId) {
        const fam = ctx.state.families.get(famId)!;
        if (fam.current !== token || !ctx.state.familyAlive(fam) || !ctx.state.serves(ctx.listener, ctx.state.orgModel(fam.orgKey))) {
            return oauthError(ctx, 'invalid_token', 'invalid token');
        }
        ctx.state.revokeFamily(fam, 'revoked by client');
        send(ctx, 200, '');
        return;
    }
    const at = ctx.state.accessTokens.get(token);
    if (at && ctx.state.accessProblem(at) === null && ctx.state.serves(ctx.listener, ctx.state.orgModel(at.orgKey))) {
        at.revoked = true;
        send(ctx, 200, '');
        return;
    }
    return oauthError(ctx, 'invalid_token', 'invalid token');
}

// ------------------------------------------------------------------ identity

export function bearerToken(ctx: Ctx, allowQuery: boolean): string | undefined {
    const auth = String(ctx.req.headers['authorization'] ?? '');
    const m = /^(Bearer|OAuth)\s+(\S+)$/i.exec(auth.trim());
    if (m) return m[2];
    if (allowQuery) return ctx.url.searchParams.get('oauth_token') ?? ctx.url.searchParams.get('access_token') ?? undefined;
    return undefined;
}

function identityUrls(ctx: Ctx, org: OrgModel, user: UserModel): Record<string, string> {
    const inst = ctx.state.origins[org.key];
    const o15 = to15(org.orgId);
    const data = `${inst}/services/data/v{version}`;
    return {
        enterprise: `${inst}/services/Soap/c/{version}/${o15}`,
        metadata: `${inst}/services/Soap/m/{version}/${o15}`,
        partner: `${inst}/services/Soap/u/{version}/${o15}`,
        rest: `${data}/`,
        sobjects: `${data}/sobjects/`,
        search: `${data}/search/`,
        query: `${data}/query/`,
        recent: `${data}/recent/`,
        tooling_soap: `${inst}/services/Soap/T/{version}/${o15}`,
        tooling_rest: `${data}/tooling/`,
        profile: `${inst}/${user.id}`,
        feeds: `${data}/chatter/feeds`,
        groups: `${data}/chatter/groups`,
        users: `${data}/chatter/users`,
        feed_items: `${data}/chatter/feed-items`,
        feed_elements: `${data}/chatter/feed-elements`,
        custom_domain: inst
    };
}

function identityFor(ctx: Ctx, org: OrgModel, user: UserModel, clientId: string): Record<string, unknown> {
    const displayName = `${user.firstName} ${user.lastName}`.trim();
    const inst = ctx.state.origins[org.key];
    return {
        id: `${ctx.origin}/id/${org.orgId}/${user.id}`,
        asserted_user: true,
        user_id: user.id,
        organization_id: org.orgId,
        username: user.username,
        nick_name: user.username.split('@')[0],
        display_name: displayName,
        email: user.email,
        email_verified: true,
        first_name: user.firstName,
        last_name: user.lastName,
        timezone: user.timeZone,
        photos: { picture: `${inst}/profilephoto/005/F`, thumbnail: `${inst}/profilephoto/005/T` },
        addr_street: null,
        addr_city: null,
        addr_state: null,
        addr_country: null,
        addr_zip: null,
        mobile_phone: null,
        mobile_phone_verified: false,
        is_lightning_login_user: false,
        status: { created_date: null, body: null },
        urls: identityUrls(ctx, org, user),
        active: user.active,
        user_type: 'STANDARD',
        language: user.language,
        locale: user.locale,
        utcOffset: -28800000,
        last_modified_date: new Date(user.modifiedAt).toISOString().replace('Z', '+0000'),
        is_app_installed: ctx.state.appInstalled(org.key, clientId)
    };
}

/** Resolves the caller's access token for identity calls; answers 401 itself when unusable. */
function identityCaller(ctx: Ctx): { grant: AccessGrant; org: OrgModel; user: UserModel } | undefined {
    const token = bearerToken(ctx, true);
    const grant = token ? ctx.state.accessTokens.get(token) : undefined;
    if (!grant || ctx.state.accessProblem(grant) !== null) {
        send(ctx, 401, 'Bad_OAuth_Token', { 'Content-Type': 'text/plain;charset=UTF-8' });
        return undefined;
    }
    const org = ctx.state.orgModel(grant.orgKey);
    const user = org.users.find((u) => u.id === grant.userId)!;
    return { grant, org, user };
}

export function handleIdentity(ctx: Ctx, orgIdRaw: string, userIdRaw: string): void {
    if (ctx.method !== 'GET' && ctx.method !== 'POST') return void send(ctx, 405, 'Method Not Allowed');
    const caller = identityCaller(ctx);
    if (!caller) return;
    const orgId = normalizeId(orgIdRaw);
    const userId = normalizeId(userIdRaw);
    if (orgId !== caller.org.orgId || userId !== caller.user.id || !ctx.state.serves(ctx.listener, caller.org)) {
        send(ctx, 403, 'Bad_Id', { 'Content-Type': 'text/plain;charset=UTF-8' });
        return;
    }
    sendJson(ctx, 200, identityFor(ctx, caller.org, caller.user, caller.grant.clientId));
}

export function handleUserinfo(ctx: Ctx): void {
    if (ctx.method !== 'GET' && ctx.method !== 'POST') return void send(ctx, 405, 'Method Not Allowed');
    const caller = identityCaller(ctx);
    if (!caller) return;
    if (!ctx.state.serves(ctx.listener, caller.org)) {
        send(ctx, 403, 'Bad_Id', { 'Content-Type': 'text/plain;charset=UTF-8' });
        return;
    }
    const base = identityFor(ctx, caller.org, caller.user, caller.grant.clientId);
    sendJson(ctx, 200, {
        sub: base['id'],
        user_id: caller.user.id,
        organization_id: caller.org.orgId,
        preferred_username: caller.user.username,
        nickname: base['nick_name'],
        name: base['display_name'],
        given_name: caller.user.firstName,
        family_name: caller.user.lastName,
        zoneinfo: caller.user.timeZone,
        updated_at: base['last_modified_date'],
        ...base
    });
}

/** Which org a token-bearing OAuth request concerns, for counting and fault scoping. */
export function orgOfOAuthRequest(ctx: Ctx, kind: string): OriginKey | undefined {
    const p = ctx.method === 'POST' ? formParams(ctx) : ctx.url.searchParams;
    const st = ctx.state;
    if (kind === 'token') return st.codes.get(p.get('code') ?? '')?.orgKey;
    if (kind === 'refresh') {
        const fam = st.families.get(st.refreshIndex.get(p.get('refresh_token') ?? '') ?? '');
        return fam?.orgKey;
    }
    if (kind === 'revoke') {
        const t = p.get('token') ?? ctx.url.searchParams.get('token') ?? '';
        const fam = st.families.get(st.refreshIndex.get(t) ?? '');
        return fam?.orgKey ?? st.accessTokens.get(t)?.orgKey;
    }
    if (kind === 'login') {
        const found = st.findUserByUsername(p.get('username') ?? '');
        return found && st.serves(ctx.listener, found.org) ? found.org.key : undefined;
    }
    if (kind === 'authorize' || kind === 'approve') {
        const sid = ctx.cookies[cookieNames(ctx.port).session];
        const s = sid ? st.sessions.get(sid) : undefined;
        return s && s.listener === ctx.listener ? s.orgKey : undefined;
    }
    if (kind === 'identity') {
        const t = bearerToken(ctx, true);
        return t ? st.accessTokens.get(t)?.orgKey : undefined;
    }
    return undefined;
}
