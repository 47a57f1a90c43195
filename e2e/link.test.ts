// Linking from the preview page as an admin would from the card: the package's own card, the emulated orgs' login and
// approval pages in a real popup, and what the card says afterwards.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
    PEOPLE,
    TEST_TIMEOUT_MS,
    badge,
    cardError,
    chooseEnvironment,
    decide,
    detail,
    docsImage,
    linkMenuButton,
    logIn,
    setOrgKey,
    missingBrowser,
    samePage,
    screenshot,
    toast,
    useBrowser,
    waitForBadge,
    waitForText,
    withPreview
} from './helpers.ts';

const skip = missingBrowser();

describe('linking from the card', { skip }, () => {
    const browser = useBrowser();

    it(
        'links Production: the popup opens on the Acme login page, Allow closes it, the card shows Linked without a reload',
        { timeout: TEST_TIMEOUT_MS },
        async (t) => {
            await withPreview(browser(), t.name, {}, async ({ page, problems }, stack) => {
                const acme = stack.demo.emulator.state.org('acme');
                await waitForBadge(page, 'Unlinked');

                await linkMenuButton(page).click();
                await page.getByRole('menuitem', { name: 'Production (this org)' }).waitFor();
                await docsImage(page, 'link-menu');
                const popupOpened = page.waitForEvent('popup');
                await page.getByRole('menuitem', { name: 'Production (this org)' }).click();
                const popup = await popupOpened;
                await popup.waitForLoadState();

                // The org's own environment: the login goes through Acme's My Domain, after the popup's first page heard from the card.
                await popup.waitForURL((url) => url.origin === stack.demo.emulator.origins.acme);
                await popup.getByText('Acme My Domain (emulated)').waitFor();
                await popup.getByText('This is not Salesforce').waitFor();
                await screenshot(popup, 'emulator login page');
                await waitForText(page.locator('[data-id="waiting"]'), /Waiting for the login window/);

                await logIn(popup, PEOPLE.acmeApi);
                await screenshot(popup, 'emulator allow access page');
                const closed = popup.waitForEvent('close');
                await decide(popup, 'Allow');
                await closed;

                await waitForBadge(page, 'Linked');
                assert.equal((await detail(page, 'username').innerText()).trim(), PEOPLE.acmeApi.username);
                assert.equal((await detail(page, 'orgId').innerText()).trim(), `Acme (${acme.orgId})`, 'the org by name, with its id');
                assert.equal((await detail(page, 'environment').innerText()).trim(), 'Production');
                assert.equal((await detail(page, 'linkedBy').innerText()).trim(), 'admin@acme.example');
                await waitForText(toast(page), /Linked/);
                assert.ok(await samePage(page), 'the page was not reloaded');
                assert.match(await linkMenuButton(page).innerText(), /^Relink/);
                await page.locator('[data-id="checks"]').waitFor();
                await toast(page).locator('lightning-button-icon button').click();
                await toast(page).waitFor({ state: 'detached' });
                await docsImage(page.locator('c-contact-center-link'), 'linked-card');
                assert.deepEqual(problems, []);
            });
        }
    );

    it('links Sandbox from the sandbox org (?org=acmeUat) through its My Domain', { timeout: TEST_TIMEOUT_MS }, async (t) => {
        await withPreview(browser(), t.name, { org: 'acmeUat' }, async ({ page, problems }, stack) => {
            const uat = stack.demo.emulator.state.org('acmeUat');
            await page.locator('[data-id="sandbox-banner"]').waitFor();
            await waitForBadge(page, 'Unlinked');

            const popup = (await chooseEnvironment(page, /^Sandbox \(this org\)$/))!;
            await popup.waitForURL((url) => url.origin === stack.demo.emulator.origins.acmeUat);
            await popup.getByText('Acme UAT My Domain (emulated)').waitFor();
            await logIn(popup, PEOPLE.uatApi);
            const closed = popup.waitForEvent('close');
            await decide(popup, 'Allow');
            await closed;

            await waitForBadge(page, 'Linked');
            assert.equal((await detail(page, 'username').innerText()).trim(), PEOPLE.uatApi.username);
            assert.equal((await detail(page, 'orgId').innerText()).trim(), `Acme UAT (${uat.orgId})`, 'the org by name, with its id');
            assert.equal((await detail(page, 'environment').innerText()).trim(), 'Sandbox');
            assert.ok(await samePage(page));
            assert.deepEqual(problems, []);
        });
    });

    it('says access was denied when the API user clicks Deny, and stays Unlinked', { timeout: TEST_TIMEOUT_MS }, async (t) => {
        await withPreview(browser(), t.name, {}, async ({ page }) => {
            const popup = (await chooseEnvironment(page, /^Production/))!;
            await logIn(popup, PEOPLE.acmeApi);
            await decide(popup, 'Deny');
            await popup.getByRole('heading', { name: 'Access was denied' }).waitFor();

            const message = await waitForText(cardError(page), /Access was denied/);
            assert.match(message, /sign in as the API user and click Allow/);
            await waitForBadge(page, 'Unlinked');
            await waitForText(toast(page), /Link failed/);
            await popup.close();
        });
    });

    it('explains that a user without API access cannot be the API user', { timeout: TEST_TIMEOUT_MS }, async (t) => {
        await withPreview(browser(), t.name, {}, async ({ page }) => {
            const popup = (await chooseEnvironment(page, /^Production/))!;
            await logIn(popup, PEOPLE.acmeNoApi);
            await decide(popup, 'Allow');

            const message = await waitForText(cardError(page), /API/);
            assert.match(message, /may not use the Salesforce API/);
            assert.match(message, /API Enabled/);
            await waitForBadge(page, 'Unlinked');
            await popup.close();
        });
    });

    it(
        'refuses a login into another org than the one the page stands in, and names the org it expected',
        { timeout: TEST_TIMEOUT_MS },
        async (t) => {
            // With the seeds, a My Domain logs in only its own org's users, so the Apex's expectedOrgId can only be missed
            // when the org changed under an open page: the emulator's refresh-sandbox control gives Acme UAT a new org id
            // after the page (standing in the old sandbox) was loaded.
            await withPreview(browser(), t.name, { org: 'acmeUat' }, async ({ page }, stack) => {
                const before = (await page.locator('[data-id="org-id"]').innerText()).trim();
                const refreshed = stack.demo.emulator.state.refreshSandbox('acmeUat');
                assert.notEqual(refreshed.orgId, before);
                // The refresh cleared the sandbox's key; an admin entered it again in Setup, and the page is still the old one.
                setOrgKey(stack, 'acmeUat');

                const popup = (await chooseEnvironment(page, /^Sandbox \(this org\)$/))!;
                await logIn(popup, PEOPLE.uatApi);
                await decide(popup, 'Allow');
                await popup.getByRole('heading', { name: 'Wrong Salesforce org' }).waitFor();

                const message = await waitForText(cardError(page), /link was started from org/);
                assert.ok(message.includes(`started from org ${before}`), message);
                assert.ok(message.includes(`signed in to org ${refreshed.orgId}`), message);
                await waitForBadge(page, 'Unlinked');
                await popup.close();
            });
        }
    );

    it(
        'shows the status, help and guidance before linking, and asks before linking another org',
        { timeout: TEST_TIMEOUT_MS },
        async (t) => {
            await withPreview(browser(), t.name, {}, async ({ page, problems }) => {
                await waitForBadge(page, 'Unlinked');
                await page.getByRole('heading', { name: 'Contact Center Link', level: 1 }).waitFor();
                await waitForText(page.locator('[data-id="preview-notice"]'), /emulated/);
                await waitForText(page.locator('[data-id="guidance"]'), /five contact-center accounts/);
                assert.equal(await badge(page).count(), 1);

                // The other environment means another org: the card asks first, and Escape cancels without a popup.
                let popups = 0;
                page.on('popup', () => popups++);
                await linkMenuButton(page).click();
                await page.getByRole('menuitem', { name: 'Sandbox' }).click();
                const dialog = page.getByRole('alertdialog', { name: 'Link a different org?' });
                await waitForText(dialog, /This org is a Production org\. Choosing Sandbox links a different org/);
                await page.keyboard.press('Escape');
                await dialog.waitFor({ state: 'detached' });
                await waitForBadge(page, 'Unlinked');
                assert.equal(popups, 0);
                assert.equal(await page.locator('[data-id="waiting"]').count(), 0);
                assert.deepEqual(problems, []);
            });
        }
    );
});
