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
    canManageLink: boolean;
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
    /** The admin looking at the page (UserInfo in the Apex). */
    user: PreviewUser;
    /** Users of the emulated orgs to log in with in the popup. */
    demoUsers: Array<{ username: string; password: string; description: string }>;
}

export interface PreviewConfig {
    /** The account key the org's Named Credential would hold. */
    apiKey: string;
    apiBase: string;
    account: { id: string; name: string };
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

/** Mounts /, /preview/* and /assets/*. `config` is read on every request, so it reflects the emulator's current org ids. */
export function mountPreview(app: Express, config: () => PreviewConfig | undefined): void {
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
