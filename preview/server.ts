// Serves the preview from the demo backend: the Setup page at /, its bundle, SLDS, and the demo-only
// configuration the preview's Apex stand-in needs. Mounted by demo/demo.ts only.

import { access } from 'node:fs/promises';
import path from 'node:path';
import { createRequire } from 'node:module';
import express, { type Express, type Response } from 'express';
import { DIST_DIR } from './build.ts';
import type { SetupFacts } from './setupFacts.ts';

const require = createRequire(import.meta.url);
const HERE = path.dirname(DIST_DIR);
const INDEX_HTML = path.join(HERE, 'index.html');
const BUNDLE = path.join(DIST_DIR, 'app.js');
const SLDS_CSS = path.join(DIST_DIR, 'slds.css');
/** SLDS's stylesheets, images and icon sprites, served as the package ships them. */
const SLDS_ASSETS = path.join(path.dirname(require.resolve('@salesforce-ux/design-system/package.json')), 'assets');

/**
 * The page's own policy: scripts only from this origin; styles also inline, because the LWC engine adds
 * component styles at run time and base components set style attributes.
 */
const PAGE_CSP = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'"
].join('; ');

export interface PreviewUser {
    userId: string;
    username: string;
    name: string;
    /** Holds the Manage_Contact_Center_Link custom permission (the package's admin permission set). */
    canManageLink: boolean;
    /** What the org answers this user about the admins to ask (ContactCenterLinkOrgKey's query): names, or null. */
    linkAdmins: string[] | null;
}

export interface PreviewOrg {
    name: string;
    orgId: string;
    environment: 'production' | 'sandbox';
    /** Organization.CreatedDate: when the org was created, or a sandbox last refreshed. */
    createdDate?: string;
    /** The org's My Domain origin: what URL.getOrgDomainUrl() answers in the org. */
    domainUrl: string;
    /** The org's answers to ContactCenterLinkSetup's queries (the OAuth package's marker, the API user's permission set). */
    setup?: SetupFacts;
    /** The user looking at the page (UserInfo in the Apex): the admin, unless `?as=` names another of `users`. */
    user: PreviewUser;
    /** Who may look at the page, `?as=USERNAME`. */
    users: PreviewUser[];
    /** Users of the emulated orgs to log in with in the popup. */
    demoUsers: Array<{ username: string; password: string; description: string }>;
}

export interface PreviewConfig {
    defaultOrg: string;
    orgs: Record<string, PreviewOrg>;
}

async function exists(file: string): Promise<boolean> {
    return access(file).then(
        () => true,
        () => false
    );
}

function missingBuild(res: Response): void {
    res.status(503).type('text/plain').send('The preview is not built. Run `npm run build:preview` (npm start builds it), then reload.');
}

/**
 * What Salesforce does for the package's Apex in an org, played over the emulated org: the callout through the
 * ContactCenterLink Named Credential (its URL, the key its External Credential holds) and ConnectApi.NamedCredentials
 * on the package's own credentials. Unknown orgs throw.
 */
export interface PreviewPlatform {
    /** `callout:ContactCenterLink`: where it goes and the key its header carries (null when the principal has none). */
    callout(org: string): { url: string; key: string | null };
    getCredential(org: string): Record<string, unknown>;
    createCredential(org: string, credentials: unknown): Record<string, unknown>;
    updateCredential(org: string, credentials: unknown): Record<string, unknown>;
    calloutUrl(org: string): string;
}

/**
 * The page's stand-ins send this header: a custom header makes a cross-site request preflight, which these routes do
 * not answer, so only the page itself reaches the org's callout and credentials.
 */
export const PREVIEW_HEADER = 'x-ccl-preview';

const refusal = (res: Response, status: number, message: string): void => {
    res.status(status).json({ error: { message } });
};

/**
 * /preview/callout/ORG/… and /preview/connect/ORG/…: what the Apex stand-ins call instead of Salesforce's platform. As
 * with Apex, the page never sees the HTTP exchange itself: every answer is 200 with what the Apex would get, the
 * callout's `{ status, body }` or ConnectApi's `{ result }`, or `{ error }` for a CalloutException or a
 * ConnectApiException.
 */
function mountPlatform(app: Express, platform: PreviewPlatform): void {
    const fromPage: express.RequestHandler = (req, res, next) => {
        if (req.get(PREVIEW_HEADER) !== '1') return refusal(res, 403, 'Only the preview page may use this.');
        next();
    };
    // The Named Credential's callout: the org's own key, never the page's, goes to the URL the org's Named Credential holds.
    app.all('/preview/callout/:org/*path', fromPage, express.text({ type: '*/*', limit: '128kb' }), async (req, res) => {
        let target: { url: string; key: string | null };
        try {
            target = platform.callout(String(req.params.org));
        } catch (error) {
            return refusal(res, 404, (error as Error).message);
        }
        const path = ([] as string[]).concat(req.params.path ?? []).join('/');
        const query = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?')) : '';
        const headers: Record<string, string> = {
            Accept: req.get('accept') ?? 'application/json',
            // What {!$Credential.ContactCenterLink.ApiKey} renders without a key: nothing after Bearer.
            Authorization: `Bearer ${target.key ?? ''}`
        };
        const hasBody = typeof req.body === 'string' && req.body.length > 0;
        if (hasBody) headers['Content-Type'] = req.get('content-type') ?? 'application/json';
        try {
            const answer = await fetch(`${target.url.replace(/\/+$/, '')}/${path}${query}`, {
                method: req.method,
                headers,
                body: hasBody ? (req.body as string) : undefined
            });
            res.json({ status: answer.status, body: await answer.text() });
        } catch (error) {
            res.json({ error: (error as Error).message });
        }
    });
    const connect = (work: (org: string, credentials: unknown) => unknown): express.RequestHandler[] => [
        fromPage,
        express.json({ limit: '8kb' }),
        (req, res) => {
            try {
                res.json({ result: work(String(req.params.org), (req.body as { credentials?: unknown } | undefined)?.credentials) });
            } catch (error) {
                // As ConnectApi.ConnectApiException: Salesforce's words, no stack.
                res.json({ error: (error as Error).message });
            }
        }
    ];
    app.get('/preview/connect/:org/credential', ...connect((org) => platform.getCredential(org)));
    app.post('/preview/connect/:org/credential', ...connect((org, credentials) => platform.createCredential(org, credentials)));
    app.patch('/preview/connect/:org/credential', ...connect((org, credentials) => platform.updateCredential(org, credentials)));
    app.get('/preview/connect/:org/named-credential', ...connect((org) => ({ calloutUrl: platform.calloutUrl(org) })));
}

/** Mounts /, /preview/* and /assets/*. `config` is read on every request, so it reflects the emulator's current org ids. */
export function mountPreview(app: Express, config: () => PreviewConfig | undefined, platform?: PreviewPlatform): void {
    if (platform) mountPlatform(app, platform);
    app.get('/', async (_req, res) => {
        if (!(await exists(BUNDLE))) return missingBuild(res);
        res.setHeader('Content-Security-Policy', PAGE_CSP);
        res.setHeader('Cache-Control', 'no-cache');
        res.sendFile(INDEX_HTML);
    });
    app.get('/favicon.ico', (_req, res) => {
        res.status(204).end();
    });
    app.get('/preview/app.js', async (_req, res) => {
        if (!(await exists(BUNDLE))) return missingBuild(res);
        res.setHeader('Cache-Control', 'no-cache');
        res.sendFile(BUNDLE);
    });
    app.get('/preview/slds.css', async (_req, res) => {
        if (!(await exists(SLDS_CSS))) return missingBuild(res);
        res.setHeader('Cache-Control', 'no-cache');
        res.sendFile(SLDS_CSS);
    });
    app.get('/preview/config.json', (_req, res) => {
        const current = config();
        res.setHeader('Cache-Control', 'no-store');
        if (!current) {
            res.status(503).json({ error: { code: 'PREVIEW_NOT_READY', message: 'The demo is still starting. Reload in a moment.' } });
            return;
        }
        res.json(current);
    });
    app.use('/assets', express.static(SLDS_ASSETS, { maxAge: '1h', index: false }));
}
