// The one shared state behind all listeners: orgs, registered clients, OAuth grants, counters and faults.

import { randomBytes } from 'node:crypto';
import {
    copyWithoutSecrets,
    credentialView,
    externalCredentialView,
    namedCredentialView,
    parseCredentialInput,
    type ExternalCredentialModel,
    type PrincipalModel
} from './credentials.ts';
import {
    addCustomField,
    addRecordType,
    applyPersonAccounts,
    enablePersonAccounts,
    findRecordType,
    preparePersonAccount,
    syncPersonContact,
    type CustomFieldSpec,
    type RecordTypeSpec
} from './customization.ts';
import { KEY_PREFIX, makeId, normalizeId, to15 } from './ids.ts';
import { allows, parseAllowlist, type IpAllowlist } from './ipAllowlist.ts';
import type {
    CustomPermissionModel,
    FieldDef,
    ObjectAccess,
    OrgKey,
    OrgModel,
    OriginKey,
    PermissionName,
    Rec,
    SharingModel,
    UserModel
} from './model.ts';
import { ORG_KEYS } from './model.ts';
import { Access } from './permissions.ts';
import { adminStamp, buildOrg, newRecordId, refreshedOrgId, SEED } from './seed.ts';

export interface EmulatorClient {
    clientId: string;
    clientSecret: string;
    redirectUris: string[];
    /** shown on the approval page; defaults to the client id */
    name?: string;
    /** overrides the emulator-wide refresh token rotation setting for this client */
    rotateRefreshTokens?: boolean;
    /**
     * The custom permissions the app's managed package carries: an org lists them (CustomPermission) while it has the
     * app installed, as installing or uninstalling the package brings or takes both.
     */
    packagedCustomPermissions?: Array<{ namespacePrefix: string; developerName: string; label: string }>;
    /** overrides the emulator-wide idle refresh token TTL for this client (null: valid until revoked) */
    refreshTokenIdleTtlSeconds?: number | null;
    /**
     * the app's Refresh Token IP Allowlist (addresses, "start-end" ranges, CIDR blocks): when set, only requests from
     * these addresses may exchange a code or refresh a token
     */
    refreshTokenIpAllowlist?: string[];
}

/** REST kinds are also counted under 'rest'. */
const REST_KIND_LIST = [
    'resources',
    'query',
    'search',
    'sobject-create',
    'sobject-get',
    'sobject-update',
    'sobject-delete',
    'describe',
    'describe-global',
    'composite',
    'composite-batch',
    'limits',
    'other'
] as const;

export const REQUEST_KINDS = [
    'authorize',
    'login',
    'approve',
    'token',
    'refresh',
    'revoke',
    'identity',
    'soap-login',
    'rest',
    'versions',
    ...REST_KIND_LIST
] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number];
export type RequestCounts = Record<RequestKind, number>;

export const REST_KINDS: ReadonlySet<RequestKind> = new Set(REST_KIND_LIST);

export type FaultMode = 'http500' | 'http503' | 'html503' | 'malformed' | 'reset' | 'slow';
/** a request kind, or 'rest' (any REST call), 'oauth' (token, refresh, revoke) or 'any' */
export type FaultKind = RequestKind | 'oauth' | 'any';
export interface FaultOptions {
    /** how many matching requests fail (default 1) */
    count?: number;
    /** for 'slow': how long to hold the request before answering normally (default 3000) */
    delayMs?: number;
    /** only requests attributed to this org */
    orgKey?: OrgKey;
}
interface Fault {
    kind: FaultKind;
    how: FaultMode;
    remaining: number;
    delayMs: number;
    orgKey?: OrgKey;
}

export interface AuthCode {
    code: string;
    clientId: string;
    redirectUri: string;
    orgKey: OrgKey;
    orgId: string;
    userId: string;
    listener: OriginKey;
    scopes: string[];
    challenge?: string;
    challengeMethod?: 'S256' | 'plain';
    expiresAt: number;
    used: boolean;
}

export interface RefreshFamily {
    id: string;
    clientId: string;
    orgKey: OrgKey;
    orgId: string;
    userId: string;
    scopes: string[];
    createdAt: number;
    lastUsedAt: number;
    current: string;
    revoked: boolean;
    revokedReason?: string;
}

export interface AccessGrant {
    token: string;
    clientId: string;
    orgKey: OrgKey;
    orgId: string;
    userId: string;
    scopes: string[];
    issuedAt: number;
    expiresAt: number;
    familyId?: string;
    revoked: boolean;
}

export interface UiSession {
    id: string;
    orgKey: OrgKey;
    userId: string;
    listener: OriginKey;
    /** the browser (its sfem_bid cookie) holding the session: one session per domain per browser */
    browserId: string;
    createdAt: number;
}

export interface CsrfEntry {
    listener: OriginKey;
    browserId: string;
    sessionId?: string;
    expiresAt: number;
}

export interface OrgInfo {
    key: OrgKey;
    /** the current org id (18 characters); same as orgId */
    id: string;
    orgId: string;
    name: string;
    isSandbox: boolean;
    environment: 'production' | 'sandbox';
    instanceName: string;
    instanceUrl: string;
    loginUrl: string;
    apiUsage: { used: number; max: number };
    refreshes: number;
    /** Organization.CreatedDate: when the org was created, or a sandbox last refreshed (ISO 8601) */
    createdDate: string;
    sharing: Record<string, SharingModel>;
    /** client ids of the registered apps this org has not installed (the others are installed) */
    uninstalledApps: string[];
    /** when the oldest API request still counted leaves the rolling 24 hours (ISO 8601), or null */
    apiUsageFreesAt: string | null;
    settings: { personAccounts: boolean };
    /** the production org a refresh copies (sandboxes only) */
    productionOrg: OrgKey | null;
}

/** An approval (refresh token) as Setup's OAuth usage pages show it. */
export interface GrantInfo {
    clientId: string;
    createdAt: string;
    /** when its refresh token was last used to refresh (or issued) */
    lastUsedAt: string;
    /** when it expires unless used before (the idle TTL), or null when the policy keeps it until revoked */
    idleExpiresAt: string | null;
}

export interface UserInfo {
    orgKey: OrgKey;
    orgId: string;
    userId: string;
    username: string;
    name: string;
    active: boolean;
    frozen: boolean;
    profile: string;
    permissionSets: string[];
}

export interface TokenSummary {
    /** live refresh tokens (one per approval) */
    refreshTokens: number;
    /** live access tokens */
    accessTokens: number;
    /** live refresh tokens per client id */
    byClient: Record<string, number>;
}

export interface PermissionPatch {
    permissions?: Partial<Record<PermissionName, boolean>>;
    objects?: Record<string, Partial<ObjectAccess>>;
    /** keyed 'Task.CallType' */
    fields?: Record<string, { read?: boolean; edit?: boolean }>;
    /** keyed 'Task.Call_Log' (object and record type API name) or by record type id */
    recordTypes?: Record<string, { visible?: boolean; default?: boolean }>;
}

/** Salesforce's refresh token policy for partner apps: expire a refresh token not used for 30 days. */
export const DEFAULT_REFRESH_TOKEN_IDLE_TTL_SECONDS = 30 * 86400;

export interface StateOptions {
    accessTokenTtlSeconds: number;
    rotateRefreshTokens: boolean;
    /** null: refresh tokens are valid until revoked */
    refreshTokenIdleTtlSeconds: number | null;
    apiVersion: string;
    clients: EmulatorClient[];
}

/** Five approvals per user per client; a sixth revokes the oldest. */
export const MAX_APPROVALS = 5;
export const CODE_TTL_MS = 15 * 60_000;

export function randomToken(bytes: number): string {
    return randomBytes(bytes).toString('base64url');
}

export class EmulatorState {
    readonly apiVersion: string;
    origins: Record<OriginKey, string> = { production: '', sandbox: '', acme: '', acmeUat: '' };

    private readonly opts: StateOptions;
    private accessTokenTtlSeconds: number;
    private rotateRefreshTokens: boolean;
    private refreshTokenIdleTtlSeconds: number | null;
    /** per client, its Refresh Token IP Allowlist when one is enforced */
    private ipAllowlists = new Map<string, IpAllowlist>();
    private clockOffset = 0;
    private latencyMs = 0;
    private clients = new Map<string, EmulatorClient>();
    private orgs!: Record<OrgKey, OrgModel>;
    readonly codes = new Map<string, AuthCode>();
    readonly families = new Map<string, RefreshFamily>();
    /** every refresh token ever issued → its family (rotated ones stay, to detect reuse) */
    readonly refreshIndex = new Map<string, string>();
    readonly accessTokens = new Map<string, AccessGrant>();
    readonly sessions = new Map<string, UiSession>();
    readonly csrf = new Map<string, CsrfEntry>();
    readonly refreshesInFlight = new Set<string>();
    private counts = new Map<string, RequestCounts>();
    private issued = 0;
    private faults: Fault[] = [];
    /** per org, the client ids it has not installed; every registered client is installed unless listed here */
    private uninstalled = new Map<OrgKey, Set<string>>();

    constructor(opts: StateOptions) {
        this.opts = opts;
        this.apiVersion = opts.apiVersion;
        this.accessTokenTtlSeconds = opts.accessTokenTtlSeconds;
        this.rotateRefreshTokens = opts.rotateRefreshTokens;
        this.refreshTokenIdleTtlSeconds = opts.refreshTokenIdleTtlSeconds;
        this.reset();
    }

    // ------------------------------------------------------------ controls

    /** Back to the startup configuration: seed orgs, the clients given at start, no grants, no counts, no faults. */
    reset(): void {
        this.clockOffset = 0;
        const now = this.now();
        this.latencyMs = 0;
        this.accessTokenTtlSeconds = this.opts.accessTokenTtlSeconds;
        this.rotateRefreshTokens = this.opts.rotateRefreshTokens;
        this.refreshTokenIdleTtlSeconds = this.opts.refreshTokenIdleTtlSeconds;
        this.orgs = { acme: buildOrg('acme', now), acmeUat: buildOrg('acmeUat', now) };
        this.clients = new Map();
        this.ipAllowlists.clear();
        for (const c of this.opts.clients) this.registerClient(c);
        this.codes.clear();
        this.families.clear();
        this.refreshIndex.clear();
        this.accessTokens.clear();
        this.sessions.clear();
        this.csrf.clear();
        this.refreshesInFlight.clear();
        this.counts.clear();
        this.faults = [];
        this.uninstalled.clear();
        this.syncPackagedPermissions();
    }

    registerClient(c: EmulatorClient): void {
        if (!c.clientId || !c.clientSecret || !Array.isArray(c.redirectUris) || !c.redirectUris.length) {
            throw new Error('a client needs clientId, clientSecret and at least one redirect URI');
        }
        if (c.refreshTokenIdleTtlSeconds !== undefined) checkTtl(c.refreshTokenIdleTtlSeconds);
        const allowlist = c.refreshTokenIpAllowlist ? parseAllowlist(c.refreshTokenIpAllowlist) : undefined;
        this.clients.set(c.clientId, { ...c, redirectUris: [...c.redirectUris] });
        if (allowlist) this.ipAllowlists.set(c.clientId, allowlist);
        else this.ipAllowlists.delete(c.clientId);
        this.syncPackagedPermissions();
    }

    removeClient(clientId: string): boolean {
        this.ipAllowlists.delete(clientId);
        const removed = this.clients.delete(clientId);
        this.syncPackagedPermissions();
        return removed;
    }

    /**
     * Enforces an app's Refresh Token IP Allowlist (addresses, "start-end" ranges, CIDR blocks; at most 128 ranges and
     * 256 addresses, as Salesforce takes), or lifts it with null. Requests from elsewhere cannot exchange a code or
     * refresh a token: `invalid_grant` "ip restricted". Every request of the tests comes from loopback (127.0.0.1 or ::1).
     */
    setTokenIpAllowlist(clientId: string, ranges: string[] | null): void {
        const client = this.clients.get(clientId);
        if (!client) throw new Error(`unknown client ${clientId}`);
        if (ranges === null) {
            this.ipAllowlists.delete(clientId);
            delete client.refreshTokenIpAllowlist;
            return;
        }
        this.ipAllowlists.set(clientId, parseAllowlist(ranges));
        client.refreshTokenIpAllowlist = [...ranges];
    }

    /** Whether a token request of the client may come from this remote address. */
    tokenRequestAllowed(clientId: string, remoteAddress: string | undefined): boolean {
        const allowlist = this.ipAllowlists.get(clientId);
        return !allowlist || allows(allowlist, remoteAddress);
    }

    client(clientId: string): EmulatorClient | undefined {
        return this.clients.get(clientId);
    }

    /** Installs or uninstalls a registered app in an org (Setup → Connected Apps OAuth Usage → Install / Uninstall). */
    setAppInstalled(orgKey: OrgKey, clientId: string, installed: boolean): void {
        this.requireOrg(orgKey);
        if (!this.clients.has(clientId)) throw new Error(`unknown client ${clientId}`);
        let set = this.uninstalled.get(orgKey);
        if (!set) this.uninstalled.set(orgKey, (set = new Set()));
        if (installed) set.delete(clientId);
        else set.add(clientId);
        this.syncPackagedPermissions();
    }

    /** What each org's CustomPermission lists: the packaged custom permissions of the apps it has installed. */
    private syncPackagedPermissions(): void {
        for (const org of Object.values(this.orgs)) {
            const permissions: CustomPermissionModel[] = [];
            for (const client of this.clients.values()) {
                if (!this.appInstalled(org.key, client.clientId)) continue;
                for (const p of client.packagedCustomPermissions ?? []) {
                    permissions.push({ ...p, id: makeId(KEY_PREFIX.CustomPermission, org.pod, 900 + permissions.length) });
                }
            }
            org.customPermissions = permissions;
        }
    }

    appInstalled(orgKey: OrgKey, clientId: string): boolean {
        return !this.uninstalled.get(orgKey)?.has(clientId);
    }

    /**
     * Whether the user may authorize the app (enforced since September 2025): the org installed it, or the user has
     * "Approve Uninstalled Connected Apps" or "Use Any API Client".
     */
    mayAuthorize(org: OrgModel, user: UserModel, clientId: string): boolean {
        if (this.appInstalled(org.key, clientId)) return true;
        const access = new Access(org, user);
        return access.permissions.CanApproveUninstalledApps || access.permissions.UseAnyApiClient;
    }

    /** A login in a browser: Salesforce keeps one session per domain per browser, so it ends the browser's previous one there. */
    startUiSession(listener: OriginKey, org: OrgModel, user: UserModel, browserId: string): UiSession {
        for (const [sid, s] of this.sessions) if (s.listener === listener && s.browserId === browserId) this.sessions.delete(sid);
        const session: UiSession = { id: randomToken(24), orgKey: org.key, userId: user.id, listener, browserId, createdAt: this.now() };
        this.sessions.set(session.id, session);
        return session;
    }

    /** Revokes every refresh and access token of the user; returns how many refresh tokens died. */
    revokeUserTokens(username: string): number {
        const { user } = this.requireUser(username);
        let n = 0;
        for (const fam of this.families.values()) {
            if (fam.userId === user.id && !fam.revoked) {
                this.revokeFamily(fam, 'revoked by admin');
                n++;
            }
        }
        for (const at of this.accessTokens.values()) if (at.userId === user.id) at.revoked = true;
        return n;
    }

    /**
     * An admin revokes the app's access (Setup → Connected Apps OAuth Usage → Revoke, or a user's OAuth Connected Apps
     * → Revoke): every refresh token of the app in the org (or of one user there) dies with its access tokens.
     * Returns how many refresh tokens died.
     */
    revokeAppAccess(orgKey: OrgKey, clientId: string, username?: string): number {
        this.requireOrg(orgKey);
        if (!this.clients.has(clientId)) throw new Error(`unknown client ${clientId}`);
        let userId: string | undefined;
        if (username !== undefined) {
            const found = this.requireUser(username);
            if (found.org.key !== orgKey) throw new Error(`${username} is not a user of ${orgKey}`);
            userId = found.user.id;
        }
        let n = 0;
        for (const fam of this.families.values()) {
            if (fam.orgKey !== orgKey || fam.clientId !== clientId || (userId && fam.userId !== userId) || fam.revoked) continue;
            this.revokeFamily(fam, 'revoked by admin');
            n++;
        }
        for (const at of this.accessTokens.values())
            if (at.orgKey === orgKey && at.clientId === clientId && (!userId || at.userId === userId)) at.revoked = true;
        return n;
    }

    setUserActive(username: string, active: boolean): void {
        const { user } = this.requireUser(username);
        user.active = active;
        user.modifiedAt = this.now();
        if (!active) this.killSessionsOf(user.id);
    }

    /** Makes token requests for the user fail as a profile's IP range or login hours would; null lifts it. */
    setUserLoginRestriction(username: string, restriction: 'ip' | 'hours' | null): void {
        const { user } = this.requireUser(username);
        if (restriction) user.loginRestriction = restriction;
        else delete user.loginRestriction;
    }

    setUserFrozen(username: string, frozen: boolean): void {
        const { user } = this.requireUser(username);
        user.frozen = frozen;
        if (frozen) this.killSessionsOf(user.id);
    }

    /** A security token for SOAP logins (password + token); null removes it (the password alone works). */
    setUserSecurityToken(username: string, token: string | null): void {
        const { user } = this.requireUser(username);
        if (token) user.securityToken = token;
        else delete user.securityToken;
    }

    setUserPassword(username: string, password: string): void {
        this.requireUser(username).user.password = password;
    }

    /**
     * A sandbox refresh (or a new copy) from its production org: a new org with a new org id on the same URLs, with
     * production's users (username plus the sandbox suffix; a user the sandbox had keeps its id), passwords, profiles,
     * permission sets, sharing, installed apps, settings, record types and custom fields, the records as seeded, and
     * the package's Named and External Credential definitions with no principal parameters. Every token, code and
     * session of the old sandbox dies.
     */
    refreshSandbox(orgKey: OrgKey): OrgInfo {
        const org = this.requireOrg(orgKey);
        if (!org.isSandbox) throw new Error(`${orgKey} is a production org, not a sandbox`);
        const seed = SEED.orgs[orgKey] as { productionOrg?: OrgKey; sandboxName?: string };
        const prod = this.requireOrg(seed.productionOrg ?? 'acme');
        const suffix = `.${seed.sandboxName ?? 'sandbox'}`;
        const now = this.now();
        const generation = org.refreshes + 1;
        const fresh = buildOrg(orgKey, now, generation);
        fresh.orgId = refreshedOrgId(orgKey, generation);
        // A sandbox copy is a new org: its Organization.CreatedDate is the refresh
        fresh.createdAt = now;
        copyConfiguration(prod, fresh);
        const users: UserModel[] = [];
        for (const pu of prod.users) {
            const username = pu.username + suffix;
            const kept = fresh.users.find((u) => u.username.toLowerCase() === username.toLowerCase());
            const profile = fresh.profiles.find((p) => p.name === prod.profiles.find((x) => x.id === pu.profileId)?.name);
            const assignments = new Map<string, string>();
            for (const [psId] of pu.assignments) {
                const name = prod.permissionSets.find((p) => p.id === psId)?.name;
                const ps = fresh.permissionSets.find((p) => p.name === name);
                if (ps) assignments.set(ps.id, kept?.assignments.get(ps.id) ?? newRecordId(fresh, KEY_PREFIX.PermissionSetAssignment));
            }
            users.push({
                ...pu,
                id: kept?.id ?? newRecordId(fresh, KEY_PREFIX.User),
                username: kept?.username ?? username,
                profileId: profile?.id ?? fresh.profiles[0]!.id,
                profileAssignmentId: kept?.profileAssignmentId ?? newRecordId(fresh, KEY_PREFIX.PermissionSetAssignment),
                assignments,
                lastLoginAt: null
            });
        }
        fresh.users = users;
        copySchema(prod, fresh, now);
        const creds = copyWithoutSecrets(prod);
        fresh.externalCredentials = creds.externalCredentials;
        fresh.namedCredentials = creds.namedCredentials;
        this.orgs[orgKey] = fresh;
        this.uninstalled.set(orgKey, new Set(this.uninstalled.get(prod.key) ?? []));
        this.syncPackagedPermissions();
        for (const fam of this.families.values()) if (fam.orgKey === orgKey) this.revokeFamily(fam, 'sandbox refreshed');
        for (const at of this.accessTokens.values()) if (at.orgKey === orgKey) at.revoked = true;
        for (const [code, c] of this.codes) if (c.orgKey === orgKey) this.codes.delete(code);
        for (const [sid, s] of this.sessions) if (s.orgKey === orgKey) this.sessions.delete(sid);
        return this.org(orgKey);
    }

    /**
     * Sets the org's daily API allowance; `used` replaces the requests counted in the rolling 24 hours with that many
     * made now (they leave the window 24 hours from now).
     */
    setApiLimit(orgKey: OrgKey, limit: { max: number; used?: number }): void {
        const org = this.requireOrg(orgKey);
        if (!Number.isInteger(limit.max) || limit.max < 0) throw new Error('max must be a non-negative integer');
        if (limit.used !== undefined && (!Number.isInteger(limit.used) || limit.used < 0))
            throw new Error('used must be a non-negative integer');
        org.apiLimit.max = limit.max;
        if (limit.used !== undefined) org.apiLimit.set(limit.used, this.now());
    }

    /** Delay every request (control API excepted) by ms; refreshes are held in flight for that long. */
    setLatency(ms: number): void {
        if (!Number.isFinite(ms) || ms < 0) throw new Error('latency must be a non-negative number of milliseconds');
        this.latencyMs = ms;
    }

    latency(): number {
        return this.latencyMs;
    }

    setRotateRefreshTokens(on: boolean): void {
        this.rotateRefreshTokens = on;
    }

    /** The emulator-wide token settings (a client's own settings override them for that client). */
    tokenPolicy(): { rotateRefreshTokens: boolean; refreshTokenIdleTtlSeconds: number | null; accessTokenTtlSeconds: number } {
        return {
            rotateRefreshTokens: this.rotateRefreshTokens,
            refreshTokenIdleTtlSeconds: this.refreshTokenIdleTtlSeconds,
            accessTokenTtlSeconds: this.accessTokenTtlSeconds
        };
    }

    rotates(clientId: string): boolean {
        return this.clients.get(clientId)?.rotateRefreshTokens ?? this.rotateRefreshTokens;
    }

    /**
     * The refresh token policy's idle TTL: a refresh token not used to refresh for this long expires (null: valid until
     * revoked). For one client, or emulator-wide. It applies to refresh tokens already issued, as a policy change does.
     */
    setRefreshTokenIdleTtl(seconds: number | null, clientId?: string): void {
        checkTtl(seconds);
        if (clientId === undefined) {
            this.refreshTokenIdleTtlSeconds = seconds;
            return;
        }
        const client = this.clients.get(clientId);
        if (!client) throw new Error(`unknown client ${clientId}`);
        client.refreshTokenIdleTtlSeconds = seconds;
    }

    /** The idle TTL for the client's refresh tokens in ms, or null when they are valid until revoked. */
    refreshTokenIdleTtlMs(clientId: string): number | null {
        const client = this.clients.get(clientId);
        const seconds =
            client && client.refreshTokenIdleTtlSeconds !== undefined ? client.refreshTokenIdleTtlSeconds : this.refreshTokenIdleTtlSeconds;
        return seconds === null ? null : seconds * 1000;
    }

    setAccessTokenTtl(seconds: number): void {
        this.accessTokenTtlSeconds = seconds;
    }

    accessTokenTtlMs(): number {
        return this.accessTokenTtlSeconds * 1000;
    }

    /** Makes live access tokens (of one user, or all) expire now, as if their session timed out. */
    expireAccessTokens(username?: string): number {
        const userId = username ? this.requireUser(username).user.id : undefined;
        let n = 0;
        const now = this.now();
        for (const at of this.accessTokens.values()) {
            if ((!userId || at.userId === userId) && at.expiresAt > now) {
                at.expiresAt = now - 1;
                n++;
            }
        }
        return n;
    }

    /** Moves the emulator's clock forward (codes, access tokens and CSRF tokens expire by it). */
    advanceTime(ms: number): void {
        this.clockOffset += ms;
    }

    now(): number {
        return Date.now() + this.clockOffset;
    }

    setSharingModel(orgKey: OrgKey, object: 'Account' | 'Contact' | 'Lead' | 'Case', model: SharingModel): void {
        this.requireOrg(orgKey).sharing[object] = model;
    }

    /** Changes a profile (by name) or a permission set (by API name or label) of the org. */
    updatePermissions(orgKey: OrgKey, profileOrPermissionSet: string, patch: PermissionPatch): void {
        const org = this.requireOrg(orgKey);
        const ps =
            org.profiles.find((p) => p.name === profileOrPermissionSet)?.permissionSet ??
            org.permissionSets.find((p) => p.name === profileOrPermissionSet || p.label === profileOrPermissionSet);
        if (!ps) throw new Error(`no profile or permission set named ${profileOrPermissionSet} in ${orgKey}`);
        // everything is checked before anything changes: a refused patch leaves the org as it was
        for (const k of Object.keys(patch.permissions ?? {})) if (!(k in ps.permissions)) throw new Error(`unknown permission ${k}`);
        const recordTypes = Object.entries(patch.recordTypes ?? {}).map(([key, acc]) => {
            const rt = findRecordType(org, key);
            if (!rt) throw new Error(`no record type ${key} in ${orgKey}`);
            if (acc?.default && !ps.profileId) throw new Error('only a profile has a default record type');
            return { rt, acc };
        });
        for (const [k, v] of Object.entries(patch.permissions ?? {})) ps.permissions[k as PermissionName] = !!v;
        for (const [obj, acc] of Object.entries(patch.objects ?? {})) {
            ps.objects[obj] = {
                read: false,
                create: false,
                edit: false,
                delete: false,
                viewAll: false,
                modifyAll: false,
                ...ps.objects[obj],
                ...acc
            };
        }
        for (const [field, acc] of Object.entries(patch.fields ?? {})) {
            ps.fields[field] = { read: false, edit: false, ...ps.fields[field], ...acc };
        }
        for (const { rt, acc } of recordTypes) {
            const next = { visible: false, ...ps.recordTypes[rt.id], ...acc };
            if (next.default) {
                for (const other of org.recordTypes)
                    if (other.sobjectType === rt.sobjectType && other.id !== rt.id && ps.recordTypes[other.id])
                        delete ps.recordTypes[other.id]!.default;
                next.visible = true;
            }
            ps.recordTypes[rt.id] = next;
        }
    }

    // ------------------------------------------------------------ schema: settings, record types, custom fields

    /** Org settings; Person Accounts can be turned on, never off again (as in Salesforce). */
    setOrgSettings(orgKey: OrgKey, settings: { personAccounts?: boolean }): void {
        const org = this.requireOrg(orgKey);
        if (settings.personAccounts === false && org.settings.personAccounts)
            throw new Error('Person Accounts cannot be turned off once on');
        if (settings.personAccounts) enablePersonAccounts(org, this.now());
    }

    /** Adds a record type; `availableTo` names the profiles and permission sets that get it (every profile by default). */
    addRecordType(orgKey: OrgKey, spec: RecordTypeSpec): { id: string } {
        return { id: addRecordType(this.requireOrg(orgKey), spec).id };
    }

    /** Adds a custom field (field-level security: every profile reads and edits it unless `access` says otherwise). */
    addCustomField(orgKey: OrgKey, object: string, spec: CustomFieldSpec): FieldDef {
        return { ...addCustomField(this.requireOrg(orgKey), object, spec) };
    }

    assignPermissionSet(username: string, permissionSet: string): void {
        const { org, user } = this.requireUser(username);
        const ps = org.permissionSets.find((p) => p.name === permissionSet || p.label === permissionSet);
        if (!ps) throw new Error(`no permission set ${permissionSet} in ${org.key}`);
        if (!user.assignments.has(ps.id)) user.assignments.set(ps.id, this.newId(org, KEY_PREFIX.PermissionSetAssignment));
    }

    unassignPermissionSet(username: string, permissionSet: string): void {
        const { org, user } = this.requireUser(username);
        const ps = org.permissionSets.find((p) => p.name === permissionSet || p.label === permissionSet);
        if (ps) user.assignments.delete(ps.id);
    }

    // ------------------------------------------------------------ counts and faults

    count(kind: RequestKind, orgKey?: OrgKey): void {
        const bump = (key: string): void => {
            let c = this.counts.get(key);
            if (!c) {
                c = emptyCounts();
                this.counts.set(key, c);
            }
            c[kind]++;
            if (REST_KINDS.has(kind)) c.rest++;
        };
        bump('*');
        if (orgKey) bump(orgKey);
    }

    /** Counts of requests by kind for one org, or for all listeners when no org is given. */
    requestCounts(orgKey?: OrgKey): RequestCounts {
        return { ...(this.counts.get(orgKey ?? '*') ?? emptyCounts()) };
    }

    resetCounts(): void {
        this.counts.clear();
    }

    failNext(kind: FaultKind, how: FaultMode, options: FaultOptions = {}): void {
        const known = [...REQUEST_KINDS, 'oauth', 'any'] as string[];
        if (!known.includes(kind)) throw new Error(`unknown request kind ${kind}`);
        if (!['http500', 'http503', 'html503', 'malformed', 'reset', 'slow'].includes(how)) throw new Error(`unknown fault ${how}`);
        this.faults.push({ kind, how, remaining: options.count ?? 1, delayMs: options.delayMs ?? 3000, orgKey: options.orgKey });
    }

    clearFaults(): void {
        this.faults = [];
    }

    /** The fault that applies to this request, if any (and uses it up). */
    takeFault(kind: RequestKind, orgKey?: OrgKey): { how: FaultMode; delayMs: number } | undefined {
        const idx = this.faults.findIndex((f) => {
            if (f.orgKey && f.orgKey !== orgKey) return false;
            if (f.kind === 'any' || f.kind === kind) return true;
            if (f.kind === 'rest') return REST_KINDS.has(kind);
            if (f.kind === 'oauth') return kind === 'token' || kind === 'refresh' || kind === 'revoke';
            return false;
        });
        if (idx < 0) return undefined;
        const f = this.faults[idx]!;
        f.remaining--;
        if (f.remaining <= 0) this.faults.splice(idx, 1);
        return { how: f.how, delayMs: f.delayMs };
    }

    // ------------------------------------------------------------ queries

    org(orgKey: OrgKey): OrgInfo {
        const org = this.requireOrg(orgKey);
        return {
            key: org.key,
            id: org.orgId,
            orgId: org.orgId,
            name: org.name,
            isSandbox: org.isSandbox,
            environment: org.isSandbox ? 'sandbox' : 'production',
            instanceName: org.instanceName,
            instanceUrl: this.origins[org.key],
            loginUrl: this.origins[org.isSandbox ? 'sandbox' : 'production'],
            apiUsage: { used: org.apiLimit.used(this.now()), max: org.apiLimit.max },
            refreshes: org.refreshes,
            createdDate: new Date(org.createdAt).toISOString(),
            sharing: { ...org.sharing },
            uninstalledApps: [...(this.uninstalled.get(org.key) ?? [])],
            apiUsageFreesAt: ((at) => (at === null ? null : new Date(at).toISOString()))(org.apiLimit.nextRelease(this.now())),
            settings: { ...org.settings },
            productionOrg: org.isSandbox ? ((SEED.orgs[org.key] as { productionOrg?: OrgKey }).productionOrg ?? null) : null
        };
    }

    user(username: string): UserInfo {
        const { org, user } = this.requireUser(username);
        const profile = org.profiles.find((p) => p.id === user.profileId);
        return {
            orgKey: org.key,
            orgId: org.orgId,
            userId: user.id,
            username: user.username,
            name: `${user.firstName} ${user.lastName}`.trim(),
            active: user.active,
            frozen: user.frozen,
            profile: profile?.name ?? '',
            permissionSets: [...user.assignments.keys()].map((id) => org.permissionSets.find((p) => p.id === id)?.name ?? id)
        };
    }

    /** How many live refresh tokens (approvals) the user has, across clients. */
    tokensFor(username: string): number {
        return this.tokenSummary(username).refreshTokens;
    }

    tokenSummary(username: string): TokenSummary {
        const { org, user } = this.requireUser(username);
        const out: TokenSummary = { refreshTokens: 0, accessTokens: 0, byClient: {} };
        for (const fam of this.families.values()) {
            if (fam.userId !== user.id || fam.orgKey !== org.key || !this.familyAlive(fam)) continue;
            out.refreshTokens++;
            out.byClient[fam.clientId] = (out.byClient[fam.clientId] ?? 0) + 1;
        }
        for (const at of this.accessTokens.values()) if (at.userId === user.id && this.accessProblem(at) === null) out.accessTokens++;
        return out;
    }

    /** Task records of the org, oldest first (copies). */
    tasks(orgKey: OrgKey): Rec[] {
        return this.records(orgKey, 'Task');
    }

    records(orgKey: OrgKey, type: string): Rec[] {
        return [...(this.requireOrg(orgKey).records.get(type)?.values() ?? [])].map((r) => ({ ...r }));
    }

    /** Adds a record directly (no permission checks); returns its id. */
    insertRecord(orgKey: OrgKey, type: 'Account' | 'Contact' | 'Lead' | 'Case' | 'Task', fields: Rec): string {
        const org = this.requireOrg(orgKey);
        const prefix = KEY_PREFIX[type];
        const id = this.newId(org, prefix);
        const at = new Date(this.now()).toISOString();
        const rec: Rec = { Id: id, ...adminStamp(org, at), ...fields };
        if (type === 'Contact' || type === 'Lead') rec['Name'] = [rec['FirstName'], rec['LastName']].filter(Boolean).join(' ');
        preparePersonAccount(org, type, rec);
        org.records.get(type)!.set(id, rec);
        if (type === 'Account') syncPersonContact(org, rec, at);
        return id;
    }

    /** Changes a record directly (no permission checks; LastModifiedDate and OwnerId may be set like any field). */
    updateRecord(orgKey: OrgKey, type: string, id: string, fields: Rec): Rec {
        const org = this.requireOrg(orgKey);
        const rec = org.records.get(type)?.get(normalizeId(id) ?? id);
        if (!rec) throw new Error(`no ${type} ${id} in ${orgKey}`);
        const at = new Date(this.now()).toISOString();
        Object.assign(rec, { LastModifiedDate: at, SystemModstamp: at }, fields, { Id: rec['Id'] });
        if (type === 'Contact' || type === 'Lead') rec['Name'] = [rec['FirstName'], rec['LastName']].filter(Boolean).join(' ');
        if (type === 'Account' && rec['IsPersonAccount'] === true) {
            rec['Name'] = [rec['FirstName'], rec['LastName']].filter(Boolean).join(' ');
            syncPersonContact(org, rec, String(rec['LastModifiedDate']));
        }
        return { ...rec };
    }

    // ------------------------------------------------------------ the package's credentials (ConnectApi.NamedCredentials)

    /** getCredential: the principal's credential as ConnectApi.Credential (encrypted values are not read back). */
    credential(orgKey: OrgKey, externalCredential: string, principalName: string): Record<string, unknown> {
        const { ec, principal } = this.requirePrincipal(orgKey, externalCredential, principalName);
        return credentialView(ec, principal);
    }

    /** createCredential: sets the principal's parameters; refused when it already has some (update them instead). */
    createCredential(orgKey: OrgKey, externalCredential: string, principalName: string, credentials: unknown): Record<string, unknown> {
        const { ec, principal } = this.requirePrincipal(orgKey, externalCredential, principalName);
        const values = parseCredentialInput(credentials);
        if (principal.credentials.size)
            throw new Error(`principal ${principalName} of ${ec.developerName} already has a credential; update it`);
        principal.credentials = values;
        return credentialView(ec, principal);
    }

    /** updateCredential (PATCH, Custom protocol): sets the parameters given, keeps the others; refused when there are none yet. */
    updateCredential(orgKey: OrgKey, externalCredential: string, principalName: string, credentials: unknown): Record<string, unknown> {
        const { ec, principal } = this.requirePrincipal(orgKey, externalCredential, principalName);
        const values = parseCredentialInput(credentials);
        if (!principal.credentials.size)
            throw new Error(`principal ${principalName} of ${ec.developerName} has no credential yet; create it`);
        for (const [k, v] of values) principal.credentials.set(k, v);
        return credentialView(ec, principal);
    }

    /** deleteCredential: the principal keeps no parameter. */
    deleteCredential(orgKey: OrgKey, externalCredential: string, principalName: string): void {
        this.requirePrincipal(orgKey, externalCredential, principalName).principal.credentials = new Map();
    }

    /** What a callout through the External Credential sends for {!$Credential.<externalCredential>.<parameter>}, or null when unset. */
    credentialParameter(orgKey: OrgKey, externalCredential: string, principalName: string, parameter: string): string | null {
        const { principal } = this.requirePrincipal(orgKey, externalCredential, principalName);
        return principal.credentials.get(parameter)?.value ?? null;
    }

    /** getExternalCredential: the definition and its principals (no secret, and no sign of whether one is set). */
    externalCredential(orgKey: OrgKey, developerName: string): Record<string, unknown> {
        const org = this.requireOrg(orgKey);
        const ec = org.externalCredentials.find((e) => e.developerName === developerName);
        if (!ec) throw new Error(`no external credential ${developerName} in ${orgKey}`);
        return externalCredentialView(ec, org.namedCredentials);
    }

    namedCredential(orgKey: OrgKey, developerName: string): Record<string, unknown> {
        return namedCredentialView(this.requireNamedCredential(orgKey, developerName));
    }

    /** Points a Named Credential at another URL (https, or http on loopback for the demo and tests). */
    setNamedCredentialUrl(orgKey: OrgKey, developerName: string, url: string): void {
        let parsed: URL;
        try {
            parsed = new URL(url);
        } catch {
            throw new Error(`not a URL: ${url}`);
        }
        const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname);
        if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && loopback))
            throw new Error('a Named Credential URL is https (or http on loopback)');
        this.requireNamedCredential(orgKey, developerName).url = url.replace(/\/+$/, '');
    }

    // ------------------------------------------------------------ internals for the handlers

    orgModel(orgKey: OrgKey): OrgModel {
        return this.requireOrg(orgKey);
    }

    allOrgs(): OrgModel[] {
        return ORG_KEYS.map((k) => this.orgs[k]);
    }

    newId(org: OrgModel, prefix: string): string {
        return newRecordId(org, prefix);
    }

    findUserByUsername(username: string): { org: OrgModel; user: UserModel } | undefined {
        const lower = username.trim().toLowerCase();
        for (const org of this.allOrgs()) {
            const user = org.users.find((u) => u.username.toLowerCase() === lower);
            if (user) return { org, user };
        }
        return undefined;
    }

    userById(orgKey: OrgKey, userId: string): UserModel | undefined {
        return this.orgs[orgKey].users.find((u) => u.id === userId);
    }

    orgById(orgId: string): OrgModel | undefined {
        const id = normalizeId(orgId);
        return this.allOrgs().find((o) => o.orgId === id);
    }

    /** Which orgs a listener logs in and serves: a login host serves every org of its kind, a My Domain only its own org. */
    serves(listener: OriginKey, org: OrgModel): boolean {
        if (listener === 'production') return !org.isSandbox;
        if (listener === 'sandbox') return org.isSandbox;
        return listener === org.key;
    }

    familyAlive(fam: RefreshFamily): boolean {
        return !fam.revoked && this.orgs[fam.orgKey].orgId === fam.orgId && !this.idleExpired(fam);
    }

    /** A refresh token not used to refresh for the idle TTL has expired (its access tokens live on to their own expiry). */
    idleExpired(fam: RefreshFamily): boolean {
        const ttl = this.refreshTokenIdleTtlMs(fam.clientId);
        return ttl !== null && this.now() - fam.lastUsedAt >= ttl;
    }

    /** The user's live approvals with when each was last used to refresh. */
    grants(username: string): GrantInfo[] {
        const { org, user } = this.requireUser(username);
        const iso = (ms: number): string => new Date(ms).toISOString();
        return [...this.families.values()]
            .filter((f) => f.userId === user.id && f.orgKey === org.key && this.familyAlive(f))
            .sort((a, b) => a.createdAt - b.createdAt)
            .map((f) => {
                const ttl = this.refreshTokenIdleTtlMs(f.clientId);
                return {
                    clientId: f.clientId,
                    createdAt: iso(f.createdAt),
                    lastUsedAt: iso(f.lastUsedAt),
                    idleExpiresAt: ttl === null ? null : iso(f.lastUsedAt + ttl)
                };
            });
    }

    revokeFamily(fam: RefreshFamily, reason: string): void {
        fam.revoked = true;
        fam.revokedReason = reason;
        for (const at of this.accessTokens.values()) if (at.familyId === fam.id) at.revoked = true;
    }

    /** null when the access token is usable, or why not. */
    accessProblem(at: AccessGrant): string | null {
        if (at.revoked) return 'revoked';
        if (at.expiresAt <= this.now()) return 'expired';
        const org = this.orgs[at.orgKey];
        if (org.orgId !== at.orgId) return 'org refreshed';
        const user = org.users.find((u) => u.id === at.userId);
        if (!user || !user.active) return 'inactive user';
        if (user.frozen) return 'frozen user';
        if (at.familyId) {
            const fam = this.families.get(at.familyId);
            if (fam && fam.revoked) return 'revoked';
        }
        return null;
    }

    issueAccessToken(args: { clientId: string; org: OrgModel; userId: string; scopes: string[]; familyId?: string }): AccessGrant {
        const now = this.now();
        const grant: AccessGrant = {
            token: `${to15(args.org.orgId)}!${randomToken(72)}`,
            clientId: args.clientId,
            orgKey: args.org.key,
            orgId: args.org.orgId,
            userId: args.userId,
            scopes: args.scopes,
            issuedAt: now,
            expiresAt: now + this.accessTokenTtlMs(),
            familyId: args.familyId,
            revoked: false
        };
        this.accessTokens.set(grant.token, grant);
        if (++this.issued % 500 === 0) this.sweep();
        return grant;
    }

    /** Drops dead access tokens, spent codes and stale CSRF tokens, so long benchmarks keep a flat memory profile. */
    private sweep(): void {
        const now = this.now();
        for (const [t, at] of this.accessTokens) if (at.revoked || at.expiresAt <= now) this.accessTokens.delete(t);
        for (const [c, code] of this.codes) if (code.used || code.expiresAt <= now) this.codes.delete(c);
        for (const [t, entry] of this.csrf) if (entry.expiresAt <= now) this.csrf.delete(t);
    }

    /** A new approval (refresh token family); a sixth live one for the same user and client revokes the oldest. */
    issueRefreshFamily(args: { clientId: string; org: OrgModel; userId: string; scopes: string[] }): RefreshFamily {
        const live = [...this.families.values()]
            .filter((f) => f.clientId === args.clientId && f.userId === args.userId && f.orgKey === args.org.key && this.familyAlive(f))
            .sort((a, b) => a.createdAt - b.createdAt);
        while (live.length >= MAX_APPROVALS) this.revokeFamily(live.shift()!, 'approval limit: oldest approval revoked');
        const now = this.now();
        const fam: RefreshFamily = {
            id: randomToken(12),
            clientId: args.clientId,
            orgKey: args.org.key,
            orgId: args.org.orgId,
            userId: args.userId,
            scopes: args.scopes,
            createdAt: now,
            lastUsedAt: now,
            current: newRefreshToken(),
            revoked: false
        };
        // strictly increasing creation times keep "oldest" well defined within one millisecond
        const newest = live[live.length - 1];
        if (newest && newest.createdAt >= fam.createdAt) fam.createdAt = newest.createdAt + 1;
        this.families.set(fam.id, fam);
        this.refreshIndex.set(fam.current, fam.id);
        return fam;
    }

    rotate(fam: RefreshFamily): string {
        fam.current = newRefreshToken();
        this.refreshIndex.set(fam.current, fam.id);
        return fam.current;
    }

    private killSessionsOf(userId: string): void {
        for (const [sid, s] of this.sessions) if (s.userId === userId) this.sessions.delete(sid);
        for (const at of this.accessTokens.values()) if (at.userId === userId) at.revoked = true;
    }

    private requirePrincipal(
        orgKey: OrgKey,
        externalCredential: string,
        principalName: string
    ): { ec: ExternalCredentialModel; principal: PrincipalModel } {
        const org = this.requireOrg(orgKey);
        const ec = org.externalCredentials.find((e) => e.developerName === externalCredential);
        if (!ec) throw new Error(`no external credential ${externalCredential} in ${orgKey}`);
        const principal = ec.principals.find((p) => p.principalName === principalName);
        if (!principal) throw new Error(`external credential ${externalCredential} has no principal ${principalName}`);
        return { ec, principal };
    }

    private requireNamedCredential(orgKey: OrgKey, developerName: string): OrgModel['namedCredentials'][number] {
        const nc = this.requireOrg(orgKey).namedCredentials.find((n) => n.developerName === developerName);
        if (!nc) throw new Error(`no named credential ${developerName} in ${orgKey}`);
        return nc;
    }

    private requireOrg(orgKey: OrgKey): OrgModel {
        const org = (this.orgs as Record<string, OrgModel | undefined>)[orgKey];
        if (!org) throw new Error(`unknown org ${orgKey} (known: ${ORG_KEYS.join(', ')})`);
        return org;
    }

    private requireUser(username: string): { org: OrgModel; user: UserModel } {
        const found = this.findUserByUsername(username);
        if (!found) throw new Error(`unknown user ${username}`);
        return found;
    }
}

function newRefreshToken(): string {
    return `5Aep861${randomToken(60)}`;
}

function emptyCounts(): RequestCounts {
    const c = {} as RequestCounts;
    for (const k of REQUEST_KINDS) c[k] = 0;
    return c;
}

function checkTtl(seconds: number | null): void {
    if (seconds !== null && (!Number.isFinite(seconds) || seconds <= 0))
        throw new Error('an idle TTL is a positive number of seconds, or null');
}

/** Copies what a sandbox refresh copies of production's configuration: profiles' and permission sets' access, sharing. */
function copyConfiguration(prod: OrgModel, fresh: OrgModel): void {
    const copySet = (from: PermissionSetLike, to: PermissionSetLike): void => {
        to.permissions = { ...from.permissions };
        to.objects = structuredClone(from.objects);
        to.fields = structuredClone(from.fields);
        to.recordTypes = structuredClone(from.recordTypes);
    };
    for (const p of prod.profiles) {
        const target = fresh.profiles.find((x) => x.name === p.name);
        if (target) copySet(p.permissionSet, target.permissionSet);
    }
    for (const ps of prod.permissionSets) {
        const target = fresh.permissionSets.find((x) => x.name === ps.name);
        if (target) copySet(ps, target);
        else fresh.permissionSets.push(structuredClone(ps));
    }
    fresh.sharing = { ...prod.sharing };
}

type PermissionSetLike = OrgModel['permissionSets'][number];

/** Production's schema in the copy: its record types and custom fields (same ids), and Person Accounts with their seeds. */
function copySchema(prod: OrgModel, fresh: OrgModel, now: number): void {
    fresh.recordTypes = prod.recordTypes.map((rt) => ({ ...rt }));
    fresh.customFields = structuredClone(prod.customFields);
    fresh.schemaVersion++;
    if (prod.settings.personAccounts) applyPersonAccounts(fresh, now);
}
