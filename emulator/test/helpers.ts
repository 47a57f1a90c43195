// Shared setup for the emulator's tests: a started emulator, PKCE pairs and a full link via the real jsforce.

import { createHash, randomBytes } from 'node:crypto';
import { Connection, OAuth2 } from 'jsforce';
import { authorizeInEmulator, type Person } from '../driver.ts';
import { SEED, startEmulator, type Emulator, type EmulatorOptions, type OriginKey } from '../index.ts';

export const CLIENT = { clientId: 'test-client', clientSecret: 'test-secret-0123456789', redirectUris: ['http://app.test/oauth/callback'] };
export const REDIRECT = CLIENT.redirectUris[0]!;

export const PEOPLE = {
    acmeApi: { username: SEED.users.acmeApi.username, password: SEED.users.acmeApi.password },
    acmeAdmin: { username: SEED.users.acmeAdmin.username, password: SEED.users.acmeAdmin.password },
    acmeNoApi: { username: SEED.users.acmeNoApi.username, password: SEED.users.acmeNoApi.password },
    uatApi: { username: SEED.users.uatApi.username, password: SEED.users.uatApi.password }
} satisfies Record<string, Person>;

export function start(opts: EmulatorOptions = {}): Promise<Emulator> {
    return startEmulator({ quiet: true, clients: [CLIENT], ...opts });
}

export function pkce(): { verifier: string; challenge: string } {
    const verifier = randomBytes(48).toString('base64url'); // 64 characters
    return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export function oauth2(em: Emulator, origin: OriginKey = 'production', client = CLIENT): OAuth2 {
    return new OAuth2({
        loginUrl: em.origins[origin],
        clientId: client.clientId,
        clientSecret: client.clientSecret,
        redirectUri: client.redirectUris[0]
    });
}

export function authorizeUrl(em: Emulator, origin: OriginKey, params: Record<string, string>, client = CLIENT): string {
    return oauth2(em, origin, client).getAuthorizationUrl({ scope: 'api refresh_token id', prompt: 'login', display: 'popup', ...params });
}

/** Logs in as the person, allows, and returns the code with the verifier that goes with it. */
export async function getCode(
    em: Emulator,
    person: Person,
    origin: OriginKey = 'production',
    extra: Record<string, string> = {}
): Promise<{ code: string; verifier: string; state: string; final: URL }> {
    const { verifier, challenge } = pkce();
    const state = randomBytes(12).toString('base64url');
    const final = await authorizeInEmulator(
        authorizeUrl(em, origin, { state, code_challenge: challenge, code_challenge_method: 'S256', ...extra }),
        person
    );
    const code = final.searchParams.get('code');
    if (!code) throw new Error(`no code in ${final.href}`);
    return { code, verifier, state, final };
}

/** The whole web server flow with PKCE through jsforce; returns jsforce's token response. */
export async function link(em: Emulator, person: Person, origin: OriginKey = 'production', extra: Record<string, string> = {}) {
    const { code, verifier } = await getCode(em, person, origin, extra);
    return oauth2(em, origin).requestToken(code, { code_verifier: verifier });
}

export async function tokenPost(origin: string, params: Record<string, string>): Promise<{ status: number; body: Record<string, string> }> {
    const res = await fetch(`${origin}/services/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(params).toString()
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, string>) : {} };
}

export async function restGet(url: string, token: string): Promise<{ status: number; body: any; headers: Headers }> {
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    const text = await res.text();
    let body: any = text;
    if ((res.headers.get('content-type') ?? '').includes('json')) body = text ? JSON.parse(text) : undefined;
    return { status: res.status, body, headers: res.headers };
}

/** A call to the control API (JSON), on the production listener unless another origin is given. */
export async function control(em: Emulator, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    const res = await fetch(`${em.origins.production}/__emulator/${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body)
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

export function refreshPost(em: Emulator, refreshToken: string, origin: OriginKey = 'production') {
    return tokenPost(em.origins[origin], {
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        client_id: CLIENT.clientId,
        client_secret: CLIENT.clientSecret
    });
}

/** Links the person and answers a jsforce Connection with the access token. */
export async function connectAs(em: Emulator, person: Person, origin: OriginKey = 'production'): Promise<Connection> {
    const t = await link(em, person, origin);
    return new Connection({ oauth2: oauth2(em, origin), instanceUrl: t.instance_url, accessToken: t.access_token, version: '62.0' });
}
