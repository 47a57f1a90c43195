import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadMetadataSchema, schemaFromTable, validateMetadataXml, type MetadataSchema } from '../metadataSchema.ts';
import { deriveMetadataTable, formatMetadataTable, PACKAGE_METADATA_TYPES } from '../metadataWsdl.ts';
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

    test('reads the types, their elements (with their base type’s) and enumerations of API 66.0 from the table', () => {
        assert.equal(schema.version, '66.0');
        const fields = schema.complexTypes.get('NamedCredential');
        assert.ok(fields?.get('label')?.required, 'label is required');
        assert.equal(fields?.get('namedCredentialParameters')?.many, true);
        assert.equal(fields?.get('fullName')?.required, false, 'inherited from Metadata');
        assert.ok(schema.enums.get('CalloutStatus')?.has('Enabled'));
        assert.ok(schema.complexTypes.get('ExtlClntAppOauthSettings')?.has('oauthLink'));
        assert.ok(schema.complexTypes.get('ExternalClientApplication')?.has('orgScopedExternalApp'));
        assert.ok(schema.metadataTypes.has('PermissionSet'));
        assert.ok(!schema.metadataTypes.has('PermissionSetFieldPermissions'), 'an element type is no file’s root');
    });

    describe('pinned to API 66.0, not to a newer or older schema', () => {
        const permissionSet = (inner: string): string =>
            `<?xml version="1.0"?><PermissionSet xmlns="http://soap.sforce.com/2006/04/metadata"><label>Ops</label>${inner}</PermissionSet>`;
        const application = (inner: string): string =>
            `<?xml version="1.0"?><CustomApplication xmlns="http://soap.sforce.com/2006/04/metadata"><label>Ops</label>${inner}</CustomApplication>`;

        test('PermissionSet.enrichments (newer than 66.0) is refused', () => {
            const problems = validateMetadataXml(schema, 'ps', permissionSet('<enrichments><name>x</name></enrichments>'));
            assert.deepEqual(
                problems.map((p) => `${p.element}: ${p.message}`),
                ['PermissionSet > enrichments: unknown element: PermissionSet has no enrichments at API 66.0']
            );
        });

        test('CustomApplication.uiBundle (newer than 66.0) is refused', () => {
            const problems = validateMetadataXml(schema, 'app', application('<uiBundle>Ops</uiBundle>'));
            assert.deepEqual(
                problems.map((p) => `${p.element}: ${p.message}`),
                ['CustomApplication > uiBundle: unknown element: CustomApplication has no uiBundle at API 66.0']
            );
        });

        test('PermissionSet.dataspaceScopes (in 66.0) is accepted', () => {
            // A DataspaceScopeAccess with the elements 66.0 requires of it.
            const required = [
                'customizeDataApplicationDefinitions',
                'customizeDataObjSecondaryIndexDefinitions',
                'customizeDataShareDefinitions',
                'customizeFTestDataspaceScopedDefinition',
                'customizeMLPredictionDefinitions',
                'customizeSemanticSearchDefinitions',
                'viewDataApplicationDefinitions',
                'viewDataObjSecondaryIndexDefinitions',
                'viewDataShareDefinitions',
                'viewFTestDataspaceScopedDefinition',
                'viewMLPredictionDefinitions',
                'viewSemanticSearchDefinitions'
            ];
            const scope = `<dataspaceScopes>${required.map((name) => `<${name}>false</${name}>`).join('')}<dataspaceScope>default</dataspaceScope></dataspaceScopes>`;
            assert.deepEqual(validateMetadataXml(schema, 'ps', permissionSet(scope)), []);
        });

        test('CustomApplication.tabSetType (in 66.0) is accepted', () => {
            assert.deepEqual(validateMetadataXml(schema, 'app', application('<tabSetType>Standard</tabSetType>')), []);
        });
    });

    describe('the table, derived from a Metadata WSDL', () => {
        const wsdl = `<?xml version="1.0" encoding="UTF-8"?>
<!--
Salesforce.com Metadata API version 99.0
-->
<definitions targetNamespace="http://soap.sforce.com/2006/04/metadata" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns="http://schemas.xmlsoap.org/wsdl/" xmlns:tns="http://soap.sforce.com/2006/04/metadata">
 <types>
  <xsd:schema elementFormDefault="qualified" targetNamespace="http://soap.sforce.com/2006/04/metadata">
   <xsd:complexType name="DeployResult">
    <xsd:sequence><xsd:element name="done" type="xsd:boolean"/></xsd:sequence>
   </xsd:complexType>
   <xsd:complexType name="Metadata">
    <xsd:sequence><xsd:element name="fullName" minOccurs="0" type="xsd:string"/></xsd:sequence>
   </xsd:complexType>
   <xsd:complexType name="Gadget">
    <xsd:complexContent>
     <xsd:extension base="tns:Metadata">
      <xsd:sequence>
       <xsd:element name="colour" type="tns:Colour"/>
       <xsd:element name="createdOn" minOccurs="0" type="xsd:dateTime"/>
       <xsd:element name="id" minOccurs="0" type="tns:ID"/>
       <xsd:element name="parts" minOccurs="0" maxOccurs="unbounded" type="tns:GadgetPart"/>
      </xsd:sequence>
     </xsd:extension>
    </xsd:complexContent>
   </xsd:complexType>
   <xsd:complexType name="GadgetPart">
    <xsd:sequence>
     <xsd:element name="count" type="xsd:int"/>
     <xsd:element name="fragile" minOccurs="0" type="xsd:boolean"/>
    </xsd:sequence>
   </xsd:complexType>
   <xsd:simpleType name="Colour">
    <xsd:restriction base="xsd:string"><xsd:enumeration value="Red"/><xsd:enumeration value="Blue"/></xsd:restriction>
   </xsd:simpleType>
   <xsd:simpleType name="ID">
    <xsd:restriction base="xsd:string"><xsd:length value="18"/></xsd:restriction>
   </xsd:simpleType>
   <xsd:simpleType name="DeployProblemType">
    <xsd:restriction base="xsd:string"><xsd:enumeration value="Warning"/></xsd:restriction>
   </xsd:simpleType>
  </xsd:schema>
 </types>
</definitions>`;

        test('keeps the version, the types a file can hold and what they reach, their elements and enumerations', () => {
            const table = deriveMetadataTable(wsdl, 'a test WSDL');
            assert.equal(table.version, '99.0');
            assert.deepEqual(Object.keys(table.types), ['Gadget', 'GadgetPart', 'Metadata'], 'no SOAP result types');
            assert.deepEqual(table.types['Gadget'], {
                base: 'Metadata',
                fields: { colour: 'Colour!', createdOn: 'string', id: 'string', parts: 'GadgetPart[]' }
            });
            assert.deepEqual(table.types['GadgetPart']?.fields, { count: 'number!', fragile: 'boolean' });
            assert.deepEqual(table.enums, { Colour: ['Red', 'Blue'] });
            assert.deepEqual(JSON.parse(formatMetadataTable(table)), table);
        });

        test('validates files against what it derived', () => {
            const derived = schemaFromTable(deriveMetadataTable(wsdl, 'a test WSDL'));
            const gadget = (inner: string): string => `<Gadget xmlns="http://soap.sforce.com/2006/04/metadata">${inner}</Gadget>`;
            assert.deepEqual(validateMetadataXml(derived, 'g', gadget('<colour>Red</colour><parts><count>2</count></parts>')), []);
            assert.deepEqual(
                validateMetadataXml(derived, 'g', gadget('<colour>Green</colour><parts><count>two</count></parts>')).map((p) => p.message),
                ['"Green" is not a Colour (Red, Blue)', '"two" is not a number']
            );
            assert.match(
                validateMetadataXml(derived, 'g', '<GadgetPart xmlns="http://soap.sforce.com/2006/04/metadata"/>')[0]?.message ?? '',
                /not a Metadata API type at API 99\.0/
            );
        });

        test('with roots, keeps only them and what they reach; a root that is no metadata type is refused', () => {
            const table = deriveMetadataTable(wsdl, 'a test WSDL', ['Gadget']);
            assert.deepEqual(Object.keys(table.types), ['Gadget', 'GadgetPart', 'Metadata']);
            assert.throws(
                () => deriveMetadataTable(wsdl, 'a test WSDL', ['Gadget', 'GadgetPart']),
                /Not metadata types in this WSDL: GadgetPart/
            );
        });

        test('refuses a file that is not a Metadata WSDL', () => {
            assert.throws(() => deriveMetadataTable('<definitions/>', 'x'), /Metadata API version/);
        });
    });

    test('the table holds every type the package may be and what they reach, not the whole WSDL', () => {
        for (const type of PACKAGE_METADATA_TYPES) assert.ok(schema.metadataTypes.has(type), type);
        assert.ok(schema.metadataTypes.has('CustomLabel'), 'reached from CustomLabels');
        assert.equal(schema.metadataTypes.has('Flow'), false, 'a type the package does not hold');
        assert.match(
            validateMetadataXml(schema, 'f', '<?xml version="1.0"?><Flow xmlns="http://soap.sforce.com/2006/04/metadata"/>')[0]?.message ??
                '',
            /PACKAGE_METADATA_TYPES/
        );
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
