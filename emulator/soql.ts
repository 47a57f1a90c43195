// A small SOQL engine: SELECT fields (with parent relationships) or COUNT(), one FROM object,
// WHERE with comparisons, IN, LIKE, AND/OR/NOT and parentheses, ORDER BY, LIMIT and OFFSET.

import { ApiError, badRelationship, noSuchColumn, positioned, unsupportedType } from './errors.ts';
import { normalizeId, typeOfId } from './ids.ts';
import type { FieldDef, OrgModel, Rec } from './model.ts';
import type { Access } from './permissions.ts';
import { findField, findObject, findRelationship, type ObjectDef } from './schema.ts';
import { rowById, rows } from './tables.ts';

type TokType = 'ident' | 'string' | 'number' | 'date' | 'datetime' | 'op' | 'punct' | 'eof';
interface Token {
    type: TokType;
    value: string;
    pos: number;
    /** for strings: a case-insensitive regex source for LIKE, honouring \_ and \% */
    like?: string;
}

export class Lexer {
    readonly tokens: Token[] = [];
    constructor(
        readonly src: string,
        private readonly errorCode = 'MALFORMED_QUERY'
    ) {
        this.lex();
    }

    fail(pos: number, reason: string): never {
        throw new ApiError(400, this.errorCode, positioned(this.src, pos, reason));
    }

    private lex(): void {
        const s = this.src;
        let i = 0;
        while (i < s.length) {
            const c = s.charAt(i);
            if (/\s/.test(c)) {
                i++;
                continue;
            }
            const start = i;
            if (c === "'") {
                let value = '';
                let like = '';
                i++;
                let closed = false;
                while (i < s.length) {
                    const ch = s.charAt(i);
                    if (ch === "'") {
                        closed = true;
                        i++;
                        break;
                    }
                    if (ch === '\\') {
                        const nx = s.charAt(i + 1);
                        const simple: Record<string, string> = {
                            "'": "'",
                            '"': '"',
                            '\\': '\\',
                            n: '\n',
                            r: '\r',
                            t: '\t',
                            b: '\b',
                            f: '\f'
                        };
                        if (nx in simple) {
                            value += simple[nx];
                            like += escapeRe(simple[nx]!);
                        } else if (nx === '_' || nx === '%') {
                            value += '\\' + nx;
                            like += escapeRe(nx);
                        } else if (nx === 'u' && /^[0-9a-fA-F]{4}$/.test(s.slice(i + 2, i + 6))) {
                            const chr = String.fromCharCode(parseInt(s.slice(i + 2, i + 6), 16));
                            value += chr;
                            like += escapeRe(chr);
                            i += 4;
                        } else {
                            this.fail(
                                i,
                                `Invalid string literal '${s.slice(start, Math.min(s.length, i + 2))}'. Illegal character sequence '\\${nx}' in string literal.`
                            );
                        }
                        i += 2;
                        continue;
                    }
                    value += ch;
                    like += ch === '%' ? '.*' : ch === '_' ? '.' : escapeRe(ch);
                    i++;
                }
                if (!closed) this.fail(start, `Invalid string literal '${s.slice(start)}'. Unterminated string literal.`);
                this.tokens.push({ type: 'string', value, pos: start, like });
                continue;
            }
            const dt = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:?\d{2})/.exec(s.slice(i));
            if (dt) {
                this.tokens.push({ type: 'datetime', value: dt[0], pos: start });
                i += dt[0].length;
                continue;
            }
            const d = /^\d{4}-\d{2}-\d{2}(?![\d:T])/.exec(s.slice(i));
            if (d) {
                this.tokens.push({ type: 'date', value: d[0], pos: start });
                i += d[0].length;
                continue;
            }
            const num = /^[-+]?\d+(\.\d+)?(?![A-Za-z_])/.exec(s.slice(i));
            if (num && (/\d/.test(c) || ((c === '-' || c === '+') && this.expectsValue()))) {
                this.tokens.push({ type: 'number', value: num[0], pos: start });
                i += num[0].length;
                continue;
            }
            const id = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*/.exec(s.slice(i));
            if (id) {
                this.tokens.push({ type: 'ident', value: id[0], pos: start });
                i += id[0].length;
                continue;
            }
            const op = /^(!=|<>|<=|>=|=|<|>)/.exec(s.slice(i));
            if (op) {
                this.tokens.push({ type: 'op', value: op[0], pos: start });
                i += op[0].length;
                continue;
            }
            if ('(),'.includes(c)) {
                this.tokens.push({ type: 'punct', value: c, pos: start });
                i++;
                continue;
            }
            this.fail(i, `unexpected token: '${c}'`);
        }
        this.tokens.push({ type: 'eof', value: '<EOF>', pos: s.length });
    }

    private expectsValue(): boolean {
        const last = this.tokens[this.tokens.length - 1];
        return !!last && (last.type === 'op' || (last.type === 'punct' && last.value !== ')'));
    }
}

function escapeRe(s: string): string {
    return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export class TokenStream {
    i = 0;
    constructor(readonly lx: Lexer) {}
    peek(k = 0): Token {
        return this.lx.tokens[Math.min(this.i + k, this.lx.tokens.length - 1)]!;
    }
    next(): Token {
        const t = this.peek();
        if (this.i < this.lx.tokens.length - 1) this.i++;
        return t;
    }
    isKw(kw: string, k = 0): boolean {
        const t = this.peek(k);
        return t.type === 'ident' && t.value.toUpperCase() === kw;
    }
    acceptKw(kw: string): boolean {
        if (this.isKw(kw)) {
            this.i++;
            return true;
        }
        return false;
    }
    expectKw(kw: string): Token {
        if (!this.isKw(kw)) this.unexpected();
        return this.next();
    }
    isPunct(p: string): boolean {
        const t = this.peek();
        return t.type === 'punct' && t.value === p;
    }
    expectPunct(p: string): Token {
        if (!this.isPunct(p)) this.unexpected();
        return this.next();
    }
    unexpected(t: Token = this.peek()): never {
        return this.lx.fail(t.pos, `unexpected token: '${t.value}'`);
    }
}

// ---------------------------------------------------------------- parsing

export interface FieldPath {
    text: string;
    pos: number;
    /** relationship hops then the field: ['Profile', 'Name'] */
    parts: string[];
}

export type Literal =
    | { kind: 'string'; value: string; like: string }
    | { kind: 'number'; value: number }
    | { kind: 'boolean'; value: boolean }
    | { kind: 'null' }
    | { kind: 'date'; value: string }
    | { kind: 'datetime'; value: number };

export type Cond =
    | { kind: 'and' | 'or'; items: Cond[] }
    | { kind: 'not'; item: Cond }
    | { kind: 'cmp'; field: FieldPath; op: string; value: Literal; valuePos: number }
    | { kind: 'in'; field: FieldPath; negate: boolean; values: Literal[]; valuePos: number }
    | { kind: 'like'; field: FieldPath; value: Literal; valuePos: number };

export interface OrderItem {
    field: FieldPath;
    desc: boolean;
    nullsLast: boolean;
}

interface SelectQuery {
    count: boolean;
    fields: FieldPath[];
    from: string;
    fromPos: number;
    where?: Cond;
    orderBy: OrderItem[];
    limit?: number;
    offset?: number;
}

export function fieldPath(t: Token): FieldPath {
    return { text: t.value, pos: t.pos, parts: t.value.split('.') };
}

export const RESERVED = new Set([
    'SELECT',
    'FROM',
    'WHERE',
    'AND',
    'OR',
    'NOT',
    'IN',
    'LIKE',
    'ORDER',
    'BY',
    'LIMIT',
    'OFFSET',
    'NULL',
    'TRUE',
    'FALSE',
    'ASC',
    'DESC',
    'NULLS',
    'FIRST',
    'LAST',
    'GROUP',
    'HAVING',
    'WITH',
    'INCLUDES',
    'EXCLUDES'
]);

function parseLiteral(ts: TokenStream): Literal {
    const t = ts.next();
    switch (t.type) {
        case 'string':
            return { kind: 'string', value: t.value, like: t.like ?? '' };
        case 'number':
            return { kind: 'number', value: Number(t.value) };
        case 'date':
            return { kind: 'date', value: t.value };
        case 'datetime': {
            const ms = Date.parse(t.value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
            if (Number.isNaN(ms)) ts.lx.fail(t.pos, `line 1:${t.pos} no viable alternative at character '${t.value}'`);
            return { kind: 'datetime', value: ms };
        }
        case 'ident': {
            const up = t.value.toUpperCase();
            if (up === 'NULL') return { kind: 'null' };
            if (up === 'TRUE' || up === 'FALSE') return { kind: 'boolean', value: up === 'TRUE' };
            if (up === 'TODAY' || up === 'YESTERDAY' || up === 'TOMORROW') {
                const offset = up === 'TODAY' ? 0 : up === 'YESTERDAY' ? -1 : 1;
                return { kind: 'date', value: new Date(Date.now() + offset * 86400_000).toISOString().slice(0, 10) };
            }
            return ts.unexpected(t);
        }
        default:
            return ts.unexpected(t);
    }
}

export function parseCond(ts: TokenStream): Cond {
    const first = parseUnary(ts);
    const items = [first];
    let joiner: 'and' | 'or' | undefined;
    while (ts.isKw('AND') || ts.isKw('OR')) {
        const t = ts.next();
        const kind = t.value.toLowerCase() as 'and' | 'or';
        // SOQL refuses to mix AND and OR at one level without parentheses.
        if (joiner && joiner !== kind) ts.unexpected(t);
        joiner = kind;
        items.push(parseUnary(ts));
    }
    return joiner ? { kind: joiner, items } : first;
}

function parseUnary(ts: TokenStream): Cond {
    if (ts.acceptKw('NOT')) return { kind: 'not', item: parseUnary(ts) };
    if (ts.isPunct('(')) {
        ts.next();
        const inner = parseCond(ts);
        ts.expectPunct(')');
        return inner;
    }
    const ft = ts.next();
    if (ft.type !== 'ident' || RESERVED.has(ft.value.toUpperCase())) ts.unexpected(ft);
    const field = fieldPath(ft);
    const opTok = ts.peek();
    if (opTok.type === 'op') {
        ts.next();
        const valuePos = ts.peek().pos;
        return { kind: 'cmp', field, op: opTok.value === '<>' ? '!=' : opTok.value, value: parseLiteral(ts), valuePos };
    }
    let negate = false;
    if (ts.isKw('NOT') && ts.isKw('IN', 1)) {
        ts.next();
        negate = true;
    }
    if (ts.acceptKw('IN')) {
        const valuePos = ts.peek().pos;
        ts.expectPunct('(');
        if (ts.isKw('SELECT')) ts.lx.fail(ts.peek().pos, 'semi-join subqueries are not supported by the emulator');
        const values = [parseLiteral(ts)];
        while (ts.isPunct(',')) {
            ts.next();
            values.push(parseLiteral(ts));
        }
        ts.expectPunct(')');
        return { kind: 'in', field, negate, values, valuePos };
    }
    if (ts.acceptKw('LIKE')) {
        const valuePos = ts.peek().pos;
        return { kind: 'like', field, value: parseLiteral(ts), valuePos };
    }
    return ts.unexpected();
}

/** Parses what follows ORDER (the BY keyword onwards). */
export function parseOrderBy(ts: TokenStream): OrderItem[] {
    ts.expectKw('BY');
    const out: OrderItem[] = [];
    for (;;) {
        const t = ts.next();
        if (t.type !== 'ident' || RESERVED.has(t.value.toUpperCase())) ts.unexpected(t);
        let desc = false;
        if (ts.acceptKw('DESC')) desc = true;
        else ts.acceptKw('ASC');
        let nullsLast = desc;
        if (ts.acceptKw('NULLS')) {
            if (ts.acceptKw('LAST')) nullsLast = true;
            else {
                ts.expectKw('FIRST');
                nullsLast = false;
            }
        }
        out.push({ field: fieldPath(t), desc, nullsLast });
        if (!ts.isPunct(',')) break;
        ts.next();
    }
    return out;
}

function parseSelect(ts: TokenStream): SelectQuery {
    ts.expectKw('SELECT');
    const q: SelectQuery = { count: false, fields: [], from: '', fromPos: 0, orderBy: [] };
    if (ts.isKw('COUNT') && ts.peek(1).type === 'punct' && ts.peek(1).value === '(') {
        ts.next();
        ts.next();
        if (!ts.isPunct(')')) ts.lx.fail(ts.peek().pos, 'only COUNT() is supported by the emulator');
        ts.next();
        q.count = true;
    } else {
        for (;;) {
            const t = ts.next();
            if (t.type === 'punct' && t.value === '(') ts.lx.fail(t.pos, 'relationship subqueries are not supported by the emulator');
            if (t.type !== 'ident' || RESERVED.has(t.value.toUpperCase())) ts.unexpected(t);
            if (ts.isPunct('(')) ts.lx.fail(t.pos, `aggregate and function calls other than COUNT() are not supported by the emulator`);
            q.fields.push(fieldPath(t));
            if (!ts.isPunct(',')) break;
            ts.next();
        }
    }
    ts.expectKw('FROM');
    const from = ts.next();
    if (from.type !== 'ident' || from.value.includes('.')) ts.unexpected(from);
    q.from = from.value;
    q.fromPos = from.pos;
    if (ts.acceptKw('WHERE')) q.where = parseCond(ts);
    if (ts.isKw('WITH') && ts.isKw('SECURITY_ENFORCED', 1)) {
        ts.next();
        ts.next();
    }
    if (ts.acceptKw('ORDER')) q.orderBy = parseOrderBy(ts);
    if (ts.acceptKw('LIMIT')) {
        const t = ts.next();
        if (t.type !== 'number' || !/^\d+$/.test(t.value)) ts.unexpected(t);
        q.limit = Number(t.value);
    }
    if (ts.acceptKw('OFFSET')) {
        const t = ts.next();
        if (t.type !== 'number' || !/^\d+$/.test(t.value)) ts.unexpected(t);
        q.offset = Number(t.value);
        if (q.offset > 2000) throw new ApiError(400, 'NUMBER_OUTSIDE_VALID_RANGE', `Maximum SOQL offset allowed is 2000`);
    }
    return q;
}

// ---------------------------------------------------------------- resolution and evaluation

/** A field path resolved against the schema: hops through reference fields, then a leaf. */
export interface ResolvedPath {
    path: FieldPath;
    hops: FieldDef[];
    leaf: FieldDef;
    /** canonical names for the output: ['Profile', 'Name'] */
    names: string[];
}

/** Fields available through a polymorphic relationship (Who, What): Salesforce's Name entity, abridged. */
const NAME_ENTITY: ObjectDef = {
    name: 'Name',
    label: 'Name',
    labelPlural: 'Names',
    keyPrefix: '',
    dml: false,
    searchable: false,
    fields: [
        { name: 'Id', label: 'ID', type: 'id', nillable: false, createable: false, updateable: false },
        { name: 'Name', label: 'Name', type: 'string', nillable: true, createable: false, updateable: false },
        { name: 'Type', label: 'Type', type: 'string', nillable: true, createable: false, updateable: false }
    ]
};

export class Resolver {
    constructor(
        readonly statement: string,
        readonly access: Access,
        readonly errorCode = 'INVALID_FIELD'
    ) {}

    fail(pos: number, reason: string, code = this.errorCode): never {
        throw new ApiError(400, code, positioned(this.statement, pos, reason));
    }

    object(name: string, pos: number): ObjectDef {
        const def = findObject(name, this.access.org);
        if (!def || !this.access.canSeeObject(def)) this.fail(pos, unsupportedType(name), 'INVALID_TYPE');
        return def;
    }

    path(root: ObjectDef, p: FieldPath): ResolvedPath {
        let obj = root;
        const hops: FieldDef[] = [];
        const names: string[] = [];
        for (let k = 0; k < p.parts.length - 1; k++) {
            const rel = findRelationship(obj, p.parts[k]!);
            if (!rel || !this.access.canReadField(obj, rel)) this.fail(p.pos, badRelationship(p.parts[k]!));
            hops.push(rel);
            names.push(rel.relationshipName!);
            const targets = rel.referenceTo ?? [];
            if (targets.length === 1) {
                const t = findObject(targets[0]!, this.access.org);
                if (!t || !this.access.canSeeObject(t)) this.fail(p.pos, badRelationship(p.parts[k]!));
                obj = t;
            } else {
                obj = NAME_ENTITY;
            }
        }
        const last = p.parts[p.parts.length - 1]!;
        const leaf = findField(obj, last);
        if (!leaf || (obj !== NAME_ENTITY && !this.access.canReadField(obj, leaf))) {
            this.fail(p.pos, noSuchColumn(p.parts.length > 1 ? p.text : last, obj.name));
        }
        names.push(leaf.name);
        return { path: p, hops, leaf, names };
    }
}

/** Follows the hops of a path from a row, honouring sharing on each parent. */
function walk(
    org: OrgModel,
    access: Access,
    row: Rec,
    rp: ResolvedPath
): { value: unknown; parents: Array<{ type: string; rec: Rec } | null> } {
    let cur: Rec | null = row;
    const parents: Array<{ type: string; rec: Rec } | null> = [];
    for (const hop of rp.hops) {
        const id: unknown = cur ? cur[hop.name] : null;
        if (typeof id !== 'string') {
            parents.push(null);
            cur = null;
            continue;
        }
        const type = (hop.referenceTo ?? []).length === 1 ? hop.referenceTo![0]! : typeOfId(id);
        const rec = type ? rowById(org, type, id) : undefined;
        if (!rec || !type || !access.canSeeRecord(type, rec)) {
            parents.push(null);
            cur = null;
            continue;
        }
        const view: Rec =
            type && (hop.referenceTo ?? []).length > 1 ? { ...rec, Type: type, Name: rec['Name'] ?? rec['CaseNumber'] ?? null } : rec;
        parents.push({ type, rec: view });
        cur = view;
    }
    return { value: cur ? (cur[rp.leaf.name] ?? null) : null, parents };
}

function isTextual(fd: FieldDef): boolean {
    return !['boolean', 'int', 'double', 'date', 'datetime'].includes(fd.type);
}

/** Checks a literal against a field's type, as Salesforce does before running the query. */
export function checkLiteral(res: Resolver, rp: ResolvedPath, lit: Literal, pos: number): void {
    if (lit.kind === 'null') return;
    const fd = rp.leaf;
    const name = rp.path.text;
    const bad = (type: string, quoted: boolean): never =>
        res.fail(
            pos,
            `value of filter criterion for field '${name}' must be of type ${type} and should ${quoted ? '' : 'not '}be enclosed in quotes`,
            'INVALID_QUERY_FILTER_OPERATOR'
        );
    switch (fd.type) {
        case 'boolean':
            if (lit.kind !== 'boolean') bad('boolean', false);
            return;
        case 'int':
        case 'double':
            if (lit.kind !== 'number') bad(fd.type === 'int' ? 'integer' : 'double', false);
            return;
        case 'date':
            if (lit.kind !== 'date') bad('date', false);
            return;
        case 'datetime':
            if (lit.kind !== 'datetime' && lit.kind !== 'date') bad('dateTime', false);
            return;
        case 'id':
        case 'reference':
            if (lit.kind !== 'string') bad('string', true);
            if (lit.kind === 'string' && lit.value !== '' && !normalizeId(lit.value))
                res.fail(pos, `invalid ID field: ${lit.value}`, 'INVALID_QUERY_FILTER_OPERATOR');
            return;
        default:
            if (lit.kind !== 'string') bad('string', true);
    }
}

function comparable(fd: FieldDef, v: unknown): string | number | boolean | null {
    if (v === null || v === undefined) return null;
    if ((fd.type === 'id' || fd.type === 'reference') && typeof v === 'string') return normalizeId(v) ?? v;
    if (fd.type === 'datetime') return typeof v === 'string' ? Date.parse(v) : Number(v);
    if (typeof v === 'string') return isTextual(fd) ? v.toLowerCase() : v;
    if (typeof v === 'number' || typeof v === 'boolean') return v;
    return JSON.stringify(v);
}

function literalValue(fd: FieldDef, lit: Literal): string | number | boolean | null {
    switch (lit.kind) {
        case 'null':
            return null;
        case 'string':
            if (fd.type === 'id' || fd.type === 'reference') return lit.value === '' ? null : normalizeId(lit.value);
            return lit.value.replace(/\\([_%])/g, '$1').toLowerCase();
        case 'date':
            return fd.type === 'datetime' ? Date.parse(`${lit.value}T00:00:00Z`) : lit.value;
        default:
            return lit.value;
    }
}

function compare(fd: FieldDef, fieldValue: unknown, op: string, lit: Literal): boolean {
    const a = comparable(fd, fieldValue);
    const b = literalValue(fd, lit);
    // A date literal against a datetime field stands for the whole day.
    if (fd.type === 'datetime' && lit.kind === 'date' && typeof b === 'number' && typeof a === 'number') {
        const end = b + 86400_000;
        switch (op) {
            case '=':
                return a >= b && a < end;
            case '!=':
                return a < b || a >= end;
            case '<':
                return a < b;
            case '<=':
                return a < end;
            case '>':
                return a >= end;
            case '>=':
                return a >= b;
        }
    }
    if (op === '=') return a === b;
    if (op === '!=') return a !== b;
    if (a === null || b === null) return false;
    switch (op) {
        case '<':
            return a < b;
        case '<=':
            return a <= b;
        case '>':
            return a > b;
        case '>=':
            return a >= b;
    }
    return false;
}

type CompiledCond = (row: Rec) => boolean;

export function compileCond(org: OrgModel, access: Access, res: Resolver, root: ObjectDef, c: Cond): CompiledCond {
    switch (c.kind) {
        case 'and': {
            const parts = c.items.map((x) => compileCond(org, access, res, root, x));
            return (r) => parts.every((p) => p(r));
        }
        case 'or': {
            const parts = c.items.map((x) => compileCond(org, access, res, root, x));
            return (r) => parts.some((p) => p(r));
        }
        case 'not': {
            const inner = compileCond(org, access, res, root, c.item);
            return (r) => !inner(r);
        }
        case 'cmp': {
            const rp = res.path(root, c.field);
            filterable(res, rp);
            checkLiteral(res, rp, c.value, c.valuePos);
            if (c.value.kind === 'null' && c.op !== '=' && c.op !== '!=')
                res.fail(c.valuePos, `unexpected token: 'null'`, 'MALFORMED_QUERY');
            if (c.value.kind === 'boolean' && c.op !== '=' && c.op !== '!=')
                res.fail(c.valuePos, `invalid operator on boolean field: ${c.op}`, 'INVALID_QUERY_FILTER_OPERATOR');
            return (r) => compare(rp.leaf, walk(org, access, r, rp).value, c.op, c.value);
        }
        case 'in': {
            const rp = res.path(root, c.field);
            filterable(res, rp);
            for (const v of c.values) checkLiteral(res, rp, v, c.valuePos);
            return (r) => {
                const v = walk(org, access, r, rp).value;
                const hit = c.values.some((lit) => compare(rp.leaf, v, '=', lit));
                return c.negate ? !hit : hit;
            };
        }
        case 'like': {
            const rp = res.path(root, c.field);
            filterable(res, rp);
            if (!isTextual(rp.leaf) || rp.leaf.type === 'id' || rp.leaf.type === 'reference') {
                const kind = rp.leaf.type === 'reference' ? 'id' : rp.leaf.type;
                res.fail(c.field.pos, `invalid operator on ${kind} field: LIKE`, 'INVALID_QUERY_FILTER_OPERATOR');
            }
            if (c.value.kind !== 'string') res.fail(c.valuePos, `unexpected token: '${c.value.kind}'`, 'MALFORMED_QUERY');
            const re = new RegExp(`^${c.value.kind === 'string' ? c.value.like : ''}$`, 'is');
            return (r) => {
                const v = walk(org, access, r, rp).value;
                return typeof v === 'string' && re.test(v);
            };
        }
    }
}

function filterable(res: Resolver, rp: ResolvedPath): void {
    if (rp.leaf.type === 'textarea') res.fail(rp.path.pos, `field '${rp.leaf.name}' can not be filtered in query call`);
}

function sortKey(fd: FieldDef, v: unknown): string | number | boolean | null {
    return comparable(fd, v);
}

export interface QueryOutput {
    totalSize: number;
    done: boolean;
    records: Rec[];
}

export function recordUrl(version: string, type: string, id: unknown): string {
    return `/services/data/v${version}/sobjects/${type}/${String(id)}`;
}

/** Builds a result record: attributes first, then the selected fields with parents nested. */
export function shapeRecord(org: OrgModel, access: Access, version: string, type: string, row: Rec, paths: ResolvedPath[]): Rec {
    const out: Rec = { attributes: { type, url: recordUrl(version, type, row['Id']) } };
    for (const rp of paths) {
        const { value, parents } = walk(org, access, row, rp);
        let target = out;
        let dead = false;
        for (let k = 0; k < rp.hops.length; k++) {
            const key = rp.names[k]!;
            const parent = parents[k];
            if (!parent) {
                if (!(key in target)) target[key] = null;
                dead = true;
                break;
            }
            let nested = target[key] as Rec | null | undefined;
            if (!nested) {
                nested = { attributes: { type: parent.type, url: recordUrl(version, parent.type, parent.rec['Id']) } };
                target[key] = nested;
            }
            target = nested;
        }
        if (!dead) target[rp.names[rp.names.length - 1]!] = value;
    }
    return out;
}

export function sortRows(org: OrgModel, access: Access, list: Rec[], order: Array<OrderItem & { rp: ResolvedPath }>): Rec[] {
    if (!order.length) return list;
    return [...list].sort((x, y) => {
        for (const o of order) {
            const a = sortKey(o.rp.leaf, walk(org, access, x, o.rp).value);
            const b = sortKey(o.rp.leaf, walk(org, access, y, o.rp).value);
            if (a === b) continue;
            if (a === null) return o.nullsLast ? 1 : -1;
            if (b === null) return o.nullsLast ? -1 : 1;
            const cmp = a < b ? -1 : 1;
            return o.desc ? -cmp : cmp;
        }
        return 0;
    });
}

export function runQuery(soql: string, org: OrgModel, access: Access, version: string): QueryOutput {
    if (!soql.trim()) throw new ApiError(400, 'MALFORMED_QUERY', 'A query string has to be specified');
    const ts = new TokenStream(new Lexer(soql));
    const q = parseSelect(ts);
    if (ts.peek().type !== 'eof') ts.unexpected();
    const res = new Resolver(soql, access);
    const root = res.object(q.from, q.fromPos);
    const seen = new Set<string>();
    const paths: ResolvedPath[] = [];
    for (const fp of q.fields) {
        const rp = res.path(root, fp);
        const key = rp.names.join('.').toLowerCase();
        if (seen.has(key)) res.fail(fp.pos, `duplicate field selected: ${rp.names.join('.')}`, 'MALFORMED_QUERY');
        seen.add(key);
        paths.push(rp);
    }
    const where = q.where ? compileCond(org, access, res, root, q.where) : () => true;
    const order = q.orderBy.map((o) => ({ ...o, rp: res.path(root, o.field) }));
    for (const o of order)
        if (o.rp.leaf.type === 'textarea') res.fail(o.field.pos, `field '${o.rp.leaf.name}' can not be sorted in a query call`);

    let matched = (root.name === 'UserPermissionAccess' ? [access.permissionRow()] : rows(org, root.name)).filter(
        (r) => access.canSeeRecord(root.name, r) && where(r)
    );
    if (q.count) {
        const n = Math.min(matched.length, q.limit ?? Infinity);
        return { totalSize: n, done: true, records: [] };
    }
    matched = sortRows(org, access, matched, order);
    const start = q.offset ?? 0;
    matched = matched.slice(start, q.limit === undefined ? undefined : start + q.limit);
    const records = matched.map((r) => shapeRecord(org, access, version, root.name, r, paths));
    return { totalSize: records.length, done: true, records };
}
