// Which Chromium the browser tests take, what the preflight says when it cannot start, and the packaged Chromium's
// unpacking when two test files start at once. Starts no browser.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { DEBIAN_CHROMIUM, explainLaunchFailure, findChromium, unpackChromium, type Chromium } from './chromium.ts';

const linuxX64 = process.platform === 'linux' && process.arch === 'x64';
const VARIABLES = ['CHROMIUM_PATH', 'CCL_TEST_CHROMIUM'] as const;

describe('findChromium', () => {
    const saved = Object.fromEntries(VARIABLES.map((name) => [name, process.env[name]]));
    let scratch: string;
    beforeEach(async () => {
        for (const name of VARIABLES) delete process.env[name];
        scratch = await mkdtemp(path.join(tmpdir(), 'ccl-chromium-'));
    });
    afterEach(async () => {
        for (const name of VARIABLES) {
            if (saved[name] === undefined) delete process.env[name];
            else process.env[name] = saved[name];
        }
        await rm(scratch, { recursive: true, force: true });
    });

    it('takes CHROMIUM_PATH first, and reports one that names no file instead of passing it over', async () => {
        const browser = path.join(scratch, 'chrome');
        await writeFile(browser, '');
        process.env.CHROMIUM_PATH = browser;
        assert.deepEqual(findChromium(), { chromium: { kind: 'system', executablePath: browser, label: `CHROMIUM_PATH ${browser}` } });

        process.env.CHROMIUM_PATH = path.join(scratch, 'nothing');
        const found = findChromium();
        assert.ok('missing' in found);
        assert.match(found.missing, /^CHROMIUM_PATH is .*nothing, where there is no file/);
    });

    it(
        'takes Debian’s Chromium when it is installed, else the packaged one',
        { skip: !linuxX64 && 'the package is for Linux x86-64' },
        () => {
            const found = findChromium();
            assert.ok('chromium' in found);
            assert.equal(found.chromium.kind, existsSync(DEBIAN_CHROMIUM) ? 'system' : 'packaged');
        }
    );

    it(
        'CCL_TEST_CHROMIUM=packaged takes the packaged one even with CHROMIUM_PATH set',
        { skip: !linuxX64 && 'the package is for Linux x86-64' },
        () => {
            process.env.CHROMIUM_PATH = DEBIAN_CHROMIUM;
            process.env.CCL_TEST_CHROMIUM = 'packaged';
            const found = findChromium();
            assert.ok('chromium' in found && found.chromium.kind === 'packaged');
            assert.match(found.chromium.dir, /node_modules\/\.cache\/packaged-chromium\/\d+\.\d+\.\d+$/);
            assert.equal(found.chromium.executablePath, path.join(found.chromium.dir, 'chromium'));
            for (const file of ['chromium.br', 'al2023.tar.br', 'fonts.tar.br'])
                assert.ok(existsSync(path.join(found.chromium.binDir, file)), file);
        }
    );

    it('CCL_TEST_CHROMIUM=system never takes the packaged one', () => {
        process.env.CCL_TEST_CHROMIUM = 'system';
        process.env.CHROMIUM_PATH = path.join(scratch, 'nothing');
        const found = findChromium();
        assert.ok('missing' in found);
        assert.doesNotMatch(found.missing, /sparticuz/);
    });

    it('refuses a CCL_TEST_CHROMIUM it does not know', () => {
        process.env.CCL_TEST_CHROMIUM = 'chrome';
        assert.throws(() => findChromium(), /CCL_TEST_CHROMIUM=chrome: use system .* or packaged/);
    });
});

describe('explainLaunchFailure', () => {
    // A file that is not a program: ldd finds nothing to add to what the loader said.
    const target: Chromium = { kind: 'system', executablePath: import.meta.filename, label: 'a test' };
    const loader = (library: string) =>
        `browserType.launch: Target page, context or browser has been closed\nBrowser logs:\n\n<launched> pid=7\n[pid=7][err] /opt/chrome: error while loading shared libraries: ${library}: cannot open shared object file: No such file or directory\n`;

    it('names the missing libraries and the Debian packages that hold them', () => {
        const text = explainLaunchFailure(target, loader('libnspr4.so') + loader('libexpat.so.1'));
        assert.match(text, /^Chromium cannot load libnspr4\.so, libexpat\.so\.1\.$/m);
        assert.match(text, /^Install: {3}apt-get install -y libnspr4 libexpat1$/m);
    });

    it('says how to find the package of a library it has no name for', () => {
        const text = explainLaunchFailure(target, loader('libatk-1.0.so.0'));
        assert.match(
            text,
            /Install the packages that hold libatk-1\.0\.so\.0 \(apt-file search <name>\), or Chromium itself: {3}apt-get install -y chromium/
        );
        assert.doesNotMatch(text, /^Install: /m);
    });

    it('says which file needs a newer glibc', () => {
        const text = explainLaunchFailure(
            target,
            "[pid=7][err] /opt/chrome: /lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.34' not found (required by /opt/lib/libnspr4.so)\n"
        );
        assert.match(text, /^\/opt\/lib\/libnspr4\.so needs glibc 2\.34 or later; this system has /);
        assert.match(text, /Install Debian's Chromium instead: {3}apt-get install -y chromium/);
    });

    it('passes any other failure on whole', () => {
        assert.equal(
            explainLaunchFailure(target, 'Timeout 180000ms exceeded.'),
            'Chromium (a test) did not start:\nTimeout 180000ms exceeded.'
        );
    });
});

describe('unpackChromium', { skip: !linuxX64 && 'the package is for Linux x86-64' }, () => {
    it('unpacks once when two test files start together, and leaves no half-unpacked folder', async () => {
        process.env.CCL_TEST_CHROMIUM = 'packaged';
        const found = findChromium();
        delete process.env.CCL_TEST_CHROMIUM;
        assert.ok('chromium' in found && found.chromium.kind === 'packaged');
        const scratch = await mkdtemp(path.join(tmpdir(), 'ccl-chromium-'));
        try {
            const dir = path.join(scratch, 'unpacked');
            const target: Chromium = { ...found.chromium, dir, executablePath: path.join(dir, 'chromium') };
            const unpacked = await Promise.all([unpackChromium(target), unpackChromium(target)]);
            assert.equal(unpacked.filter(Boolean).length, 1, 'one of the two put its folder in place');
            assert.deepEqual(await readdir(scratch), ['unpacked']);
            assert.deepEqual((await readdir(dir)).sort(), ['chromium', 'fonts', 'fonts.conf', 'lib']);
            assert.ok((await readdir(path.join(dir, 'lib'))).includes('libnss3.so'));
            assert.match(await readFile(path.join(dir, 'fonts.conf'), 'utf8'), new RegExp(`<dir>${dir}/fonts</dir>`));
            assert.equal(await unpackChromium(target), false, 'an unpacked Chromium is not unpacked again');
        } finally {
            await rm(scratch, { recursive: true, force: true });
        }
    });
});
