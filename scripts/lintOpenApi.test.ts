import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildOpenApiDocument } from '../server/http/openapi.ts';
import { lintOpenApiDocument } from './lintOpenApi.ts';

describe('the OpenAPI lint', () => {
    it('passes the document the backend serves', () => {
        const { ok, output } = lintOpenApiDocument(buildOpenApiDocument('http://localhost:3000'));
        assert.ok(ok, output);
    });

    it('fails an operation without an operationId, naming the rule', () => {
        const document = buildOpenApiDocument('http://localhost:3000') as unknown as {
            paths: Record<string, Record<string, { operationId?: string }>>;
        };
        delete document.paths['/api/v1/link']!['get']!.operationId;
        const { ok, output } = lintOpenApiDocument(document);
        assert.equal(ok, false);
        assert.match(output, /operation-operationId/);
    });
});
