// The REST data API of an org's instance: /services/data/vNN.N/...

import { isPersonRecordType, MASTER_RECORD_TYPE_ID, preparePersonAccount, syncPersonContact } from './customization.ts';
import { ApiError, positioned } from './errors.ts';
import type { Ctx } from './http.ts';
import { sendJson } from './http.ts';
import { KEY_PREFIX, normalizeId, typeOfId } from './ids.ts';
import type { FieldDef, OrgModel, Rec, UserModel } from './model.ts';
import { bearerToken } from './oauth.ts';
import { Access, findRecord } from './permissions.ts';
import { findObject, soapType, type ObjectDef } from './schema.ts';
import { runQuery, recordUrl } from './soql.ts';
import { runSearch } from './sosl.ts';
import type { AccessGrant, EmulatorState, RequestKind } from './state.ts';
import { rowById } from './tables.ts';

export interface RestResult {
    status: number;
    body?: unknown;
    headers?: Record<string, string>;
}

interface Env {
    state: EmulatorState;
    org: OrgModel;
    user: UserModel;
    access: Access;
    version: string;
}

const MIN_VERSION = 20;
const NOT_FOUND = (): ApiError => new ApiError(404, 'NOT_FOUND', 'The requested resource does not exist');

function releaseLabel(major: number): string {
    // v62.0 is Winter '25; each major version is the next of the three yearly releases
    const s = major - 62;
    const group = Math.floor(s / 3);
    const pos = ((s % 3) + 3) % 3;
    const season = ['Winter', 'Spring', 'Summer'][pos];
    return `${season} '${String(25 + group).padStart(2, '0')}`;
}

export function versionsList(maxVersion: string): Array<{ label: string; url: string; version: string }> {
    const max = Math.floor(Number(maxVersion));
    const out = [];
    for (let v = 31; v <= max; v++) out.push({ label: releaseLabel(v), url: `/services/data/v${v}.0`, version: `${v}.0` });
    return out;
}

function parsePath(pathname: string): { version?: string; segments: string[] } | undefined {
    const m = /^\/services\/data(?:\/(.*))?$/.exec(pathname);
    if (!m) return undefined;
    const rest = (m[1] ?? '')
        .split('/')
        .filter((s) => s.length > 0)
        .map((s) => decodeURIComponent(s));
    if (!rest.length) return { segments: [] };
    const vm = /^v(\d+\.\d)$/.exec(rest[0]!);
    if (!vm) return { version: '', segments: rest };
    return { version: vm[1], segments: rest.slice(1) };
}

/** The request kind of a REST call, for counting and fault injection. */
export function classifyRest(method: string, pathname: string): RequestKind {
    const p = parsePath(pathname);
    if (!p) return 'other';
    if (p.version === undefined) return 'versions';
    const [a, b, c, d] = p.segments;
    if (a === undefined) return 'resources';
    if (a === 'limits') return 'limits';
    if (a === 'query' || a === 'queryAll') return 'query';
    if (a === 'search' || a === 'parameterizedSearch') return 'search';
    if (a === 'composite') return b === 'batch' ? 'composite-batch' : 'composite';
    if (a === 'sobjects') {
        if (b === undefined) return 'describe-global';
        if (c === undefined) return method === 'POST' ? 'sobject-create' : 'describe';
        if (c === 'describe' && d === undefined) return 'describe';
        if (method === 'PATCH') return 'sobject-update';
        if (method === 'DELETE') return 'sobject-delete';
        return 'sobject-get';
    }
    return 'other';
}

// ------------------------------------------------------------------ entry point

export function handleRestRequest(ctx: Ctx): void {
    const p = parsePath(ctx.url.pathname)!;
    const st = ctx.state;
    if (p.version === undefined) {
        if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return sendJson(ctx, 405, methodNotAllowed(ctx.method, 'GET,HEAD').toBody());
        return sendJson(ctx, 200, versionsList(st.apiVersion));
    }
    const invalid = (): void => sendJson(ctx, 401, new ApiError(401, 'INVALID_SESSION_ID', 'Session expired or invalid').toBody());
    const token = bearerToken(ctx, false);
    const grant: AccessGrant | undefined = token ? st.accessTokens.get(token) : undefined;
    if (!grant || st.accessProblem(grant) !== null || grant.orgKey !== ctx.listener) return invalid();
    if (!grant.scopes.some((s) => s === 'api' || s === 'full' || s === 'web')) {
        return sendJson(ctx, 401, new ApiError(401, 'INVALID_SESSION_ID', 'This session is not valid for use with the REST API').toBody());
    }
    const org = st.orgModel(grant.orgKey);
    const user = org.users.find((u) => u.id === grant.userId)!;
    const access = new Access(org, user);
    if (!access.permissions.ApiEnabled) {
        return sendJson(ctx, 403, new ApiError(403, 'API_CURRENTLY_DISABLED', 'API is disabled for this User').toBody());
    }
    const limit = org.apiLimit;
    const limitHeader = (): Record<string, string> => ({ 'Sforce-Limit-Info': `api-usage=${limit.used(st.now())}/${limit.max}` });
    // over the allowance every API request of the org is refused, until the rolling 24 hours free some
    if (!limit.take(st.now())) {
        return sendJson(ctx, 403, new ApiError(403, 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.').toBody(), limitHeader());
    }
    const env: Env = { state: st, org, user, access, version: p.version };
    let result: RestResult;
    try {
        if (!p.version || !versionServed(p.version, st.apiVersion)) throw NOT_FOUND();
        result = execute(env, ctx.method, p.segments, ctx.url.searchParams, ctx.body.length ? ctx.body.toString('utf8') : undefined, true);
    } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        result = { status: err.status, body: err.toBody() };
    }
    const headers = { ...limitHeader(), ...(result.headers ?? {}) };
    if (result.status === 204) {
        ctx.res.writeHead(204, headers);
        ctx.res.end();
        return;
    }
    sendJson(ctx, result.status, result.body, headers);
}

function versionServed(v: string, max: string): boolean {
    const n = Number(v);
    return n >= MIN_VERSION && n <= Number(max) && Number.isInteger(n);
}

function methodNotAllowed(method: string, allowed: string): ApiError {
    return new ApiError(405, 'METHOD_NOT_ALLOWED', `HTTP Method '${method}' not allowed. Allowed are ${allowed}`);
}

function parseJson(raw: unknown): unknown {
    if (typeof raw !== 'string') return raw;
    try {
        return JSON.parse(raw);
    } catch (e) {
        throw new ApiError(400, 'JSON_PARSER_ERROR', `Unexpected character in the request body: ${(e as Error).message}`);
    }
}

/** Runs one REST call; composite subrequests come through here too (with nested composites refused). */
function execute(env: Env, method: string, seg: string[], query: URLSearchParams, rawBody: unknown, topLevel: boolean): RestResult {
    const [a, b, c] = seg;
    const v = env.version;
    const only = (allowed: string): void => {
        if (!allowed.split(',').includes(method === 'HEAD' ? 'GET' : method)) throw methodNotAllowed(method, allowed);
    };
    if (a === undefined) {
        only('GET');
        const base = `/services/data/v${v}`;
        return {
            status: 200,
            body: {
                tooling: `${base}/tooling`,
                metadata: `${base}/metadata`,
                eclair: `${base}/eclair`,
                folders: `${base}/folders`,
                prechatForms: `${base}/prechatForms`,
                chatter: `${base}/chatter`,
                tabs: `${base}/tabs`,
                appMenu: `${base}/appMenu`,
                quickActions: `${base}/quickActions`,
                queryAll: `${base}/queryAll`,
                commerce: `${base}/commerce`,
                wave: `${base}/wave`,
                analytics: `${base}/analytics`,
                search: `${base}/search`,
                identity: `${env.state.origins[env.org.key]}/id/${env.org.orgId}/${env.user.id}`,
                composite: `${base}/composite`,
                theme: `${base}/theme`,
                nouns: `${base}/nouns`,
                recent: `${base}/recent`,
                licensing: `${base}/licensing`,
                limits: `${base}/limits`,
                process: `${base}/process`,
                query: `${base}/query`,
                sobjects: `${base}/sobjects`
            }
        };
    }
    switch (a) {
        case 'limits':
            if (seg.length > 1) throw NOT_FOUND();
            only('GET');
            return { status: 200, body: limits(env) };
        case 'query':
        case 'queryAll': {
            only('GET');
            if (b !== undefined) throw new ApiError(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
            const explain = query.get('explain');
            if (explain !== null) throw new ApiError(400, 'MALFORMED_QUERY', 'the query plan is not supported by the emulator');
            const q = query.get('q');
            if (q === null) throw new ApiError(400, 'MALFORMED_QUERY', 'A query string has to be specified');
            return { status: 200, body: runQuery(q, env.org, env.access, v) };
        }
        case 'search': {
            only('GET');
            if (b !== undefined) throw NOT_FOUND();
            const q = query.get('q');
            if (!q) throw new ApiError(400, 'MALFORMED_SEARCH', 'No search term found. The search term must be enclosed in braces.');
            return { status: 200, body: runSearch(q, env.org, env.access, v) };
        }
        case 'sobjects':
            return sobjects(env, method, seg.slice(1), query, rawBody, only);
        case 'composite':
            if (!topLevel) throw new ApiError(400, 'INVALID_INPUT', 'A composite subrequest cannot itself be a composite request');
            if (b === undefined) {
                only('POST');
                return composite(env, parseJson(rawBody));
            }
            if (b === 'batch' && c === undefined) {
                only('POST');
                return batch(env, parseJson(rawBody));
            }
            if (b === 'sobjects' && c === undefined) {
                only('POST');
                return collectionCreate(env, parseJson(rawBody));
            }
            throw NOT_FOUND();
        default:
            throw NOT_FOUND();
    }
}

// ------------------------------------------------------------------ limits

function limits(env: Env): Record<string, { Max: number; Remaining: number }> {
    const max = env.org.apiLimit.max;
    const used = env.org.apiLimit.used(env.state.now());
    return {
        ConcurrentAsyncGetReportInstances: { Max: 200, Remaining: 200 },
        ConcurrentSyncReportRuns: { Max: 20, Remaining: 20 },
        DailyApiRequests: { Max: max, Remaining: Math.max(0, max - used) },
        DailyAsyncApexExecutions: { Max: 250000, Remaining: 250000 },
        DailyBulkApiBatches: { Max: 15000, Remaining: 15000 },
        DailyStreamingApiEvents: { Max: 200000, Remaining: 200000 },
        DataStorageMB: { Max: 5, Remaining: 5 },
        FileStorageMB: { Max: 20, Remaining: 20 },
        HourlyTimeBasedWorkflow: { Max: 1000, Remaining: 1000 },
        SingleEmail: { Max: 5000, Remaining: 5000 }
    };
}

// ------------------------------------------------------------------ sobjects

function visibleObject(env: Env, name: string): ObjectDef {
    const def = findObject(name, env.org);
    if (!def || !env.access.canSeeObject(def)) throw NOT_FOUND();
    return def;
}

function objectUrls(v: string, name: string): Record<string, string> {
    const base = `/services/data/v${v}/sobjects/${name}`;
    return { sobject: base, describe: `${base}/describe`, rowTemplate: `${base}/{ID}` };
}

function objectSummary(env: Env, def: ObjectDef): Record<string, unknown> {
    const acc = env.access.object(def.name);
    return {
        activateable: false,
        createable: def.dml && acc.create,
        custom: false,
        customSetting: false,
        deletable: def.dml && acc.delete,
        deprecatedAndHidden: false,
        feedEnabled: false,
        keyPrefix: def.keyPrefix,
        label: def.label,
        labelPlural: def.labelPlural,
        layoutable: def.dml,
        mergeable: false,
        mruEnabled: def.dml,
        name: def.name,
        queryable: acc.read,
        replicateable: true,
        retrieveable: acc.read,
        searchable: def.searchable && acc.read,
        triggerable: def.dml,
        undeletable: def.dml && acc.delete,
        updateable: def.dml && acc.edit,
        urls: objectUrls(env.version, def.name)
    };
}

function describeField(env: Env, def: ObjectDef, fd: FieldDef): Record<string, unknown> {
    const fa = env.access.field(def.name, fd);
    const acc = env.access.object(def.name);
    return {
        name: fd.name,
        label: fd.label,
        type: fd.type,
        soapType: soapType(fd.type),
        length: fd.length ?? 0,
        byteLength: (fd.length ?? 0) * 3,
        digits: fd.type === 'int' ? 18 : 0,
        precision: fd.type === 'double' ? 18 : 0,
        scale: 0,
        nillable: fd.nillable,
        createable: def.dml && fd.createable && fa.edit && acc.create,
        updateable: def.dml && fd.updateable && fa.edit && acc.edit,
        defaultedOnCreate: !!fd.defaultedOnCreate,
        defaultValue: fd.defaultValue ?? null,
        calculated: !!fd.calculated,
        custom: !!fd.custom,
        externalId: false,
        idLookup: fd.type === 'id',
        nameField: !!fd.nameField,
        filterable: fd.type !== 'textarea',
        sortable: fd.type !== 'textarea',
        groupable: !['textarea', 'double', 'datetime'].includes(fd.type),
        unique: false,
        referenceTo: fd.referenceTo ?? [],
        relationshipName: fd.relationshipName ?? null,
        polymorphicForeignKey: (fd.referenceTo ?? []).length > 1,
        restrictedPicklist: !!fd.restrictedPicklist,
        dependentPicklist: !!fd.controllerName,
        controllerName: fd.controllerName ?? null,
        picklistValues: (fd.picklist ?? []).map((value) => ({
            active: true,
            defaultValue: value === fd.defaultValue,
            label: value,
            validFor: fd.controllerName ? validForBitmap(def, fd, value) : null,
            value
        })),
        permissionable: !!fd.fls
    };
}

/**
 * A dependent picklist value's validFor, as describe encodes it: a base64 bitmap with one bit per value of the
 * controlling field (in its order; false then true for a checkbox), the most significant bit of each byte first.
 */
function validForBitmap(def: ObjectDef, fd: FieldDef, value: string): string {
    const controller = def.fields.find((x) => x.name === fd.controllerName);
    const controlling: Array<string | boolean> = controller?.type === 'boolean' ? [false, true] : (controller?.picklist ?? []);
    const valid = fd.validFor?.[value] ?? [];
    const bytes = new Uint8Array(Math.max(1, Math.ceil(controlling.length / 8)));
    controlling.forEach((c, i) => {
        if (valid.includes(c)) bytes[i >> 3]! |= 0x80 >> (i & 7);
    });
    return Buffer.from(bytes).toString('base64');
}

/** describe's recordTypeInfos: the object's record types with the user's availability and default, then the Master. */
function recordTypeInfos(env: Env, def: ObjectDef): Array<Record<string, unknown>> {
    if (!def.dml) return [];
    const available = env.access.recordTypes(def.name);
    const byDefault = env.access.defaultRecordType(def.name);
    const urls = (id: string): Record<string, string> => ({
        layout: `/services/data/v${env.version}/sobjects/${def.name}/describe/layouts/${id}`
    });
    const infos = env.org.recordTypes
        .filter((rt) => rt.sobjectType === def.name)
        .map((rt) => ({
            active: rt.active,
            available: available.includes(rt),
            defaultRecordTypeMapping: byDefault?.id === rt.id,
            developerName: rt.developerName,
            master: false,
            name: rt.name,
            recordTypeId: rt.id,
            urls: urls(rt.id)
        }));
    infos.push({
        active: true,
        available: available.length === 0,
        defaultRecordTypeMapping: byDefault === null,
        developerName: 'Master',
        master: true,
        name: 'Master',
        recordTypeId: MASTER_RECORD_TYPE_ID,
        urls: urls(MASTER_RECORD_TYPE_ID)
    });
    return infos;
}

/**
 * The record type a new or changed record gets: the one asked for if the user may use it, else Salesforce's
 * INVALID_CROSS_REFERENCE_KEY; without one, the user's default (null for the Master).
 */
function resolveRecordType(env: Env, def: ObjectDef, asked: unknown, mode: 'create' | 'update'): string | null | undefined {
    if (!env.org.recordTypes.some((rt) => rt.sobjectType === def.name)) return undefined;
    const available = env.access.recordTypes(def.name);
    if (asked === undefined || asked === null) return mode === 'create' ? (env.access.defaultRecordType(def.name)?.id ?? null) : undefined;
    const id = typeof asked === 'string' ? asked : JSON.stringify(asked);
    if (id === MASTER_RECORD_TYPE_ID && available.length === 0) return null;
    if (available.some((rt) => rt.id === id)) return id;
    throw new ApiError(400, 'INVALID_CROSS_REFERENCE_KEY', `Record Type ID: this ID value isn't valid for the user: ${id}`, [
        'RecordTypeId'
    ]);
}

function describe(env: Env, def: ObjectDef): Record<string, unknown> {
    const fields = def.fields.filter((fd) => env.access.canReadField(def, fd)).map((fd) => describeField(env, def, fd));
    return {
        ...objectSummary(env, def),
        childRelationships: [],
        compactLayoutable: def.dml,
        fields,
        namedLayoutInfos: [],
        networkScopeFieldName: null,
        recordTypeInfos: recordTypeInfos(env, def),
        searchLayoutable: def.searchable,
        supportedScopes: [{ label: 'All ' + def.labelPlural.toLowerCase(), name: 'everything' }],
        urls: { ...objectUrls(env.version, def.name), layouts: `/services/data/v${env.version}/sobjects/${def.name}/describe/layouts` }
    };
}

function sobjects(
    env: Env,
    method: string,
    seg: string[],
    query: URLSearchParams,
    rawBody: unknown,
    only: (a: string) => void
): RestResult {
    const [type, second, third] = seg;
    if (type === undefined) {
        only('GET');
        const list = allObjects(env.org)
            .filter((def) => env.access.canSeeObject(def))
            .map((def) => objectSummary(env, def));
        return { status: 200, body: { encoding: 'UTF-8', maxBatchSize: 200, sobjects: list } };
    }
    const def = visibleObject(env, type);
    if (second === undefined) {
        only('GET,POST');
        if (method === 'POST') return create(env, def, parseJson(rawBody));
        return { status: 200, body: { objectDescribe: objectSummary(env, def), recentItems: [] } };
    }
    if (second === 'describe' && third === undefined) {
        only('GET');
        return { status: 200, body: describe(env, def) };
    }
    if (third !== undefined) throw NOT_FOUND();
    only('GET,PATCH,DELETE');
    const id = normalizeId(second);
    const row = id ? rowById(env.org, def.name, id) : undefined;
    if (!id || !row || !env.access.canSeeRecord(def.name, row)) {
        throw new ApiError(404, 'NOT_FOUND', `Provided external ID field does not exist or is not accessible: ${second}`);
    }
    if (method === 'GET') return { status: 200, body: recordBody(env, def, row, query.get('fields')) };
    if (!def.dml) throw methodNotAllowed(method, 'GET');
    const acc = env.access.object(def.name);
    if (method === 'DELETE') {
        if (!acc.delete || !canModify(env, def, row))
            throw new ApiError(400, 'INSUFFICIENT_ACCESS_OR_READONLY', 'insufficient access rights on object id');
        env.org.records.get(def.name)!.delete(id);
        return { status: 204 };
    }
    if (!acc.edit || !canModify(env, def, row))
        throw new ApiError(400, 'INSUFFICIENT_ACCESS_OR_READONLY', 'insufficient access rights on object id');
    const body = parseJson(rawBody);
    const values = validateRecord(env, def, body, 'update');
    if ('RecordTypeId' in values) {
        const recordTypeId = resolveRecordType(env, def, values['RecordTypeId'], 'update');
        if (recordTypeId === undefined) delete values['RecordTypeId'];
        else values['RecordTypeId'] = recordTypeId;
    }
    Object.assign(row, values);
    derive(env, def, row);
    touch(env, row);
    if (def.name === 'Account') syncPersonContact(env.org, row, String(row['LastModifiedDate']));
    return { status: 204 };
}

function allObjects(org: OrgModel): ObjectDef[] {
    return [
        'Account',
        'Case',
        'Contact',
        'CustomPermission',
        'FieldPermissions',
        'Lead',
        'ObjectPermissions',
        'Organization',
        'PermissionSet',
        'PermissionSetAssignment',
        'Profile',
        'RecordType',
        'Task',
        'User',
        'UserLicense'
    ]
        .map((n) => findObject(n, org)!)
        .filter(Boolean);
}

function canModify(env: Env, def: ObjectDef, row: Rec): boolean {
    const acc = env.access.object(def.name);
    if (acc.modifyAll || row['OwnerId'] === env.user.id) return true;
    if (def.name === 'Task') return env.access.canSeeRecord('Task', row);
    return (env.org.sharing as Record<string, string>)[def.name] === 'ReadWrite';
}

function recordBody(env: Env, def: ObjectDef, row: Rec, fieldsParam: string | null): Rec {
    const out: Rec = { attributes: { type: def.name, url: recordUrl(env.version, def.name, row['Id']) } };
    const readable = def.fields.filter((fd) => env.access.canReadField(def, fd));
    let chosen = readable;
    if (fieldsParam) {
        chosen = [];
        for (const name of fieldsParam
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)) {
            const fd = readable.find((x) => x.name.toLowerCase() === name.toLowerCase());
            if (!fd)
                throw new ApiError(
                    400,
                    'INVALID_FIELD',
                    positioned(
                        `SELECT ${fieldsParam} FROM ${def.name}`,
                        7,
                        `No such column '${name}' on entity '${def.name}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`
                    )
                );
            chosen.push(fd);
        }
    }
    for (const fd of chosen) out[fd.name] = row[fd.name] ?? null;
    return out;
}

// ------------------------------------------------------------------ create / validation

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Validates a record body in Salesforce's order: unknown fields, write access, values, then references. */
function validateRecord(env: Env, def: ObjectDef, body: unknown, mode: 'create' | 'update'): Rec {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
        throw new ApiError(
            400,
            'JSON_PARSER_ERROR',
            `Cannot deserialize instance of ${def.name} from ${Array.isArray(body) ? 'START_ARRAY' : 'VALUE_STRING'} value`
        );
    }
    const input = body as Rec;
    const pairs: Array<[FieldDef, unknown]> = [];
    const notWritable: string[] = [];
    for (const [key, value] of Object.entries(input)) {
        if (key === 'attributes') continue;
        const fd = def.fields.find((x) => x.name.toLowerCase() === key.toLowerCase());
        if (!fd || !env.access.canReadField(def, fd))
            throw new ApiError(400, 'INVALID_FIELD', `No such column '${key}' on sobject of type ${def.name}`);
        const fa = env.access.field(def.name, fd);
        const writable = (mode === 'create' ? fd.createable : fd.updateable) && fa.edit;
        if (!writable) notWritable.push(fd.name);
        pairs.push([fd, value]);
    }
    if (notWritable.length) {
        throw new ApiError(
            400,
            'INVALID_FIELD_FOR_INSERT_UPDATE',
            `Unable to create/update fields: ${notWritable.join(', ')}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`,
            notWritable
        );
    }
    const values: Rec = {};
    const missing: string[] = [];
    for (const [fd, raw] of pairs) {
        if (raw === null || raw === '') {
            if (!fd.nillable) missing.push(fd.name);
            else values[fd.name] = null;
            continue;
        }
        values[fd.name] = coerce(fd, raw);
    }
    if (mode === 'create') {
        // a person account is named by its LastName (Name is made from the name parts); a business account by Name
        const person = def.name === 'Account' && env.org.settings.personAccounts && isPersonRecordType(env.org, values['RecordTypeId']);
        for (const fd of def.fields) {
            const required = person ? fd.name === 'LastName' || (!fd.nillable && fd.name !== 'Name') : !fd.nillable;
            if (!required || !fd.createable || fd.defaultedOnCreate) continue;
            if (!(fd.name in values) && !missing.includes(fd.name)) missing.push(fd.name);
        }
    }
    if (missing.length) throw new ApiError(400, 'REQUIRED_FIELD_MISSING', `Required fields are missing: [${missing.join(', ')}]`, missing);
    for (const [fd] of pairs) {
        const v = values[fd.name];
        // a record type is checked against the user's record types (resolveRecordType), not as a plain reference
        if (fd.type === 'reference' && typeof v === 'string' && fd.name !== 'RecordTypeId') checkReference(env, def, fd, v);
    }
    return values;
}

function coerce(fd: FieldDef, raw: unknown): unknown {
    const parserError = (kind: string): never => {
        const token =
            typeof raw === 'string'
                ? 'VALUE_STRING'
                : typeof raw === 'number'
                  ? 'VALUE_NUMBER_INT'
                  : typeof raw === 'boolean'
                    ? 'VALUE_TRUE'
                    : 'START_OBJECT';
        throw new ApiError(
            400,
            'JSON_PARSER_ERROR',
            `Cannot deserialize instance of ${kind} from ${token} value ${JSON.stringify(raw)} or request may be missing a required field`
        );
    };
    switch (fd.type) {
        case 'boolean':
            if (typeof raw === 'boolean') return raw;
            if (raw === 'true' || raw === 'false') return raw === 'true';
            return parserError('boolean');
        case 'int': {
            const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw) : NaN;
            if (!Number.isInteger(n)) return parserError('int');
            return n;
        }
        case 'double': {
            const n = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw) : NaN;
            if (!Number.isFinite(n)) return parserError('double');
            return n;
        }
        case 'date':
            if (typeof raw !== 'string' || !DATE_RE.test(raw) || Number.isNaN(Date.parse(raw))) return parserError('date');
            return raw;
        case 'datetime': {
            if (typeof raw !== 'string' || Number.isNaN(Date.parse(raw))) return parserError('datetime');
            return new Date(raw).toISOString().replace('Z', '+0000');
        }
        case 'reference':
        case 'id': {
            if (typeof raw !== 'string') return parserError('ID');
            const id = normalizeId(raw);
            if (!id) throw new ApiError(400, 'MALFORMED_ID', `${fd.label}: id value of incorrect type: ${raw}`, [fd.name]);
            return id;
        }
        default: {
            if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') return parserError('String');
            const s = String(raw);
            if (fd.length && s.length > fd.length) {
                throw new ApiError(
                    400,
                    'STRING_TOO_LONG',
                    `${fd.label}: data value too large: ${s.slice(0, 80)}${s.length > 80 ? '...' : ''} (max length=${fd.length})`,
                    [fd.name]
                );
            }
            if (fd.type === 'email' && !EMAIL_RE.test(s))
                throw new ApiError(400, 'INVALID_EMAIL_ADDRESS', `${fd.label}: invalid email address: ${s}`, [fd.name]);
            if (fd.type === 'picklist' && fd.restrictedPicklist && !(fd.picklist ?? []).includes(s)) {
                throw new ApiError(
                    400,
                    'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
                    `${fd.label}: bad value for restricted picklist field: ${s}`,
                    [fd.name]
                );
            }
            return s;
        }
    }
}

function checkReference(env: Env, def: ObjectDef, fd: FieldDef, id: string): void {
    const targetType = typeOfId(id);
    const allowed = fd.referenceTo ?? [];
    if (!targetType || !allowed.includes(targetType)) {
        throw new ApiError(400, 'FIELD_INTEGRITY_EXCEPTION', `${fd.label}: id value of incorrect type: ${id}`, [fd.name]);
    }
    const target = rowById(env.org, targetType, id);
    if (!target || !env.access.canSeeRecord(targetType, target)) {
        throw new ApiError(400, 'INVALID_CROSS_REFERENCE_KEY', `invalid cross reference id`, [fd.name]);
    }
    if (fd.name === 'OwnerId' && target['IsActive'] === false) {
        throw new ApiError(
            400,
            'INACTIVE_OWNER_OR_USER',
            `operation performed with inactive user [${id}] as owner of ${def.name.toLowerCase()}`,
            [fd.name]
        );
    }
}

/** Fields Salesforce computes: names, closed flags, the Task's account. */
function derive(env: Env, def: ObjectDef, rec: Rec): void {
    if (def.name === 'Account' && rec['IsPersonAccount'] === true)
        rec['Name'] = [rec['FirstName'], rec['LastName']].filter((x) => typeof x === 'string' && x).join(' ');
    if (def.name === 'Contact' || def.name === 'Lead')
        rec['Name'] = [rec['FirstName'], rec['LastName']].filter((x) => typeof x === 'string' && x).join(' ');
    if (def.name === 'Task') {
        rec['IsClosed'] = rec['Status'] === 'Completed';
        rec['IsHighPriority'] = rec['Priority'] === 'High';
        let accountId: unknown = null;
        const what = typeof rec['WhatId'] === 'string' ? findRecord(env.org, rec['WhatId']) : undefined;
        if (what?.type === 'Account') accountId = what.rec['Id'];
        else if (what?.type === 'Case') accountId = what.rec['AccountId'] ?? null;
        if (!accountId && typeof rec['WhoId'] === 'string') {
            const who = findRecord(env.org, rec['WhoId']);
            if (who?.type === 'Contact') accountId = who.rec['AccountId'] ?? null;
        }
        rec['AccountId'] = accountId;
    }
}

function touch(env: Env, rec: Rec): void {
    const now = new Date(env.state.now()).toISOString().replace('Z', '+0000');
    rec['LastModifiedDate'] = now;
    rec['SystemModstamp'] = now;
    rec['LastModifiedById'] = env.user.id;
}

function insert(env: Env, def: ObjectDef, body: unknown): string {
    if (!def.dml) throw new ApiError(400, 'INVALID_TYPE_FOR_OPERATION', `entity type cannot be inserted: ${def.name}`);
    if (!env.access.object(def.name).create)
        throw new ApiError(400, 'INSUFFICIENT_ACCESS_OR_READONLY', 'insufficient access rights on object id');
    if (body && typeof body === 'object' && !Array.isArray(body)) {
        const attrType = ((body as Rec)['attributes'] as Rec | undefined)?.['type'];
        if (typeof attrType === 'string' && attrType.toLowerCase() !== def.name.toLowerCase()) {
            throw new ApiError(400, 'INVALID_TYPE', `The sObject type ${attrType} in the attributes does not match ${def.name}`);
        }
    }
    const values = validateRecord(env, def, body, 'create');
    const recordTypeId = resolveRecordType(env, def, values['RecordTypeId'], 'create');
    if (recordTypeId !== undefined) values['RecordTypeId'] = recordTypeId;
    const id = env.state.newId(env.org, KEY_PREFIX[def.name as keyof typeof KEY_PREFIX]);
    const now = new Date(env.state.now()).toISOString().replace('Z', '+0000');
    const rec: Rec = { Id: id };
    for (const fd of def.fields) {
        if (fd.defaultValue !== undefined) rec[fd.name] = fd.defaultValue;
    }
    Object.assign(rec, {
        OwnerId: env.user.id,
        CreatedById: env.user.id,
        CreatedDate: now,
        LastModifiedById: env.user.id,
        LastModifiedDate: now,
        SystemModstamp: now,
        IsDeleted: false,
        ...values
    });
    if (def.name === 'Lead') rec['IsConverted'] = false;
    if (def.name === 'Case') rec['CaseNumber'] = String(1001 + (env.org.records.get('Case')?.size ?? 0)).padStart(8, '0');
    preparePersonAccount(env.org, def.name, rec);
    derive(env, def, rec);
    env.org.records.get(def.name)!.set(id, rec);
    if (def.name === 'Account') syncPersonContact(env.org, rec, now);
    return id;
}

function create(env: Env, def: ObjectDef, body: unknown): RestResult {
    const id = insert(env, def, body);
    return { status: 201, body: { id, success: true, errors: [] }, headers: { Location: recordUrl(env.version, def.name, id) } };
}

// ------------------------------------------------------------------ composite

type Snapshot = Map<string, Map<string, Rec>>;

function snapshot(org: OrgModel): Snapshot {
    const copy: Snapshot = new Map();
    for (const [t, table] of org.records) copy.set(t, new Map([...table].map(([id, r]) => [id, { ...r }])));
    return copy;
}

function subPath(env: Env, url: string, relativeToData: boolean): { segments: string[]; query: URLSearchParams } {
    const u = new URL(url, 'http://x');
    let path = u.pathname;
    if (relativeToData && !path.startsWith('/services/data/')) path = `/services/data/${path.replace(/^\/+/, '')}`;
    const m = /^\/services\/data\/v(\d+\.\d)(\/.*)?$/.exec(path);
    if (!m || !versionServed(m[1]!, env.state.apiVersion)) throw NOT_FOUND();
    return {
        segments: (m[2] ?? '')
            .split('/')
            .filter(Boolean)
            .map((s) => decodeURIComponent(s)),
        query: u.searchParams
    };
}

function resolveRefs(value: unknown, results: Map<string, unknown>): unknown {
    if (typeof value === 'string') {
        return value.replace(/@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[\d+\])+)\}/g, (_whole, ref: string, path: string) => {
            if (!results.has(ref))
                throw new ApiError(
                    400,
                    'PROCESSING_HALTED',
                    `Invalid reference specified. No value for ${ref}${path} found in ${ref}. Provided referenceId ${ref} is not in the set of previous results.`
                );
            let cur: unknown = results.get(ref);
            for (const part of path.match(/\.[A-Za-z0-9_]+|\[\d+\]/g) ?? []) {
                const key = part.startsWith('.') ? part.slice(1) : Number(part.slice(1, -1));
                cur = cur && typeof cur === 'object' ? (cur as Record<string | number, unknown>)[key] : undefined;
            }
            if (typeof cur !== 'string' && typeof cur !== 'number' && typeof cur !== 'boolean') {
                throw new ApiError(400, 'PROCESSING_HALTED', `Invalid reference specified. No value for ${ref}${path} found in ${ref}.`);
            }
            return String(cur);
        });
    }
    if (Array.isArray(value)) return value.map((v) => resolveRefs(v, results));
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveRefs(v, results)]));
    return value;
}

function composite(env: Env, body: unknown): RestResult {
    const input = body as { allOrNone?: unknown; compositeRequest?: unknown } | null;
    const subs = input && typeof input === 'object' ? input.compositeRequest : undefined;
    if (!Array.isArray(subs) || subs.length === 0)
        throw new ApiError(400, 'JSON_PARSER_ERROR', 'compositeRequest must be a non-empty array of subrequests');
    if (subs.length > 25) throw new ApiError(400, 'LIMIT_EXCEEDED', 'Limit exceeded: a composite request can have at most 25 subrequests');
    const allOrNone = input!.allOrNone === true;
    const before = allOrNone ? snapshot(env.org) : undefined;
    const results = new Map<string, unknown>();
    const out: Array<{ body: unknown; httpHeaders: Record<string, string>; httpStatusCode: number; referenceId: string }> = [];
    let failed = false;
    const seenRefs = new Set<string>();
    for (const raw of subs) {
        const sub = (raw ?? {}) as { method?: unknown; url?: unknown; referenceId?: unknown; body?: unknown };
        const referenceId = typeof sub.referenceId === 'string' ? sub.referenceId : '';
        let res: RestResult;
        if (failed && allOrNone) {
            out.push({ body: halted(), httpHeaders: {}, httpStatusCode: 400, referenceId });
            continue;
        }
        try {
            if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(referenceId) || seenRefs.has(referenceId)) {
                throw new ApiError(400, 'INVALID_INPUT', `Invalid or duplicate referenceId: ${referenceId}`);
            }
            seenRefs.add(referenceId);
            if (typeof sub.method !== 'string' || typeof sub.url !== 'string')
                throw new ApiError(400, 'INVALID_INPUT', 'Each subrequest needs a method and a url');
            const url = resolveRefs(sub.url, results) as string;
            const subBody = sub.body === undefined ? undefined : resolveRefs(sub.body, results);
            const { segments, query } = subPath(env, url, false);
            res = execute(env, sub.method.toUpperCase(), segments, query, subBody, false);
        } catch (err) {
            if (!(err instanceof ApiError)) throw err;
            res = { status: err.status, body: err.toBody() };
        }
        if (res.status >= 400) failed = true;
        else results.set(referenceId, res.body);
        out.push({ body: res.status === 204 ? null : res.body, httpHeaders: res.headers ?? {}, httpStatusCode: res.status, referenceId });
    }
    if (failed && allOrNone && before) {
        env.org.records = before;
        for (const item of out) {
            if (item.httpStatusCode < 400) Object.assign(item, { body: halted(), httpHeaders: {}, httpStatusCode: 400 });
        }
    }
    return { status: 200, body: { compositeResponse: out } };
}

function halted(): unknown {
    return [
        {
            errorCode: 'PROCESSING_HALTED',
            message: 'The transaction was rolled back since another operation in the same transaction failed.'
        }
    ];
}

function batch(env: Env, body: unknown): RestResult {
    const input = body as { batchRequests?: unknown; haltOnError?: unknown } | null;
    const reqs = input && typeof input === 'object' ? input.batchRequests : undefined;
    if (!Array.isArray(reqs) || reqs.length === 0) throw new ApiError(400, 'JSON_PARSER_ERROR', 'batchRequests must be a non-empty array');
    if (reqs.length > 25) throw new ApiError(400, 'LIMIT_EXCEEDED', 'Limit exceeded: a batch request can have at most 25 subrequests');
    const halt = input!.haltOnError === true;
    let hasErrors = false;
    const results: Array<{ statusCode: number; result: unknown }> = [];
    for (const raw of reqs) {
        if (hasErrors && halt) {
            results.push({
                statusCode: 412,
                result: [{ errorCode: 'BATCH_PROCESSING_HALTED', message: 'Batch processing halted per request' }]
            });
            continue;
        }
        const r = (raw ?? {}) as { method?: unknown; url?: unknown; richInput?: unknown };
        let res: RestResult;
        try {
            if (typeof r.method !== 'string' || typeof r.url !== 'string')
                throw new ApiError(400, 'INVALID_INPUT', 'Each batch request needs a method and a url');
            const { segments, query } = subPath(env, r.url, true);
            res = execute(env, r.method.toUpperCase(), segments, query, r.richInput, false);
        } catch (err) {
            if (!(err instanceof ApiError)) throw err;
            res = { status: err.status, body: err.toBody() };
        }
        if (res.status >= 400) hasErrors = true;
        results.push({ statusCode: res.status, result: res.status === 204 ? null : res.body });
    }
    return { status: 200, body: { hasErrors, results } };
}

function collectionCreate(env: Env, body: unknown): RestResult {
    const input = body as { allOrNone?: unknown; records?: unknown } | null;
    const records = input && typeof input === 'object' ? input.records : undefined;
    if (!Array.isArray(records) || records.length === 0) throw new ApiError(400, 'JSON_PARSER_ERROR', 'records must be a non-empty array');
    if (records.length > 200)
        throw new ApiError(400, 'EXCEEDED_ID_LIMIT', 'record limit reached. cannot submit more than 200 records into this call');
    const allOrNone = input!.allOrNone === true;
    const before = allOrNone ? snapshot(env.org) : undefined;
    const out: Array<Record<string, unknown>> = [];
    let failed = false;
    for (const rec of records) {
        try {
            const type = ((rec as Rec)?.['attributes'] as Rec | undefined)?.['type'];
            if (typeof type !== 'string') throw new ApiError(400, 'INVALID_INPUT', 'Each record needs attributes.type');
            const id = insert(env, visibleObject(env, type), rec);
            out.push({ id, success: true, errors: [] });
        } catch (err) {
            if (!(err instanceof ApiError)) throw err;
            failed = true;
            out.push({ success: false, errors: [{ statusCode: err.errorCode, message: err.message, fields: err.fields ?? [] }] });
        }
    }
    if (failed && allOrNone && before) {
        env.org.records = before;
        for (const item of out) {
            if (item['success']) {
                delete item['id'];
                Object.assign(item, {
                    success: false,
                    errors: [
                        {
                            statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK',
                            message: 'Record rolled back because not all records were valid and the request was using AllOrNone header',
                            fields: []
                        }
                    ]
                });
            }
        }
    }
    return { status: 200, body: out };
}
