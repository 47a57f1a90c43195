import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { sfBinary, sfEnv } from '../package/sfCli.ts';

const run = promisify(execFile);

test('the project’s sf runs with no auto-update: nothing is started or written for one in its cache', async () => {
    const cache = await mkdtemp(path.join(tmpdir(), 'ccl-sf-cache-'));
    // What sfEnv sets, not what this shell (or .ci/run) may already have exported.
    for (const name of ['SF_AUTOUPDATE_DISABLE', 'SF_DISABLE_AUTOUPDATE']) delete process.env[name];
    try {
        const { stdout } = await run(sfBinary(process.cwd()), ['--version'], { env: { ...sfEnv(), XDG_CACHE_HOME: cache } });
        assert.match(stdout, /@salesforce\/cli\//);
        // Without SF_DISABLE_AUTOUPDATE the CLI writes sf/autoupdate and sf/autoupdate.log here and starts `sf update`.
        const written = await readdir(path.join(cache, 'sf')).catch(() => []);
        assert.deepEqual(
            written.filter((name) => name.startsWith('autoupdate')),
            [],
            `sf's cache holds ${written.join(', ')}`
        );
    } finally {
        await rm(cache, { recursive: true, force: true });
    }
});
