// The Contact Center Link OAuth package as Salesforce distributes it: the External Client App's header and OAuth
// settings, shaped as the Dev Hub that owns the app retrieves them (contactEmail, orgScopedExternalApp, oauthLink),
// and a marker custom permission the Apex looks for to tell that the package is installed. Global OAuth settings (the
// consumer key and secret) and policies (the subscriber's) are never in a package directory.
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import type { SchemaProblem } from '../metadataSchema.ts';

export const OAUTH_DIR = 'force-app-oauth';
export const APP_NAME = 'ContactCenterLink';
export const OAUTH_PACKAGE = 'Contact Center Link OAuth';
/** The custom permission that travels with the OAuth package: ContactCenterLinkSetup.APP_PACKAGE_MARKER names it. */
export const SETUP_CLASS = path.join('force-app', 'main', 'default', 'classes', 'ContactCenterLinkSetup.cls');
export const OAUTH_MARKER = 'Contact_Center_Link_OAuth_App';

/** What the repository holds until the release step retrieves the app from the Dev Hub. */
export const PLACEHOLDERS = {
    contactEmail: 'contact-center-link@example.com',
    orgScopedExternalApp: `RETRIEVE_FROM_DEV_HUB:${APP_NAME}`,
    oauthLink: 'RETRIEVE_FROM_DEV_HUB'
} as const;

const DEFAULT_DIR = path.join(OAUTH_DIR, 'main', 'default');
export const HEADER_DIR = path.join(DEFAULT_DIR, 'externalClientApps');
export const SETTINGS_DIR = path.join(DEFAULT_DIR, 'extlClntAppOauthSettings');

/** Files of these types never travel: the global OAuth settings hold the secret, the policies are the subscriber's. */
const NEVER_PACKAGED = [
    { suffix: '.ecaGlblOauth-meta.xml', why: 'global OAuth settings (the consumer key and secret) stay in the Dev Hub' },
    { suffix: '.ecaPlcy-meta.xml', why: 'External Client App policies are the subscriber’s: Salesforce never packages them' },
    { suffix: '.ecaOauthPlcy-meta.xml', why: 'External Client App OAuth policies are the subscriber’s: Salesforce never packages them' }
];

const parser = new XMLParser({ parseTagValue: false, trimValues: true });

export interface OAuthApp {
    headerFile: string;
    settingsFile: string;
    contactEmail?: string;
    distributionState?: string;
    orgScopedExternalApp?: string;
    label?: string;
    oauthLink?: string;
    scopes?: string;
}

async function filesUnder(dir: string): Promise<string[]> {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
    return entries.filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
}

/** An element's text (parseTagValue: false keeps every value a string); an element with children has none. */
function text(value: unknown): string | undefined {
    return typeof value === 'string' ? value : undefined;
}

/** The app's header and the OAuth settings that name it (whatever name the Dev Hub gave the settings). */
export async function readOAuthApp(projectDir: string): Promise<OAuthApp> {
    const headerFile = path.join(HEADER_DIR, `${APP_NAME}.eca-meta.xml`);
    const header = (parser.parse(await readFile(path.join(projectDir, headerFile), 'utf8')) as Record<string, Record<string, unknown>>)
        .ExternalClientApplication;
    const settingsFiles = (await filesUnder(path.join(projectDir, SETTINGS_DIR))).filter((file) => file.endsWith('.ecaOauth-meta.xml'));
    const ours: { file: string; settings: Record<string, unknown> }[] = [];
    for (const file of settingsFiles) {
        const settings = (parser.parse(await readFile(file, 'utf8')) as Record<string, Record<string, unknown>>).ExtlClntAppOauthSettings;
        if (settings && text(settings['externalClientApplication']) === APP_NAME) ours.push({ file, settings });
    }
    if (ours.length !== 1) {
        throw new Error(`${SETTINGS_DIR} must hold exactly one ExtlClntAppOauthSettings of ${APP_NAME}; it holds ${ours.length}`);
    }
    const [{ file, settings }] = ours as [(typeof ours)[number]];
    return {
        headerFile,
        settingsFile: path.relative(projectDir, file),
        contactEmail: text(header?.['contactEmail']),
        distributionState: text(header?.['distributionState']),
        orgScopedExternalApp: text(header?.['orgScopedExternalApp']),
        label: text(header?.['label']),
        oauthLink: text(settings['oauthLink']),
        scopes: text(settings['commaSeparatedOauthScopes'])
    };
}

/**
 * The app's shape, checked by check:package: the header and settings as the Dev Hub retrieves them (placeholders
 * allowed until the release step), the scopes the backend asks for, the marker, and no global settings or policies in
 * any package directory.
 */
export async function oauthAppShapeProblems(projectDir: string, packageDirs: string[]): Promise<SchemaProblem[]> {
    const problems: SchemaProblem[] = [];
    let app: OAuthApp;
    try {
        app = await readOAuthApp(projectDir);
    } catch (error) {
        return [{ file: OAUTH_DIR, element: APP_NAME, message: (error as Error).message }];
    }
    const need = (file: string, element: string, ok: boolean, message: string): void => {
        if (!ok) problems.push({ file, element, message });
    };
    need(
        app.headerFile,
        'contactEmail',
        Boolean(app.contactEmail),
        'is missing: the Dev Hub retrieves the address subscribers’ admins may write to'
    );
    need(
        app.headerFile,
        'distributionState',
        app.distributionState === 'Packaged',
        'must be Packaged: only a packaged app reaches other orgs'
    );
    need(
        app.headerFile,
        'orgScopedExternalApp',
        new RegExp(`^[^:]+:${APP_NAME}$`).test(app.orgScopedExternalApp ?? ''),
        `is missing or not [Organization_ID]:${APP_NAME} (the Dev Hub retrieves it; the placeholder is ${PLACEHOLDERS.orgScopedExternalApp})`
    );
    need(
        app.settingsFile,
        'oauthLink',
        Boolean(app.oauthLink),
        `is missing: it ties the packaged settings to the app's one consumer key (the placeholder is ${PLACEHOLDERS.oauthLink})`
    );
    const scopes = new Set((app.scopes ?? '').split(',').map((scope) => scope.trim()));
    need(
        app.settingsFile,
        'commaSeparatedOauthScopes',
        scopes.has('Api') && scopes.has('RefreshToken'),
        'must include Api and RefreshToken'
    );
    const marker = path.join(DEFAULT_DIR, 'customPermissions', `${OAUTH_MARKER}.customPermission-meta.xml`);
    const markerFound = (await filesUnder(path.join(projectDir, path.dirname(marker)))).some((file) => file.endsWith(marker));
    need(
        marker,
        'CustomPermission',
        markerFound,
        'is missing: the Apex tells that the OAuth package is installed by this custom permission'
    );
    const setupClass = await readFile(path.join(projectDir, SETUP_CLASS), 'utf8').catch(() => '');
    need(
        SETUP_CLASS,
        'APP_PACKAGE_MARKER',
        setupClass.includes(`'${OAUTH_MARKER}'`),
        `must look for the marker ${OAUTH_MARKER} that the OAuth package carries`
    );
    for (const dir of packageDirs) {
        for (const file of await filesUnder(path.join(projectDir, dir))) {
            const never = NEVER_PACKAGED.find(({ suffix }) => file.endsWith(suffix));
            if (never)
                problems.push({
                    file: path.relative(projectDir, file),
                    element: '(file)',
                    message: `must not be in a package: ${never.why}`
                });
        }
    }
    return problems;
}

const ORG_ID = /00D[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?/;

/**
 * Why a package version of the OAuth app cannot be built yet: a placeholder where the Dev Hub's values belong. The
 * oauthLink (org id and OAuth consumer id) must name the org of orgScopedExternalApp: both come from one retrieve.
 */
export function releaseProblems(app: OAuthApp): string[] {
    const problems: string[] = [];
    const orgOfApp = ORG_ID.exec((app.orgScopedExternalApp ?? '').split(':')[0] ?? '')?.[0];
    if (!orgOfApp || !new RegExp(`^${orgOfApp}:${APP_NAME}$`).test(app.orgScopedExternalApp ?? '')) {
        problems.push(
            `${app.headerFile}: orgScopedExternalApp is "${app.orgScopedExternalApp ?? ''}", not the Dev Hub's [Organization_ID]:${APP_NAME}`
        );
    }
    const link = app.oauthLink ?? '';
    if (!link || link === PLACEHOLDERS.oauthLink || !ORG_ID.test(link)) {
        problems.push(`${app.settingsFile}: oauthLink is "${link}", a placeholder: retrieve the app from the Dev Hub that owns it`);
    } else if (orgOfApp && !link.includes(orgOfApp.slice(0, 15))) {
        problems.push(
            `${app.settingsFile}: oauthLink names another org than orgScopedExternalApp (${orgOfApp}): retrieve both from the same Dev Hub`
        );
    }
    const email = app.contactEmail ?? '';
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email) || /@example\.(?:com|org|net)$/i.test(email)) {
        problems.push(`${app.headerFile}: contactEmail is "${email}", not an address subscribers’ admins can write to`);
    }
    return problems;
}
