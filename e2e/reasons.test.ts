// Reasons that say what happened: a refreshed sandbox, named with the day it was refreshed and the org the link
// still points at, and the org's name beside its id.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
    PEOPLE,
    TEST_TIMEOUT_MS,
    chooseEnvironment,
    decide,
    detail,
    docsImage,
    logIn,
    setOrgKey,
    missingBrowser,
    useBrowser,
    waitForBadge,
    waitForText,
    withPreview
} from './helpers.ts';

const skip = missingBrowser();

describe('Needs relink reasons on the card', { skip }, () => {
    const browser = useBrowser();

    it('says the sandbox was refreshed, on which day, and which org the link still points at', { timeout: TEST_TIMEOUT_MS }, async (t) => {
        await withPreview(browser(), t.name, { org: 'acmeUat' }, async ({ page, problems }, stack) => {
            const popup = (await chooseEnvironment(page, /^Sandbox \(this org\)$/))!;
            await logIn(popup, PEOPLE.uatApi);
            await decide(popup, 'Allow');
            await waitForBadge(page, 'Linked');
            const linkedOrg = stack.demo.emulator.state.org('acmeUat');
            assert.equal((await detail(page, 'orgId').innerText()).trim(), `Acme UAT (${linkedOrg.orgId})`);
            assert.equal(await page.locator('[data-id="org-reason"]').count(), 0);

            const refreshed = stack.demo.emulator.state.refreshSandbox('acmeUat');
            // The refresh cleared the sandbox's key: the admin enters the sandbox account's key again.
            setOrgKey(stack, 'acmeUat');
            await page.reload();
            await page.locator('[data-id="verify"] button').click();
            await waitForBadge(page, 'Needs relink');
            // Read again as the admin finds it later (no toast over it).
            await page.reload();
            await waitForBadge(page, 'Needs relink');
            const day = new Intl.DateTimeFormat('en-US', { year: 'numeric', month: 'short', day: 'numeric', timeZone: 'UTC' }).format(
                new Date(refreshed.createdDate)
            );
            const reason = await waitForText(page.locator('[data-id="org-reason"]'), /refreshed/);
            assert.equal(
                reason.trim(),
                `This sandbox was refreshed on ${day}: the link still points at Acme UAT (${linkedOrg.orgId}), the org it was copied from. Relink it.`
            );
            await docsImage(page.locator('c-contact-center-link'), 'needs-relink-card-reason');
            assert.deepEqual(problems, []);
        });
    });
});
