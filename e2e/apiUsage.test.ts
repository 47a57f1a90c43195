// What the admin sees of the org's API usage and where help is: the card shows the daily API requests Salesforce
// reported on the link's last calls, warns near the daily limit, and links to the help page's sections. And what the
// card tells the backend: Unlink names the admin who did it.

import assert from 'node:assert/strict';
import type { Snapshot } from '../server/store/types.ts';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import {
    PEOPLE,
    TEST_TIMEOUT_MS,
    docsImage,
    linkThroughApi,
    missingBrowser,
    useBrowser,
    waitForBadge,
    waitForText,
    withPreview,
    type Stack
} from './helpers.ts';
import { readCustomLabels } from '../preview/labels.ts';

const skip = missingBrowser();
const LABELS_FILE = new URL('../force-app/main/default/labels/CustomLabels.labels-meta.xml', import.meta.url);
/** The backend saves a link's API usage at most this often. */
const USAGE_SAVE_INTERVAL_MS = 5000;

/** A screen pop as the contact center sends it (with the platform's key): Salesforce reports its usage on the answer. */
async function lookUpCaller(stack: Stack, platformKey: string): Promise<void> {
    const response = await fetch(`${stack.url}/api/v1/calls/lookup`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${platformKey}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ phone: '+14155550100' })
    });
    assert.equal(response.status, 200, await response.text());
}

const usage = (page: Page) => page.locator('[data-id="api-usage"]');
const usageWarning = (page: Page) => page.locator('[data-id="api-usage-warning"]');

describe('API usage and help on the card', { skip }, () => {
    const browser = useBrowser();

    it('shows used of the daily allowance with when it was reported, and warns near the limit', { timeout: TEST_TIMEOUT_MS }, async (t) => {
        await withPreview(browser(), t.name, {}, async ({ page, problems }, stack) => {
            await linkThroughApi(stack, stack.demo.account.apiKey, PEOPLE.acmeApi);
            await page.reload();
            await waitForBadge(page, 'Linked');
            assert.equal(await usage(page).count(), 0, 'No usage before Salesforce reported any');

            const platformKey = await stack.demo.backend.services.accounts.rotateKey(stack.demo.account.id, 'platform');
            stack.demo.emulator.state.setApiLimit('acme', { max: 15000, used: 1200 });
            await lookUpCaller(stack, platformKey);
            await page.reload();
            await waitForBadge(page, 'Linked');
            const shown = await waitForText(usage(page), /of 15,000 requests/);
            const used = Number(/([\d,]+) of 15,000/.exec(shown)![1]!.replace(/,/g, ''));
            assert.ok(used > 1200 && used < 1300, `used as Salesforce reported it: ${shown}`);
            assert.match(shown, /Reported/);
            assert.equal(await usageWarning(page).count(), 0);
            await docsImage(page.locator('c-contact-center-link'), 'linked-card-usage');

            // Near the org's daily limit: the next report (saved at most every few seconds) turns the card's warning on.
            stack.demo.emulator.state.setApiLimit('acme', { max: 15000, used: 13500 });
            await new Promise((resolve) => setTimeout(resolve, USAGE_SAVE_INTERVAL_MS + 200));
            await lookUpCaller(stack, platformKey);
            await page.reload();
            await waitForText(usage(page), /13,5\d\d of 15,000 requests/);
            await waitForText(usageWarning(page), /Near the org's daily API limit/);
            assert.match((await usage(page).getAttribute('class')) ?? '', /slds-text-color_error/);
            assert.deepEqual(problems, []);
        });
    });

    it('links to the help page the Ccl_HelpUrl label names, at the section for the state', { timeout: TEST_TIMEOUT_MS }, async (t) => {
        const helpUrl = (await readCustomLabels(LABELS_FILE.pathname)).get('Ccl_HelpUrl')!;
        await withPreview(browser(), t.name, {}, async ({ page, problems }, stack) => {
            const setup = page.locator('[data-id="help-setup"]');
            assert.equal(await setup.getAttribute('href'), `${new URL(helpUrl).href.split('#')[0]}#6-create-the-api-user`);
            assert.equal(await setup.getAttribute('target'), '_blank');

            assert.equal(await page.locator('[data-id="help-needs-relink"]').count(), 0);

            // Salesforce revokes the API user's grant; Verify finds it, and the card links to the relink section.
            await linkThroughApi(stack, stack.demo.account.apiKey, PEOPLE.acmeApi);
            await page.reload();
            await waitForBadge(page, 'Linked');
            stack.demo.emulator.state.revokeUserTokens(PEOPLE.acmeApi.username);
            await page.locator('[data-id="verify"] button').click();
            await waitForBadge(page, 'Needs relink');
            const relinkHelp = page.locator('[data-id="help-needs-relink"]');
            await relinkHelp.waitFor();
            assert.equal(await relinkHelp.getAttribute('href'), `${new URL(helpUrl).href.split('#')[0]}#needs-relink`);
            assert.deepEqual(problems, []);
        });
    });

    it('Unlink from the card records the admin who did it', { timeout: TEST_TIMEOUT_MS }, async (t) => {
        await withPreview(browser(), t.name, {}, async ({ page, problems }, stack) => {
            await linkThroughApi(stack, stack.demo.account.apiKey, PEOPLE.acmeApi);
            await page.reload();
            await waitForBadge(page, 'Linked');

            await page.locator('[data-id="unlink"] button').click();
            await page.getByRole('alertdialog').getByRole('button', { name: 'OK' }).click();
            await waitForBadge(page, 'Unlinked');

            const unlinks = ((db: Snapshot) =>
                db.audit.filter((entry) => entry.accountId === stack.demo.account.id && entry.action === 'unlink'))(
                await stack.demo.backend.services.store.dump()
            );
            assert.equal(unlinks.length, 1);
            assert.equal(unlinks[0]!.actor?.username, PEOPLE.acmeAdmin.username, 'the admin the page stands for');
            assert.deepEqual(problems, []);
        });
    });
});
