// Runs before `npm start` and `npm test`: on a fresh clone, or after package-lock.json changed, installs exactly what
// the lockfile says, so a newcomer needs no third command. Plain Node on purpose: nothing is installed yet.
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const mtime = (file) => {
    try {
        return statSync(path.join(root, file)).mtimeMs;
    } catch {
        return undefined;
    }
};

// npm writes node_modules/.package-lock.json at the end of every install: it is the installed tree's own record.
const installed = mtime('node_modules/.package-lock.json');
const wanted = mtime('package-lock.json');
if (installed !== undefined && wanted !== undefined && installed >= wanted) process.exit(0);

console.log(
    installed === undefined
        ? 'No dependencies installed yet: running npm ci once.'
        : 'package-lock.json changed since the last install: running npm ci.'
);
const npm = process.env.npm_execpath
    ? spawnSync(process.execPath, [process.env.npm_execpath, 'ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' })
    : spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
if (npm.status !== 0) {
    console.error('npm ci failed (see above). Fix that, then run the command again.');
    process.exit(npm.status ?? 1);
}
