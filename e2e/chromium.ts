// Which Chromium the browser tests drive, and how it starts.
//
// First choice: Debian's Chromium (CHROMIUM_PATH, else /usr/bin/chromium). Without it, the Chromium that the npm package
// @sparticuz/chromium carries inside itself: a brotli-compressed chrome-headless-shell for Linux x86-64, with the NSS,
// NSPR and expat libraries it links against and one font, so that nothing is downloaded and, on glibc 2.34 or later,
// no system package is needed (on an older glibc it takes the system's libraries). It is unpacked once into
// node_modules/.cache/packaged-chromium/<version>/ (the package's own executablePath() would unpack into the shared
// /tmp and leave the libraries packed outside AWS). CCL_TEST_CHROMIUM=system or =packaged picks one of the two and
// never the other.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, createReadStream, createWriteStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createBrotliDecompress } from 'node:zlib';
import { chromium, type Browser } from 'playwright-core';
import { x as untar } from 'tar';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DEBIAN_CHROMIUM = '/usr/bin/chromium';
export const INSTALL_COMMAND = 'apt-get install -y chromium';
const PACKAGE = '@sparticuz/chromium';

export type Chromium =
    | { kind: 'system'; executablePath: string; label: string }
    | {
          kind: 'packaged';
          executablePath: string;
          label: string;
          /** The package's bin/ folder, with chromium.br, al2023.tar.br (the libraries) and fonts.tar.br. */
          binDir: string;
          /** Where it is unpacked: chromium, lib/, fonts/, fonts.conf. */
          dir: string;
      };

type Mode = 'auto' | 'system' | 'packaged';

function mode(): Mode {
    const value = process.env.CCL_TEST_CHROMIUM ?? '';
    if (value === '') return 'auto';
    if (value === 'system' || value === 'packaged') return value;
    throw new Error(`CCL_TEST_CHROMIUM=${value}: use system (CHROMIUM_PATH or ${DEBIAN_CHROMIUM}) or packaged (${PACKAGE})`);
}

/** The Chromium the browser tests will drive, or why there is none. Looks at files only: nothing is started or unpacked. */
export function findChromium(): { chromium: Chromium } | { missing: string } {
    const chosen = mode();
    if (chosen !== 'packaged') {
        const configured = process.env.CHROMIUM_PATH;
        if (configured) {
            if (existsSync(configured))
                return { chromium: { kind: 'system', executablePath: configured, label: `CHROMIUM_PATH ${configured}` } };
            return { missing: `CHROMIUM_PATH is ${configured}, where there is no file: point it at a Chromium, or unset it` };
        }
        if (existsSync(DEBIAN_CHROMIUM))
            return { chromium: { kind: 'system', executablePath: DEBIAN_CHROMIUM, label: `Debian's ${DEBIAN_CHROMIUM}` } };
        if (chosen === 'system')
            return { missing: `no Chromium at ${DEBIAN_CHROMIUM}: install it with \`${INSTALL_COMMAND}\` (or set CHROMIUM_PATH)` };
    }
    const packaged = findPackaged();
    if ('chromium' in packaged) return packaged;
    if (chosen === 'packaged') return { missing: `CCL_TEST_CHROMIUM=packaged, but ${packaged.missing}` };
    return {
        missing: `no Chromium at ${DEBIAN_CHROMIUM}, and ${packaged.missing}: install Chromium with \`${INSTALL_COMMAND}\` (or set CHROMIUM_PATH)`
    };
}

function findPackaged(): { chromium: Chromium } | { missing: string } {
    if (process.platform !== 'linux' || process.arch !== 'x64') {
        return { missing: `the Chromium in ${PACKAGE} is built for Linux x86-64 only (this is ${process.platform}-${process.arch})` };
    }
    let entry: string;
    try {
        entry = createRequire(import.meta.url).resolve(PACKAGE);
    } catch {
        return { missing: `${PACKAGE} is not installed (npm ci installs it)` };
    }
    // build/cjs/index.cjs → the package's folder, which holds package.json and bin/.
    const packageDir = path.resolve(path.dirname(entry), '../..');
    const binDir = path.join(packageDir, 'bin');
    const absent = ['chromium.br', 'al2023.tar.br', 'fonts.tar.br'].filter((file) => !existsSync(path.join(binDir, file)));
    if (absent.length) return { missing: `${PACKAGE} in ${packageDir} has no bin/${absent.join(', bin/')}` };
    const { version } = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as { version: string };
    const dir = path.join(ROOT, 'node_modules/.cache/packaged-chromium', version);
    return {
        chromium: {
            kind: 'packaged',
            executablePath: path.join(dir, 'chromium'),
            label: `${PACKAGE} ${version}, unpacked in ${dir}`,
            binDir,
            dir
        }
    };
}

/**
 * Unpacks the packaged Chromium unless it already is; returns whether it did. Unpacks into a new folder beside the
 * target and renames it into place, so that a test file that starts while another unpacks never sees half a browser.
 */
export async function unpackChromium(target: Chromium): Promise<boolean> {
    if (target.kind === 'system' || existsSync(target.executablePath)) return false;
    await mkdir(path.dirname(target.dir), { recursive: true });
    const staging = await mkdtemp(`${target.dir}.partial-`);
    try {
        await pipeline(
            createReadStream(path.join(target.binDir, 'chromium.br')),
            createBrotliDecompress(),
            createWriteStream(path.join(staging, 'chromium'), { mode: 0o755 })
        );
        await untar({ file: path.join(target.binDir, 'al2023.tar.br'), cwd: staging, brotli: true, preserveOwner: false });
        await untar({
            file: path.join(target.binDir, 'fonts.tar.br'),
            cwd: staging,
            brotli: true,
            preserveOwner: false,
            filter: (entry) => entry.startsWith('fonts/')
        });
        await writeFile(path.join(staging, 'fonts.conf'), fontsConf(target.dir));
        await chmod(staging, 0o755);
        await rename(staging, target.dir);
        return true;
    } catch (error) {
        await rm(staging, { recursive: true, force: true });
        if (existsSync(target.executablePath)) return false;
        throw error;
    }
}

/** The fonts the package brings (Open Sans), and the system's when it has any. */
function fontsConf(dir: string): string {
    const xml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    return [
        '<?xml version="1.0"?>',
        '<!DOCTYPE fontconfig SYSTEM "fonts.dtd">',
        '<fontconfig>',
        '  <dir>/usr/share/fonts</dir>',
        `  <dir>${xml(path.join(dir, 'fonts'))}</dir>`,
        `  <cachedir>${xml(path.join(dir, 'fonts-cache'))}</cachedir>`,
        '</fontconfig>',
        ''
    ].join('\n');
}

/** Starts the Chromium headless, unpacking the packaged one first when it is not yet. */
export async function launchChromium(target: Chromium): Promise<Browser> {
    await unpackChromium(target);
    return chromium.launch({
        executablePath: target.executablePath,
        env: target.kind === 'packaged' ? packagedEnv(target.dir) : undefined,
        // Playwright itself passes --headless, --no-sandbox (chromiumSandbox is false), --no-first-run and turns off
        // background networking, component updates and sync.
        args: ['--disable-gpu']
    });
}

/** The glibc the packaged libraries were built against (Amazon Linux 2023's); the Chromium itself needs 2.25. */
const PACKAGED_LIBRARIES_GLIBC = '2.34';

/** This system's glibc version, or undefined when Node was not built against glibc. */
function glibcVersion(): string | undefined {
    return (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime;
}

/** Whether this system's glibc can load the libraries the package carries. */
function packagedLibrariesLoad(): boolean {
    const glibc = glibcVersion();
    return glibc !== undefined && atLeast(glibc, PACKAGED_LIBRARIES_GLIBC);
}

function atLeast(version: string, minimum: string): boolean {
    const [major = 0, minor = 0] = version.split('.').map(Number);
    const [needMajor = 0, needMinor = 0] = minimum.split('.').map(Number);
    return major > needMajor || (major === needMajor && minor >= needMinor);
}

/**
 * The packaged Chromium finds its own libraries before the system's (where glibc is recent enough for them; on an
 * older one it takes the system's, which the preflight names when they are missing), and its fonts.conf.
 */
function packagedEnv(dir: string): Record<string, string> {
    const env = Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined));
    if (packagedLibrariesLoad()) {
        env.LD_LIBRARY_PATH = [path.join(dir, 'lib'), process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
    }
    env.FONTCONFIG_FILE = path.join(dir, 'fonts.conf');
    return env;
}

/** The shared libraries `ldd` finds nowhere for this Chromium, as it would start (none when ldd is not there). */
function unresolvedLibraries(target: Chromium): string[] {
    const env = target.kind === 'packaged' ? packagedEnv(target.dir) : process.env;
    const ldd = spawnSync('ldd', [target.executablePath], { env, encoding: 'utf8' });
    if (ldd.error || typeof ldd.stdout !== 'string') return [];
    return [...ldd.stdout.matchAll(/^\s*(\S+) => not found$/gm)].map((match) => match[1]!);
}

/** The Debian packages that hold the shared libraries Chromium links against, for a precise install line. */
const DEBIAN_PACKAGE_OF: Record<string, string> = {
    'libnss3.so': 'libnss3',
    'libnssutil3.so': 'libnss3',
    'libsmime3.so': 'libnss3',
    'libnspr4.so': 'libnspr4',
    'libplc4.so': 'libnspr4',
    'libplds4.so': 'libnspr4',
    'libexpat.so.1': 'libexpat1'
};

/** What a failed launch means and what to install, from the loader's lines in Playwright's launch log. */
export function explainLaunchFailure(target: Chromium, message: string): string {
    const lines: string[] = [];
    const glibc = /version `GLIBC_([\d.]+)' not found \(required by ([^)]+)\)/.exec(message);
    if (glibc) {
        lines.push(`${glibc[2]} needs glibc ${glibc[1]} or later; this system has ${glibcVersion() ?? 'another C library'}.`);
        lines.push(`Install Debian's Chromium instead:   ${INSTALL_COMMAND}`);
        return lines.join('\n');
    }
    const reported = [...message.matchAll(/error while loading shared libraries: ([^:\s]+)/g)].map((match) => match[1]!);
    if (reported.length) {
        // The loader stops at the first library it cannot find; ldd lists them all.
        const libraries = [...new Set([...reported, ...unresolvedLibraries(target)])];
        const packages = [...new Set(libraries.map((library) => DEBIAN_PACKAGE_OF[library]).filter(Boolean))];
        const unknown = libraries.filter((library) => !DEBIAN_PACKAGE_OF[library]);
        lines.push(`Chromium cannot load ${libraries.join(', ')}.`);
        if (target.kind === 'packaged' && !packagedLibrariesLoad()) {
            lines.push(
                `(The package carries these, but they need glibc ${PACKAGED_LIBRARIES_GLIBC} or later and this system has ${glibcVersion() ?? 'another C library'}: Chromium takes the system's.)`
            );
        }
        if (packages.length) lines.push(`Install:   apt-get install -y ${packages.join(' ')}`);
        if (unknown.length)
            lines.push(
                `Install the packages that hold ${unknown.join(', ')} (apt-file search <name>), or Chromium itself:   ${INSTALL_COMMAND}`
            );
        return lines.join('\n');
    }
    return `Chromium (${target.label}) did not start:\n${message}`;
}
