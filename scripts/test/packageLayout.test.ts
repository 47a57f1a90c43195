// Rules about the package that only an org would otherwise show: where the backend URL
// and the OAuth app live, and how the Apex tests must be written to pass in an org.
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { XMLParser } from 'fast-xml-parser';

const CLASSES = path.join('force-app', 'main', 'default', 'classes');

async function files(dir: string): Promise<string[]> {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries
        .filter((entry) => entry.isFile())
        .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
        .sort();
}

/** The test methods of an Apex test class: name and body. */
function testMethods(source: string): { name: string; body: string }[] {
    const methods: { name: string; body: string }[] = [];
    const pattern = /@IsTest\s+static void (\w+)\(\)\s*\{/g;
    let match: RegExpExecArray | null;
    while ((match = pattern.exec(source))) {
        let depth = 1;
        let index = pattern.lastIndex;
        while (depth > 0 && index < source.length) {
            if (source[index] === '{') depth++;
            if (source[index] === '}') depth--;
            index++;
        }
        methods.push({ name: match[1] ?? '', body: source.slice(pattern.lastIndex, index) });
    }
    return methods;
}

/** Test methods that install a callout mock before Test.startTest() ("You have uncommitted work pending" after DML). */
export function mocksBeforeStartTest(source: string): string[] {
    return testMethods(source)
        .filter(({ body }) => {
            const mock = body.search(/ContactCenterLinkCalloutMock\.install|Test\.setMock\(/);
            if (mock === -1) return false;
            const start = body.indexOf('Test.startTest()');
            return start === -1 || start > mock;
        })
        .map(({ name }) => name);
}

describe('Apex tests written the way an org runs them', () => {
    test('the rule catches a mock installed before Test.startTest()', () => {
        const late =
            '@IsTest\n    static void a() {\n        ContactCenterLinkCalloutMock.install(200, x);\n        Test.startTest();\n    }';
        const right = '@IsTest\n    static void b() {\n        Test.startTest();\n        Test.setMock(HttpCalloutMock.class, m);\n    }';
        assert.deepEqual(mocksBeforeStartTest(late + '\n' + right), ['a']);
    });

    for (const testClass of ['ContactCenterLinkControllerTest.cls', 'ContactCenterLinkClientTest.cls']) {
        test(`${testClass}: every callout mock comes after Test.startTest()`, async () => {
            const source = await readFile(path.join(CLASSES, testClass), 'utf8');
            assert.ok(testMethods(source).length > 5, 'test methods found');
            assert.deepEqual(mocksBeforeStartTest(source), []);
        });
    }

    test('the test admin is created inside System.runAs with a profile chosen on purpose', async () => {
        const source = await readFile(path.join(CLASSES, 'ContactCenterLinkControllerTest.cls'), 'utf8');
        const setup = source.slice(source.indexOf('@TestSetup'), source.indexOf('/** Standard User'));
        assert.ok(
            setup.indexOf('System.runAs(') !== -1 && setup.indexOf('System.runAs(') < setup.indexOf('insert admin'),
            'insert inside runAs'
        );
        assert.doesNotMatch(source, /UserInfo\.getProfileId\(\)/, 'never the deploying user profile');
        assert.match(setup, /ProfileId = salesforceLicensedProfileId\(\)/);
    });
});

describe('where the backend URL and the OAuth app live', () => {
    test('the Named Credential (the backend URL) is alone in force-app-endpoint, so redeploys of force-app never reset it', async () => {
        assert.deepEqual(await files('force-app-endpoint'), [
            path.join('main', 'default', 'namedCredentials', 'ContactCenterLink.namedCredential-meta.xml')
        ]);
        const main = await files('force-app');
        assert.equal(main.filter((file) => file.includes('namedCredentials')).length, 0);
    });

    test('force-app-oauth holds the External Client App as the Dev Hub retrieves it and the marker, no policies, no secret', async () => {
        const oauth = await files('force-app-oauth');
        assert.deepEqual(oauth.map((file) => path.basename(file)).sort(), [
            'ContactCenterLink.eca-meta.xml',
            'ContactCenterLink_oauth.ecaOauth-meta.xml',
            'Contact_Center_Link_OAuth_App.customPermission-meta.xml'
        ]);
        const main = await files('force-app');
        assert.equal(main.filter((file) => /\.eca[A-Za-z]*-meta\.xml$/.test(file)).length, 0);
        const app = new XMLParser().parse(
            await readFile(path.join('force-app-oauth', 'main', 'default', 'externalClientApps', 'ContactCenterLink.eca-meta.xml'), 'utf8')
        ).ExternalClientApplication as Record<string, string>;
        assert.equal(app.distributionState, 'Packaged');
        assert.ok(app.contactEmail, 'contactEmail, as retrieved');
        assert.match(app.orgScopedExternalApp ?? '', /:ContactCenterLink$/);
        const settings = new XMLParser().parse(
            await readFile(
                path.join('force-app-oauth', 'main', 'default', 'extlClntAppOauthSettings', 'ContactCenterLink_oauth.ecaOauth-meta.xml'),
                'utf8'
            )
        ).ExtlClntAppOauthSettings as Record<string, string>;
        assert.ok(settings.oauthLink, 'oauthLink, as retrieved (a placeholder until the release step)');
    });

    test('the release files never travel: .forceignore leaves out global OAuth settings and policies', async () => {
        const ignore = await readFile('.forceignore', 'utf8');
        for (const folder of ['extlClntAppGlobalOauthSets', 'extlClntAppPolicies', 'extlClntAppOauthPolicies']) {
            assert.match(ignore, new RegExp(`^\\*\\*/${folder}/\\*\\*$`, 'm'), folder);
        }
    });
});
