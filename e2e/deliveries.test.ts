// Webhook deliveries on the card: the latest events and how their delivery went, for an account whose one key may read
// them; left out for an account with a separate platform key, which the org's key is not.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import {
    PEOPLE,
    TEST_TIMEOUT_MS,
    cardError,
    linkThroughApi,
    missingBrowser,
    useBrowser,
    waitForBadge,
    waitForText,
    withPreview,
    type Stack
} from './helpers.ts';

const skip = missingBrowser();

const section = (page: Page) => page.locator('[data-id="webhook-deliveries"]');
const deliveries = (page: Page) => page.locator('[data-id="webhook-deliveries"] [data-id="entry"]');
const refresh = (page: Page) => page.locator('[data-id="webhook-deliveries"] [data-id="refresh"] button');

interface Received {
    id: string;
    type: string;
    data: { from: string; to: string };
}

interface Receiver {
    url: string;
    received: Received[];
    /** What the receiver answers from now on. */
    answer(status: number): void;
    close(): Promise<void>;
}

/** A webhook receiver on loopback (the demo backend runs on plain http, so it may post there). */
async function startReceiver(status: number): Promise<Receiver> {
    let answer = status;
    const received: Received[] = [];
    const server = createServer((req, res) => {
        let body = '';
        req.setEncoding('utf8');
        req.on('data', (chunk: string) => (body += chunk));
        req.on('end', () => {
            received.push(JSON.parse(body) as Received);
            res.writeHead(answer).end();
        });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return {
        url: `http://127.0.0.1:${port}/hook`,
        received,
        answer: (next) => (answer = next),
        close: () => new Promise((resolve) => server.close(() => resolve()))
    };
}

async function api(stack: Stack, apiKey: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    const response = await fetch(`${stack.url}/api/v1${path}`, {
        method,
        headers: { Authorization: `Bearer ${apiKey}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body)
    });
    return { status: response.status, json: await response.json() };
}

async function setWebhook(stack: Stack, apiKey: string, url: string): Promise<void> {
    const { status, json } = await api(stack, apiKey, 'PUT', '/webhook', { url });
    assert.equal(status, 200, JSON.stringify(json));
}

/** Waits until the receiver holds `count` posts. */
async function receivedAtLeast(receiver: Receiver, count: number): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (receiver.received.length < count) {
        if (Date.now() > deadline) throw new Error(`the webhook received ${receiver.received.length} posts, not ${count}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
    }
}

/**
 * Plays an org whose External Credential holds the key of an account with one key for both scopes (an account made
 * with `platformKey: false`, as accounts made before scopes are): the emulated org's credential now holds that key.
 */
async function useOneKeyAccount(page: Page, stack: Stack): Promise<string> {
    const { apiKey } = await stack.demo.backend.services.accounts.create('One key contact center', { platformKey: false });
    stack.demo.emulator.state.updateCredential('acme', 'ContactCenterLink', 'ApiKey', { ApiKey: { value: apiKey, encrypted: true } });
    await page.reload();
    await waitForText(page.locator('[data-id="account"]'), /One key contact center/);
    return apiKey;
}

/** Clicks Refresh until the newest delivery's text matches: the backend delivers after the change, not with it. */
async function refreshUntil(page: Page, pattern: RegExp, withinMs = 15_000): Promise<string> {
    const deadline = Date.now() + withinMs;
    for (;;) {
        const text = (await deliveries(page).first().innerText()).trim();
        if (pattern.test(text)) return text;
        if (Date.now() > deadline) throw new Error(`the newest delivery never matched ${pattern}; it says: ${text}`);
        await page.waitForTimeout(250);
        await refresh(page).click();
    }
}

describe('Webhook deliveries on the card', { skip }, () => {
    const browser = useBrowser();

    it(
        'shows each status change the webhook was sent, with its state, change, attempts and HTTP status',
        { timeout: TEST_TIMEOUT_MS },
        async (t) => {
            const receiver = await startReceiver(200);
            t.after(() => receiver.close());
            await withPreview(browser(), t.name, {}, async ({ page, problems }, stack) => {
                const apiKey = await useOneKeyAccount(page, stack);
                await waitForText(page.locator('[data-id="webhook-deliveries"] [data-id="empty"]'), /No webhook events yet/);
                assert.equal(await deliveries(page).count(), 0);

                await setWebhook(stack, apiKey, receiver.url);
                await linkThroughApi(stack, apiKey, PEOPLE.acmeApi);
                await receivedAtLeast(receiver, 1);
                await page.reload();
                await waitForBadge(page, 'Linked');
                const linked = await waitForText(deliveries(page).first(), /Delivered/);
                assert.match(linked, /Unlinked → Linked/);
                assert.match(linked, /Attempts: 1/);
                assert.match(linked, /HTTP 200/);
                assert.doesNotMatch(linked, /Next attempt/);
                assert.equal(await page.locator('[data-id="webhook-deliveries"] [data-id="empty"]').count(), 0);

                // A status change made from the card: Verify finds the API user's tokens revoked.
                stack.demo.emulator.state.revokeUserTokens(PEOPLE.acmeApi.username);
                await page.locator('[data-id="verify"] button').click();
                await waitForBadge(page, 'Needs relink');
                await waitForText(deliveries(page).first(), /Linked → Needs relink/);
                const relink = await refreshUntil(page, /Delivered/);
                assert.match(relink, /Linked → Needs relink/);
                assert.match(relink, /HTTP 200/);
                assert.equal(await deliveries(page).count(), 2, 'newest first, both changes');
                assert.match(await deliveries(page).nth(1).innerText(), /Unlinked → Linked/);

                await receivedAtLeast(receiver, 2);
                assert.deepEqual(
                    receiver.received.map(({ type, data }) => [type, data.from, data.to]),
                    [
                        ['link.status_changed', 'unlinked', 'linked'],
                        ['link.status_changed', 'linked', 'needs_relink']
                    ]
                );
                assert.equal(await cardError(page).count(), 0);
                assert.deepEqual(problems, []);
            });
        }
    );

    it(
        'shows a delivery the webhook refused as pending, with the next attempt, then as failed once given up',
        { timeout: TEST_TIMEOUT_MS },
        async (t) => {
            const receiver = await startReceiver(500);
            t.after(() => receiver.close());
            await withPreview(browser(), t.name, {}, async ({ page, problems }, stack) => {
                const apiKey = await useOneKeyAccount(page, stack);
                await setWebhook(stack, apiKey, receiver.url);
                await linkThroughApi(stack, apiKey, PEOPLE.acmeApi);
                await receivedAtLeast(receiver, 1);
                await page.reload();
                await waitForBadge(page, 'Linked');

                const pending = await waitForText(deliveries(page).first(), /Pending/);
                assert.match(pending, /Unlinked → Linked/);
                assert.match(pending, /Next attempt/);
                assert.match(pending, /The webhook answered HTTP 500\./);
                assert.match(pending, /Attempts: [1-9]/);
                assert.match(
                    (await page.locator('[data-id="webhook-deliveries"] [data-id="detail"]').first().getAttribute('class')) ?? '',
                    /slds-text-color_error/
                );

                // Removed before its next attempt (at most 16 s later): the event is given up then.
                const removed = await api(stack, apiKey, 'DELETE', '/webhook');
                assert.deepEqual(removed, { status: 200, json: { removed: true } });
                const failed = await refreshUntil(page, /Failed/, 30_000);
                assert.match(failed, /The webhook was removed before this event was delivered\./);
                assert.doesNotMatch(failed, /Next attempt/);
                assert.deepEqual(problems, []);
            });
        }
    );

    it('is left out, without an error, when the account has a separate platform key', { timeout: TEST_TIMEOUT_MS }, async (t) => {
        const receiver = await startReceiver(200);
        t.after(() => receiver.close());
        await withPreview(browser(), t.name, {}, async ({ page, problems }, stack) => {
            const { account } = stack.demo;
            const platformKey = await stack.demo.backend.services.accounts.rotateKey(account.id, 'platform');
            await setWebhook(stack, platformKey, receiver.url);
            await linkThroughApi(stack, account.apiKey, PEOPLE.acmeApi);
            await receivedAtLeast(receiver, 1);

            // There is a delivery to show, to the platform's key only.
            const asPlatform = await api(stack, platformKey, 'GET', '/webhook/deliveries?limit=5');
            assert.equal(asPlatform.status, 200);
            assert.equal((asPlatform.json as { deliveries: unknown[] }).deliveries.length, 1);
            const asOrg = await api(stack, account.apiKey, 'GET', '/webhook/deliveries?limit=5');
            assert.equal(asOrg.status, 403);
            assert.equal((asOrg.json as { error: { code: string } }).error.code, 'FORBIDDEN');

            const answered = page.waitForResponse((response) => new URL(response.url()).pathname.endsWith('/api/v1/webhook/deliveries'));
            await page.reload();
            // The callout's answer, as the Apex gets it: 403 from the backend.
            assert.equal(((await (await answered).json()) as { status: number }).status, 403, 'the card asked, with the org key');
            await waitForBadge(page, 'Linked');
            await waitForText(page.locator('[data-id="activity"]'), /Webhook set/);
            assert.equal(await section(page).count(), 0, 'no deliveries section');
            assert.equal(await refresh(page).count(), 0);
            assert.doesNotMatch(await page.locator('c-link-status-card').innerText(), /Webhook deliveries|could not be read/);
            assert.equal(await cardError(page).count(), 0);
            assert.deepEqual(problems, []);
        });
    });
});
