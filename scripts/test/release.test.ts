// The release steps, offline: the Salesforce CLI is a recorder that answers as the Dev Hub would.
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, beforeEach, describe, test } from 'node:test';
import { ReleaseRefused, appCreationFiles, createOAuthApp, createVersion, retrieveOAuthApp, type SfRunner } from '../package/release.ts';

const RETRIEVED_HEADER = `<?xml version="1.0" encoding="UTF-8"?>
<ExternalClientApplication xmlns="http://soap.sforce.com/2006/04/metadata">
    <contactEmail>salesforce-admin@contact-center.test</contactEmail>
    <distributionState>Packaged</distributionState>
    <isProtected>false</isProtected>
    <label>Contact Center Link</label>
    <orgScopedExternalApp>00D5g000004AcmeEAC:ContactCenterLink</orgScopedExternalApp>
</ExternalClientApplication>
`;
const RETRIEVED_SETTINGS = `<?xml version="1.0" encoding="UTF-8"?>
<ExtlClntAppOauthSettings xmlns="http://soap.sforce.com/2006/04/metadata">
    <commaSeparatedOauthScopes>Api, RefreshToken</commaSeparatedOauthScopes>
    <externalClientApplication>ContactCenterLink</externalClientApplication>
    <label>Contact Center Link OAuth settings</label>
    <oauthLink>00D5g000004AcmeEAC:888Hu000000AbCd</oauthLink>
</ExtlClntAppOauthSettings>
`;

interface Call {
    args: string[];
    cwd: string;
}

function recorder(onCall: (call: Call) => Promise<void> | void = () => {}): { sf: SfRunner; calls: Call[] } {
    const calls: Call[] = [];
    return {
        calls,
        sf: async (args, cwd) => {
            calls.push({ args, cwd });
            await onCall({ args, cwd });
            return 'ok';
        }
    };
}

function flag(args: string[], name: string): string | undefined {
    const index = args.indexOf(name);
    return index === -1 ? undefined : args[index + 1];
}

async function listFiles(dir: string): Promise<string[]> {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries.filter((entry) => entry.isFile()).map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)));
}

let project: string;
beforeEach(async () => {
    project = await mkdtemp(path.join(tmpdir(), 'ccl-release-'));
    for (const entry of ['force-app', 'force-app-endpoint', 'force-app-oauth', 'sfdx-project.json']) {
        await cp(entry, path.join(project, entry), { recursive: true });
    }
});
after(async () => {
    await rm(project, { recursive: true, force: true });
});

const HEADER = path.join('force-app-oauth', 'main', 'default', 'externalClientApps', 'ContactCenterLink.eca-meta.xml');
const SETTINGS = path.join('force-app-oauth', 'main', 'default', 'extlClntAppOauthSettings', 'ContactCenterLink_oauth.ecaOauth-meta.xml');

async function withAliases(): Promise<void> {
    const file = path.join(project, 'sfdx-project.json');
    const json = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    json['packageAliases'] = {
        'Contact Center Link': '0Ho5g000000AbCdCAK',
        'Contact Center Link Endpoint': '0Ho5g000000AbCeCAK',
        'Contact Center Link OAuth': '0Ho5g000000AbCfCAK'
    };
    await writeFile(file, JSON.stringify(json));
}

describe('version', () => {
    test('refuses a version of the OAuth package while the app’s files hold the repository’s placeholders, and calls no CLI', async () => {
        await withAliases();
        const { sf, calls } = recorder();
        await assert.rejects(
            createVersion(project, { devHub: 'hub', packageName: 'Contact Center Link OAuth', check: () => Promise.resolve([]) }, sf),
            (error: unknown) =>
                error instanceof ReleaseRefused &&
                /No version of Contact Center Link OAuth while the app's files hold placeholders/.test(error.message) &&
                /oauthLink is "RETRIEVE_FROM_DEV_HUB", a placeholder/.test(error.message)
        );
        assert.deepEqual(calls, []);
    });

    test('creates the OAuth package’s version once the app was retrieved, without code coverage (it has no Apex)', async () => {
        await withAliases();
        await writeFile(path.join(project, HEADER), RETRIEVED_HEADER);
        await writeFile(path.join(project, SETTINGS), RETRIEVED_SETTINGS);
        const { sf, calls } = recorder();
        await createVersion(project, { devHub: 'hub', packageName: 'Contact Center Link OAuth', check: () => Promise.resolve([]) }, sf);
        assert.deepEqual(
            calls.map((call) => call.args),
            [
                [
                    'package',
                    'version',
                    'create',
                    '--package',
                    'Contact Center Link OAuth',
                    '--installation-key-bypass',
                    '--wait',
                    '60',
                    '--target-dev-hub',
                    'hub'
                ]
            ]
        );
    });

    test('creates the main package’s version with code coverage; refuses when check:package finds a problem', async () => {
        await withAliases();
        const { sf, calls } = recorder();
        await createVersion(project, { devHub: 'hub', packageName: 'Contact Center Link', check: () => Promise.resolve([]) }, sf);
        assert.ok(calls[0]?.args.includes('--code-coverage'));
        await assert.rejects(
            createVersion(
                project,
                {
                    devHub: 'hub',
                    packageName: 'Contact Center Link',
                    check: () => Promise.resolve([{ file: 'f', element: 'e', message: 'broken' }])
                },
                sf
            ),
            /check:package found 1 problem\(s\):\nf: e: broken/
        );
        assert.equal(calls.length, 1);
    });

    test('refuses a package, or a dependency, that has no package id yet, and a name that is no package', async () => {
        const { sf, calls } = recorder();
        await assert.rejects(
            createVersion(project, { devHub: 'hub', packageName: 'Contact Center Link Endpoint', check: () => Promise.resolve([]) }, sf),
            /no package id for Contact Center Link Endpoint, Contact Center Link: create each package once/
        );
        await assert.rejects(
            createVersion(project, { devHub: 'hub', packageName: 'Contact Centre', check: () => Promise.resolve([]) }, sf),
            /No package "Contact Centre"/
        );
        assert.deepEqual(calls, []);
    });
});

describe('oauth-app-create', () => {
    test('deploys the header, OAuth settings and global settings from a temporary project that it deletes, never the repository', async () => {
        const before = await listFiles(project);
        let deployed: string[] = [];
        let globalSettings = '';
        const { sf, calls } = recorder(async ({ cwd }) => {
            deployed = await listFiles(cwd);
            const global = deployed.find((file) => file.endsWith('.ecaGlblOauth-meta.xml'))!;
            globalSettings = await readFile(path.join(cwd, global), 'utf8');
        });
        await createOAuthApp(
            { devHub: 'hub', callbackUrl: 'https://ccl.example.com/oauth/callback', contactEmail: 'admin@contact-center.test' },
            sf
        );
        assert.deepEqual(calls[0]?.args, ['project', 'deploy', 'start', '--source-dir', 'app', '--target-org', 'hub', '--wait', '30']);
        assert.deepEqual(
            deployed.sort(),
            [
                path.join('app', 'main', 'default', 'extlClntAppGlobalOauthSets', 'ContactCenterLink_glbloauth.ecaGlblOauth-meta.xml'),
                path.join('app', 'main', 'default', 'extlClntAppOauthSettings', 'ContactCenterLink_oauth.ecaOauth-meta.xml'),
                path.join('app', 'main', 'default', 'externalClientApps', 'ContactCenterLink.eca-meta.xml'),
                'sfdx-project.json'
            ].sort()
        );
        assert.match(globalSettings, /<callbackUrl>https:\/\/ccl\.example\.com\/oauth\/callback<\/callbackUrl>/);
        assert.match(globalSettings, /<isPkceRequired>true<\/isPkceRequired>/);
        assert.doesNotMatch(globalSettings, /consumerSecret|consumerKey/, 'Salesforce generates the key and the secret');
        await assert.rejects(readdir(calls[0].cwd), /ENOENT/, 'the temporary project is gone');
        assert.deepEqual(await listFiles(project), before, 'the repository is untouched');
    });

    test('refuses a callback that is not https PUBLIC_URL + /oauth/callback, and a placeholder contact address', async () => {
        const { sf, calls } = recorder();
        for (const callbackUrl of ['http://ccl.example.com/oauth/callback', 'https://ccl.example.com/callback', 'not a url']) {
            await assert.rejects(createOAuthApp({ devHub: 'hub', callbackUrl, contactEmail: 'admin@contact-center.test' }, sf));
        }
        await assert.rejects(
            createOAuthApp(
                { devHub: 'hub', callbackUrl: 'https://ccl.example.com/oauth/callback', contactEmail: 'contact-center-link@example.com' },
                sf
            ),
            /--contact-email/
        );
        assert.deepEqual(calls, []);
    });

    test('writes files that the Metadata API schema of API 66.0 accepts', () => {
        const files = appCreationFiles({ devHub: 'hub', callbackUrl: 'https://ccl.example.com/oauth/callback', contactEmail: 'a@b.test' });
        assert.equal(Object.keys(files).length, 3);
    });
});

describe('oauth-app-retrieve', () => {
    function devHubAnswering(files: Record<string, string>): ReturnType<typeof recorder> {
        return recorder(async ({ args }) => {
            const output = flag(args, '--output-dir')!;
            for (const [file, content] of Object.entries(files)) {
                await mkdir(path.join(output, path.dirname(file)), { recursive: true });
                await writeFile(path.join(output, file), content);
            }
        });
    }

    test('keeps the retrieved header and OAuth settings, and nothing else the Dev Hub answers', async () => {
        const { sf, calls } = devHubAnswering({
            'main/default/externalClientApps/ContactCenterLink.eca-meta.xml': RETRIEVED_HEADER,
            'main/default/extlClntAppOauthSettings/ContactCenterLink_oauth.ecaOauth-meta.xml': RETRIEVED_SETTINGS,
            'main/default/extlClntAppOauthSettings/SomeOtherApp_oauth.ecaOauth-meta.xml': RETRIEVED_SETTINGS.replace(
                '<externalClientApplication>ContactCenterLink',
                '<externalClientApplication>SomeOtherApp'
            ),
            'main/default/extlClntAppOauthPolicies/ContactCenterLink_oauthPlcy.ecaOauthPlcy-meta.xml': '<x/>'
        });
        const written = await retrieveOAuthApp(project, 'hub', sf);
        assert.deepEqual(
            written,
            [HEADER, SETTINGS].map((file) => path.relative('.', file))
        );
        assert.equal(await readFile(path.join(project, HEADER), 'utf8'), RETRIEVED_HEADER);
        assert.equal(await readFile(path.join(project, SETTINGS), 'utf8'), RETRIEVED_SETTINGS);
        assert.deepEqual(
            (await listFiles(path.join(project, 'force-app-oauth'))).sort(),
            [
                path.join('main', 'default', 'customPermissions', 'Contact_Center_Link_OAuth_App.customPermission-meta.xml'),
                path.join('main', 'default', 'extlClntAppOauthSettings', 'ContactCenterLink_oauth.ecaOauth-meta.xml'),
                path.join('main', 'default', 'externalClientApps', 'ContactCenterLink.eca-meta.xml')
            ].sort()
        );
        assert.deepEqual(calls[0]?.args.slice(0, 7), [
            'project',
            'retrieve',
            'start',
            '--metadata',
            'ExternalClientApplication:ContactCenterLink',
            '--metadata',
            'ExtlClntAppOauthSettings'
        ]);
        assert.ok(!(await readdir(project)).some((entry) => entry.startsWith('.release-retrieve-')), 'the retrieve directory is gone');
    });

    test('changes nothing when the Dev Hub has no such app, or answers it without an oauthLink', async () => {
        const before = await readFile(path.join(project, SETTINGS), 'utf8');
        await assert.rejects(retrieveOAuthApp(project, 'hub', devHubAnswering({}).sf), /answered no ContactCenterLink app/);
        const noLink = devHubAnswering({
            'main/default/externalClientApps/ContactCenterLink.eca-meta.xml': RETRIEVED_HEADER,
            'main/default/extlClntAppOauthSettings/ContactCenterLink_oauth.ecaOauth-meta.xml': RETRIEVED_SETTINGS.replace(
                /<oauthLink>.*<\/oauthLink>/,
                ''
            )
        });
        await assert.rejects(retrieveOAuthApp(project, 'hub', noLink.sf), /not a packageable app:\n.*oauthLink is ""/s);
        assert.equal(await readFile(path.join(project, SETTINGS), 'utf8'), before);
    });
});
