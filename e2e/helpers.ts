// What the browser tests share: the stack `npm start` runs (emulated orgs, backend, demo account, preview page) on
// free ports with a clean data directory, a Chromium driven by playwright-core, and the steps an admin takes.

import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { authorizeInEmulator, type Person } from '../emulator/driver.ts';
import { parseConfig } from '../server/config.ts';
import { startDemo, type RunningDemo } from '../demo/demo.ts';
import { createLogger } from '../server/logger.ts';
import { findChromium, launchChromium } from './chromium.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SHOTS_DIR = path.join(ROOT, 'test-results/e2e');
const DOCS_IMAGES_DIR = path.join(ROOT, 'docs/images');

/** The seeded users the tests log in as: the same table the backend's tests use. */
export { PEOPLE } from '../server/test/harness.ts';
import { confirmPopup } from '../server/test/harness.ts';

/** How long one browser test may take. */
export const TEST_TIMEOUT_MS = 60_000;
/** How long a step waits for the page. */
const STEP_MS = 15_000;

/** Why the browser tests cannot run here, or false when they can. Under CI a missing Chromium is an error, not a skip. */
export function missingBrowser(): string | false {
    const found = findChromium();
    if ('chromium' in found) return false;
    if (process.env.CI === 'true') throw new Error(`The browser tests need Chromium under CI: ${found.missing}`);
    return found.missing;
}

/** Starts the Chromium findChromium() chose (e2e/chromium.ts): Debian's, else the one @sparticuz/chromium carries. */
export async function launchBrowser(): Promise<Browser> {
    const found = findChromium();
    if (!('chromium' in found)) throw new Error(`No Chromium: ${found.missing}`);
    return launchChromium(found.chromium);
}

/** Launches Chromium before the enclosing suite's tests and closes it after them; returns the running browser. */
export function useBrowser(): () => Browser {
    let browser: Browser | undefined;
    before(async () => {
        browser = await launchBrowser();
    });
    after(async () => {
        await browser?.close();
    });
    return () => {
        if (!browser) throw new Error('The browser is not running');
        return browser;
    };
}

export interface Stack {
    demo: RunningDemo;
    /** PUBLIC_URL, where the preview page is. */
    url: string;
    close(): Promise<void>;
}

/** What `npm start` runs, in process: the backend and the emulator on free ports, over a new, empty data directory. */
export async function startStack(env: Record<string, string> = {}): Promise<Stack> {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'ccl-e2e-'));
    const parsed = parseConfig({ PORT: '0', PUBLIC_URL: 'http://localhost:0', DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...env });
    const demo = await startDemo(parsed, { emulatorPortBase: 0, logger: createLogger('silent') });
    return {
        demo,
        url: demo.url,
        async close() {
            await demo.close();
            await rm(dataDir, { recursive: true, force: true });
        }
    };
}

/**
 * What an admin does in Setup after a sandbox refresh (or with the card): the org's External Credential holds `apiKey`
 * again (the demo account's by default), set through the emulated org's credentials.
 */
export function setOrgKey(stack: Stack, org: 'acme' | 'acmeUat', apiKey = stack.demo.account.apiKey): void {
    const credentials = { ApiKey: { value: apiKey, encrypted: true } };
    const { state } = stack.demo.emulator;
    const held = state.credential(org, 'ContactCenterLink', 'ApiKey')['credentials'] as Record<string, unknown>;
    if (Object.keys(held).length) state.updateCredential(org, 'ContactCenterLink', 'ApiKey', credentials);
    else state.createCredential(org, 'ContactCenterLink', 'ApiKey', credentials);
}

export interface Session {
    context: BrowserContext;
    page: Page;
    /** Page errors and console errors seen so far. */
    problems: string[];
}

export interface PreviewOptions {
    /** The emulated org the page stands in (?org=acmeUat). */
    org?: string;
    /** Another user of the org than its admin looks at the page (?as=USERNAME). */
    as?: string;
    initScript?: () => void;
    /** What shows the page is ready: the status badge unless said otherwise. */
    ready?: (page: Page) => Promise<void>;
    /** More settings for the backend (withPreview's own stack). */
    env?: Record<string, string>;
}

/** Opens the preview page in a new browser context; `org` picks the emulated org (?org=acmeUat). */
export async function openPreview(browser: Browser, stack: Stack, options: PreviewOptions = {}): Promise<Session> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: 'en-US', timezoneId: 'UTC' });
    context.setDefaultTimeout(STEP_MS);
    if (options.initScript) await context.addInitScript(options.initScript);
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
        if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    const query = new URLSearchParams({ ...(options.org ? { org: options.org } : {}), ...(options.as ? { as: options.as } : {}) });
    await page.goto(`${stack.url}/${query.size ? `?${query}` : ''}`);
    await (options.ready ? options.ready(page) : badge(page).waitFor());
    await markPage(page);
    return { context, page, problems };
}

/** Marks the document: a reload loses the mark, so samePage() tells whether the page was reloaded since. */
export async function markPage(page: Page): Promise<void> {
    await page.evaluate(() => {
        (window as unknown as { previewMark?: string }).previewMark = 'same page';
    });
}

export async function samePage(page: Page): Promise<boolean> {
    return page.evaluate(() => (window as unknown as { previewMark?: string }).previewMark === 'same page');
}

export const badge = (page: Page): Locator => page.locator('[data-id="badge"]');
export const cardError = (page: Page): Locator => page.locator('[data-id="error"]');
export const detail = (page: Page, key: string): Locator => page.locator(`[data-id="details"] [data-id="${key}"] dd`);
export const linkMenuButton = (page: Page): Locator => page.locator('[data-id="link-menu"] button');
export const toast = (page: Page): Locator => page.locator('[data-id="toast"]');

/** Waits until the status badge says exactly `label`. */
export async function waitForBadge(page: Page, label: string): Promise<void> {
    await badge(page)
        .filter({ hasText: new RegExp(`^\\s*${label}\\s*$`) })
        .waitFor();
}

/** Waits until the locator's text matches. */
export async function waitForText(locator: Locator, pattern: RegExp): Promise<string> {
    await locator.filter({ hasText: pattern }).first().waitFor();
    return (await locator.first().innerText()).trim();
}

/**
 * Link ▾ (or Relink ▾) → the menu item; `confirm` answers the "Link a different org?" dialog with OK. Returns the login
 * popup (none when `popup: false`).
 */
export async function chooseEnvironment(
    page: Page,
    item: RegExp,
    options: { confirm?: boolean; popup?: boolean } = {}
): Promise<Page | undefined> {
    await linkMenuButton(page).click();
    const popup = options.popup === false ? undefined : page.waitForEvent('popup');
    await page.getByRole('menuitem', { name: item }).click();
    if (options.confirm) await page.getByRole('alertdialog').getByRole('button', { name: 'OK' }).click();
    if (!popup) return undefined;
    const opened = await popup;
    await opened.waitForLoadState();
    return opened;
}

/** Runs one browser test on its own stack and browser context, and keeps a screenshot of how the page ended. */
export async function withPreview(
    browser: Browser,
    name: string,
    options: PreviewOptions,
    run: (session: Session, stack: Stack) => Promise<void>
): Promise<void> {
    const stack = await startStack(options.env);
    let session: Session | undefined;
    try {
        session = await openPreview(browser, stack, options);
        await run(session, stack);
    } finally {
        if (session) {
            await screenshot(session.page, name).catch(() => undefined);
            await session.context.close().catch(() => undefined);
        }
        await stack.close();
    }
}

/** The emulator's login page: username, password, Log In. */
export async function logIn(popup: Page, person: Person): Promise<void> {
    await popup.locator('input[name="username"]').fill(person.username);
    await popup.locator('input[name="password"]').fill(person.password);
    await popup.getByRole('button', { name: 'Log In' }).click();
    await popup.getByRole('heading', { name: 'Allow Access?' }).waitFor();
}

export async function decide(popup: Page, decision: 'Allow' | 'Deny'): Promise<void> {
    await popup.getByRole('button', { name: decision }).click();
}

/** Links an account without a browser, as the tests of the backend do: link session, /oauth/start, the emulator's pages, /oauth/callback. */
export async function linkThroughApi(
    stack: Stack,
    apiKey: string,
    person: Person,
    environment: 'production' | 'sandbox' = 'production'
): Promise<void> {
    const created = await fetch(`${stack.url}/api/v1/link-sessions`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ environment })
    });
    if (created.status !== 201) throw new Error(`link session: HTTP ${created.status} ${await created.text()}`);
    const { authorizeUrl } = (await created.json()) as { authorizeUrl: string };
    // The person reads the account's name on the popup's first page and clicks Continue.
    const start = await confirmPopup(stack.url, new URL(authorizeUrl).pathname);
    const cookie = (start.headers['set-cookie'] as unknown as string[]).map((line) => line.split(';')[0]).join('; ');
    const callback = await authorizeInEmulator(start.headers.location!, person);
    const done = await fetch(callback, { headers: { cookie } });
    if (done.status !== 200) throw new Error(`/oauth/callback: HTTP ${done.status}`);
}

function slug(name: string): string {
    return name
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/^-|-$/g, '')
        .slice(0, 80);
}

/** Saves the page as test-results/e2e/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
    await mkdir(SHOTS_DIR, { recursive: true });
    const file = path.join(SHOTS_DIR, `${slug(name)}.png`);
    await page.screenshot({ path: file, fullPage: true });
    return file;
}

/** With DOCS_IMAGES=1, also keeps a screenshot as docs/images/<name>.png (npm run docs:images). */
export async function docsImage(target: Page | Locator, name: string): Promise<void> {
    await mkdir(SHOTS_DIR, { recursive: true });
    const file = path.join(SHOTS_DIR, `${name}.png`);
    await target.screenshot({ path: file });
    if (process.env.DOCS_IMAGES === '1') {
        await mkdir(DOCS_IMAGES_DIR, { recursive: true });
        await copyFile(file, path.join(DOCS_IMAGES_DIR, `${name}.png`));
    }
}
