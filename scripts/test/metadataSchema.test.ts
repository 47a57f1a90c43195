import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadMetadataSchema, validateMetadataXml, type MetadataSchema } from '../metadataSchema.ts';
import { checkApiVersions, convertSource, validateMetadataDirectory } from '../check-package.ts';

const namedCredentialSource = 'force-app-endpoint/main/default/namedCredentials/ContactCenterLink.namedCredential-meta.xml';
const externalCredentialSource = 'force-app/main/default/externalCredentials/ContactCenterLink.externalCredential-meta.xml';

describe('metadata schema check', () => {
    let schema: MetadataSchema;
    let namedCredential: string;
    before(async () => {
        schema = loadMetadataSchema();
        namedCredential = await readFile(namedCredentialSource, 'utf8');
    });

    test('reads Salesforce types, their fields and enumerations from @salesforce/types', () => {
        const fields = schema.complexTypes.get('NamedCredential');
        assert.ok(fields?.get('label')?.required, 'label is required');
        assert.equal(fields?.get('namedCredentialParameters')?.many, true);
        assert.ok(schema.enums.get('CalloutStatus')?.has('Enabled'));
        assert.ok(schema.complexTypes.get('ExtlClntAppOauthConfigurablePolicies')?.has('commaSeparatedPermissionSet'));
    });

    test('the package Named Credential is valid', () => {
        assert.deepEqual(validateMetadataXml(schema, 'nc', namedCredential), []);
    });

    test('an injected unknown element fails, naming the file and the element', () => {
        const broken = namedCredential.replace('<label>', '<labelColour>red</labelColour>\n    <label>');
        const problems = validateMetadataXml(schema, 'namedCredentials/ContactCenterLink.namedCredential', broken);
        assert.equal(problems.length, 1);
        assert.equal(problems[0]?.file, 'namedCredentials/ContactCenterLink.namedCredential');
        assert.equal(problems[0]?.element, 'NamedCredential > labelColour');
        assert.match(problems[0]?.message ?? '', /unknown element/);
    });

    test('an injected bad enumeration value fails', () => {
        const broken = namedCredential.replace('<calloutStatus>Enabled</calloutStatus>', '<calloutStatus>Sometimes</calloutStatus>');
        const problems = validateMetadataXml(schema, 'nc', broken);
        assert.equal(problems.length, 1);
        assert.equal(problems[0]?.element, 'NamedCredential > calloutStatus');
        assert.match(problems[0]?.message ?? '', /"Sometimes" is not a CalloutStatus/);
    });

    test('a bad value deep in the document names its path', () => {
        const broken = namedCredential.replace('<parameterType>Url</parameterType>', '<parameterType>Link</parameterType>');
        const problems = validateMetadataXml(schema, 'nc', broken);
        assert.deepEqual(
            problems.map((p) => p.element),
            ['NamedCredential > namedCredentialParameters > parameterType']
        );
    });

    test('a bad boolean, a repeated single element and a missing required element fail', () => {
        const broken = namedCredential
            .replace('<allowMergeFieldsInBody>false</allowMergeFieldsInBody>', '<allowMergeFieldsInBody>no</allowMergeFieldsInBody>')
            .replace(/<label>[^<]*<\/label>/, '')
            .replace(
                '<calloutStatus>Enabled</calloutStatus>',
                '<calloutStatus>Enabled</calloutStatus><calloutStatus>Enabled</calloutStatus>'
            );
        const messages = validateMetadataXml(schema, 'nc', broken).map((p) => `${p.element}: ${p.message}`);
        assert.deepEqual(messages.sort(), [
            'NamedCredential > allowMergeFieldsInBody: "no" is not a boolean (true or false)',
            'NamedCredential > calloutStatus: calloutStatus may appear only once',
            'NamedCredential: missing required element label'
        ]);
    });

    test('a root that is not a metadata type, or without the namespace, fails', () => {
        assert.match(
            validateMetadataXml(schema, 'x', '<?xml version="1.0"?><NamedCredentialz xmlns="http://soap.sforce.com/2006/04/metadata"/>')[0]
                ?.message ?? '',
            /not a Metadata API type/
        );
        assert.match(
            validateMetadataXml(schema, 'x', '<?xml version="1.0"?><NamedCredential><label>x</label></NamedCredential>')[0]?.message ?? '',
            /xmlns/
        );
        assert.match(validateMetadataXml(schema, 'x', '<?xml version="1.0"?><NamedCredential')[0]?.message ?? '', /well-formed/);
    });

    describe('on files sf project convert source produces', () => {
        let work: string;
        before(async () => {
            work = await mkdtemp(path.join(tmpdir(), 'ccl-schema-test-'));
        });
        after(async () => {
            await rm(work, { recursive: true, force: true });
        });

        test('the converted output of a source directory with an injected defect fails with the converted file', async () => {
            const source = path.join(work, 'src', 'main', 'default');
            await mkdir(path.join(source, 'externalCredentials'), { recursive: true });
            const externalCredential = await readFile(externalCredentialSource, 'utf8');
            await writeFile(
                path.join(source, 'externalCredentials', 'ContactCenterLink.externalCredential-meta.xml'),
                externalCredential.replace(
                    '<authenticationProtocol>Custom</authenticationProtocol>',
                    '<authenticationProtocol>Magic</authenticationProtocol>'
                )
            );
            const converted = await convertSource(process.cwd(), [path.join(work, 'src')]);
            try {
                const problems = await validateMetadataDirectory(schema, converted.dir);
                assert.deepEqual(
                    problems.map((p) => `${p.file}: ${p.element}`),
                    [
                        `${path.join('externalCredentials', 'ContactCenterLink.externalCredential')}: ExternalCredential > authenticationProtocol`
                    ]
                );
            } finally {
                await converted.cleanUp();
            }
        });

        test('an apiVersion other than the declared one fails', async () => {
            const dir = path.join(work, 'versions', 'classes');
            await mkdir(dir, { recursive: true });
            await writeFile(
                path.join(dir, 'A.cls-meta.xml'),
                '<ApexClass xmlns="http://soap.sforce.com/2006/04/metadata"><apiVersion>62.0</apiVersion></ApexClass>'
            );
            const problems = await checkApiVersions(work, { sourceApiVersion: '66.0', packageDirectories: [{ path: 'versions' }] });
            assert.deepEqual(
                problems.map((p) => `${p.file}: ${p.message}`),
                [`${path.join('versions', 'classes', 'A.cls-meta.xml')}: is 62.0; sfdx-project.json declares 66.0`]
            );
        });
    });
});
