// npm run lint:openapi: Redocly's strict recommended rules on the OpenAPI document the backend serves at
// /api/v1/openapi.json, built from the same code. A warning fails it like an error.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildOpenApiDocument } from '../server/http/openapi.ts';

const CONFIG = `extends:
  - recommended-strict
rules:
  # A vendor's own API: there is no public licence to name.
  info-license: off
  # The served document names the deployment's PUBLIC_URL, which is localhost in the demo.
  no-server-example.com: off
`;

// The document itself answers only 200: it needs no key and takes no input.
const IGNORED = `openapi.json:
  operation-4xx-response:
    - '#/paths/~1api~1v1~1openapi.json/get/responses'
`;

export function lintOpenApiDocument(document: unknown): { ok: boolean; output: string } {
    const dir = mkdtempSync(path.join(tmpdir(), 'ccl-openapi-'));
    try {
        writeFileSync(path.join(dir, 'redocly.yaml'), CONFIG);
        writeFileSync(path.join(dir, '.redocly.lint-ignore.yaml'), IGNORED);
        writeFileSync(path.join(dir, 'openapi.json'), JSON.stringify(document, null, 1));
        const cli = createRequire(import.meta.url).resolve('@redocly/cli/bin/cli.js');
        const run = spawnSync(process.execPath, [cli, 'lint', '--config', 'redocly.yaml', '--format', 'stylish', 'openapi.json'], {
            cwd: dir,
            encoding: 'utf8',
            env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' }
        });
        return { ok: run.status === 0, output: `${run.stdout}${run.stderr}` };
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
    const { ok, output } = lintOpenApiDocument(buildOpenApiDocument('http://localhost:3000'));
    if (!ok) {
        console.error(output);
        console.error('lint:openapi: the OpenAPI document breaks the rules above.');
        process.exit(1);
    }
    console.log('lint:openapi: /api/v1/openapi.json passes Redocly recommended-strict (0 errors, 0 warnings).');
}
