// Salesforce's Metadata API schema at the package's API version, read from the table derived from Salesforce's
// published Metadata WSDL of that version (scripts/metadata/<version>.json, see metadataWsdl.ts), and a validator
// for metadata XML files.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { METADATA_TABLE_DIR, type MetadataTable } from './metadataWsdl.ts';

export const METADATA_NAMESPACE = 'http://soap.sforce.com/2006/04/metadata';

/** The API version this schema validates: the package's sourceApiVersion, and the version of the WSDL the table holds. */
export const SCHEMA_API_VERSION = '66.0';

// 'any' is xsd:anyType (for example CustomMetadataValue.value): any content is accepted.
type Primitive = 'string' | 'number' | 'boolean' | 'any';
type FieldType = { kind: 'primitive'; name: Primitive } | { kind: 'enum'; name: string } | { kind: 'complex'; name: string };

export interface FieldDefinition {
    name: string;
    type: FieldType;
    required: boolean;
    many: boolean;
}

export interface MetadataSchema {
    version: string;
    /** Every type's elements, its base type's first, as the WSDL sequences them. */
    complexTypes: Map<string, Map<string, FieldDefinition>>;
    enums: Map<string, Set<string>>;
    /** The types a metadata file's root element may name: those extending Metadata. */
    metadataTypes: Set<string>;
}

export interface SchemaProblem {
    file: string;
    element: string;
    message: string;
}

const PRIMITIVES = new Set<string>(['string', 'number', 'boolean', 'any']);

/** The schema of the Metadata API at one version (by default the package's), from the table in the repository. */
export function loadMetadataSchema(version = SCHEMA_API_VERSION): MetadataSchema {
    const file = path.join(METADATA_TABLE_DIR, `${version}.json`);
    if (!existsSync(file)) {
        throw new Error(
            `No Metadata API table for API ${version} in scripts/metadata: derive it from that version's WSDL (npm run schema:derive)`
        );
    }
    const table = JSON.parse(readFileSync(file, 'utf8')) as MetadataTable;
    if (table.version !== version) throw new Error(`scripts/metadata/${version}.json holds API ${table.version}`);
    return schemaFromTable(table);
}

export function schemaFromTable(table: MetadataTable): MetadataSchema {
    const enums = new Map(Object.entries(table.enums).map(([name, values]) => [name, new Set(values)]));
    const fieldType = (name: string): FieldType => {
        if (PRIMITIVES.has(name)) return { kind: 'primitive', name: name as Primitive };
        if (enums.has(name)) return { kind: 'enum', name };
        if (table.types[name]) return { kind: 'complex', name };
        throw new Error(`The metadata table names an unknown type ${name}`);
    };
    const complexTypes = new Map<string, Map<string, FieldDefinition>>();
    const fieldsOf = (name: string): Map<string, FieldDefinition> => {
        const known = complexTypes.get(name);
        if (known) return known;
        const type = table.types[name];
        if (!type) throw new Error(`The metadata table names an unknown type ${name}`);
        const fields = new Map(type.base ? fieldsOf(type.base) : []);
        for (const [field, spec] of Object.entries(type.fields)) {
            const match = /^(\w+)(\[\])?(!)?$/.exec(spec);
            if (!match) throw new Error(`${name}.${field}: "${spec}" is not an element type`);
            fields.set(field, { name: field, type: fieldType(match[1]!), many: Boolean(match[2]), required: Boolean(match[3]) });
        }
        complexTypes.set(name, fields);
        return fields;
    };
    const metadataTypes = new Set<string>();
    for (const name of Object.keys(table.types)) {
        fieldsOf(name);
        for (let current: string | undefined = table.types[name]?.base; current; current = table.types[current]?.base) {
            if (current === 'Metadata') metadataTypes.add(name);
        }
    }
    return { version: table.version, complexTypes, enums, metadataTypes };
}

type XmlNode = Record<string, unknown> & { ':@'?: Record<string, string> };

const parser = new XMLParser({
    preserveOrder: true,
    ignoreAttributes: false,
    attributeNamePrefix: '',
    parseTagValue: false,
    trimValues: true,
    ignoreDeclaration: true,
    ignorePiTags: true
});

function tagOf(node: XmlNode): string | undefined {
    return Object.keys(node).find((key) => key !== ':@' && key !== '#text' && key !== '#comment');
}

/** Problems in one metadata XML document, checked against the type named by its root element. */
export function validateMetadataXml(schema: MetadataSchema, file: string, xml: string): SchemaProblem[] {
    const problems: SchemaProblem[] = [];
    let document: XmlNode[];
    try {
        document = parser.parse(xml, true) as XmlNode[];
    } catch (error) {
        return [{ file, element: '(document)', message: `not well-formed XML: ${(error as Error).message}` }];
    }
    const roots = document.filter((node) => tagOf(node));
    const root = roots[0];
    const rootName = root && tagOf(root);
    if (!root || !rootName || roots.length !== 1) {
        return [{ file, element: '(document)', message: 'must have exactly one root element' }];
    }
    if (root[':@']?.xmlns !== METADATA_NAMESPACE) {
        problems.push({ file, element: rootName, message: `must declare xmlns="${METADATA_NAMESPACE}"` });
    }
    if (!schema.metadataTypes.has(rootName)) {
        problems.push({
            file,
            element: rootName,
            message: `${rootName} is not a Metadata API type at API ${schema.version}, or not one the package's table holds (PACKAGE_METADATA_TYPES in scripts/metadataWsdl.ts: add it there and run npm run schema:derive)`
        });
        return problems;
    }
    validateComplex(schema, file, rootName, rootName, root[rootName] as XmlNode[], problems);
    return problems;
}

function validateComplex(
    schema: MetadataSchema,
    file: string,
    typeName: string,
    path: string,
    children: XmlNode[],
    problems: SchemaProblem[]
): void {
    const fields = schema.complexTypes.get(typeName);
    if (!fields) {
        problems.push({ file, element: path, message: `unknown type ${typeName}` });
        return;
    }
    const seen = new Map<string, number>();
    for (const child of children) {
        if ('#text' in child && String(child['#text']).trim() !== '') {
            problems.push({ file, element: path, message: `${typeName} holds elements, not text` });
            continue;
        }
        const tag = tagOf(child);
        if (!tag) continue;
        const count = (seen.get(tag) ?? 0) + 1;
        seen.set(tag, count);
        const elementPath = `${path} > ${tag}`;
        const field = fields.get(tag);
        if (!field) {
            problems.push({ file, element: elementPath, message: `unknown element: ${typeName} has no ${tag} at API ${schema.version}` });
            continue;
        }
        if (!field.many && count === 2) {
            problems.push({ file, element: elementPath, message: `${tag} may appear only once` });
        }
        validateValue(schema, file, field, elementPath, child[tag] as XmlNode[], problems);
    }
    for (const field of fields.values()) {
        if (field.required && !seen.has(field.name)) {
            problems.push({ file, element: path, message: `missing required element ${field.name}` });
        }
    }
}

function validateValue(
    schema: MetadataSchema,
    file: string,
    field: FieldDefinition,
    path: string,
    children: XmlNode[],
    problems: SchemaProblem[]
): void {
    if (field.type.kind === 'primitive' && field.type.name === 'any') return;
    if (field.type.kind === 'complex') {
        validateComplex(schema, file, field.type.name, path, children, problems);
        return;
    }
    if (children.some((child) => tagOf(child))) {
        problems.push({ file, element: path, message: `${field.name} holds a value, not elements` });
        return;
    }
    const text = children.map((child) => (typeof child['#text'] === 'string' ? child['#text'] : '')).join('');
    if (field.type.kind === 'enum') {
        const allowed = schema.enums.get(field.type.name) ?? new Set<string>();
        if (!allowed.has(text)) {
            problems.push({
                file,
                element: path,
                message: `"${text}" is not a ${field.type.name} (${[...allowed].slice(0, 12).join(', ')}${allowed.size > 12 ? ', ...' : ''})`
            });
        }
    } else if (field.type.name === 'boolean' && text !== 'true' && text !== 'false') {
        problems.push({ file, element: path, message: `"${text}" is not a boolean (true or false)` });
    } else if (field.type.name === 'number' && !/^-?\d+(\.\d+)?$/.test(text)) {
        problems.push({ file, element: path, message: `"${text}" is not a number` });
    }
}
