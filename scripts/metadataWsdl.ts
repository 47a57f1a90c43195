// Derives, from Salesforce's published Metadata API WSDL, the table of metadata types and their elements that the
// schema check validates against (scripts/metadata/<version>.json). The table is data: each type's base type and
// elements (type, whether required, whether repeated) and each enumeration's values, for the metadata types the
// package's files are (PACKAGE_METADATA_TYPES) and every type they reach. Run once per API version, and again when
// the package holds a new kind of metadata (add it to the list first):
//   npm run schema:derive -- path/to/metadata.wsdl
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { XMLParser } from 'fast-xml-parser';

export const METADATA_TABLE_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'metadata');

/**
 * The metadata types the package's files are (force-app, force-app-endpoint, force-app-oauth as `sf project convert
 * source` writes them), and those it is expected to add next (an app, a remote site, the External Client App's global
 * settings and policies). A file of any other type fails the schema check as unknown: add its type here and derive again.
 */
export const PACKAGE_METADATA_TYPES = [
    'ApexClass',
    'CustomApplication',
    'CustomLabels',
    'CustomPermission',
    'CustomTab',
    'ExternalClientApplication',
    'ExternalCredential',
    'ExtlClntAppGlobalOauthSettings',
    'ExtlClntAppOauthConfigurablePolicies',
    'ExtlClntAppOauthSettings',
    'FlexiPage',
    'LightningComponentBundle',
    'NamedCredential',
    // package.xml, the manifest the conversion writes
    'Package',
    'PermissionSet',
    'RemoteSiteSetting'
] as const;

/**
 * An element's type as the table writes it: a primitive (string, boolean, number, any) or a type's name, then "[]"
 * when it may repeat and "!" when it is required.
 */
export type FieldSpec = string;

export interface MetadataTable {
    /** The API version of the WSDL the table was derived from. */
    version: string;
    /** Where the WSDL came from. */
    source: string;
    types: Record<string, { base?: string; fields: Record<string, FieldSpec> }>;
    enums: Record<string, string[]>;
}

const XSD_PRIMITIVES: Record<string, string> = {
    string: 'string',
    date: 'string',
    dateTime: 'string',
    time: 'string',
    base64Binary: 'string',
    boolean: 'boolean',
    int: 'number',
    long: 'number',
    double: 'number',
    anyType: 'any'
};

type Node = Record<string, unknown>;

function list(value: unknown): Node[] {
    if (value === undefined) return [];
    return (Array.isArray(value) ? value : [value]) as Node[];
}

/** "tns:Foo" → "Foo", "xsd:string" → "string" (a primitive), failing on what the table cannot say. */
function typeName(ref: string, simpleAliases: Map<string, string>): string {
    const [prefix, name] = ref.includes(':') ? (ref.split(':') as [string, string]) : ['', ref];
    if (prefix === 'xsd') {
        const primitive = XSD_PRIMITIVES[name];
        if (!primitive) throw new Error(`The WSDL uses xsd:${name}, which the table has no primitive for`);
        return primitive;
    }
    return simpleAliases.get(name) ?? name;
}

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', removeNSPrefix: false });

/** The table of one Metadata WSDL: the `roots` (by default every type extending Metadata) and every type they reach. */
export function deriveMetadataTable(wsdl: string, source: string, roots?: readonly string[]): MetadataTable {
    const version = /Metadata API version (\d+\.\d+)/.exec(wsdl)?.[1];
    if (!version) throw new Error('Not a Salesforce Metadata WSDL: its header names no "Metadata API version"');
    const document = parser.parse(wsdl) as Node;
    const schema = ((document['definitions'] as Node)['types'] as Node)['xsd:schema'] as Node;

    const enums: Record<string, string[]> = {};
    const simpleAliases = new Map<string, string>();
    for (const simple of list(schema['xsd:simpleType'])) {
        const name = String(simple['@name']);
        const restriction = simple['xsd:restriction'] as Node;
        const values = list(restriction['xsd:enumeration']).map((value) => String(value['@value']));
        if (values.length > 0) enums[name] = values;
        else simpleAliases.set(name, typeName(String(restriction['@base']), new Map()));
    }

    const all: MetadataTable['types'] = {};
    for (const complex of list(schema['xsd:complexType'])) {
        const name = String(complex['@name']);
        const extension = (complex['xsd:complexContent'] as Node | undefined)?.['xsd:extension'] as Node | undefined;
        const sequence = (extension ?? complex)['xsd:sequence'] as Node | undefined;
        const fields: Record<string, FieldSpec> = {};
        for (const element of list(sequence?.['xsd:element'])) {
            const type = typeName(String(element['@type']), simpleAliases);
            const many = element['@maxOccurs'] === 'unbounded';
            const required = element['@minOccurs'] !== '0';
            fields[String(element['@name'])] = `${type}${many ? '[]' : ''}${required ? '!' : ''}`;
        }
        all[name] = extension ? { base: typeName(String(extension['@base']), simpleAliases), fields } : { fields };
    }

    // What the files can hold: the roots (each a type extending Metadata) and every type they reach.
    const extendsMetadata = (name: string): boolean => {
        for (let current: string | undefined = name; current; current = all[current]?.base) {
            if (current === 'Metadata') return true;
        }
        return false;
    };
    const types: MetadataTable['types'] = {};
    const unknown = roots?.filter((name) => !extendsMetadata(name)) ?? [];
    if (unknown.length) throw new Error(`Not metadata types in this WSDL: ${unknown.join(', ')}`);
    const pending = roots ? [...roots] : Object.keys(all).filter(extendsMetadata);
    while (pending.length > 0) {
        const name = pending.pop()!;
        const type = all[name];
        if (!type || types[name]) continue;
        types[name] = type;
        if (type.base) pending.push(type.base);
        for (const spec of Object.values(type.fields)) pending.push(spec.replace(/[[\]!]/g, ''));
    }
    const used = new Set(Object.values(types).flatMap((type) => Object.values(type.fields).map((spec) => spec.replace(/[[\]!]/g, ''))));
    const sortedTypes = Object.fromEntries(Object.entries(types).sort(([a], [b]) => a.localeCompare(b)));
    const sortedEnums = Object.fromEntries(
        Object.entries(enums)
            .filter(([name]) => used.has(name))
            .sort(([a], [b]) => a.localeCompare(b))
    );
    return { version, source, types: sortedTypes, enums: sortedEnums };
}

/** The table as written to disk: one type or enumeration a line, so that a new API version reads as a diff. */
export function formatMetadataTable(table: MetadataTable): string {
    const block = (entries: Record<string, unknown>): string =>
        Object.entries(entries)
            .map(([name, value]) => `    ${JSON.stringify(name)}: ${JSON.stringify(value)}`)
            .join(',\n');
    return `{\n  "version": ${JSON.stringify(table.version)},\n  "source": ${JSON.stringify(table.source)},\n  "types": {\n${block(table.types)}\n  },\n  "enums": {\n${block(table.enums)}\n  }\n}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
    const [file, source] = process.argv.slice(2);
    if (!file) {
        console.error('Usage: npm run schema:derive -- path/to/metadata.wsdl ["where it came from"]');
        process.exit(2);
    }
    const table = deriveMetadataTable(
        await readFile(file, 'utf8'),
        source ?? `Salesforce Metadata API WSDL (${path.basename(file)})`,
        PACKAGE_METADATA_TYPES
    );
    const out = path.join(METADATA_TABLE_DIR, `${table.version}.json`);
    await writeFile(out, formatMetadataTable(table));
    console.log(`${out}: ${Object.keys(table.types).length} types, ${Object.keys(table.enums).length} enumerations (API ${table.version})`);
}
