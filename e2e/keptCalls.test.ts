// What the admin sees of the calls whose Task waits to be logged (rule 13): kept while Salesforce refused, then, after
// a relink to another org, the card asks whether to log them there; the admin's choice is carried out by the backend.
// And the API allowance guard: the card says when screen-pop lookups pause.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
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
    withPreview,
    type Stack
} from './helpers.ts';

const skip = missingBrowser();
/** The backend saves a link's API usage at most this often. */
const USAGE_SAVE_INTERVAL_MS = 5000;
const TASK = { direction: 'inbound', durationSeconds: 61 };

/** The end of a call as the contact center sends it (with the platform's key). */
async function endCall(stack: Stack, platformKey: string, callId: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${stack.url}/api/v1/calls/${callId}/task`, {
        method: 'PUT',
        headers: { Authorization: `Bearer ${platformKey}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(TASK)
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const kept = (page: Page) => page.locator('[data-id="kept-calls"]');
const part = (page: Page, id: string) => page.locator(`[data-id="${id}"]`);

async function until(what: string, check: () => boolean, ms = 20_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!check()) {
        if (Date.now() > deadline) throw new Error(`${what}: not within ${ms / 1000} s`);
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
}

describe('calls waiting to be logged, on the card', { skip }, () => {
    const browser = useBrowser();

    it(
        'after a relink to another org the card shows the calls kept for the old one, and logs them here when the admin says so',
        { timeout: TEST_TIMEOUT_MS },
        async (t) => {
            await withPreview(browser(), t.name, { org: 'acmeUat' }, async ({ page, problems }, stack) => {
                const { state } = stack.demo.emulator;
                const accountKey = stack.demo.account.apiKey;
                await linkThroughApi(stack, accountKey, PEOPLE.acmeApi);
                const platformKey = await stack.demo.backend.services.accounts.rotateKey(stack.demo.account.id, 'platform');
                // Acme over its daily API limit: the calls' Tasks are kept, not lost.
                const { max } = state.org('acme').apiUsage;
                state.setApiLimit('acme', { max, used: max });
                for (const callId of ['kept-e2e-1', 'kept-e2e-2']) {
                    const answer = await endCall(stack, platformKey, callId);
                    assert.equal(answer.status, 202, JSON.stringify(answer.body));
                    assert.equal(answer.body['reason'], 'api_limit');
                }
                // The admin links this org, the sandbox, instead: the calls kept for Acme are never sent here by themselves.
                await linkThroughApi(stack, accountKey, PEOPLE.uatApi, 'sandbox');
                state.setApiLimit('acme', { max, used: 0 });
                await page.reload();
                await waitForBadge(page, 'Linked');
                await waitForText(part(page, 'kept-summary'), /2 calls wait to be logged in Salesforce/);
                await waitForText(part(page, 'kept-why'), /the org used up its daily API requests/);
                await waitForText(
                    part(page, 'kept-awaiting'),
                    new RegExp(`2 of them were kept for another org \\(${state.org('acme').id}\\)`)
                );
                await waitForText(part(page, 'kept-bound'), /Up to 10000 calls wait, for at most 14 days/);
                assert.equal(
                    state.tasks('acmeUat').filter((task) => String(task['CallObject']).startsWith('kept-e2e-')).length,
                    0,
                    'nothing sent to the sandbox without the admin'
                );
                await docsImage(page.locator('c-contact-center-link'), 'kept-calls-card');

                await page.getByRole('button', { name: 'Log them in this org' }).click();
                await waitForText(toast(page), /2 calls will be logged in this org/);
                await until(
                    'the kept calls logged in the sandbox',
                    () => state.tasks('acmeUat').filter((task) => String(task['CallObject']).startsWith('kept-e2e-')).length === 2
                );
                assert.equal(state.tasks('acme').filter((task) => String(task['CallObject']).startsWith('kept-e2e-')).length, 0);
                await page.reload();
                await waitForBadge(page, 'Linked');
                await waitForText(page.locator('c-link-event-list').first(), /Kept calls logged/);
                assert.equal(await kept(page).count(), 0, 'nothing waits any more');
                assert.deepEqual(problems, []);
            });
        }
    );

    it('says when the org’s API allowance is low and screen-pop lookups pause', { timeout: TEST_TIMEOUT_MS }, async (t) => {
        await withPreview(browser(), t.name, {}, async ({ page, problems }, stack) => {
            const { state } = stack.demo.emulator;
            await linkThroughApi(stack, stack.demo.account.apiKey, PEOPLE.acmeApi);
            const platformKey = await stack.demo.backend.services.accounts.rotateKey(stack.demo.account.id, 'platform');
            state.setApiLimit('acme', { max: 1000, used: 995 });
            await new Promise((resolve) => setTimeout(resolve, USAGE_SAVE_INTERVAL_MS + 200));
            assert.equal((await endCall(stack, platformKey, 'guard-e2e-1')).status, 201);
            await page.reload();
            await waitForBadge(page, 'Linked');
            const message = await waitForText(part(page, 'api-guard-message'), /daily API requests left/);
            assert.match(message, /The org has 4 of its 1000 daily API requests left, under the 100 kept for call Tasks/);
            assert.deepEqual(problems, []);
        });
    });
});
