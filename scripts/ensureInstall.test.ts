import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'ensureInstall.mjs');

/** A project with one local dependency, so npm ci runs for real without the network. */
function project(): string {
    const dir = mkdtempSync(path.join(tmpdir(), 'ccl-ensure-'));
    mkdirSync(path.join(dir, 'scripts'));
    mkdirSync(path.join(dir, 'dep'));
    copyFileSync(script, path.join(dir, 'scripts', 'ensureInstall.mjs'));
    writeFileSync(path.join(dir, 'dep', 'package.json'), JSON.stringify({ name: 'dep', version: '1.0.0' }));
    writeFileSync(
        path.join(dir, 'package.json'),
        JSON.stringify({ name: 'fresh-clone', version: '1.0.0', dependencies: { dep: 'file:./dep' } })
    );
    const lock = spawnSync('npm', ['install', '--package-lock-only', '--no-audit', '--no-fund'], { cwd: dir, encoding: 'utf8' });
    assert.equal(lock.status, 0, lock.stderr);
    return dir;
}

const run = (dir: string) =>
    spawnSync(process.execPath, ['scripts/ensureInstall.mjs'], { cwd: dir, encoding: 'utf8', env: { ...process.env, npm_execpath: '' } });

describe('the install step before npm start and npm test', () => {
    const dirs: string[] = [];
    after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

    it('installs on a fresh clone, then does nothing while the lockfile is unchanged, and again after it changes', () => {
        const dir = project();
        dirs.push(dir);
        const first = run(dir);
        assert.equal(first.status, 0, first.stderr);
        assert.match(first.stdout, /No dependencies installed yet/);
        assert.ok(existsSync(path.join(dir, 'node_modules', 'dep', 'package.json')));

        const second = run(dir);
        assert.equal(second.status, 0);
        assert.equal(second.stdout, '');

        const later = new Date(Date.now() + 5_000);
        utimesSync(path.join(dir, 'package-lock.json'), later, later);
        const third = run(dir);
        assert.equal(third.status, 0, third.stderr);
        assert.match(third.stdout, /package-lock.json changed/);
    });

    it('stops with a clear message when the install fails', () => {
        const dir = project();
        dirs.push(dir);
        writeFileSync(path.join(dir, 'package-lock.json'), '{ not json');
        const result = run(dir);
        assert.notEqual(result.status, 0);
        assert.match(result.stderr, /npm ci failed \(see above\)/);
    });
});
