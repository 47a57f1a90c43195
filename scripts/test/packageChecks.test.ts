// The checks check:package runs besides the metadata schema: each catches what it is there for.
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { checkApexTests, parseApexClass, testListProblems, testListsIn } from '../package/apexTests.ts';
import { OAUTH_MARKER, PLACEHOLDERS, oauthAppShapeProblems, readOAuthApp, releaseProblems, type OAuthApp } from '../package/oauthApp.ts';
import { checkProjectFile, type ProjectFile } from '../package/projectFile.ts';

const PACKAGE_DIRS = ['force-app', 'force-app-endpoint', 'force-app-oauth'];

async function projectFile(): Promise<ProjectFile> {
    return JSON.parse(await readFile('sfdx-project.json', 'utf8')) as ProjectFile;
}

/** A copy of the package directories, sfdx-project.json, the docs and .forceignore to break on purpose. */
async function copyOfProject(): Promise<string> {
    const dir = await mkdtemp(path.join(tmpdir(), 'ccl-package-check-'));
    for (const entry of [...PACKAGE_DIRS, 'docs/installing-the-package.md', 'sfdx-project.json', '.forceignore']) {
        await cp(entry, path.join(dir, entry), { recursive: true });
    }
    return dir;
}

describe('sfdx-project.json, checked offline', () => {
    test('the repository’s file passes the published schema and the packaging library’s rules', async () => {
        assert.deepEqual(checkProjectFile(await projectFile()), []);
    });

    test('a property the published schema does not have is refused', async () => {
        const project = { ...(await projectFile()), packageDirectory: [] };
        const problems = checkProjectFile(project);
        assert.equal(problems.length, 1);
        assert.match(problems[0]!.message, /must NOT have additional properties: packageDirectory \(the published sfdx-project schema\)/);
    });

    test('a dependency without a versionNumber or an 04t id is refused in the packaging library’s words', async () => {
        const project = await projectFile();
        project.packageDirectories[1]!.dependencies = [{ package: 'Contact Center Link' }];
        assert.deepEqual(
            checkProjectFile(project).map((p) => p.message),
            [
                'force-app-endpoint dependency 1: Dependency must specify either a subscriberPackageVersionId or both packageId and versionNumber: {"package":"Contact Center Link"}'
            ]
        );
    });

    test('a dependency’s build must be a number, LATEST or RELEASED; an 04t id needs no version', async () => {
        const project = await projectFile();
        project.packageDirectories[1]!.dependencies = [{ package: 'Contact Center Link', versionNumber: '0.1.0.NEXT' }];
        assert.match(checkProjectFile(project)[0]?.message ?? '', /'0\.1\.0\.NEXT' is invalid.*'LATEST' or 'RELEASED'/);
        project.packageDirectories[1]!.dependencies = [{ package: 'Contact Center Link', versionNumber: '0.1.0.RELEASED' }];
        assert.deepEqual(checkProjectFile(project), []);
        project.packageAliases = { 'Contact Center Link@0.1.0-1': '04t5g000000AbCdAAK' };
        project.packageDirectories[1]!.dependencies = [{ package: 'Contact Center Link@0.1.0-1' }];
        assert.deepEqual(
            checkProjectFile(project).map((p) => p.message),
            ['must depend on Contact Center Link (its Named Credential uses the External Credential)']
        );
    });

    test('a package that is neither aliased nor in the project, or an alias that is no package id, is refused', async () => {
        const project = await projectFile();
        project.packageDirectories[1]!.dependencies!.push({ package: 'Somebody Else', versionNumber: '1.0.0.LATEST' });
        assert.match(checkProjectFile(project)[0]?.message ?? '', /"Somebody Else" is neither an alias in packageAliases nor a package/);
        const aliased = await projectFile();
        aliased.packageAliases = { 'Contact Center Link': 'not-an-id' };
        assert.match(checkProjectFile(aliased)[0]?.message ?? '', /not-an-id/);
    });

    test('the OAuth package stands alone', async () => {
        const project = await projectFile();
        project.packageDirectories[2]!.dependencies = [{ package: 'Contact Center Link', versionNumber: '0.1.0.LATEST' }];
        assert.deepEqual(
            checkProjectFile(project).map((p) => `${p.element}: ${p.message}`),
            ['force-app-oauth.dependencies: the OAuth package stands alone: it may depend on no package']
        );
    });

    test('a package version number must end in a build number or NEXT', async () => {
        const project = await projectFile();
        project.packageDirectories[0]!.versionNumber = '0.1.0.LATEST';
        assert.match(checkProjectFile(project)[0]?.message ?? '', /'0\.1\.0\.LATEST' is invalid.*'NEXT'/);
    });
});

describe('the documented test runs name every test class', () => {
    const classes = [
        parseApexClass('Widget', 'public with sharing class Widget { }'),
        parseApexClass('Gadget', 'public with sharing class Gadget { }'),
        parseApexClass('WidgetTest', '@IsTest\nprivate class WidgetTest {\n    @IsTest\n    static void works() { new Widget(); }\n}'),
        parseApexClass('GadgetTest', '@isTest\nprivate class GadgetTest {\n    @IsTest static void works() { Gadget g; }\n}'),
        parseApexClass('WidgetMock', '@IsTest\npublic class WidgetMock implements HttpCalloutMock { }')
    ];
    const doc = (...lists: string[]): string => lists.map((list) => `\`\`\`sh\n${list}\n\`\`\``).join('\n\nText\n\n');

    test('reads the tests of every command, across continued lines', () => {
        assert.deepEqual(
            testListsIn(
                doc(
                    'sf project deploy start --source-dir force-app \\\n  --test-level RunSpecifiedTests \\\n  --tests A --tests B',
                    'sf apex run test --class-names C'
                )
            ),
            [
                { line: 2, flag: '--tests', classes: ['A', 'B'] },
                { line: 10, flag: '--class-names', classes: ['C'] }
            ]
        );
        assert.deepEqual(testListsIn('Outside a code block: --tests A'), []);
    });

    test('a URL in a string starts no comment: the test class after it is still read as one', () => {
        const read = parseApexClass(
            'UrlTest',
            "@IsTest\nprivate class UrlTest {\n    private static final String BACKEND = 'https://ccl.example.com';\n    // it's a comment\n    @IsTest\n    static void works() { new Widget(); }\n}"
        );
        assert.equal(read.isTest, true);
        assert.equal(read.hasTestMethods, true);
        assert.doesNotMatch(read.source, /ccl\.example|it's/);
    });

    test('a complete run passes; a test utility class without test methods need not be named', () => {
        assert.deepEqual(
            testListProblems(classes, testListsIn(doc('sf project deploy start --tests WidgetTest --tests GadgetTest')), 'doc'),
            []
        );
    });

    test('a run that leaves out a test class fails, naming it', () => {
        assert.deepEqual(
            testListProblems(classes, testListsIn(doc('sf project deploy start --tests WidgetTest')), 'doc').map((p) => p.message),
            [
                "leaves out GadgetTest: a production deploy would count those classes' coverage as 0%",
                'no test class in the documented runs exercises Gadget'
            ]
        );
    });

    test('a class that no test class exercises fails, and so does a run naming a class that is no test', () => {
        const untested = [...classes, parseApexClass('Gizmo', 'public class Gizmo { }')];
        assert.deepEqual(
            testListProblems(
                untested,
                testListsIn(doc('sf apex run test --class-names WidgetTest --class-names GadgetTest --class-names Gizmo')),
                'doc'
            ).map((p) => p.message),
            ['names Gizmo, which is no test class of the package', 'no test class in the documented runs exercises Gizmo']
        );
    });

    test('a document that shows no run fails', () => {
        assert.match(testListProblems(classes, testListsIn('no commands'), 'doc')[0]?.message ?? '', /shows no command/);
    });

    test('a name in a comment or a string does not count as exercising a class', () => {
        const test = parseApexClass(
            'GadgetTest',
            "@IsTest\nprivate class GadgetTest {\n    // Gizmo\n    @IsTest static void works() { String s = 'Gizmo'; }\n}"
        );
        assert.doesNotMatch(test.source, /Gizmo/);
    });

    test('the repository’s guide names every test class in every run', async () => {
        assert.deepEqual(await checkApexTests(process.cwd()), []);
    });
});

describe('the External Client App as Salesforce distributes it', () => {
    let project: string;
    before(async () => {
        project = await copyOfProject();
    });
    after(async () => {
        await rm(project, { recursive: true, force: true });
    });

    test('the repository’s files have the retrieved shape (placeholders allowed) and no policies', async () => {
        assert.deepEqual(await oauthAppShapeProblems(process.cwd(), PACKAGE_DIRS), []);
    });

    test('a policy or global settings file in a package directory fails', async () => {
        const dir = path.join(project, 'force-app-oauth', 'main', 'default');
        await cp(path.join(dir, 'externalClientApps'), path.join(dir, 'extlClntAppOauthPolicies'), { recursive: true });
        await writeFile(path.join(dir, 'extlClntAppOauthPolicies', 'ContactCenterLink_oauthPlcy.ecaOauthPlcy-meta.xml'), '<x/>');
        await writeFile(path.join(dir, 'externalClientApps', 'ContactCenterLink_glbl.ecaGlblOauth-meta.xml'), '<x/>');
        const problems = (await oauthAppShapeProblems(project, PACKAGE_DIRS)).map((p) => `${path.basename(p.file)}: ${p.message}`).sort();
        assert.deepEqual(problems, [
            'ContactCenterLink_glbl.ecaGlblOauth-meta.xml: must not be in a package: global OAuth settings (the consumer key and secret) stay in the Dev Hub',
            'ContactCenterLink_oauthPlcy.ecaOauthPlcy-meta.xml: must not be in a package: External Client App OAuth policies are the subscriber’s: Salesforce never packages them'
        ]);
        await rm(path.join(dir, 'extlClntAppOauthPolicies'), { recursive: true });
        await rm(path.join(dir, 'externalClientApps', 'ContactCenterLink_glbl.ecaGlblOauth-meta.xml'));
    });

    test('a header or settings file written by hand (no contactEmail, orgScopedExternalApp or oauthLink) fails', async () => {
        const dir = path.join(project, 'force-app-oauth', 'main', 'default');
        const header = path.join(dir, 'externalClientApps', 'ContactCenterLink.eca-meta.xml');
        const settings = path.join(dir, 'extlClntAppOauthSettings', 'ContactCenterLink_oauth.ecaOauth-meta.xml');
        const [headerXml, settingsXml] = [await readFile(header, 'utf8'), await readFile(settings, 'utf8')];
        await writeFile(
            header,
            headerXml.replace(/<contactEmail>.*<\/contactEmail>/, '').replace(/<orgScopedExternalApp\s*>[^<]*<\/orgScopedExternalApp>/, '')
        );
        await writeFile(settings, settingsXml.replace(/<oauthLink>.*<\/oauthLink>/, ''));
        assert.deepEqual((await oauthAppShapeProblems(project, PACKAGE_DIRS)).map((p) => p.element).sort(), [
            'contactEmail',
            'oauthLink',
            'orgScopedExternalApp'
        ]);
        await writeFile(header, headerXml);
        await writeFile(settings, settingsXml);
    });

    test('the marker must travel with the OAuth package and be the one the Apex looks for', async () => {
        const marker = path.join(
            project,
            'force-app-oauth',
            'main',
            'default',
            'customPermissions',
            `${OAUTH_MARKER}.customPermission-meta.xml`
        );
        const saved = await readFile(marker, 'utf8');
        await rm(marker);
        assert.deepEqual(
            (await oauthAppShapeProblems(project, PACKAGE_DIRS)).map((p) => p.element),
            ['CustomPermission']
        );
        await writeFile(marker, saved);

        const setupClass = path.join(project, 'force-app', 'main', 'default', 'classes', 'ContactCenterLinkSetup.cls');
        const source = await readFile(setupClass, 'utf8');
        await writeFile(setupClass, source.replaceAll(`'${OAUTH_MARKER}'`, "'Some_Other_Marker'"));
        assert.deepEqual(
            (await oauthAppShapeProblems(project, PACKAGE_DIRS)).map((p) => p.element),
            ['APP_PACKAGE_MARKER']
        );
        await writeFile(setupClass, source);
        assert.deepEqual(await oauthAppShapeProblems(project, PACKAGE_DIRS), []);
    });
});

describe('the release refuses a version of the OAuth package while the app holds placeholders', () => {
    const retrieved: OAuthApp = {
        headerFile: 'h',
        settingsFile: 's',
        contactEmail: 'salesforce-admin@contact-center.test',
        distributionState: 'Packaged',
        orgScopedExternalApp: '00D5g000004AcmeEAC:ContactCenterLink',
        oauthLink: '00D5g000004AcmeEAC:888Hu000000AbCd',
        scopes: 'Api, RefreshToken'
    };

    test('the repository’s files are placeholders: refused, naming each', async () => {
        const problems = releaseProblems(await readOAuthApp(process.cwd()));
        assert.equal(problems.length, 3);
        assert.match(problems[0]!, new RegExp(`orgScopedExternalApp is "${PLACEHOLDERS.orgScopedExternalApp}"`));
        assert.match(problems[1]!, new RegExp(`oauthLink is "${PLACEHOLDERS.oauthLink}", a placeholder`));
        assert.match(problems[2]!, /contactEmail is "contact-center-link@example.com"/);
    });

    test('what the Dev Hub retrieves passes', () => {
        assert.deepEqual(releaseProblems(retrieved), []);
    });

    test('an oauthLink of another org than orgScopedExternalApp, or none, is refused', () => {
        assert.match(releaseProblems({ ...retrieved, oauthLink: '00D5g000009OtherEAC:888Hu000000AbCd' })[0] ?? '', /names another org/);
        assert.match(releaseProblems({ ...retrieved, oauthLink: undefined })[0] ?? '', /oauthLink is "", a placeholder/);
        assert.match(
            releaseProblems({ ...retrieved, orgScopedExternalApp: '00D5g000004AcmeEAC:OtherApp' })[0] ?? '',
            /orgScopedExternalApp/
        );
    });
});
