import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { APEX_LS_MIN_JAVA, findJava, runApexSemanticCheck } from '../check-apex.ts';
import { runPmd } from '../check-apex-pmd.ts';

const CONTROLLER = path.join('force-app', 'main', 'default', 'classes', 'ContactCenterLinkController.cls');

describe('Apex checks on injected defects', () => {
    let work: string;
    before(async () => {
        work = await mkdtemp(path.join(tmpdir(), 'ccl-apex-checks-'));
        // A copy of the package's main directory, with its labels and classes, as its own project.
        await cp('force-app', path.join(work, 'force-app'), { recursive: true });
        const project = JSON.parse(await readFile('sfdx-project.json', 'utf8')) as Record<string, unknown>;
        project.packageDirectories = [{ path: 'force-app', default: true }];
        await writeFile(path.join(work, 'sfdx-project.json'), JSON.stringify(project));
    });
    after(async () => {
        await rm(work, { recursive: true, force: true });
    });

    test('findJava reports every candidate it tried when none is new enough', async () => {
        const saved = process.env.APEX_LS_JAVA;
        process.env.APEX_LS_JAVA = path.join(work, 'no-such-java');
        try {
            const { java, tried } = await findJava(1000, path.join(work, 'no-jvm-root'));
            assert.equal(java, undefined);
            assert.match(tried.join(', '), /no-such-java \(not runnable\)/);
        } finally {
            if (saved === undefined) delete process.env.APEX_LS_JAVA;
            else process.env.APEX_LS_JAVA = saved;
        }
    });

    test('apex-ls fails on a call of a method that does not exist', async (t) => {
        const { java, tried } = await findJava(APEX_LS_MIN_JAVA);
        if (!java) {
            t.skip(`APEX SEMANTIC CHECK NOT TESTED: no Java ${APEX_LS_MIN_JAVA}+ (tried ${tried.join(', ')})`);
            return;
        }
        const controller = path.join(work, CONTROLLER);
        const source = await readFile(controller, 'utf8');
        assert.deepEqual(await runApexSemanticCheck(java, work), [], 'the copy is clean before the injection');
        await writeFile(
            controller,
            source.replace('new ContactCenterLinkClient().getLink()', 'new ContactCenterLinkClient().getLinkStatusNow()')
        );
        try {
            const issues = await runApexSemanticCheck(java, work);
            assert.equal(issues.length, 1);
            assert.equal(issues[0]?.file, CONTROLLER);
            assert.match(
                issues[0]?.message ?? '',
                /No matching method found for 'getLinkStatusNow' on '(cclink\.)?ContactCenterLinkClient'/
            );
        } finally {
            await writeFile(controller, source);
        }
    });

    test("PMD reports an injected SOQL query that ignores the user's access, and an http remote site", async () => {
        const dir = path.join(work, 'pmd', 'classes');
        await mkdir(dir, { recursive: true });
        await writeFile(
            path.join(dir, 'LeakyLookup.cls'),
            [
                'public with sharing class LeakyLookup {',
                '    public static List<Contact> byPhone(String phone) {',
                '        return [SELECT Id, Name FROM Contact WHERE Phone = :phone];',
                '    }',
                '}',
                ''
            ].join('\n')
        );
        const sites = path.join(work, 'pmd', 'remoteSiteSettings');
        await mkdir(sites, { recursive: true });
        await writeFile(
            path.join(sites, 'Backend.remoteSite-meta.xml'),
            [
                '<?xml version="1.0" encoding="UTF-8"?>',
                '<RemoteSiteSetting xmlns="http://soap.sforce.com/2006/04/metadata">',
                '    <disableProtocolSecurity>false</disableProtocolSecurity>',
                '    <isActive>true</isActive>',
                '    <url>http://backend.example.com</url>',
                '</RemoteSiteSetting>',
                ''
            ].join('\n')
        );
        const { rules, findings } = await runPmd([path.join(work, 'pmd')]);
        assert.ok(rules.includes('ApexCRUDViolation') && rules.includes('ApexSOQLInjection'), 'security rules are selected');
        assert.ok(
            rules.some((rule) => rule.startsWith('AvoidHardcodedCredentials')),
            'AppExchange Apex rules are selected'
        );
        assert.ok(rules.includes('AvoidInsecureHttpRemoteSiteSetting'), 'AppExchange metadata rules are selected');
        assert.deepEqual(findings.map((f) => `${path.basename(f.file)}:${f.rule}`).sort(), [
            'Backend.remoteSite-meta.xml:AvoidInsecureHttpRemoteSiteSetting',
            'LeakyLookup.cls:ApexCRUDViolation'
        ]);
        assert.equal(findings.find((f) => f.rule === 'ApexCRUDViolation')?.line, 3);
    });
});
