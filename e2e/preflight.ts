// Runs before the browser tests (npm run test:e2e): finds Chromium, and builds the preview once so that the test
// files, which run in parallel, find it built. Without Chromium it says how to install it and, outside CI, lets the
// tests skip themselves; under CI=true a missing Chromium fails.

import { buildPreview } from '../preview/build.ts';
import { INSTALL_COMMAND, chromiumPath } from './helpers.ts';

const browser = chromiumPath();
if (!browser) {
    const line = '!'.repeat(78);
    console.error(
        `\n${line}\n  The browser tests need Chromium, and none was found at ${process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'}.\n  Install it with:   ${INSTALL_COMMAND}   (as root; or set CHROMIUM_PATH)\n${process.env.CI === 'true' ? '  CI=true: this is a failure.' : '  The browser tests are SKIPPED.'}\n${line}\n`
    );
    if (process.env.CI === 'true') process.exit(1);
} else {
    const result = await buildPreview();
    console.log(`browser tests: ${browser}; preview ${result.built ? `built in ${result.ms} ms` : 'up to date'}`);
}
