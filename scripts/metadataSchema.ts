// Salesforce's Metadata API schema, read from @salesforce/types (which Salesforce
// generates from the Metadata API WSDL), and a validator for metadata XML files.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import ts from 'typescript';
import { XMLParser } from 'fast-xml-parser';

export const METADATA_NAMESPACE = 'http://soap.sforce.com/2006/04/metadata';

/**
 * The API version this schema validates. @salesforce/types 1.9.0 carries fields that
 * Salesforce documents as new in 66.0 (ExtlClntAppConfigurablePolicies.isCanvasPluginEnabled),
 * so its WSDL is at least 66.0's; the package declares 66.0.
 */
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
    complexTypes: Map<string, Map<string, FieldDefinition>>;
    enums: Map<string, Set<string>>;
}

export interface SchemaProblem {
    file: string;
    element: string;
    message: string;
}

const require = createRequire(import.meta.url);

/** The schema of every type in @salesforce/types' metadata.d.ts. */
export function loadMetadataSchema(): MetadataSchema {
    const declarationFile = require.resolve('@salesforce/types/metadata').replace(/\.js$/, '.d.ts');
    return parseMetadataDeclarations(readFileSync(declarationFile, 'utf8'));
}

export function parseMetadataDeclarations(source: string): MetadataSchema {
    const file = ts.createSourceFile('metadata.d.ts', source, ts.ScriptTarget.Latest, false);
    const aliases = new Map<string, ts.TypeNode>();
    for (const statement of file.statements) {
        if (ts.isTypeAliasDeclaration(statement)) {
            aliases.set(statement.name.text, statement.type);
        }
    }
    const schema: MetadataSchema = { complexTypes: new Map(), enums: new Map() };
    const primitiveAliases = new Map<string, Primitive>();
    for (const [name, node] of aliases) {
        const literals = stringLiterals(node);
        if (literals) {
            schema.enums.set(name, new Set(literals));
            continue;
        }
        const primitive = primitiveOf(node);
        if (primitive) {
            primitiveAliases.set(name, primitive);
        }
    }
    const fieldType = (node: ts.TypeNode): FieldType => {
        const primitive = primitiveOf(node);
        if (primitive) return { kind: 'primitive', name: primitive };
        if (ts.isTypeReferenceNode(node) && ts.isIdentifier(node.typeName)) {
            const name = node.typeName.text;
            const aliased = primitiveAliases.get(name);
            if (aliased) return { kind: 'primitive', name: aliased };
            if (schema.enums.has(name)) return { kind: 'enum', name };
            return { kind: 'complex', name };
        }
        throw new Error(`Unsupported type in metadata.d.ts: ${node.getText(file)}`);
    };
    const collectFields = (node: ts.TypeNode, into: Map<string, FieldDefinition>): void => {
        if (ts.isIntersectionTypeNode(node)) {
            for (const part of node.types) collectFields(part, into);
        } else if (ts.isTypeReferenceNode(node) && ts.isIdentifier(node.typeName)) {
            const base = aliases.get(node.typeName.text);
            if (base) collectFields(base, into);
        } else if (ts.isTypeLiteralNode(node)) {
            for (const member of node.members) {
                if (!ts.isPropertySignature(member) || !member.type) continue;
                const name = member.name.getText(file);
                const many = ts.isArrayTypeNode(member.type);
                const elementType = ts.isArrayTypeNode(member.type) ? member.type.elementType : member.type;
                // The generator writes arrays without '?', though the WSDL lets them be empty.
                into.set(name, { name, type: fieldType(elementType), required: !member.questionToken && !many, many });
            }
        }
    };
    for (const [name, node] of aliases) {
        if (schema.enums.has(name) || primitiveAliases.has(name)) continue;
        const fields = new Map<string, FieldDefinition>();
        collectFields(node, fields);
        schema.complexTypes.set(name, fields);
    }
    return schema;
}

function stringLiterals(node: ts.TypeNode): string[] | undefined {
    const parts = ts.isUnionTypeNode(node) ? node.types : [node];
    const values: string[] = [];
    for (const part of parts) {
        if (ts.isLiteralTypeNode(part) && ts.isStringLiteral(part.literal)) values.push(part.literal.text);
        else return undefined;
    }
    return values;
}

function primitiveOf(node: ts.TypeNode): Primitive | undefined {
    switch (node.kind) {
        case ts.SyntaxKind.StringKeyword:
            return 'string';
        case ts.SyntaxKind.NumberKeyword:
            return 'number';
        case ts.SyntaxKind.BooleanKeyword:
            return 'boolean';
        case ts.SyntaxKind.AnyKeyword:
        case ts.SyntaxKind.UnknownKeyword:
            return 'any';
        default:
            return undefined;
    }
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
    if (!schema.complexTypes.has(rootName)) {
        problems.push({ file, element: rootName, message: `${rootName} is not a Metadata API type` });
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
            problems.push({ file, element: elementPath, message: `unknown element: ${typeName} has no ${tag}` });
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
    const text = children.map((child) => String(child['#text'] ?? '')).join('');
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
