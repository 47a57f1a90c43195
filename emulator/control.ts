// The control API under /__emulator/ (JSON), the same controls EmulatorState offers in-process.

import type { CustomFieldSpec, RecordTypeSpec } from './customization.ts';
import { sendJson, type Ctx } from './http.ts';
import type { OrgKey, SharingModel } from './model.ts';
import { ORG_KEYS } from './model.ts';
import type { EmulatorClient, EmulatorState, FaultKind, FaultMode } from './state.ts';

class BadRequest extends Error {}

/** Matches 'orgs/:org/records/:type/:id' against the path's parts; answers the named parts. */
function match(pattern: string, parts: string[]): Record<string, string> | undefined {
    const want = pattern.split('/');
    if (want.length !== parts.length) return undefined;
    const out: Record<string, string> = {};
    for (let i = 0; i < want.length; i++) {
        const w = want[i]!;
        if (w.startsWith(':')) out[w.slice(1)] = parts[i]!;
        else if (w !== parts[i]) return undefined;
    }
    return out;
}

function ttl(v: unknown): number | null {
    if (v === null) return null;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
        throw new BadRequest('idleTtlSeconds must be a positive number of seconds, or null');
    return v;
}

function ranges(v: unknown): string[] | null {
    if (v === null) return null;
    if (!Array.isArray(v) || v.some((r) => typeof r !== 'string')) throw new BadRequest('ranges must be an array of strings, or null');
    return v as string[];
}

/** Routes of the token policies, the org's schema, records and the package's credentials; false when none matched. */
function handleMore(ctx: Ctx, st: EmulatorState, parts: string[], ok: (body?: unknown, status?: number) => void): boolean {
    const m = ctx.method;
    let a: Record<string, string> | undefined;
    if (m === 'POST' && (a = match('refresh-token-policy', parts))) {
        const b = jsonBody(ctx);
        if (!('idleTtlSeconds' in b)) throw new BadRequest('idleTtlSeconds is required (seconds, or null for valid until revoked)');
        const clientId = b['clientId'];
        if (clientId !== undefined && typeof clientId !== 'string') throw new BadRequest('clientId must be a string');
        st.setRefreshTokenIdleTtl(ttl(b['idleTtlSeconds']), clientId);
        ok();
        return true;
    }
    if (m === 'POST' && (a = match('clients/:client/ip-allowlist', parts))) {
        const b = jsonBody(ctx);
        if (!('ranges' in b)) throw new BadRequest('ranges is required (an array of addresses, ranges and CIDR blocks, or null)');
        st.setTokenIpAllowlist(a['client']!, ranges(b['ranges']));
        ok();
        return true;
    }
    if (m === 'GET' && (a = match('users/:user/grants', parts))) {
        ok(st.grants(a['user']!));
        return true;
    }
    if (m === 'POST' && (a = match('orgs/:org/apps/:client/revoke', parts))) {
        const username = jsonBody(ctx)['username'];
        if (username !== undefined && typeof username !== 'string') throw new BadRequest('username must be a string');
        ok({ ok: true, revoked: st.revokeAppAccess(orgKey(a['org']!), a['client']!, username) });
        return true;
    }
    if (m === 'POST' && (a = match('orgs/:org/settings', parts))) {
        const b = jsonBody(ctx);
        if (b['personAccounts'] !== undefined && typeof b['personAccounts'] !== 'boolean')
            throw new BadRequest('personAccounts must be a boolean');
        st.setOrgSettings(orgKey(a['org']!), {
            ...(b['personAccounts'] !== undefined ? { personAccounts: b['personAccounts'] } : {})
        });
        ok(st.org(orgKey(a['org']!)).settings);
        return true;
    }
    if (m === 'POST' && (a = match('orgs/:org/record-types', parts))) {
        const b = jsonBody(ctx) as Partial<RecordTypeSpec>;
        if (typeof b.sobjectType !== 'string' || typeof b.developerName !== 'string')
            throw new BadRequest('sobjectType and developerName are required strings');
        ok(st.addRecordType(orgKey(a['org']!), b as RecordTypeSpec), 201);
        return true;
    }
    if (m === 'POST' && (a = match('orgs/:org/fields', parts))) {
        const b = jsonBody(ctx) as Partial<CustomFieldSpec> & { object?: unknown };
        if (typeof b.object !== 'string' || typeof b.name !== 'string' || typeof b.type !== 'string')
            throw new BadRequest('object, name and type are required strings');
        const { object, ...spec } = b;
        ok(st.addCustomField(orgKey(a['org']!), object, spec as CustomFieldSpec), 201);
        return true;
    }
    if (m === 'PATCH' && (a = match('orgs/:org/records/:type/:id', parts))) {
        ok(st.updateRecord(orgKey(a['org']!), a['type']!, a['id']!, jsonBody(ctx)));
        return true;
    }
    if ((a = match('orgs/:org/credentials/:ec/:principal', parts))) {
        const [org, ec, principal] = [orgKey(a['org']!), a['ec']!, a['principal']!];
        if (m === 'GET') ok(st.credential(org, ec, principal));
        else if (m === 'POST') ok(st.createCredential(org, ec, principal, jsonBody(ctx)['credentials']), 201);
        else if (m === 'PATCH') ok(st.updateCredential(org, ec, principal, jsonBody(ctx)['credentials']));
        else if (m === 'DELETE') {
            st.deleteCredential(org, ec, principal);
            ok();
        } else return false;
        return true;
    }
    if (m === 'GET' && (a = match('orgs/:org/credentials/:ec/:principal/parameters/:name', parts))) {
        ok({ value: st.credentialParameter(orgKey(a['org']!), a['ec']!, a['principal']!, a['name']!) });
        return true;
    }
    if (m === 'GET' && (a = match('orgs/:org/external-credentials/:name', parts))) {
        ok(st.externalCredential(orgKey(a['org']!), a['name']!));
        return true;
    }
    if ((a = match('orgs/:org/named-credentials/:name', parts))) {
        if (m === 'GET') ok(st.namedCredential(orgKey(a['org']!), a['name']!));
        else if (m === 'POST') {
            const url = jsonBody(ctx)['url'];
            if (typeof url !== 'string') throw new BadRequest('url must be a string');
            st.setNamedCredentialUrl(orgKey(a['org']!), a['name']!, url);
            ok(st.namedCredential(orgKey(a['org']!), a['name']!));
        } else return false;
        return true;
    }
    return false;
}

function jsonBody(ctx: Ctx): Record<string, unknown> {
    if (!ctx.body.length) return {};
    try {
        const v: unknown = JSON.parse(ctx.body.toString('utf8'));
        if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
    } catch {
        // reported below
    }
    throw new BadRequest('the body must be a JSON object');
}

function orgKey(raw: string): OrgKey {
    if (!(ORG_KEYS as readonly string[]).includes(raw)) throw new BadRequest(`unknown org ${raw}; known: ${ORG_KEYS.join(', ')}`);
    return raw as OrgKey;
}

function num(v: unknown, name: string): number {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new BadRequest(`${name} must be a number`);
    return v;
}

function str(v: unknown, name: string): string {
    if (typeof v !== 'string') throw new BadRequest(`${name} must be a string`);
    return v;
}

export function handleControl(ctx: Ctx): void {
    const st = ctx.state;
    const parts = ctx.url.pathname
        .replace(/^\/__emulator\/?/, '')
        .split('/')
        .filter(Boolean)
        .map((s) => decodeURIComponent(s));
    const route = `${ctx.method} ${parts.map((p, i) => (i % 2 === 1 && ['users', 'orgs', 'clients', 'apps'].includes(parts[i - 1]!) ? ':id' : p)).join('/')}`;
    const id = parts[1] ?? '';
    const ok = (body: unknown = { ok: true }, status = 200): void => sendJson(ctx, status, body);
    try {
        if (handleMore(ctx, st, parts, ok)) return;
        switch (route) {
            case 'GET ':
                return ok({
                    origins: st.origins,
                    apiVersion: st.apiVersion,
                    latencyMs: st.latency(),
                    tokenPolicy: st.tokenPolicy(),
                    orgs: ORG_KEYS.map((k) => st.org(k))
                });
            case 'POST reset':
                st.reset();
                return ok();
            case 'POST clients': {
                const b = jsonBody(ctx);
                const c: EmulatorClient = {
                    clientId: str(b['clientId'] ?? '', 'clientId'),
                    clientSecret: str(b['clientSecret'] ?? '', 'clientSecret'),
                    redirectUris: Array.isArray(b['redirectUris']) ? b['redirectUris'].map(String) : [],
                    ...(typeof b['name'] === 'string' ? { name: b['name'] } : {}),
                    ...(typeof b['rotateRefreshTokens'] === 'boolean' ? { rotateRefreshTokens: b['rotateRefreshTokens'] } : {}),
                    ...('refreshTokenIdleTtlSeconds' in b ? { refreshTokenIdleTtlSeconds: ttl(b['refreshTokenIdleTtlSeconds']) } : {}),
                    ...(b['refreshTokenIpAllowlist'] !== undefined && b['refreshTokenIpAllowlist'] !== null
                        ? { refreshTokenIpAllowlist: ranges(b['refreshTokenIpAllowlist'])! }
                        : {})
                };
                st.registerClient(c);
                return ok({ ok: true, clientId: c.clientId }, 201);
            }
            case 'DELETE clients/:id':
                return ok({ ok: st.removeClient(id) });
            case 'GET users/:id':
                return ok(st.user(id));
            case 'GET users/:id/tokens':
                return ok(st.tokenSummary(id));
            case 'POST users/:id/revoke-tokens':
                return ok({ ok: true, revoked: st.revokeUserTokens(id) });
            case 'POST users/:id/deactivate':
                st.setUserActive(id, false);
                return ok();
            case 'POST users/:id/activate':
                st.setUserActive(id, true);
                return ok();
            case 'POST users/:id/freeze':
                st.setUserFrozen(id, true);
                return ok();
            case 'POST users/:id/unfreeze':
                st.setUserFrozen(id, false);
                return ok();
            case 'POST users/:id/login-restriction': {
                const r = jsonBody(ctx)['restriction'];
                if (r !== 'ip' && r !== 'hours' && r !== null) throw new BadRequest('restriction must be "ip", "hours" or null');
                st.setUserLoginRestriction(id, r);
                return ok();
            }
            case 'POST users/:id/security-token': {
                const t = jsonBody(ctx)['token'];
                if (t !== null && (typeof t !== 'string' || !t)) throw new BadRequest('token must be a non-empty string or null');
                st.setUserSecurityToken(id, t);
                return ok();
            }
            case 'POST users/:id/password': {
                const b = jsonBody(ctx);
                if (typeof b['password'] !== 'string' || !b['password']) throw new BadRequest('password must be a non-empty string');
                st.setUserPassword(id, b['password']);
                return ok();
            }
            case 'POST users/:id/permission-sets/' + (parts[3] ?? ''):
                st.assignPermissionSet(id, parts[3] ?? '');
                return ok();
            case 'DELETE users/:id/permission-sets/' + (parts[3] ?? ''):
                st.unassignPermissionSet(id, parts[3] ?? '');
                return ok();
            case 'GET orgs/:id':
                return ok(st.org(orgKey(id)));
            case 'POST orgs/:id/refresh-sandbox':
                return ok(st.refreshSandbox(orgKey(id)));
            case 'POST orgs/:id/api-limit': {
                const b = jsonBody(ctx);
                st.setApiLimit(orgKey(id), {
                    max: num(b['max'], 'max'),
                    ...(b['used'] !== undefined ? { used: num(b['used'], 'used') } : {})
                });
                return ok(st.org(orgKey(id)).apiUsage);
            }
            case 'POST orgs/:id/apps/:id/install':
                st.setAppInstalled(orgKey(id), parts[3] ?? '', true);
                return ok();
            case 'POST orgs/:id/apps/:id/uninstall':
                st.setAppInstalled(orgKey(id), parts[3] ?? '', false);
                return ok();
            case 'GET orgs/:id/counts':
                return ok(st.requestCounts(orgKey(id)));
            case 'GET orgs/:id/tasks':
                return ok(st.tasks(orgKey(id)));
            case 'GET orgs/:id/records/' + (parts[3] ?? ''):
                return ok(st.records(orgKey(id), parts[3] ?? ''));
            case 'POST orgs/:id/records/' + (parts[3] ?? ''): {
                const type = parts[3] ?? '';
                if (!['Account', 'Contact', 'Lead', 'Case', 'Task'].includes(type))
                    throw new BadRequest('records can be added to Account, Contact, Lead, Case or Task');
                return ok({ id: st.insertRecord(orgKey(id), type as 'Account', jsonBody(ctx)) }, 201);
            }
            case 'POST orgs/:id/sharing': {
                const b = jsonBody(ctx);
                const object = str(b['object'] ?? '', 'object');
                const model = str(b['model'] ?? '', 'model');
                if (!['Account', 'Contact', 'Lead', 'Case'].includes(object))
                    throw new BadRequest('object must be Account, Contact, Lead or Case');
                if (!['Private', 'Read', 'ReadWrite', 'ControlledByParent'].includes(model))
                    throw new BadRequest('model must be Private, Read, ReadWrite or ControlledByParent');
                st.setSharingModel(orgKey(id), object as 'Account', model as SharingModel);
                return ok();
            }
            case 'POST orgs/:id/permissions/' + (parts[3] ?? ''):
                st.updatePermissions(orgKey(id), parts[3] ?? '', jsonBody(ctx));
                return ok();
            case 'GET counts':
                return ok(st.requestCounts());
            case 'POST counts/reset':
                st.resetCounts();
                return ok();
            case 'POST latency':
                st.setLatency(num(jsonBody(ctx)['ms'], 'ms'));
                return ok();
            case 'POST rotation': {
                const b = jsonBody(ctx);
                if (typeof b['enabled'] !== 'boolean') throw new BadRequest('enabled must be a boolean');
                st.setRotateRefreshTokens(b['enabled']);
                return ok();
            }
            case 'POST access-token-ttl':
                st.setAccessTokenTtl(num(jsonBody(ctx)['seconds'], 'seconds'));
                return ok();
            case 'POST expire-access-tokens': {
                const b = jsonBody(ctx);
                return ok({ ok: true, expired: st.expireAccessTokens(typeof b['username'] === 'string' ? b['username'] : undefined) });
            }
            case 'POST time/advance':
                st.advanceTime(num(jsonBody(ctx)['ms'], 'ms'));
                return ok();
            case 'POST fail': {
                const b = jsonBody(ctx);
                st.failNext(str(b['kind'] ?? '', 'kind') as FaultKind, str(b['how'] ?? '', 'how') as FaultMode, {
                    ...(b['count'] !== undefined ? { count: num(b['count'], 'count') } : {}),
                    ...(b['delayMs'] !== undefined ? { delayMs: num(b['delayMs'], 'delayMs') } : {}),
                    ...(b['orgKey'] !== undefined ? { orgKey: orgKey(str(b['orgKey'], 'orgKey')) } : {})
                });
                return ok();
            }
            case 'POST faults/clear':
                st.clearFaults();
                return ok();
            default:
                sendJson(ctx, 404, { error: `no control route ${ctx.method} /__emulator/${parts.join('/')}` });
                return;
        }
    } catch (err) {
        sendJson(ctx, 400, { error: (err as Error).message });
    }
}
