import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { auditLockfile, type AdvisoryList, type Lockfile } from './auditDependencies.ts';

const LIST: AdvisoryList = {
    reviewed: '2026-12-06',
    advisories: [
        {
            id: 'GHSA-9wv6-86v2-598j',
            package: 'path-to-regexp',
            vulnerable: '<0.1.10 || >=0.2.0 <1.9.0 || >=2.0.0 <3.3.0 || >=4.0.0 <8.0.0',
            severity: 'moderate',
            summary: 'ReDoS with two parameters in one segment',
            url: 'https://github.com/pillarjs/path-to-regexp/security/advisories/GHSA-9wv6-86v2-598j'
        }
    ],
    accepted: []
};
const lockfile = (packages: Record<string, { version: string }>): Lockfile => ({ lockfileVersion: 3, packages: { '': {}, ...packages } });

describe('the dependency audit', () => {
    it('passes the lockfile against the advisory list the project keeps', () => {
        const list = JSON.parse(readFileSync(new URL('./dependency-advisories.json', import.meta.url), 'utf8')) as AdvisoryList;
        const lock = JSON.parse(readFileSync(new URL('../package-lock.json', import.meta.url), 'utf8')) as Lockfile;
        const report = auditLockfile(lock, list);
        assert.deepEqual(report.findings, [], report.findings.map((f) => f.line).join('\n'));
        assert.ok(report.checked > 1000, `${report.checked} packages checked`);
        assert.ok(list.advisories.length >= 5);
    });

    it('finds a vulnerable version wherever it is installed, nested ones too, and names the fix', () => {
        const report = auditLockfile(
            lockfile({
                'node_modules/path-to-regexp': { version: '8.2.0' },
                'node_modules/express/node_modules/path-to-regexp': { version: '0.1.7' },
                'node_modules/router/node_modules/path-to-regexp': { version: '6.2.2' }
            }),
            LIST
        );
        assert.deepEqual(
            report.findings.map((f) => f.path),
            ['node_modules/express/node_modules/path-to-regexp', 'node_modules/router/node_modules/path-to-regexp']
        );
        assert.match(report.findings[0]!.line, /path-to-regexp 0\.1\.7 .*GHSA-9wv6-86v2-598j \(moderate\)/);
    });

    it('lets an accepted finding pass only with its reason, and only for the path it names', () => {
        const lock = lockfile({
            'node_modules/a/node_modules/path-to-regexp': { version: '1.8.0' },
            'node_modules/path-to-regexp': { version: '1.8.0' }
        });
        const accepted = {
            ...LIST,
            accepted: [
                { id: 'GHSA-9wv6-86v2-598j', path: 'node_modules/a/node_modules/path-to-regexp', reason: 'a build tool, never served' }
            ]
        };
        assert.deepEqual(
            auditLockfile(lock, accepted).findings.map((f) => f.path),
            ['node_modules/path-to-regexp']
        );
        assert.throws(() => auditLockfile(lock, { ...LIST, accepted: [{ id: 'GHSA-9wv6-86v2-598j', path: 'x', reason: '' }] }), /reason/);
    });

    it('refuses an advisory it cannot read, rather than passing everything', () => {
        assert.throws(
            () => auditLockfile(lockfile({}), { ...LIST, advisories: [{ ...LIST.advisories[0]!, vulnerable: 'not a range' }] }),
            /GHSA-9wv6-86v2-598j.*not a version range/
        );
    });
});
