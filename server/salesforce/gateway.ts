import { createHmac } from 'node:crypto';
import jsforce, { type HttpRequest } from 'jsforce';
import { safeEqual } from '../crypto.ts';
import { AppError } from '../errors.ts';
import { isSalesforceOrigin, type LoginHostPolicy } from './loginHosts.ts';
import { abortableTransport, requestSignal, sendRequest } from './transport.ts';

const { Connection, OAuth2 } = jsforce;

export interface TokenSet {
    accessToken: string;
    refreshToken?: string;
    instanceUrl: string;
    identityUrl: string;
    orgId: string;
    userId: string;
    scope?: string;
    /** When Salesforce issued the token (its signed `issued_at`, milliseconds since the epoch). */
    issuedAt?: number;
}

/**
 * `issued_at` as milliseconds: Salesforce's pages call it seconds since the epoch while their examples, and the orgs,
 * send milliseconds; a value too small for milliseconds after 1973 is read as seconds. Anything else: unknown.
 */
export function issuedAtMs(issuedAt: string): number | undefined {
    if (!/^\d{1,15}$/.test(issuedAt)) return undefined;
    const n = Number(issuedAt);
    return n < 1e11 ? n * 1000 : n;
}

export interface Identity {
    orgId: string;
    userId: string;
    username: string;
    displayName: string;
    email?: string;
    userType?: string;
    active: boolean;
}

/**
 * What Salesforce answered, classified: `rejected` means Salesforce said no (a grant is dead, a
 * permission is missing); `unavailable` means we could not get an answer and should not conclude anything.
 */
export class SalesforceError extends Error {
    override name = 'SalesforceError';
    constructor(
        readonly kind: 'rejected' | 'unavailable' | 'invalid_response',
        readonly code: string,
        message: string,
        readonly httpStatus?: number
    ) {
        super(message);
    }

    get isDeadGrant(): boolean {
        return this.kind === 'rejected' && (this.code === 'invalid_grant' || this.code === 'inactive_user');
    }
}

/** Salesforce could not be reached or answered 5xx. `outcomeUnknown`: a create may have been applied anyway. */
export class SalesforceUnavailable extends AppError {
    constructor(
        message: string,
        readonly outcomeUnknown: boolean
    ) {
        super('SALESFORCE_UNAVAILABLE', message, 503);
    }
}

/**
 * Every call takes an optional `signal` (the caller's deadline): when it fires, the HTTP request itself is cancelled.
 * Each call also has its own limit (`timeoutMs`), whichever comes first.
 */
export interface SalesforceGateway {
    authorizeUrl(loginUrl: string, params: { state: string; codeChallenge: string }): string;
    exchangeCode(loginUrl: string, code: string, codeVerifier: string, signal?: AbortSignal): Promise<TokenSet>;
    refresh(loginUrl: string, refreshToken: string, signal?: AbortSignal): Promise<TokenSet>;
    revoke(loginUrl: string, token: string, signal?: AbortSignal): Promise<void>;
    identity(tokens: Pick<TokenSet, 'identityUrl' | 'accessToken'>, signal?: AbortSignal): Promise<Identity>;
    /** One Composite API request (one API call, up to 25 subrequests) as the user. */
    composite(
        tokens: Pick<TokenSet, 'instanceUrl' | 'accessToken'>,
        subrequests: CompositeSubrequest[],
        signal?: AbortSignal
    ): Promise<Map<string, CompositeResult>>;
}

export interface CompositeSubrequest {
    referenceId: string;
    /** Relative to /services/data/vXX.X/, e.g. `sobjects/Task/describe`. */
    path: string;
}

export interface CompositeResult {
    status: number;
    body: unknown;
}

export interface GatewayOptions {
    clientId: string;
    clientSecret: string;
    redirectUri: string;
    apiVersion: string;
    timeoutMs: number;
    hosts: LoginHostPolicy;
}

const OAUTH_ERROR = /^[a-z_-]+$/;
const SALESFORCE_FAILING = new Set([
    'server_error',
    'temporarily_unavailable',
    'SERVER_UNAVAILABLE',
    'UNKNOWN_EXCEPTION',
    'REQUEST_RUNNING_TOO_LONG'
]);

/** Turns whatever jsforce or the network threw into a SalesforceError that says what happened. */
export function classify(error: unknown): SalesforceError {
    if (error instanceof SalesforceError) return error;
    const err = error as { name?: string; message?: string; errorCode?: string; code?: string; type?: string };
    const name = err.errorCode ?? err.name ?? '';
    // A fired AbortSignal: the request was cancelled, its socket closed.
    if (name === 'TimeoutError' || name === 'AbortError')
        return new SalesforceError('unavailable', 'TIMEOUT', 'Salesforce did not answer in time; the request was cancelled.');
    const httpStatus = /^ERROR_HTTP_(\d{3})$/.exec(name)?.[1];
    if (httpStatus) {
        const status = Number(httpStatus);
        return status >= 500 || status === 429
            ? new SalesforceError('unavailable', name, `Salesforce answered HTTP ${status}.`, status)
            : new SalesforceError('invalid_response', name, `Salesforce answered HTTP ${status} with an unexpected body.`, status);
    }
    // Salesforce failing, whatever shape the answer took: RFC 6749's server errors, the REST API's 5xx codes.
    if (SALESFORCE_FAILING.has(name))
        return new SalesforceError('unavailable', name, `Salesforce failed to answer (${name}: ${err.message || name}).`);
    if (OAUTH_ERROR.test(name) && name !== 'error') {
        return new SalesforceError('rejected', name, err.message || name);
    }
    if (/^[A-Z][A-Z_]+$/.test(name)) {
        return new SalesforceError('rejected', name, err.message || name);
    }
    if (name === 'SyntaxError')
        return new SalesforceError('invalid_response', 'INVALID_RESPONSE', 'Salesforce sent a response that is not valid JSON.');
    return new SalesforceError(
        'unavailable',
        'NETWORK',
        `Salesforce could not be reached (${err.code ?? err.type ?? err.message ?? 'network error'}).`
    );
}

interface RawTokenResponse {
    access_token?: unknown;
    refresh_token?: unknown;
    instance_url?: unknown;
    id?: unknown;
    issued_at?: unknown;
    signature?: unknown;
    scope?: unknown;
}

const IDENTITY_PATH = /^\/id\/(00D[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?)\/(005[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?)$/;

/** jsforce does the HTTP; this adds the checks jsforce leaves to the caller. */
export function createSalesforceGateway(options: GatewayOptions): SalesforceGateway {
    const oauth = (loginUrl: string) => {
        // A stored login URL is checked again before the client secret or a token is sent there.
        if (!isSalesforceOrigin(options.hosts, loginUrl))
            throw new SalesforceError(
                'rejected',
                'LOGIN_HOST_NOT_ALLOWED',
                `${loginUrl.slice(0, 200)} is not a Salesforce login host; nothing was sent there.`
            );
        return new OAuth2({ loginUrl, clientId: options.clientId, clientSecret: options.clientSecret, redirectUri: options.redirectUri });
    };

    const call = async <T>(work: (signal: AbortSignal) => Promise<T>, caller?: AbortSignal): Promise<T> => {
        try {
            return await work(requestSignal(options.timeoutMs, caller));
        } catch (error) {
            throw classify(error);
        }
    };

    /** A form POST to the login host's OAuth endpoint; an error answer is thrown as `{ name: error, message: error_description }`, as jsforce's OAuth2 does. */
    const postOAuth = async (url: string, params: Record<string, string>, signal: AbortSignal): Promise<unknown> => {
        const request: HttpRequest = {
            method: 'POST',
            url,
            body: new URLSearchParams(params).toString(),
            headers: { 'content-type': 'application/x-www-form-urlencoded' }
        };
        const response = await sendRequest(request, signal);
        let body: unknown;
        try {
            body = JSON.parse(response.body);
        } catch {
            body = undefined;
        }
        if (response.statusCode >= 400) {
            const answer = (body ?? {}) as { error?: unknown; error_description?: unknown };
            const failure = new Error(
                typeof answer.error_description === 'string' ? answer.error_description : response.body.slice(0, 200)
            );
            failure.name = typeof answer.error === 'string' ? answer.error : `ERROR_HTTP_${response.statusCode}`;
            throw failure;
        }
        return body;
    };

    /** Nothing in a token response is trusted until it is signed by our secret and points at Salesforce. */
    const readTokenResponse = (raw: RawTokenResponse | undefined, previousRefreshToken?: string): TokenSet => {
        if (!raw || typeof raw !== 'object')
            throw new SalesforceError(
                'invalid_response',
                'INVALID_TOKEN_RESPONSE',
                'Salesforce returned a token response that is not JSON.'
            );
        const { access_token, refresh_token, instance_url, id, issued_at, signature } = raw;
        if (
            typeof access_token !== 'string' ||
            typeof instance_url !== 'string' ||
            typeof id !== 'string' ||
            typeof issued_at !== 'string' ||
            typeof signature !== 'string'
        ) {
            throw new SalesforceError('invalid_response', 'INVALID_TOKEN_RESPONSE', 'Salesforce returned an incomplete token response.');
        }
        const expected = createHmac('sha256', options.clientSecret)
            .update(id + issued_at)
            .digest('base64');
        if (!safeEqual(expected, signature)) {
            throw new SalesforceError(
                'invalid_response',
                'INVALID_SIGNATURE',
                'The token response signature does not match this app’s consumer secret.'
            );
        }
        if (!isSalesforceOrigin(options.hosts, instance_url) || !isSalesforceOrigin(options.hosts, id)) {
            throw new SalesforceError('invalid_response', 'UNTRUSTED_HOST', 'The token response points at a host that is not Salesforce.');
        }
        const match = IDENTITY_PATH.exec(new URL(id).pathname);
        if (!match)
            throw new SalesforceError(
                'invalid_response',
                'INVALID_IDENTITY_URL',
                'The token response carries an identity URL Salesforce would not send.'
            );
        return {
            accessToken: access_token,
            refreshToken: typeof refresh_token === 'string' ? refresh_token : previousRefreshToken,
            instanceUrl: new URL(instance_url).origin,
            identityUrl: id,
            orgId: match[1]!,
            userId: match[2]!,
            scope: typeof raw.scope === 'string' ? raw.scope : undefined,
            issuedAt: issuedAtMs(issued_at)
        };
    };

    return {
        authorizeUrl(loginUrl, { state, codeChallenge }) {
            return oauth(loginUrl).getAuthorizationUrl({
                scope: 'api refresh_token',
                state,
                code_challenge: codeChallenge,
                code_challenge_method: 'S256',
                prompt: 'login',
                display: 'popup'
            });
        },

        async exchangeCode(loginUrl, code, codeVerifier, signal) {
            const client = oauth(loginUrl);
            const params = {
                grant_type: 'authorization_code',
                code,
                client_id: options.clientId,
                client_secret: options.clientSecret,
                redirect_uri: options.redirectUri,
                code_verifier: codeVerifier
            };
            const raw = await call((s) => postOAuth(client.tokenServiceUrl, params, s), signal);
            return readTokenResponse(raw as RawTokenResponse | undefined);
        },

        async refresh(loginUrl, refreshToken, signal) {
            const client = oauth(loginUrl);
            const params = {
                grant_type: 'refresh_token',
                refresh_token: refreshToken,
                client_id: options.clientId,
                client_secret: options.clientSecret
            };
            const raw = await call((s) => postOAuth(client.tokenServiceUrl, params, s), signal);
            return readTokenResponse(raw as RawTokenResponse | undefined, refreshToken);
        },

        async revoke(loginUrl, token, signal) {
            const client = oauth(loginUrl);
            await call((s) => postOAuth(client.revokeServiceUrl, { token }, s), signal);
        },

        async identity({ identityUrl, accessToken }, signal) {
            const conn = new Connection({ accessToken, version: options.apiVersion, instanceUrl: new URL(identityUrl).origin });
            const body = await call(
                (s) => conn.request<Record<string, unknown>>({ method: 'GET', url: identityUrl }, { transport: abortableTransport(s) }),
                signal
            );
            const { organization_id, user_id, username, display_name, email, user_type, active } = body;
            if (typeof organization_id !== 'string' || typeof user_id !== 'string' || typeof username !== 'string') {
                throw new SalesforceError(
                    'invalid_response',
                    'INVALID_IDENTITY',
                    'Salesforce returned an identity without the user’s ids.'
                );
            }
            return {
                orgId: organization_id,
                userId: user_id,
                username,
                displayName: typeof display_name === 'string' ? display_name : username,
                email: typeof email === 'string' ? email : undefined,
                userType: typeof user_type === 'string' ? user_type : undefined,
                active: active !== false
            };
        },

        async composite({ instanceUrl, accessToken }, subrequests, signal) {
            const conn = new Connection({ accessToken, instanceUrl, version: options.apiVersion });
            const base = `/services/data/v${options.apiVersion}/`;
            const body = await call(
                (s) =>
                    conn.request<{ compositeResponse?: Array<{ referenceId: string; httpStatusCode: number; body: unknown }> }>(
                        {
                            method: 'POST',
                            url: `${base}composite`,
                            body: JSON.stringify({
                                allOrNone: false,
                                compositeRequest: subrequests.map((sub) => ({
                                    method: 'GET',
                                    url: base + sub.path,
                                    referenceId: sub.referenceId
                                }))
                            }),
                            headers: { 'content-type': 'application/json' }
                        },
                        { transport: abortableTransport(s) }
                    ),
                signal
            );
            if (!Array.isArray(body?.compositeResponse))
                throw new SalesforceError(
                    'invalid_response',
                    'INVALID_RESPONSE',
                    'Salesforce answered the composite request without results.'
                );
            return new Map(body.compositeResponse.map((r) => [r.referenceId, { status: r.httpStatusCode, body: r.body }]));
        }
    };
}
