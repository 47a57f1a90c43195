// A small SOSL engine: FIND {terms} [IN scope FIELDS] [RETURNING Obj(fields [WHERE] [ORDER BY] [LIMIT])...] [LIMIT n].

import { ApiError, positioned } from './errors.ts';
import type { FieldDef, OrgModel, Rec } from './model.ts';
import type { Access } from './permissions.ts';
import { objectsOf, type ObjectDef } from './schema.ts';
import {
    compileCond,
    fieldPath,
    Lexer,
    parseCond,
    parseOrderBy,
    RESERVED,
    Resolver,
    shapeRecord,
    sortRows,
    TokenStream,
    type OrderItem,
    type ResolvedPath
} from './soql.ts';
import { rows } from './tables.ts';

/** Characters SOSL reserves inside the braces; they must be escaped with a backslash to be searched for. */
export const SOSL_RESERVED = new Set(['?', '&', '|', '!', '{', '}', '[', ']', '(', ')', '^', '~', '*', ':', '\\', '"', "'", '+', '-']);

type Scope = 'ALL' | 'NAME' | 'EMAIL' | 'PHONE' | 'SIDEBAR';

type Expr =
    | { kind: 'term'; text: string; phrase: boolean; wildcard: boolean; pos: number }
    | { kind: 'and' | 'or'; items: Expr[] }
    | { kind: 'andNot'; left: Expr; right: Expr };

interface Returning {
    def: ObjectDef;
    fields: ResolvedPath[];
    where?: (r: Rec) => boolean;
    order: Array<OrderItem & { rp: ResolvedPath }>;
    limit?: number;
}

function fail(statement: string, pos: number, reason: string, code = 'MALFORMED_SEARCH'): never {
    throw new ApiError(400, code, positioned(statement, pos, reason));
}

/** Splits the text between the braces into terms and operators, enforcing the escaping rules. */
function parseTerms(statement: string, body: string, offset: number): Expr {
    interface Tok {
        type: 'word' | 'phrase' | 'lparen' | 'rparen';
        text: string;
        wildcard: boolean;
        pos: number;
    }
    const toks: Tok[] = [];
    let i = 0;
    while (i < body.length) {
        const c = body.charAt(i);
        if (/\s/.test(c)) {
            i++;
            continue;
        }
        const start = i;
        if (c === '(' || c === ')') {
            toks.push({ type: c === '(' ? 'lparen' : 'rparen', text: c, wildcard: false, pos: offset + i });
            i++;
            continue;
        }
        if (c === '"') {
            let text = '';
            i++;
            let closed = false;
            while (i < body.length) {
                const ch = body.charAt(i);
                if (ch === '\\' && i + 1 < body.length) {
                    text += body.charAt(i + 1);
                    i += 2;
                    continue;
                }
                if (ch === '"') {
                    closed = true;
                    i++;
                    break;
                }
                text += ch;
                i++;
            }
            if (!closed) fail(statement, offset + start, `line 1:${offset + start + 1} unterminated quoted phrase in search term`);
            toks.push({ type: 'phrase', text, wildcard: false, pos: offset + start });
            continue;
        }
        let text = '';
        let wildcard = false;
        while (i < body.length) {
            const ch = body.charAt(i);
            if (/\s/.test(ch) || ch === '(' || ch === ')' || ch === '"') break;
            if (ch === '\\') {
                if (i + 1 >= body.length)
                    fail(statement, offset + i, `line 1:${offset + i + 1} a backslash must be followed by the character it escapes`);
                text += body.charAt(i + 1);
                i += 2;
                continue;
            }
            if (ch === '*' || ch === '?') {
                wildcard = true;
                text += ch;
                i++;
                continue;
            }
            if (SOSL_RESERVED.has(ch)) {
                fail(
                    statement,
                    offset + i,
                    `line 1:${offset + i + 1} reserved character '${ch}' in search term must be escaped with a backslash`
                );
            }
            text += ch;
            i++;
        }
        toks.push({ type: 'word', text, wildcard, pos: offset + start });
    }

    let k = 0;
    const peekWord = (w: string): boolean => toks[k]?.type === 'word' && toks[k]!.text.toUpperCase() === w && !toks[k]!.wildcard;
    const primary = (): Expr => {
        const t = toks[k];
        if (!t) fail(statement, offset + body.length, 'No search term found. The search term must be enclosed in braces.');
        if (t.type === 'lparen') {
            k++;
            const inner = orExpr();
            if (toks[k]?.type !== 'rparen') fail(statement, toks[k]?.pos ?? offset + body.length, `line 1: missing ')' in search term`);
            k++;
            return inner;
        }
        if (t.type === 'rparen') fail(statement, t.pos, `line 1:${t.pos + 1} unexpected ')' in search term`);
        k++;
        return { kind: 'term', text: t.text, phrase: t.type === 'phrase', wildcard: t.wildcard, pos: t.pos };
    };
    const andExpr = (): Expr => {
        let left = primary();
        const items: Expr[] = [left];
        for (;;) {
            if (peekWord('AND') && toks[k + 1]?.type === 'word' && toks[k + 1]!.text.toUpperCase() === 'NOT') {
                k += 2;
                left = { kind: 'andNot', left: items.length === 1 ? items[0]! : { kind: 'and', items: [...items] }, right: primary() };
                items.splice(0, items.length, left);
                continue;
            }
            if (peekWord('AND')) {
                k++;
                items.push(primary());
                continue;
            }
            // adjacent terms are ANDed, as in SOSL
            if (k < toks.length && toks[k]!.type !== 'rparen' && !peekWord('OR')) {
                items.push(primary());
                continue;
            }
            break;
        }
        return items.length === 1 ? items[0]! : { kind: 'and', items };
    };
    const orExpr = (): Expr => {
        const items = [andExpr()];
        while (peekWord('OR')) {
            k++;
            items.push(andExpr());
        }
        return items.length === 1 ? items[0]! : { kind: 'or', items };
    };
    if (!toks.length) fail(statement, offset, 'No search term found. The search term must be enclosed in braces.');
    const expr = orExpr();
    if (k < toks.length) fail(statement, toks[k]!.pos, `line 1:${toks[k]!.pos + 1} unexpected token in search term: '${toks[k]!.text}'`);
    checkTermLengths(expr);
    return expr;
}

function checkTermLengths(e: Expr): void {
    if (e.kind === 'term') {
        const bare = e.text.replace(/[*?]/g, '');
        if (bare.length < 2) throw new ApiError(400, 'INVALID_SEARCH', `search term must be longer than one character: ${e.text}`);
        return;
    }
    if (e.kind === 'andNot') {
        checkTermLengths(e.left);
        checkTermLengths(e.right);
        return;
    }
    e.items.forEach(checkTermLengths);
}

const digits = (s: string): string => s.replace(/\D/g, '');

/** A stored number's extension ("x12", "ext. 12", "extension 12", "#12" at the end), which a search for the number ignores. */
const EXTENSION = /\s*(?:,|;)?\s*(?:x|ext\.?|extn\.?|extension|#)\s*\d{1,10}\s*$/i;

/**
 * The phone model: digits only (a stored extension dropped), equal, or one ends with the other and the shorter has
 * at least 10 digits.
 */
export function phoneMatches(term: string, stored: string): boolean {
    const a = digits(term);
    const b = digits(stored.replace(EXTENSION, ''));
    if (!a || !b) return false;
    if (a === b) return true;
    const [short, long] = a.length <= b.length ? [a, b] : [b, a];
    return short.length >= 10 && long.endsWith(short);
}

function textMatches(term: Expr & { kind: 'term' }, value: string): boolean {
    const v = value.toLowerCase();
    const t = term.text.toLowerCase();
    if (term.phrase) return v.includes(t);
    const src = t
        .split('')
        .map((ch) => (ch === '*' ? '\\S*' : ch === '?' ? '\\S' : ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join('');
    return new RegExp(`(^|[^\\p{L}\\p{N}])${src}($|[^\\p{L}\\p{N}])`, 'u').test(v);
}

function scopeFields(def: ObjectDef, scope: Scope, access: Access): FieldDef[] {
    const readable = def.fields.filter((fd) => access.canReadField(def, fd));
    switch (scope) {
        case 'PHONE':
            return readable.filter((fd) => fd.type === 'phone');
        case 'EMAIL':
            return readable.filter((fd) => fd.type === 'email');
        case 'NAME':
            return readable.filter((fd) => fd.nameField || ['FirstName', 'LastName', 'Company'].includes(fd.name));
        default:
            return readable.filter((fd) => ['string', 'phone', 'email', 'textarea', 'url', 'picklist', 'combobox'].includes(fd.type));
    }
}

function matches(e: Expr, rec: Rec, fields: FieldDef[]): boolean {
    switch (e.kind) {
        case 'term':
            return fields.some((fd) => {
                const v = rec[fd.name];
                if (typeof v !== 'string' || !v) return false;
                return fd.type === 'phone' ? !e.wildcard && phoneMatches(e.text, v) : textMatches(e, v);
            });
        case 'and':
            return e.items.every((x) => matches(x, rec, fields));
        case 'or':
            return e.items.some((x) => matches(x, rec, fields));
        case 'andNot':
            return matches(e.left, rec, fields) && !matches(e.right, rec, fields);
    }
}

export interface SearchOutput {
    searchRecords: Rec[];
}

export function runSearch(sosl: string, org: OrgModel, access: Access, version: string): SearchOutput {
    const statement = sosl;
    const head = /^\s*FIND\s*/i.exec(statement);
    if (!head) fail(statement, statement.search(/\S|$/), `unexpected token: '${statement.trim().split(/\s+/)[0] ?? ''}'`);
    const open = head[0].length;
    if (statement.charAt(open) !== '{') fail(statement, open, 'No search term found. The search term must be enclosed in braces.');
    let i = open + 1;
    let close = -1;
    while (i < statement.length) {
        const ch = statement.charAt(i);
        if (ch === '\\') {
            i += 2;
            continue;
        }
        if (ch === '{') fail(statement, i, `line 1:${i + 1} reserved character '{' in search term must be escaped with a backslash`);
        if (ch === '}') {
            close = i;
            break;
        }
        i++;
    }
    if (close < 0) fail(statement, statement.length, `line 1:${statement.length} mismatched character '<EOF>' expecting '}'`);
    const expr = parseTerms(statement, statement.slice(open + 1, close), open + 1);

    // The rest reuses the SOQL lexer; the search term is blanked so positions still line up.
    const rest = ' '.repeat(close + 1) + statement.slice(close + 1);
    const ts = new TokenStream(new Lexer(rest, 'MALFORMED_SEARCH'));
    let scope: Scope = 'ALL';
    if (ts.acceptKw('IN')) {
        const t = ts.next();
        const s = t.value.toUpperCase();
        if (t.type !== 'ident' || !['ALL', 'NAME', 'EMAIL', 'PHONE', 'SIDEBAR'].includes(s)) ts.unexpected(t);
        scope = s as Scope;
        ts.expectKw('FIELDS');
    }
    const res = new Resolver(statement, access);
    const returning: Returning[] = [];
    if (ts.acceptKw('RETURNING')) {
        for (;;) {
            const t = ts.next();
            if (t.type !== 'ident' || t.value.includes('.')) ts.unexpected(t);
            const def = res.object(t.value, t.pos);
            if (!def.searchable) fail(statement, t.pos, `entity type ${def.name} does not support search`, 'INVALID_TYPE');
            const spec: Returning = { def, fields: [], order: [] };
            if (ts.isPunct('(')) {
                ts.next();
                for (;;) {
                    const ft = ts.next();
                    if (ft.type !== 'ident' || RESERVED.has(ft.value.toUpperCase())) ts.unexpected(ft);
                    spec.fields.push(res.path(def, fieldPath(ft)));
                    if (!ts.isPunct(',')) break;
                    ts.next();
                }
                if (ts.acceptKw('WHERE')) {
                    const cond = compileCond(org, access, res, def, parseCond(ts));
                    spec.where = cond;
                }
                if (ts.acceptKw('ORDER')) spec.order = parseOrderBy(ts).map((o) => ({ ...o, rp: res.path(def, o.field) }));
                if (ts.acceptKw('LIMIT')) {
                    const n = ts.next();
                    if (n.type !== 'number' || !/^\d+$/.test(n.value)) ts.unexpected(n);
                    spec.limit = Number(n.value);
                }
                ts.expectPunct(')');
            }
            returning.push(spec);
            if (!ts.isPunct(',')) break;
            ts.next();
        }
    } else {
        for (const def of Object.values(objectsOf(org)))
            if (def.searchable && def.name !== 'User' && access.canSeeObject(def)) returning.push({ def, fields: [], order: [] });
    }
    let overall = 2000;
    if (ts.acceptKw('LIMIT')) {
        const n = ts.next();
        if (n.type !== 'number' || !/^\d+$/.test(n.value)) ts.unexpected(n);
        overall = Math.min(overall, Number(n.value));
    }
    if (ts.peek().type !== 'eof') ts.unexpected();

    const out: Rec[] = [];
    for (const spec of returning) {
        if (out.length >= overall) break;
        const fields = scopeFields(spec.def, scope, access);
        let hits = rows(org, spec.def.name).filter(
            (r) => access.canSeeRecord(spec.def.name, r) && matches(expr, r, fields) && (!spec.where || spec.where(r))
        );
        hits = sortRows(org, access, hits, spec.order);
        if (spec.limit !== undefined) hits = hits.slice(0, spec.limit);
        const idOnly: ResolvedPath[] = spec.fields.length ? spec.fields : [res.path(spec.def, { text: 'Id', pos: 0, parts: ['Id'] })];
        for (const r of hits) {
            if (out.length >= overall) break;
            out.push(shapeRecord(org, access, version, spec.def.name, r, idOnly));
        }
    }
    return { searchRecords: out };
}
