// The app's refresh token IP allowlist as the admin meets it on the card: the addresses the backend connects from,
// and a link Salesforce refused for the address, which Verify restores once they are allowed (no relink).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
    PEOPLE,
    chooseEnvironment,
    decide,
    docsImage,
    logIn,
    missingBrowser,
    TEST_TIMEOUT_MS,
    useBrowser,
    waitForBadge,
    waitForText,
    withPreview
} from './helpers.ts';

const skip = missingBrowser();
const EGRESS = '203.0.113.10,2001:db8::/64';

describe('The IP allowlist for tokens on the card', { skip }, () => {
    const browser = useBrowser();

    it(
        'lists the backend’s addresses; a refresh refused for the address says so precisely and Verify restores the link once they are allowed',
        { timeout: TEST_TIMEOUT_MS },
        async (t) => {
            await withPreview(browser(), t.name, { env: { SF_EGRESS_ADDRESSES: EGRESS } }, async ({ page, problems }, stack) => {
                const { state } = stack.demo.emulator;
                const popup = (await chooseEnvironment(page, /^Production \(this org\)$/))!;
                await logIn(popup, PEOPLE.acmeApi);
                await decide(popup, 'Allow');
                await waitForBadge(page, 'Linked');
                const addresses = page.locator('[data-id="egress-section"] [data-id="egress-addresses"] li');
                await addresses.first().waitFor();
                assert.deepEqual(await addresses.allInnerTexts(), ['203.0.113.10', '2001:db8::/64']);

                // The org's admin turns on the app's refresh token IP allowlist without the backend's addresses.
                state.setTokenIpAllowlist('ccl-demo-client', ['198.51.100.0/24']);
                await page.locator('[data-id="verify"] button').click();
                await waitForBadge(page, 'Needs relink');
                await page.reload();
                await waitForBadge(page, 'Needs relink');
                const lastError = await waitForText(page.locator('[data-id="last-error"]'), /203\.0\.113\.10/);
                assert.match(lastError, /refresh token IP allowlist/);
                await page.locator('[data-id="egress-section"] [data-id="egress-refused"]').waitFor();
                assert.equal(await page.locator('[data-id="verify"]').count(), 1, 'Verify is offered');
                assert.equal(state.tokensFor(PEOPLE.acmeApi.username), 1, 'Salesforce still holds the grant');
                await docsImage(page.locator('c-contact-center-link'), 'ip-not-allowed-card');

                // The admin adds the addresses: Verify brings the same link back.
                state.setTokenIpAllowlist('ccl-demo-client', ['127.0.0.1', '::1']);
                await page.locator('[data-id="verify"] button').click();
                await waitForBadge(page, 'Linked');
                assert.equal(await page.locator('[data-id="egress-section"] [data-id="egress-refused"]').count(), 0);
                assert.equal(state.tokensFor(PEOPLE.acmeApi.username), 1, 'no new approval: the same grant');
                assert.deepEqual(problems, []);
            });
        }
    );
});
