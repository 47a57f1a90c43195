// Runs before the browser tests (npm run test:e2e): finds Chromium (Debian's, else the one @sparticuz/chromium carries,
// see chromium.ts), unpacks the packaged one if that is the one, starts it once to be sure it runs here, and builds the
// preview once so that the test files, which run in parallel, find it built.
// Without any Chromium (Debian's missing, and the packaged one not for this platform) it says how to install one and,
// outside CI, lets the tests skip themselves; under CI=true that fails. A Chromium that is there but cannot start
// always fails, with what to install.

import { buildPreview } from '../preview/build.ts';
import { explainLaunchFailure, findChromium, launchChromium, unpackChromium } from './chromium.ts';

function banner(lines: string[]): void {
    const rule = '!'.repeat(78);
    console.error(`\n${rule}\n${lines.map((line) => `  ${line}`).join('\n')}\n${rule}\n`);
}

const found = findChromium();
if (!('chromium' in found)) {
    const ci = process.env.CI === 'true';
    banner([`The browser tests need Chromium: ${found.missing}.`, ci ? 'CI=true: this is a failure.' : 'The browser tests are SKIPPED.']);
    if (ci) process.exit(1);
} else {
    const target = found.chromium;
    const unpackStarted = Date.now();
    if (target.kind === 'packaged') {
        const why = process.env.CCL_TEST_CHROMIUM === 'packaged' ? 'CCL_TEST_CHROMIUM=packaged' : 'no Debian Chromium';
        console.log(`browser tests: ${why}; using the Chromium in ${target.label}`);
    }
    if (await unpackChromium(target)) console.log(`browser tests: unpacked the packaged Chromium in ${Date.now() - unpackStarted} ms`);
    let version: string;
    try {
        const browser = await launchChromium(target);
        version = browser.version();
        await browser.close();
    } catch (error) {
        banner([`The browser tests cannot start Chromium (${target.label}).`, ...explainLaunchFailure(target, String(error)).split('\n')]);
        process.exit(1);
    }
    const result = await buildPreview();
    console.log(
        `browser tests: Chromium ${version} (${target.kind === 'packaged' ? 'packaged' : target.label}); preview ${result.built ? `built in ${result.ms} ms` : 'up to date'}`
    );
}
