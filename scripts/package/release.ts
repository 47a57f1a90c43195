// The release steps for the three managed packages, with the Salesforce CLI (npm run release -- <step>):
//   oauth-app-create    creates the External Client App in the Dev Hub: its header, its OAuth settings and, from a
//                       temporary directory that is deleted afterwards, its global OAuth settings (callback URL, PKCE).
//                       Salesforce generates the consumer key and secret there; they never reach the repository.
//   oauth-app-retrieve  retrieves the header and the OAuth settings from the Dev Hub into force-app-oauth, as the Dev
//                       Hub has them (contactEmail, orgScopedExternalApp, oauthLink), and nothing else.
//   version             creates a package version, after the offline checks; for the OAuth package it refuses while
//                       the app's files still hold the repository's placeholders.
// Every step takes --target-dev-hub (the Dev Hub's alias or username).
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { SCHEMA_API_VERSION, loadMetadataSchema, validateMetadataXml, type SchemaProblem } from '../metadataSchema.ts';
import { APP_NAME, HEADER_DIR, OAUTH_PACKAGE, PLACEHOLDERS, SETTINGS_DIR, readOAuthApp, releaseProblems } from './oauthApp.ts';
import type { ProjectFile } from './projectFile.ts';
import { sfBinary, sfEnv } from './sfCli.ts';

/** Runs the Salesforce CLI with these arguments in this directory; answers its standard output. */
export type SfRunner = (args: string[], cwd: string) => Promise<string>;

export class ReleaseRefused extends Error {}

const run = promisify(execFile);

export function localSf(projectDir: string): SfRunner {
    return async (args, cwd) => {
        const { stdout } = await run(sfBinary(projectDir), args, { cwd, maxBuffer: 64 * 1024 * 1024, env: sfEnv() });
        return stdout;
    };
}

const NS = 'xmlns="http://soap.sforce.com/2006/04/metadata"';

function xml(root: string, elements: Record<string, string | boolean | undefined>): string {
    const body = Object.entries(elements)
        .filter(([, value]) => value !== undefined)
        .map(([name, value]) => `    <${name}>${String(value).replace(/&/g, '&amp;').replace(/</g, '&lt;')}</${name}>`)
        .join('\n');
    return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} ${NS}>\n${body}\n</${root}>\n`;
}

export interface CreateOptions {
    devHub: string;
    /** The backend's PUBLIC_URL + "/oauth/callback". */
    callbackUrl: string;
    /** Where Salesforce writes to the app's owner about subscribers' orgs. */
    contactEmail: string;
}

/** The files that create the app in the Dev Hub, each validated against the Metadata API schema of the declared version. */
export function appCreationFiles(options: CreateOptions): Record<string, string> {
    const callback = new URL(options.callbackUrl);
    if (callback.protocol !== 'https:' || callback.pathname !== '/oauth/callback' || callback.search || callback.hash) {
        throw new ReleaseRefused(`--callback-url must be the backend's https PUBLIC_URL + "/oauth/callback", not ${options.callbackUrl}`);
    }
    const label = 'Contact Center Link';
    const files: Record<string, string> = {
        [`externalClientApps/${APP_NAME}.eca-meta.xml`]: xml('ExternalClientApplication', {
            contactEmail: options.contactEmail,
            description:
                'Contact Center Link: the contact center acts in this org as its API user (screen-pop lookups, call Tasks) through this OAuth app.',
            distributionState: 'Packaged',
            isProtected: false,
            label
        }),
        [`extlClntAppGlobalOauthSets/${APP_NAME}_glbloauth.ecaGlblOauth-meta.xml`]: xml('ExtlClntAppGlobalOauthSettings', {
            callbackUrl: callback.href,
            externalClientApplication: APP_NAME,
            isConsumerSecretOptional: false,
            isIntrospectAllTokens: false,
            isPkceRequired: true,
            isSecretRequiredForRefreshToken: true,
            label: `${label} global OAuth settings`,
            shouldRotateConsumerKey: false,
            shouldRotateConsumerSecret: false
        }),
        [`extlClntAppOauthSettings/${APP_NAME}_oauth.ecaOauth-meta.xml`]: xml('ExtlClntAppOauthSettings', {
            commaSeparatedOauthScopes: 'Api, RefreshToken',
            externalClientApplication: APP_NAME,
            label: `${label} OAuth settings`
        })
    };
    const schema = loadMetadataSchema(SCHEMA_API_VERSION);
    const problems = Object.entries(files).flatMap(([file, content]) => validateMetadataXml(schema, file, content));
    if (problems.length > 0) throw new Error(problems.map((p) => `${p.file}: ${p.element}: ${p.message}`).join('\n'));
    return files;
}

/** Deploys the app to the Dev Hub from a temporary project, deleted afterwards (it holds the global OAuth settings). */
export async function createOAuthApp(options: CreateOptions, sf: SfRunner): Promise<void> {
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(options.contactEmail) || options.contactEmail === PLACEHOLDERS.contactEmail) {
        throw new ReleaseRefused(`--contact-email must be an address subscribers' admins can write to, not "${options.contactEmail}"`);
    }
    const files = appCreationFiles(options);
    const work = await mkdtemp(path.join(tmpdir(), 'ccl-oauth-app-'));
    try {
        await writeFile(
            path.join(work, 'sfdx-project.json'),
            JSON.stringify({ packageDirectories: [{ path: 'app', default: true }], sourceApiVersion: SCHEMA_API_VERSION }, null, 4)
        );
        for (const [file, content] of Object.entries(files)) {
            await mkdir(path.join(work, 'app', 'main', 'default', path.dirname(file)), { recursive: true });
            await writeFile(path.join(work, 'app', 'main', 'default', file), content);
        }
        await sf(['project', 'deploy', 'start', '--source-dir', 'app', '--target-org', options.devHub, '--wait', '30'], work);
    } finally {
        await rm(work, { recursive: true, force: true });
    }
}

async function filesUnder(dir: string): Promise<string[]> {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
    return entries.filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
}

/**
 * Retrieves the app's header and OAuth settings from the Dev Hub into force-app-oauth. Only those two files are kept,
 * and only when they carry the Dev Hub's values: the placeholders stay otherwise.
 */
export async function retrieveOAuthApp(projectDir: string, devHub: string, sf: SfRunner): Promise<string[]> {
    // Inside the project: the CLI retrieves into a directory of the project it runs in.
    const work = await mkdtemp(path.join(projectDir, '.release-retrieve-'));
    try {
        const output = path.join(work, 'retrieved');
        await sf(
            [
                'project',
                'retrieve',
                'start',
                '--metadata',
                `ExternalClientApplication:${APP_NAME}`,
                '--metadata',
                'ExtlClntAppOauthSettings',
                '--target-org',
                devHub,
                '--output-dir',
                output,
                '--wait',
                '30'
            ],
            projectDir
        );
        const retrieved = await filesUnder(output);
        const header = retrieved.find((file) => path.basename(file) === `${APP_NAME}.eca-meta.xml`);
        const settings: string[] = [];
        for (const file of retrieved.filter((candidate) => candidate.endsWith('.ecaOauth-meta.xml'))) {
            if ((await readFile(file, 'utf8')).includes(`<externalClientApplication>${APP_NAME}</externalClientApplication>`))
                settings.push(file);
        }
        if (!header || settings.length !== 1) {
            throw new ReleaseRefused(
                `The Dev Hub ${devHub} answered no ${APP_NAME} app with one OAuth settings file: create it first (oauth-app-create)`
            );
        }
        // Check what was retrieved in a copy of the layout before anything in the repository changes.
        const staging = path.join(work, 'staging');
        await mkdir(path.join(staging, HEADER_DIR), { recursive: true });
        await mkdir(path.join(staging, SETTINGS_DIR), { recursive: true });
        await copyFile(header, path.join(staging, HEADER_DIR, path.basename(header)));
        await copyFile(settings[0]!, path.join(staging, SETTINGS_DIR, path.basename(settings[0]!)));
        const problems = releaseProblems(await readOAuthApp(staging));
        if (problems.length > 0) throw new ReleaseRefused(`What the Dev Hub answered is not a packageable app:\n${problems.join('\n')}`);
        for (const old of await filesUnder(path.join(projectDir, SETTINGS_DIR))) await rm(old);
        const written = [path.join(HEADER_DIR, path.basename(header)), path.join(SETTINGS_DIR, path.basename(settings[0]!))];
        await copyFile(header, path.join(projectDir, written[0]!));
        await copyFile(settings[0]!, path.join(projectDir, written[1]!));
        return written;
    } finally {
        await rm(work, { recursive: true, force: true });
    }
}

export interface VersionOptions {
    devHub: string;
    packageName: string;
    /** The offline checks (check:package); a problem refuses the version. */
    check: () => Promise<SchemaProblem[]>;
}

/** Creates a package version once the offline checks pass, and for the OAuth package once the app was retrieved. */
export async function createVersion(projectDir: string, options: VersionOptions, sf: SfRunner): Promise<string> {
    const project = JSON.parse(await readFile(path.join(projectDir, 'sfdx-project.json'), 'utf8')) as ProjectFile;
    const directory = project.packageDirectories.find((candidate) => candidate.package === options.packageName);
    if (!directory) {
        const names = project.packageDirectories.map((candidate) => candidate.package).filter(Boolean);
        throw new ReleaseRefused(`No package "${options.packageName}" in sfdx-project.json (${names.join(', ')})`);
    }
    if (options.packageName === OAUTH_PACKAGE) {
        const problems = releaseProblems(await readOAuthApp(projectDir));
        if (problems.length > 0) {
            throw new ReleaseRefused(
                `No version of ${OAUTH_PACKAGE} while the app's files hold placeholders: run oauth-app-create (once) and oauth-app-retrieve.\n${problems.join('\n')}`
            );
        }
    }
    const unaliased = [options.packageName, ...(directory.dependencies ?? []).map((dependency) => dependency.package ?? '')].filter(
        (name) => name && !/^0Ho|^04t/.test(name) && !project.packageAliases?.[name]
    );
    if (unaliased.length > 0) {
        throw new ReleaseRefused(
            `sfdx-project.json has no package id for ${unaliased.join(', ')}: create each package once (sf package create, which records its alias) first.`
        );
    }
    const problems = await options.check();
    if (problems.length > 0) {
        throw new ReleaseRefused(
            `check:package found ${problems.length} problem(s):\n${problems.map((p) => `${p.file}: ${p.element}: ${p.message}`).join('\n')}`
        );
    }
    const hasApex = (await filesUnder(path.join(projectDir, directory.path))).some((file) => file.endsWith('.cls'));
    return sf(
        [
            'package',
            'version',
            'create',
            '--package',
            options.packageName,
            '--installation-key-bypass',
            ...(hasApex ? ['--code-coverage'] : []),
            '--wait',
            '60',
            '--target-dev-hub',
            options.devHub
        ],
        projectDir
    );
}

const USAGE = `npm run release -- <step> --target-dev-hub <alias>
  oauth-app-create   --callback-url https://<PUBLIC_URL host>/oauth/callback --contact-email <address>
  oauth-app-retrieve
  version            --package "<Contact Center Link | Contact Center Link Endpoint | Contact Center Link OAuth>"`;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
    const { positionals, values } = parseArgs({
        allowPositionals: true,
        options: {
            'target-dev-hub': { type: 'string' },
            'callback-url': { type: 'string' },
            'contact-email': { type: 'string' },
            package: { type: 'string' }
        }
    });
    const projectDir = process.cwd();
    const sf = localSf(projectDir);
    const devHub = values['target-dev-hub'];
    try {
        if (!devHub) throw new ReleaseRefused(`--target-dev-hub is required.\n${USAGE}`);
        switch (positionals[0]) {
            case 'oauth-app-create':
                await createOAuthApp(
                    { devHub, callbackUrl: values['callback-url'] ?? '', contactEmail: values['contact-email'] ?? '' },
                    sf
                );
                console.log(
                    `Created the ${APP_NAME} External Client App in ${devHub}. Next: npm run release -- oauth-app-retrieve --target-dev-hub ${devHub}`
                );
                break;
            case 'oauth-app-retrieve':
                for (const file of await retrieveOAuthApp(projectDir, devHub, sf)) console.log(`Retrieved ${file}`);
                console.log('Commit them: they hold no secret.');
                break;
            case 'version': {
                const { checkPackage } = await import('../check-package.ts');
                console.log(
                    await createVersion(
                        projectDir,
                        { devHub, packageName: values.package ?? '', check: async () => (await checkPackage(projectDir)).problems },
                        sf
                    )
                );
                break;
            }
            default:
                throw new ReleaseRefused(USAGE);
        }
    } catch (error) {
        console.error(error instanceof ReleaseRefused ? error.message : error);
        process.exitCode = 1;
    }
}
