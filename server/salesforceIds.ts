/**
 * Salesforce record ids: 15 case-sensitive characters, or 18 where the last three say which of
 * the first fifteen are upper case. Salesforce accepts an 18-character id in any letter case and
 * restores the case from the suffix; an id whose suffix cannot describe its first fifteen
 * characters is not an id.
 */

const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';

const isUpper = (c: string): boolean => c >= 'A' && c <= 'Z';

function suffixOf(id15: string): string {
    let suffix = '';
    for (let chunk = 0; chunk < 3; chunk++) {
        let bits = 0;
        for (let i = 0; i < 5; i++) if (isUpper(id15.charAt(chunk * 5 + i))) bits |= 1 << i;
        suffix += SUFFIX_ALPHABET.charAt(bits);
    }
    return suffix;
}

/** The canonical 18-character form of a 15- or 18-character id, or undefined when it is not one. */
export function normalizeSalesforceId(value: string): string | undefined {
    if (/^[A-Za-z0-9]{15}$/.test(value)) return value + suffixOf(value);
    if (!/^[A-Za-z0-9]{18}$/.test(value)) return undefined;
    const suffix = value.slice(15).toUpperCase();
    let restored = '';
    for (let chunk = 0; chunk < 3; chunk++) {
        const bits = SUFFIX_ALPHABET.indexOf(suffix.charAt(chunk));
        if (bits < 0) return undefined;
        for (let i = 0; i < 5; i++) {
            const c = value.charAt(chunk * 5 + i);
            const upper = (bits & (1 << i)) !== 0;
            if (/[A-Za-z]/.test(c)) restored += upper ? c.toUpperCase() : c.toLowerCase();
            else if (upper) return undefined;
            else restored += c;
        }
    }
    return restored + suffix;
}

/** The first fifteen characters: what two spellings of one id have in common (locks and indexed columns use it). */
export const id15 = (id: string): string => id.slice(0, 15);

/** Two spellings of one id (15 or 18 characters) name the same record: they compare on their first fifteen characters. */
export const sameSalesforceId = (a: string, b: string): boolean => id15(a) === id15(b);
