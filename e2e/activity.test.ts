// The link's history on the card: the newest ten entries, Show more for the older ones, who did what.

import assert from 'node:assert/strict';
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
    withPreview
} from './helpers.ts';

const skip = missingBrowser();

const entries = (page: Page) => page.locator('[data-id="activity"] [data-id="entry"]');
const showMore = (page: Page) => page.locator('[data-id="activity"] [data-id="more"] button');

describe('Activity on the card', { skip }, () => {
    const browser = useBrowser();

    it(
        'shows the last ten entries newest first, who did them, and the older ones with Show more',
        { timeout: TEST_TIMEOUT_MS },
        async (t) => {
            await withPreview(browser(), t.name, {}, async ({ page, problems }, stack) => {
                const { account } = stack.demo;
                await waitForText(page.locator('[data-id="activity"]'), /Account created/);

                await linkThroughApi(stack, account.apiKey, PEOPLE.acmeApi);
                // Eleven more entries than a page holds: the operator replaced the platform's key eleven times.
                for (let i = 0; i < 11; i++) await stack.demo.backend.services.accounts.rotateKey(account.id, 'platform');
                await page.reload();
                await waitForBadge(page, 'Linked');
                await page.locator('[data-id="verify"] button').click();
                await waitForText(entries(page).first(), /Verified/);

                assert.equal(await entries(page).count(), 10, 'the newest ten');
                const newest = (await entries(page).first().textContent()) ?? '';
                assert.match(newest, /by admin@acme\.example/, 'Verify names the admin who asked');
                assert.match((await entries(page).nth(1).textContent()) ?? '', /API key replaced/);

                await showMore(page).click();
                await waitForText(entries(page).last(), /Account created/);
                assert.equal(await entries(page).count(), 14, 'ten, then the four older ones');
                assert.match((await entries(page).nth(12).textContent()) ?? '', /Linked.*api@acme\.example/s);
                assert.equal(await showMore(page).count(), 0, 'nothing older');
                await docsImage(page.locator('c-contact-center-link'), 'linked-card-activity');
                assert.deepEqual(problems, []);
            });
        }
    );

    it('records Unlink and a Verify that found the link dead, and shows them at once', { timeout: TEST_TIMEOUT_MS }, async (t) => {
        await withPreview(browser(), t.name, {}, async ({ page, problems }, stack) => {
            await linkThroughApi(stack, stack.demo.account.apiKey, PEOPLE.acmeApi);
            await page.reload();
            await waitForBadge(page, 'Linked');
            stack.demo.emulator.state.revokeUserTokens(PEOPLE.acmeApi.username);
            await page.locator('[data-id="verify"] button').click();
            await waitForBadge(page, 'Needs relink');
            const first = await waitForText(entries(page).first(), /needs_relink/);
            assert.match(first, /Verified|Status changed/);
            assert.match(
                (await page.locator('[data-id="activity"] [data-id="note"]').first().getAttribute('class')) ?? '',
                /slds-text-color_error/
            );
            assert.deepEqual(problems, []);
        });
    });
});
