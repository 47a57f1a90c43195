// Managing a link from the card: relink to another user, verify, unlink; the five-account limit; a blocked popup;
// and the whole flow by keyboard.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import {
    PEOPLE,
    TEST_TIMEOUT_MS,
    cardError,
    chooseEnvironment,
    decide,
    detail,
    linkThroughApi,
    logIn,
    markPage,
    missingBrowser,
    samePage,
    toast,
    useBrowser,
    waitForBadge,
    waitForText,
    withPreview
} from './helpers.ts';

const skip = missingBrowser();

/** The element that has the focus, through shadow roots: its tag, and its label or text. */
async function focused(page: Page): Promise<string> {
    return page.evaluate(() => {
        let element = document.activeElement;
        while (element?.shadowRoot?.activeElement) element = element.shadowRoot.activeElement;
        if (!element) return '';
        const label =
            element.tagName === 'INPUT'
                ? element.getAttribute('name')
                : (element.getAttribute('aria-label') ?? (element.textContent ?? '').trim());
        return `${element.tagName.toLowerCase()} ${label}`.trim();
    });
}

/** Waits (the page may still be settling) until the focus is on what `matches` accepts. */
async function waitForFocus(page: Page, matches: RegExp, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let now = await focused(page);
    while (!matches.test(now)) {
        if (Date.now() > deadline) throw new Error(`The focus is on "${now}", not ${matches}`);
        await page.waitForTimeout(50);
        now = await focused(page);
    }
}

/** Presses Tab until the focus is on what `matches` accepts. */
async function tabTo(page: Page, matches: RegExp, limit = 25): Promise<void> {
    for (let i = 0; i < limit; i++) {
        await page.keyboard.press('Tab');
        if (matches.test(await focused(page))) return;
    }
    throw new Error(`Tab never reached ${matches}; the focus is on "${await focused(page)}"`);
}

describe('managing the link from the card', { skip }, () => {
    const browser = useBrowser();

    it('relinks to another user, verifies, and unlinks after a confirmation', { timeout: TEST_TIMEOUT_MS }, async (t) => {
        await withPreview(browser(), t.name, {}, async ({ page, problems }, stack) => {
            await linkThroughApi(stack, stack.demo.account.apiKey, PEOPLE.acmeApi);
            await page.reload();
            await waitForBadge(page, 'Linked');
            await markPage(page);
            assert.equal((await detail(page, 'username').innerText()).trim(), PEOPLE.acmeApi.username);

            // Relink ▾ Production as the System Administrator.
            const popup = (await chooseEnvironment(page, /^Production/))!;
            await logIn(popup, PEOPLE.acmeAdmin);
            const closed = popup.waitForEvent('close');
            await decide(popup, 'Allow');
            await closed;
            await waitForText(detail(page, 'username'), new RegExp(`^${PEOPLE.acmeAdmin.username.replace(/[.]/g, '\\.')}$`));
            await waitForBadge(page, 'Linked');
            // The swap revoked the API user's grant at Salesforce.
            assert.equal(stack.demo.emulator.state.tokensFor(PEOPLE.acmeApi.username), 0);

            // Verify.
            await page.locator('[data-id="verify"] button').click();
            await waitForText(toast(page), /Link verified/);
            await waitForBadge(page, 'Linked');

            // Unlink asks first. The dialog keeps the focus, Escape and Cancel keep the link, OK removes it.
            const unlinkButton = page.locator('[data-id="unlink"] button');
            const dialog = page.getByRole('alertdialog', { name: 'Unlink this org?' });
            await unlinkButton.click();
            await dialog.waitFor();
            await waitForFocus(page, /^h1 Unlink this org\?/);
            for (let i = 0; i < 4; i++) {
                await page.keyboard.press('Tab');
                assert.match(await focused(page), /^button (Cancel|OK)$/);
            }
            await page.keyboard.press('Escape');
            await dialog.waitFor({ state: 'detached' });
            await waitForFocus(page, /^button Unlink$/);
            await unlinkButton.click();
            await dialog.getByRole('button', { name: 'Cancel' }).click();
            await dialog.waitFor({ state: 'detached' });
            await waitForBadge(page, 'Linked');

            await unlinkButton.click();
            await dialog.getByRole('button', { name: 'OK' }).click();
            await waitForBadge(page, 'Unlinked');
            await waitForText(toast(page), /Unlinked/);
            assert.equal(stack.demo.emulator.state.tokensFor(PEOPLE.acmeAdmin.username), 0);
            assert.ok(await samePage(page));
            assert.deepEqual(problems, []);
        });
    });

    it('refuses a sixth account on one API user and names the five that hold it', { timeout: TEST_TIMEOUT_MS }, async (t) => {
        await withPreview(browser(), t.name, {}, async ({ page }, stack) => {
            const names: string[] = [];
            for (let i = 1; i <= 5; i++) {
                const name = `Acme Support ${i}`;
                const { apiKey } = await stack.demo.backend.services.accounts.create(name);
                await linkThroughApi(stack, apiKey, PEOPLE.acmeApi);
                names.push(name);
            }

            const popup = (await chooseEnvironment(page, /^Production/))!;
            await logIn(popup, PEOPLE.acmeApi);
            await decide(popup, 'Allow');
            await popup.getByRole('heading', { name: 'This API user already serves five accounts' }).waitFor();

            // The person signed in to the org reads which accounts hold the API user; the link session (read with the
            // account's key, which another tenant may hold) does not list them. Started from that org's own card, it
            // names only the account whose link the refused sixth approval cost (Salesforce revokes the oldest).
            const page5 = await popup.locator('main').innerText();
            for (const name of names) assert.ok(page5.includes(name), `${name} is named in the popup: ${page5}`);
            const message = await waitForText(cardError(page), /already serves 5 contact-center accounts/);
            const [lost, ...holding] = names;
            assert.match(message, new RegExp(`Account ${lost} \\(acc_[\\w-]+\\) lost its link`), message);
            for (const name of holding) assert.ok(!message.includes(name), `${name} is not named on the card: ${message}`);
            await waitForBadge(page, 'Unlinked');
            await popup.close();
        });
    });

    it('offers the login as a link when the browser blocks the popup, and the link completes', { timeout: TEST_TIMEOUT_MS }, async (t) => {
        const blockPopups = (): void => {
            window.open = () => null;
        };
        await withPreview(browser(), t.name, { initScript: blockPopups }, async ({ page, context }, stack) => {
            await chooseEnvironment(page, /^Production/, { popup: false });
            const offered = page.locator('[data-id="popup-link"]');
            await waitForText(page.locator('[data-id="popup-blocked"]'), /blocked the login window/);
            const tabOpened = context.waitForEvent('page');
            await offered.click();
            const tab = await tabOpened;
            await tab.waitForLoadState();
            // No opener can vouch for a tab opened from a link: the page names the account and asks for one click.
            await tab.getByRole('button', { name: 'Continue to Salesforce' }).click();
            await tab.waitForURL((url) => url.origin === stack.demo.emulator.origins.acme);
            await logIn(tab, PEOPLE.acmeApi);
            await decide(tab, 'Allow');
            // A tab opened from a link says at once that it can be closed, then tries to close itself; where the browser
            // lets it (Chromium may), it is gone before or after the hint is seen: either ends the tab's part.
            const hinted = tab
                .locator('#close-hint')
                .filter({ hasText: /you can close it now/ })
                .waitFor()
                .then(
                    () => 'hinted',
                    (error: unknown) => {
                        if (tab.isClosed()) return 'closed';
                        throw error;
                    }
                );
            assert.match(await Promise.race([hinted, tab.waitForEvent('close').then(() => 'closed')]), /^(hinted|closed)$/);

            // No opener to tell (the link opens with noopener): the card's polling sees the link.
            await waitForBadge(page, 'Linked');
            assert.equal((await detail(page, 'username').innerText()).trim(), PEOPLE.acmeApi.username);
            assert.ok(await samePage(page));
            await tab.close().catch(() => undefined);
        });
    });

    it(
        'opens the login window from the offered link when the click allows it, and that window closes itself',
        { timeout: TEST_TIMEOUT_MS },
        async (t) => {
            // The first window.open (after the Apex call, with no click behind it) is blocked; the link's click is not.
            const blockFirstPopup = (): void => {
                const open = window.open.bind(window);
                let blocked = false;
                window.open = (...args: Parameters<typeof window.open>) => {
                    if (!blocked) {
                        blocked = true;
                        return null;
                    }
                    return open(...args);
                };
            };
            await withPreview(browser(), t.name, { initScript: blockFirstPopup }, async ({ page }) => {
                await chooseEnvironment(page, /^Production/, { popup: false });
                await waitForText(page.locator('[data-id="popup-blocked"]'), /blocked the login window/);
                const opened = page.waitForEvent('popup');
                await page.locator('[data-id="popup-link"]').click();
                const popup = await opened;
                await popup.locator('input[name="username"]').waitFor();
                assert.equal(await page.locator('[data-id="popup-link"]').count(), 0);
                await logIn(popup, PEOPLE.acmeApi);
                const closed = popup.waitForEvent('close');
                await decide(popup, 'Allow');
                await closed;
                await waitForBadge(page, 'Linked');
            });
        }
    );

    it('links by keyboard alone: Tab to Link, arrow keys in the menu, typing in the popup', { timeout: TEST_TIMEOUT_MS }, async (t) => {
        await withPreview(browser(), t.name, {}, async ({ page, problems }) => {
            await waitForBadge(page, 'Unlinked');
            await tabTo(page, /^button Link/);
            await page.keyboard.press('Enter');
            // The menu opens on its first item; down, then back up, lands on Production (this org).
            await waitForFocus(page, /Production \(this org\)/);
            await page.keyboard.press('ArrowDown');
            await waitForFocus(page, /Sandbox/);
            await page.keyboard.press('ArrowUp');
            await waitForFocus(page, /Production \(this org\)/);
            const popupOpened = page.waitForEvent('popup');
            await page.keyboard.press('Enter');
            const popup = await popupOpened;
            await popup.waitForLoadState();
            // The popup's first page hears from the card and goes on to the login page by itself.
            await popup.locator('input[name="username"]').waitFor();

            // The login page puts the focus in Username.
            await waitForFocus(popup, /^input username/);
            await popup.keyboard.type(PEOPLE.acmeApi.username);
            await popup.keyboard.press('Tab');
            await waitForFocus(popup, /^input password/);
            await popup.keyboard.type(PEOPLE.acmeApi.password);
            await popup.keyboard.press('Enter');
            await popup.getByRole('heading', { name: 'Allow Access?' }).waitFor();
            await tabTo(popup, /^button Allow/);
            const closed = popup.waitForEvent('close');
            await popup.keyboard.press('Enter');
            await closed;

            await waitForBadge(page, 'Linked');
            assert.equal((await detail(page, 'username').innerText()).trim(), PEOPLE.acmeApi.username);
            assert.ok(await samePage(page));
            assert.deepEqual(problems, []);
        });
    });
});
