import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Router } from 'express';
import request from 'supertest';
import { z } from 'zod';
import { callIdParam, callSettingsBody, lookupBody, taskBody } from '../calls/schemas.ts';
import { ERROR_CODES } from '../errors.ts';
import { APP_LEVEL_ROUTES, linkRouter } from './apiRouter.ts';
import { callsRouter } from './callsRouter.ts';
import { API_OPERATIONS, openApiPath, type ApiOperation } from './openapi.ts';
import { actorBody, keptDecisionBody, linkSessionBody, sessionIdParam } from './schemas.ts';
import { webhookBody, webhookRouter } from './webhookRouter.ts';
import { startHarness, type Harness } from '../test/harness.ts';

type Json = Record<string, any>;

/** The routes a router really serves, from Express's own route list. */
function routesOf(router: Router): string[] {
    const stack = (router as unknown as { stack: Array<{ route?: { path: string; methods: Record<string, boolean> } }> }).stack;
    return stack.flatMap((layer) => (layer.route ? Object.keys(layer.route.methods).map((m) => `${m} ${layer.route!.path}`) : []));
}

/** Inlines every local $ref, and drops what only says where a schema came from. */
function resolve(node: unknown, root: Json, defs: Json = {}): unknown {
    if (Array.isArray(node)) return node.map((n) => resolve(n, root, defs));
    if (!node || typeof node !== 'object') return node;
    const obj = node as Json;
    if (typeof obj['$ref'] === 'string') {
        const ref = obj['$ref'];
        const target = ref.startsWith('#/$defs/')
            ? defs[ref.slice(8)]
            : ref
                  .split('/')
                  .slice(1)
                  .reduce((o: Json, k) => o?.[k], root);
        assert.ok(target, `unresolved $ref ${ref}`);
        return resolve(target, root, defs);
    }
    const out: Json = {};
    for (const [k, v] of Object.entries(obj)) if (!['$schema', '$defs', 'id'].includes(k)) out[k] = resolve(v, root, defs);
    // A string with a `format` (date) is stated by its format; zod adds the equivalent pattern, the generator does not.
    if (typeof out['format'] === 'string') delete out['pattern'];
    return out;
}

/** What zod itself says a schema accepts, as JSON Schema 2020-12 (the dialect of OpenAPI 3.1). */
function zodJsonSchema(schema: z.ZodType): unknown {
    const json = z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12' }) as Json;
    return resolve(json, json, (json['$defs'] as Json) ?? {});
}

describe('GET /api/v1/openapi.json', () => {
    let h: Harness;
    let doc: Json;
    let key: string;
    before(async () => {
        h = await startHarness();
        key = (await h.newAccount('OpenAPI')).key;
        const res = await request(h.app)
            .get('/api/v1/openapi.json')
            .expect(200)
            .expect('Content-Type', /application\/json/);
        doc = res.body;
    });
    after(() => h.close());

    test('is an OpenAPI 3.1 document, served without an API key', () => {
        assert.match(doc['openapi'], /^3\.1\.\d+$/);
        assert.equal(typeof doc['info']['title'], 'string');
        assert.equal(typeof doc['info']['version'], 'string');
        assert.deepEqual(doc['components']['securitySchemes']['ApiKey'], {
            type: 'http',
            scheme: 'bearer',
            description: doc['components']['securitySchemes']['ApiKey'].description
        });
        assert.deepEqual(doc['security'], [{ ApiKey: [] }]);
        assert.deepEqual(doc['paths']['/api/v1/openapi.json']['get']['security'], []);
        assert.equal(doc['servers'][0].url, h.config.PUBLIC_URL);
    });

    test('the error body lists every error code the backend answers with, and only those', async () => {
        assert.deepEqual(doc['components']['schemas']['Error']['properties']['error']['properties']['code']['enum'], [...ERROR_CODES]);
        // A refusal as the API sends it fits the document.
        const res = await request(h.app).get('/api/v1/link').expect(401);
        assert.ok(ERROR_CODES.includes(res.body.error.code));
    });

    test('every operation is well formed: responses, path parameters, JSON bodies, resolvable $refs', () => {
        const methods = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace'];
        for (const [path, item] of Object.entries(doc['paths'] as Json)) {
            assert.match(path, /^\/api\/v1\//);
            for (const [method, op] of Object.entries(item as Json)) {
                assert.ok(methods.includes(method), `${path}: ${method}`);
                const where = `${method.toUpperCase()} ${path}`;
                assert.ok(typeof op.summary === 'string' && op.summary.length > 0, `${where} has a summary`);
                const statuses = Object.keys(op.responses);
                assert.ok(
                    statuses.some((s) => /^2\d\d$/.test(s)),
                    `${where} has a 2xx response`
                );
                for (const s of statuses) assert.match(s, /^[1-5]\d\d$/);
                const declared = (op.parameters ?? []).filter((p: Json) => p.in === 'path').map((p: Json) => p.name);
                const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
                assert.deepEqual(declared.sort(), inPath.sort(), `${where} declares its path parameters`);
                for (const p of op.parameters ?? []) if (p.in === 'path') assert.equal(p.required, true);
                if (op.requestBody) assert.ok(op.requestBody.content['application/json'].schema, `${where} has a JSON body schema`);
                if (method !== 'get' || path !== '/api/v1/openapi.json') {
                    const errorStatuses = statuses.filter((s) => Number(s) >= 400);
                    assert.ok(errorStatuses.length > 0, `${where} documents its errors`);
                }
            }
        }
        resolve(doc, doc);
    });

    test('every route the routers serve is documented, and nothing else', () => {
        const served = [
            ...routesOf(linkRouter({} as never, {} as never)),
            ...routesOf(webhookRouter({} as never)),
            ...routesOf(callsRouter({} as never, {} as never)),
            ...APP_LEVEL_ROUTES
        ].map((r) => {
            const [method, path] = r.split(' ');
            return `${method} ${openApiPath(path!)}`;
        });
        const documented = Object.entries(doc['paths'] as Json)
            .flatMap(([path, item]) => Object.keys(item as Json).map((m) => `${m} ${path}`))
            .filter((r) => r !== 'get /api/v1/openapi.json');
        assert.deepEqual([...documented].sort(), [...served].sort());
    });

    test('the request schemas are the ones the routers validate with', () => {
        const used: Record<string, z.ZodType> = {
            'post /link-sessions': linkSessionBody,
            'post /link/verify': actorBody,
            'delete /link': actorBody,
            'put /webhook': webhookBody,
            'post /calls/lookup': lookupBody,
            'put /calls/:callId/task': taskBody,
            'post /calls/kept/decision': keptDecisionBody,
            'put /calls/settings': callSettingsBody
        };
        const withBody = API_OPERATIONS.filter((op) => op.body);
        assert.deepEqual(withBody.map((op) => `${op.method} ${op.path}`).sort(), Object.keys(used).sort());
        for (const op of withBody) {
            const where = `${op.method} ${op.path}`;
            assert.equal(op.body, used[where], `${where}: the router's own schema object`);
            const documented = resolve(doc['paths'][openApiPath(op.path)][op.method].requestBody.content['application/json'].schema, doc);
            assert.deepEqual(documented, zodJsonSchema(op.body!), `${where}: the document says what zod accepts`);
        }
        const params: Array<[ApiOperation | undefined, string, z.ZodType]> = [
            [API_OPERATIONS.find((op) => op.path === '/link-sessions/:id'), 'id', sessionIdParam],
            [API_OPERATIONS.find((op) => op.path === '/calls/:callId/task' && op.method === 'put'), 'callId', callIdParam],
            [API_OPERATIONS.find((op) => op.path === '/calls/:callId/task' && op.method === 'get'), 'callId', callIdParam]
        ];
        for (const [op, name, schema] of params) {
            assert.equal(op!.params![name], schema);
            const parameter = doc['paths'][openApiPath(op!.path)][op!.method].parameters.find((p: Json) => p.name === name);
            const { description: _d, ...documented } = resolve(parameter.schema, doc) as Json;
            const { description: _z, ...expected } = zodJsonSchema(schema) as Json;
            assert.deepEqual(documented, expected);
        }
    });

    test('what the document refuses, the API refuses: unknown fields and bad parameters are 400', async () => {
        const auth = { Authorization: `Bearer ${key}` };
        for (const op of API_OPERATIONS.filter((o) => o.body)) {
            const schema = resolve(
                doc['paths'][openApiPath(op.path)][op.method].requestBody.content['application/json'].schema,
                doc
            ) as Json;
            assert.equal(schema['additionalProperties'], false, `${op.method} ${op.path} is a closed object`);
            const path = `/api/v1${op.path.replace(':callId', 'call-1').replace(':id', 'A'.repeat(32))}`;
            const res = await request(h.app)[op.method](path).set(auth).send({ notAField: 1 }).expect(400);
            assert.equal(res.body.error.code, 'VALIDATION_FAILED', `${op.method} ${op.path}`);
        }
        const badId = await request(h.app)
            .put('/api/v1/calls/bad%20id/task')
            .set(auth)
            .send({ direction: 'inbound', durationSeconds: 1 })
            .expect(400);
        assert.match(badId.body.error.message, /call id/);
        const badSession = await request(h.app).get('/api/v1/link-sessions/short').set(auth).expect(400);
        assert.equal(badSession.body.error.code, 'VALIDATION_FAILED');
    });

    test('documented operations exist: each answers 401 without a key, not 404', async () => {
        for (const op of API_OPERATIONS) {
            const path = `/api/v1${op.path.replace(':callId', 'call-1').replace(':id', 'A'.repeat(32))}`;
            const res = await request(h.app)[op.method](path).expect(401);
            assert.equal(res.body.error.code, 'UNAUTHORIZED', `${op.method} ${op.path}`);
        }
    });
});
