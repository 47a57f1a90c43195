// The card's caller matching: the admin of an org that keeps direct lines in a custom phone field adds it on the card,
// the contact center's next lookup of such a number finds the record and says it matched on that field, and a field
// the org does not have is refused on the card with the fix.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import {
    PEOPLE,
    TEST_TIMEOUT_MS,
    docsImage,
    linkThroughApi,
    missingBrowser,
    toast,
    useBrowser,
    waitForBadge,
    waitForText,
    withPreview
} from './helpers.ts';

const skip = missingBrowser();

const part = (page: Page, id: string): Locator => page.locator(`[data-id="${id}"]`);
const ofObject = (page: Page, id: string, object: string): Locator => page.locator(`[data-id="${id}"][data-object="${object}"]`);

/** The emulator's control API (JSON under /__emulator/), as an admin's change in Setup would be made. */
async function control(origin: string, path: string, body: unknown): Promise<unknown> {
    const answer = await fetch(`${origin}/__emulator/${path}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body)
    });
    const text = await answer.text();
    assert.equal(answer.status, 201, `${path}: ${text}`);
    return JSON.parse(text) as unknown;
}

describe('caller matching, on the card', { skip }, () => {
    const browser = useBrowser();

    it(
        'the admin adds a custom phone field and orders the matches, the next lookup matches on that field, and a field the org does not have is refused inline',
        { timeout: TEST_TIMEOUT_MS },
        async (t) => {
            await withPreview(browser(), t.name, {}, async ({ page, problems }, stack) => {
                const origin = stack.demo.emulator.origins.acme;
                await control(origin, 'orgs/acme/fields', {
                    object: 'Contact',
                    name: 'Direct_Line__c',
                    label: 'Direct line',
                    type: 'phone'
                });
                const { id: contactId } = (await control(origin, 'orgs/acme/records/Contact', {
                    FirstName: 'Dana',
                    LastName: 'Direct',
                    Direct_Line__c: '(415) 555-0142'
                })) as { id: string };
                await linkThroughApi(stack, stack.demo.account.apiKey, PEOPLE.acmeApi);
                const platformKey = await stack.demo.backend.services.accounts.rotateKey(stack.demo.account.id, 'platform');
                const lookup = async (): Promise<Array<{ id: string; matchedOn: Array<{ field: string; value: string }> }>> => {
                    const answer = await fetch(`${stack.url}/api/v1/calls/lookup`, {
                        method: 'POST',
                        headers: { Authorization: `Bearer ${platformKey}`, 'Content-Type': 'application/json' },
                        body: JSON.stringify({ phone: '+1 415 555 0142' })
                    });
                    const text = await answer.text();
                    assert.equal(answer.status, 200, text);
                    return (JSON.parse(text) as { matches: Array<{ id: string; matchedOn: Array<{ field: string; value: string }> }> })
                        .matches;
                };
                assert.deepEqual(await lookup(), [], 'before: the custom field is not searched');

                await page.reload();
                await waitForBadge(page, 'Linked');
                await waitForText(part(page, 'caller-matching-default'), /default matching is in use/);
                const contactSearched = ofObject(page, 'caller-matching-searched-fields', 'Contact');
                assert.doesNotMatch(await waitForText(contactSearched, /MobilePhone/), /Direct_Line__c/);
                await waitForText(part(page, 'caller-matching-person-accounts'), /Person Accounts: off/);

                await ofObject(page, 'caller-matching-new-field', 'Contact').locator('input').fill('Direct_Line__c');
                await ofObject(page, 'caller-matching-add-field', 'Contact').click();
                await page.getByRole('button', { name: 'Move up: The agent’s own records first' }).click();
                await part(page, 'caller-matching-save').click();
                await waitForText(toast(page), /Caller matching saved/);
                await waitForText(contactSearched, /Direct_Line__c/);
                await toast(page).getByRole('button', { name: 'Close' }).click();
                await toast(page).waitFor({ state: 'detached' });

                const matches = await lookup();
                assert.deepEqual(
                    matches.map((m) => [m.id, m.matchedOn]),
                    [[contactId, [{ field: 'Direct_Line__c', value: '(415) 555-0142' }]]]
                );

                await ofObject(page, 'caller-matching-new-field', 'Contact').locator('input').fill('No_Such_Line__c');
                await ofObject(page, 'caller-matching-add-field', 'Contact').click();
                await part(page, 'caller-matching-save').click();
                const refusal = await waitForText(part(page, 'caller-matching-error-message'), /No_Such_Line__c/);
                assert.match(refusal, /Contact\.No_Such_Line__c cannot be searched: the org has no such field/);
                assert.match(refusal, /Object Manager → Contact → Fields & Relationships/);
                assert.deepEqual(
                    await ofObject(page, 'caller-matching-fields', 'Contact')
                        .locator('[data-id="caller-matching-field-name"]')
                        .allInnerTexts(),
                    ['Direct_Line__c', 'No_Such_Line__c'],
                    'the draft stays to be fixed'
                );
                assert.deepEqual(
                    await ofObject(page, 'caller-matching-fields', 'Contact')
                        .locator('[data-id="caller-matching-field-name"][data-refused="true"]')
                        .allInnerTexts(),
                    ['No_Such_Line__c'],
                    'the refused field is the one marked'
                );
                assert.equal(await toast(page).count(), 0, 'nothing said saved');
                await docsImage(part(page, 'caller-matching'), 'caller-matching-refused');
                const saved = (await (
                    await fetch(`${stack.url}/api/v1/calls/settings`, { headers: { Authorization: `Bearer ${platformKey}` } })
                ).json()) as { matching: { customPhoneFields: Record<string, string[]>; order: string[] } };
                assert.deepEqual(saved.matching.customPhoneFields['Contact'], ['Direct_Line__c'], 'nothing saved');
                assert.deepEqual(saved.matching.order, ['ownedByAgent', 'objectType', 'lastModified'], 'the order saved before');
                assert.deepEqual(problems, []);
            });
        }
    );
});
