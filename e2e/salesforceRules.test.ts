// Salesforce's rules an admin meets when linking from the card: an org that has not installed the contact center's
// OAuth app, and the admin's own Salesforce session, which the popup's login as the API user replaces.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { DEMO_CLIENT } from '../demo/demo.ts';
import {
    PEOPLE,
    TEST_TIMEOUT_MS,
    cardError,
    chooseEnvironment,
    decide,
    detail,
    docsImage,
    logIn,
    missingBrowser,
    useBrowser,
    waitForBadge,
    waitForText,
    withPreview
} from './helpers.ts';

const skip = missingBrowser();
const SETUP_PATH = '/lightning/setup/SetupOneHome/home';

/** The emulator's login page without waiting for "Allow Access?" (a blocked app never shows it). */
async function submitLogin(popup: Page, person: { username: string; password: string }): Promise<void> {
    await popup.locator('input[name="username"]').fill(person.username);
    await popup.locator('input[name="password"]').fill(person.password);
    await popup.getByRole('button', { name: 'Log In' }).click();
}

/** A window with no opener shows the account first and asks for a click; a card-opened popup goes on by itself. */
async function reachLogin(window: Page): Promise<void> {
    const login = window.locator('input[name="username"]');
    const proceed = window.getByRole('button', { name: 'Continue to Salesforce' });
    await login.or(proceed).first().waitFor();
    if (await proceed.isVisible()) await proceed.click();
    await login.waitFor();
}

/** The admin logs in to the org's own UI (its My Domain) in this browser and sees Setup. */
async function openSetup(context: BrowserContext, domainUrl: string): Promise<Page> {
    const setup = await context.newPage();
    await setup.goto(`${domainUrl}${SETUP_PATH}`);
    await setup.locator('input[name="username"]').fill(PEOPLE.acmeAdmin.username);
    await setup.locator('input[name="password"]').fill(PEOPLE.acmeAdmin.password);
    await setup.getByRole('button', { name: 'Log In' }).click();
    await waitForText(setup.locator('#setup-user'), /Ada Admin/);
    return setup;
}

describe("Salesforce's rules at the card", { skip }, () => {
    const browser = useBrowser();

    it(
        'warns before the popup that the OAuth package is not installed (its marker is missing), shows Salesforce’s block with the fix, and links once installed',
        { timeout: TEST_TIMEOUT_MS },
        async (t) => {
            await withPreview(browser(), t.name, {}, async ({ page, problems }, stack) => {
                const emulator = stack.demo.emulator.state;
                assert.equal(await page.locator('[data-id="app-not-installed"]').count(), 0, 'installed: no warning');
                const oauthStep = page.locator('[data-id="setup-checklist"] [data-id="oauthPackage"]');
                await oauthStep.waitFor();
                assert.equal(await oauthStep.getAttribute('data-state'), 'done', 'the org lists the OAuth package’s marker');
                const steps = page.locator('[data-id="setup-checklist"] li');
                assert.deepEqual(
                    await steps.evaluateAll((items) =>
                        items.map((item) => `${item.getAttribute('data-id')}: ${item.getAttribute('data-state')}`)
                    ),
                    [
                        'oauthPackage: done',
                        'endpoint: done',
                        'apiUser: done',
                        'permittedUsers: check',
                        'refreshToken: check',
                        'ipRelaxation: check'
                    ]
                );

                emulator.setAppInstalled('acme', DEMO_CLIENT.clientId, false);
                await page.reload();
                await waitForBadge(page, 'Unlinked');
                const warning = await waitForText(page.locator('[data-id="app-not-installed"]'), /Contact Center Link/);
                assert.match(warning, /The Contact Center Link OAuth package is not installed in this org/);
                assert.equal(await oauthStep.getAttribute('data-state'), 'todo', 'uninstalling the package took its marker');
                await docsImage(page.locator('c-contact-center-link'), 'app-not-installed-card');

                const popup = (await chooseEnvironment(page, /^Production \(this org\)$/))!;
                await reachLogin(popup);
                await submitLogin(popup, PEOPLE.acmeApi);
                await popup.getByRole('heading', { name: 'The Contact Center Link app is not installed in this org' }).waitFor();
                assert.match(await popup.locator('main').innerText(), /install the Contact Center Link OAuth package/);
                assert.match(await popup.locator('main').innerText(), /APP_NOT_INSTALLED/);

                const message = await waitForText(cardError(page), /not installed the Contact Center Link app/);
                assert.match(message, /External Client App Manager → Contact Center Link → Policies → Edit → Permitted Users/);
                await waitForBadge(page, 'Unlinked');
                await popup.close();

                emulator.setAppInstalled('acme', DEMO_CLIENT.clientId, true);
                await page.reload();
                await waitForBadge(page, 'Unlinked');
                assert.equal(await page.locator('[data-id="app-not-installed"]').count(), 0);
                assert.equal(await oauthStep.getAttribute('data-state'), 'done');
                const again = (await chooseEnvironment(page, /^Production \(this org\)$/))!;
                await reachLogin(again);
                await logIn(again, PEOPLE.acmeApi);
                const closed = again.waitForEvent('close');
                await decide(again, 'Allow');
                await closed;
                await waitForBadge(page, 'Linked');
                assert.deepEqual(problems, []);
            });
        }
    );

    it(
        "says the popup ends the admin's session, and then that it did; Setup asks the admin to log in again",
        { timeout: TEST_TIMEOUT_MS },
        async (t) => {
            await withPreview(browser(), t.name, {}, async ({ page, context, problems }, stack) => {
                const domainUrl = stack.demo.emulator.origins.acme;
                const setup = await openSetup(context, domainUrl);
                await page.bringToFront();

                const before = await waitForText(page.locator('[data-id="guidance-own-session"]'), /ends your own session/);
                assert.ok(before.includes(domainUrl), before);

                const popup = (await chooseEnvironment(page, /^Production \(this org\)$/))!;
                await page.locator('[data-id="private-window"]').waitFor();
                await docsImage(page.locator('c-contact-center-link'), 'own-session-card');
                await reachLogin(popup);
                await logIn(popup, PEOPLE.acmeApi);
                const closed = popup.waitForEvent('close');
                await decide(popup, 'Allow');
                await closed;

                await waitForBadge(page, 'Linked');
                await waitForText(page.locator('[data-id="notice"]'), /ended your own Salesforce session/);
                assert.equal(await page.locator('[data-id="private-window"]').count(), 0);

                // The same browser's session on the My Domain is now the API user's: Setup asks the admin to log in again.
                await setup.reload();
                await waitForText(setup.locator('#session-ended'), /Your session has ended/);
                assert.deepEqual(problems, []);
            });
        }
    );

    it(
        "keeps the admin's session when the login runs in a private window from the copied link; the card turns Linked by polling",
        { timeout: TEST_TIMEOUT_MS },
        async (t) => {
            await withPreview(browser(), t.name, {}, async ({ page, context, problems }, stack) => {
                const domainUrl = stack.demo.emulator.origins.acme;
                const setup = await openSetup(context, domainUrl);
                await page.bringToFront();
                await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(stack.url).origin });

                const popup = (await chooseEnvironment(page, /^Production \(this org\)$/))!;
                const field = page.locator('[data-id="private-window-link"] input');
                const link = await field.inputValue();
                assert.match(link, /\/oauth\/start\//);
                await page.locator('[data-id="copy-link"] button').click();
                await waitForText(page.locator('[data-id="link-copied"]'), /Link copied/);
                assert.equal(await page.evaluate(() => navigator.clipboard.readText()), link);
                await popup.close();

                // A private window: another browser context, with no cookies of this one and no opener.
                const privateWindow = await browser().newContext({ locale: 'en-US' });
                try {
                    const tab = await privateWindow.newPage();
                    await tab.goto(link);
                    await reachLogin(tab);
                    await logIn(tab, PEOPLE.acmeApi);
                    await decide(tab, 'Allow');
                    await tab.getByRole('heading', { name: 'Linked to Salesforce' }).waitFor();
                } finally {
                    await privateWindow.close();
                }

                await waitForBadge(page, 'Linked');
                assert.equal((await detail(page, 'username').innerText()).trim(), PEOPLE.acmeApi.username);
                await setup.reload();
                await waitForText(setup.locator('#setup-user'), /Ada Admin/);
                assert.deepEqual(problems, []);
            });
        }
    );
});
