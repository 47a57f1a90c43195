// A sandbox refresh as the admin meets it: the refresh clears the External Credential's key (Salesforce never copies a
// credential's secrets into a sandbox) and keeps the Named Credential's URL; the card says so, an admin enters the
// sandbox account's own key, links the sandbox, and the contact center's calls work; someone else cannot store a key.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import {
    PEOPLE,
    cardError,
    chooseEnvironment,
    decide,
    detail,
    docsImage,
    logIn,
    missingBrowser,
    TEST_TIMEOUT_MS,
    toast,
    useBrowser,
    waitForBadge,
    waitForText,
    withPreview
} from './helpers.ts';

const skip = missingBrowser();
/** A Standard User of Acme UAT (production's, copied by the refresh), without the Contact Center Link Admin permission set. */
const NON_ADMIN = 'noapi@acme.example.uat';
const SALESFORCE_WORDS = /aren't copied from production environments when you create, refresh, or clone a sandbox org/;

const orgKey = (page: Page, id: string) => page.locator(`[data-id="org-key-section"] [data-id="${id}"]`);
const orgKeyReady = (page: Page) => page.locator('[data-id="org-key-section"] [data-id="org-key-backend"]').waitFor();

describe('A refreshed sandbox recovers from its own card', { skip }, () => {
    const browser = useBrowser();

    it(
        'the card says the refresh cleared the key, in Salesforce’s words, and which backend it calls; an admin enters the sandbox account’s key, links, and calls work',
        { timeout: TEST_TIMEOUT_MS },
        async (t) => {
            await withPreview(browser(), t.name, { org: 'acmeUat', ready: orgKeyReady }, async ({ page, problems }, stack) => {
                const { state } = stack.demo.emulator;
                // The operator's sandbox account, never production's: its own key.
                const { apiKey: sandboxKey } = await stack.demo.backend.services.accounts.create('Acme UAT sandbox', {
                    platformKey: false
                });

                const refreshed = state.refreshSandbox('acmeUat');
                assert.equal(
                    state.credentialParameter('acmeUat', 'ContactCenterLink', 'ApiKey', 'ApiKey'),
                    null,
                    'the refresh cleared the key'
                );
                await page.reload();
                await orgKey(page, 'org-key-missing').waitFor();
                assert.match(await orgKey(page, 'org-key-sandbox').innerText(), SALESFORCE_WORDS);
                assert.match(await orgKey(page, 'org-key-backend').innerText(), new RegExp(stack.url.replace(/[.:/]/g, '\\$&')));
                // The refused status read is the key's absence, said once, by the key section.
                assert.equal(await cardError(page).count(), 0);
                const day = new Intl.DateTimeFormat('en-US', { year: 'numeric', month: 'short', day: 'numeric', timeZone: 'UTC' }).format(
                    new Date(refreshed.createdDate)
                );
                assert.match(await orgKey(page, 'org-key-refreshed').innerText(), new RegExp(day));
                await docsImage(page.locator('c-contact-center-link'), 'sandbox-key-missing');

                await orgKey(page, 'org-key-input').locator('input').fill(sandboxKey);
                await orgKey(page, 'org-key-save').locator('button').click();
                await waitForText(toast(page), /Key saved/);
                await waitForBadge(page, 'Unlinked');
                await waitForText(page.locator('[data-id="account"]'), /Acme UAT sandbox/);
                assert.equal(
                    state.credentialParameter('acmeUat', 'ContactCenterLink', 'ApiKey', 'ApiKey'),
                    sandboxKey,
                    'stored in the sandbox’s External Credential'
                );
                assert.equal((await page.content()).includes(sandboxKey), false, 'the key is never shown again');
                assert.match(await orgKey(page, 'org-key-state').innerText(), /Set/);

                const popup = (await chooseEnvironment(page, /^Sandbox \(this org\)$/))!;
                await logIn(popup, PEOPLE.uatApi);
                await decide(popup, 'Allow');
                await waitForBadge(page, 'Linked');
                assert.equal((await detail(page, 'orgId').innerText()).trim(), `Acme UAT (${refreshed.orgId})`);
                await page.locator('[data-id="verify"] button').click();
                await waitForText(toast(page), /Link verified/);
                // As the admin finds it later (no toast over it): when the link's refresh token was last used, too.
                await page.reload();
                await waitForBadge(page, 'Linked');
                await detail(page, 'lastRefreshedAt').waitFor();
                await docsImage(page.locator('c-contact-center-link'), 'sandbox-linked');

                // The contact center's calls act in the refreshed sandbox with its own account.
                const lookup = await fetch(`${stack.url}/api/v1/calls/lookup`, {
                    method: 'POST',
                    headers: { Authorization: `Bearer ${sandboxKey}`, 'Content-Type': 'application/json' },
                    body: JSON.stringify({ phone: '(415) 555-1212' })
                });
                assert.equal(lookup.status, 200, await lookup.clone().text());
                assert.ok(((await lookup.json()) as { matches: unknown[] }).matches.length > 0);
                const task = await fetch(`${stack.url}/api/v1/calls/SANDBOX-CALL-1/task`, {
                    method: 'PUT',
                    headers: { Authorization: `Bearer ${sandboxKey}`, 'Content-Type': 'application/json' },
                    body: JSON.stringify({ direction: 'inbound', durationSeconds: 42 })
                });
                assert.equal(task.status, 201, await task.clone().text());
                assert.equal(state.tasks('acmeUat').filter((record) => record['CallObject'] === 'SANDBOX-CALL-1').length, 1);
                assert.equal(
                    state.tasks('acme').filter((record) => record['CallObject'] === 'SANDBOX-CALL-1').length,
                    0,
                    'never production'
                );
                assert.deepEqual(problems, []);
            });
        }
    );

    it(
        'someone without the admin permission sees the missing key and whom to ask, and cannot store a key',
        { timeout: TEST_TIMEOUT_MS },
        async (t) => {
            await withPreview(browser(), t.name, { org: 'acmeUat', ready: orgKeyReady }, async ({ page, problems }, stack) => {
                const { state } = stack.demo.emulator;
                state.refreshSandbox('acmeUat');
                await page.goto(`${stack.url}/?org=acmeUat&as=${encodeURIComponent(NON_ADMIN)}`);
                await orgKey(page, 'org-key-missing').waitFor();
                await waitForText(page.locator('[data-id="current-user"]'), new RegExp(NON_ADMIN.replace(/[.]/g, '\\.')));
                assert.match(await orgKey(page, 'org-key-sandbox').innerText(), SALESFORCE_WORDS);
                assert.equal(await orgKey(page, 'org-key-input').count(), 0, 'no field to enter a key');
                assert.equal(
                    (await orgKey(page, 'org-key-ask').innerText()).trim(),
                    'Ask a Contact Center Link admin to enter the key: Ada Admin.'
                );
                await docsImage(page.locator('c-contact-center-link'), 'sandbox-key-non-admin');

                // Even a card made to send a key (the event the field would raise) is refused by the Apex, and nothing is stored.
                await page
                    .locator('c-link-status-card')
                    .evaluate((card) =>
                        card.dispatchEvent(
                            new CustomEvent('saveorgkey', { detail: { key: 'ccl_NotAnAdminsKey_0123456789abcdefghijklmnopq' } })
                        )
                    );
                await waitForText(orgKey(page, 'org-key-error'), /Manage Contact Center Link permission/);
                assert.equal(state.credentialParameter('acmeUat', 'ContactCenterLink', 'ApiKey', 'ApiKey'), null, 'nothing stored');
                assert.deepEqual(problems, []);
            });
        }
    );
});
