/**
 * Text from outside that a person will read, in a terminal or on a page: characters that drive a terminal (C0 and C1
 * controls, DEL: escape sequences, a carriage return that rewrites a line) or reorder what is shown (the bidirectional
 * embeddings, overrides, isolates and marks) are refused where the API takes text, and escaped where the CLI prints.
 */
const BIDI_CONTROLS = '\\u061C\\u200E\\u200F\\u202A-\\u202E\\u2066-\\u2069';
const CONTROL_OR_BIDI = new RegExp(`[\\p{Cc}${BIDI_CONTROLS}]`, 'u');
/** The same, but tab, line feed and carriage return pass: multi-line notes. */
const CONTROL_OR_BIDI_BUT_LINES = new RegExp(`[[\\p{Cc}${BIDI_CONTROLS}]--[\\t\\n\\r]]`, 'v');

export const CONTROL_MESSAGE = 'must not hold control characters (C0, C1, DEL) or bidirectional controls';

/** True when `text` holds no control or bidirectional control character (`lines`: tab, CR and LF allowed). */
export function isPlainText(text: string, options: { lines?: boolean } = {}): boolean {
    return !(options.lines ? CONTROL_OR_BIDI_BUT_LINES : CONTROL_OR_BIDI).test(text);
}

/**
 * What may not be in a name a person must tell apart from another: controls, format characters (bidi controls,
 * zero-width and other invisible characters, the soft hyphen, the byte order mark), surrogates, private-use and
 * unassigned code points, line and paragraph separators.
 */
const NOT_IN_NAMES = /[\p{C}\p{Zl}\p{Zp}]/u;
export const hasInvisibleOrControl = (name: string): boolean => NOT_IN_NAMES.test(name);

/** What a terminal must not receive raw: the same set as names. */
const UNPRINTABLE = /[\p{C}\p{Zl}\p{Zp}]/gu;
const UNPRINTABLE_BUT_LAYOUT = new RegExp('[[\\p{C}\\p{Zl}\\p{Zp}]--[\\t\\n]]', 'gv');

/** `\uXXXX` per UTF-16 unit: the same in a line of text and inside a JSON string (JSON.parse gives the character back). */
function escapeUnits(match: string): string {
    let escaped = '';
    for (let i = 0; i < match.length; i++) escaped += `\\u${match.charCodeAt(i).toString(16).padStart(4, '0')}`;
    return escaped;
}

/** A value for one field of CLI output: every control, format or unassigned character escaped, tabs and line breaks too. */
export const printable = (text: string): string => text.replace(UNPRINTABLE, escapeUnits);

/** A whole line of CLI output: the same, but the tabs and line feeds the command itself lays out with stay. */
export const printableLine = (line: string): string => line.replace(UNPRINTABLE_BUT_LAYOUT, escapeUnits);
