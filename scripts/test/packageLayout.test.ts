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

    test('the External Client App is alone in force-app-oauth, never in a source deploy of force-app', async () => {
        const oauth = await files('force-app-oauth');
        assert.deepEqual(oauth.map((file) => path.basename(file)).sort(), [
            'ContactCenterLink.eca-meta.xml',
            'ContactCenterLink_oauth.ecaOauth-meta.xml',
            'ContactCenterLink_oauthPlcy.ecaOauthPlcy-meta.xml',
            'ContactCenterLink_plcy.ecaPlcy-meta.xml'
        ]);
        const main = await files('force-app');
        assert.equal(main.filter((file) => /\.eca[A-Za-z]*-meta\.xml$/.test(file)).length, 0);
        const policies = await readFile(
            path.join(
                'force-app-oauth',
                'main',
                'default',
                'extlClntAppOauthPolicies',
                'ContactCenterLink_oauthPlcy.ecaOauthPlcy-meta.xml'
            ),
            'utf8'
        );
        const policy = new XMLParser().parse(policies).ExtlClntAppOauthConfigurablePolicies as Record<string, string>;
        assert.equal(policy.permittedUsersPolicyType, 'AdminApprovedPreAuthorized');
        assert.equal(policy.commaSeparatedPermissionSet, 'Contact_Center_API_User');
        assert.ok(main.includes(path.join('main', 'default', 'permissionsets', 'Contact_Center_API_User.permissionset-meta.xml')));
        const app = await readFile(
            path.join('force-app-oauth', 'main', 'default', 'externalClientApps', 'ContactCenterLink.eca-meta.xml'),
            'utf8'
        );
        assert.equal(new XMLParser().parse(app).ExternalClientApplication.distributionState, 'Packaged');
        // The global OAuth settings (consumer key and secret, callback URL) stay in the vendor's org.
        assert.equal(oauth.filter((file) => file.includes('GlblOauth')).length, 0);
    });

    test('sfdx-project.json: three packages in one placeholder namespace, the endpoint and OAuth packages on top of the main one', async () => {
        const project = JSON.parse(await readFile('sfdx-project.json', 'utf8')) as {
            namespace: string;
            packageDirectories: { path: string; package: string; default?: boolean; dependencies?: { package: string }[] }[];
        };
        assert.match(project.namespace, /^[a-z][a-z0-9]{0,14}$/);
        const byPath = new Map(project.packageDirectories.map((dir) => [dir.path, dir]));
        assert.equal(byPath.get('force-app')?.default, true);
        for (const dependent of ['force-app-endpoint', 'force-app-oauth']) {
            assert.deepEqual(byPath.get(dependent)?.dependencies, [{ package: byPath.get('force-app')?.package }]);
        }
    });
});
