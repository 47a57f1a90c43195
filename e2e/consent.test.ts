// Knowing consent in a real browser: another tenant's link, sent to the org's admin, stops at a page that names that
// tenant's account and never reaches Salesforce by itself; the org's own card goes straight to the login page.

import assert from 'node:assert/strict';
import type { Snapshot } from '../server/store/types.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import {
    PEOPLE,
    TEST_TIMEOUT_MS,
    chooseEnvironment,
    decide,
    logIn,
    missingBrowser,
    screenshot,
    startStack,
    useBrowser,
    waitForBadge,
    withPreview,
    type Stack
} from './helpers.ts';

const skip = missingBrowser();
const ATTACKER_ORIGIN = 'http://attacker.test';

/** Another tenant of the platform makes a link session for the victim's My Domain, naming the victim's org. */
async function attackerSession(stack: Stack): Promise<{ id: string; authorizeUrl: string; accountId: string }> {
    const { account, apiKey } = await stack.demo.backend.services.accounts.create('Mallory Contact Center');
    const response = await fetch(`${stack.url}/api/v1/link-sessions`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({
            environment: 'production',
            loginUrl: stack.demo.emulator.origins.acme,
            expectedOrgId: stack.demo.emulator.state.org('acme').orgId
        })
    });
    assert.equal(response.status, 201);
    const session = (await response.json()) as { id: string; authorizeUrl: string };
    return { ...session, accountId: account.id };
}

/** The popup stays on our page naming the account, however long one waits, and Salesforce never saw the session. */
async function assertStopped(popup: Page, stack: Stack, sessionId: string): Promise<void> {
    await popup.getByRole('heading', { name: 'Link Salesforce to “Mallory Contact Center”?' }).waitFor();
    await sleep(2500);
    assert.equal(new URL(popup.url()).origin, stack.url);
    assert.equal(await popup.getByRole('heading', { name: /Mallory Contact Center/ }).count(), 1);
    const attempt = ((db: Snapshot) => db.linkSessions.find((s) => s.id === sessionId)?.attempt)(
        await stack.demo.backend.services.store.dump()
    );
    assert.equal(attempt, undefined, 'no sign-in was started for the session');
}

describe('knowing consent', { skip }, () => {
    const browser = useBrowser();

    it('the card’s own popup needs no click before the login page', { timeout: TEST_TIMEOUT_MS }, async (t) => {
        await withPreview(browser(), t.name, {}, async ({ page, problems }, stack) => {
            await waitForBadge(page, 'Unlinked');
            const popup = (await chooseEnvironment(page, /^Production \(this org\)$/))!;
            // Nothing is clicked in the popup: the page asks its opener, the card answers, the popup goes on.
            await popup.locator('input[name="username"]').waitFor();
            assert.equal(new URL(popup.url()).origin, stack.demo.emulator.origins.acme);
            await logIn(popup, PEOPLE.acmeApi);
            const closed = popup.waitForEvent('close');
            await decide(popup, 'Allow');
            await closed;
            await waitForBadge(page, 'Linked');
            assert.deepEqual(problems, []);
        });
    });

    it(
        'another tenant’s link opened from an email stops at a page naming that tenant, and goes on only by a click',
        { timeout: TEST_TIMEOUT_MS },
        async () => {
            const stack = await startStack();
            const context = await browser().newContext();
            try {
                const session = await attackerSession(stack);
                const victim = await context.newPage();
                await victim.goto(session.authorizeUrl);
                await assertStopped(victim, stack, session.id);
                await victim.getByText(session.accountId).first().waitFor();
                await victim.getByText('If someone sent you this link, close this window.').waitFor();
                await screenshot(victim, 'consent page for another tenant');

                // The one way on is the person's own click (what a person does who recognises the account): it works.
                await victim.getByRole('button', { name: 'Continue to Salesforce' }).click();
                await victim.locator('input[name="username"]').waitFor();
                assert.equal(new URL(victim.url()).origin, stack.demo.emulator.origins.acme);
            } finally {
                await context.close();
                await stack.close();
            }
        }
    );

    it(
        'a page on another origin that opens the popup and answers for the card cannot make it go on',
        { timeout: TEST_TIMEOUT_MS },
        async () => {
            const stack = await startStack();
            const context = await browser().newContext();
            try {
                const session = await attackerSession(stack);
                // The attacker's page opens the popup as the card would and answers every check, as the card would.
                await context.route(`${ATTACKER_ORIGIN}/**`, (route) =>
                    route.fulfill({
                        contentType: 'text/html',
                        body: `<!doctype html><button id="open">Open</button><script>
                        document.getElementById('open').onclick = function () {
                            var popup = window.open(${JSON.stringify(session.authorizeUrl)}, 'contactCenterLink', 'popup');
                            var answer = function () { popup.postMessage({ type: 'ccl:opener', sessionId: ${JSON.stringify(session.id)} }, '*'); };
                            window.addEventListener('message', answer);
                            setInterval(answer, 100);
                        };
                    </script>`
                    })
                );
                const page = await context.newPage();
                await page.goto(`${ATTACKER_ORIGIN}/`);
                const opened = page.waitForEvent('popup');
                await page.locator('#open').click();
                const popup = await opened;
                await assertStopped(popup, stack, session.id);
            } finally {
                await context.close();
                await stack.close();
            }
        }
    );
});
