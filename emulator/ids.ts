// Salesforce record ids: 15-char case-sensitive ids and their 18-char case-insensitive form.
// The emulator keeps its own copy of the rule, as Salesforce documents it; server/salesforceIds.test.ts checks that
// the backend's copy agrees with it.

/** The suffix's alphabet: each character encodes, for five characters of the 15, which are upper case. */
const SUFFIX_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';

/** The first fifteen characters: what the 15- and the 18-character form of one id share. */
export const to15 = (id: string): string => id.slice(0, 15);

/** The three suffix characters of a 15-character id. */
function suffix(id: string): string {
    let out = '';
    for (let block = 0; block < 15; block += 5) {
        let flags = 0;
        for (let bit = 0; bit < 5; bit++) if (/[A-Z]/.test(id.charAt(block + bit))) flags += 2 ** bit;
        out += SUFFIX_CHARS.charAt(flags);
    }
    return out;
}

/**
 * The 18-character form of a 15- or 18-character id, or undefined. Salesforce reads an 18-character id in any letter
 * case: its suffix says which of the first fifteen letters are upper case. A suffix that cannot describe them
 * (it marks a digit as upper case) is no id.
 */
function canonical(value: string): string | undefined {
    if (/^[A-Za-z0-9]{15}$/.test(value)) return value + suffix(value);
    if (!/^[A-Za-z0-9]{18}$/.test(value)) return undefined;
    const tail = value.slice(15).toUpperCase();
    const chars = [...value.slice(0, 15)];
    for (let block = 0; block < 3; block++) {
        const flags = SUFFIX_CHARS.indexOf(tail.charAt(block));
        if (flags < 0) return undefined;
        for (let bit = 0; bit < 5; bit++) {
            const i = block * 5 + bit;
            const upper = (flags >> bit) & 1;
            const c = chars[i]!;
            if (/[0-9]/.test(c)) {
                if (upper) return undefined;
            } else chars[i] = upper ? c.toUpperCase() : c.toLowerCase();
        }
    }
    return chars.join('') + tail;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export const KEY_PREFIX = {
    Account: '001',
    Contact: '003',
    User: '005',
    Lead: '00Q',
    Task: '00T',
    Organization: '00D',
    Profile: '00e',
    Case: '500',
    PermissionSet: '0PS',
    PermissionSetAssignment: '0Pa',
    UserLicense: '100',
    ObjectPermissions: '110',
    FieldPermissions: '01k',
    CustomPermission: '0CP'
} as const;

/** Canonical 18-char form of a 15-char id; throws on anything else. */
export function to18(id15: string): string {
    const id = /^[A-Za-z0-9]{15}$/.test(id15) ? canonical(id15) : undefined;
    if (!id) throw new Error(`not a 15-character id: ${id15}`);
    return id;
}

/**
 * Canonical 18-char form of a 15- or 18-char id, or null when it is not a well-formed id.
 * An 18-char id restores the case of its first 15 characters from its suffix, as Salesforce does.
 */
export function normalizeId(value: unknown): string | null {
    return typeof value === 'string' ? (canonical(value) ?? null) : null;
}

function base62(n: number, width: number): string {
    let s = '';
    let v = Math.floor(n);
    while (v > 0) {
        s = BASE62.charAt(v % 62) + s;
        v = Math.floor(v / 62);
    }
    return s.padStart(width, '0').slice(-width);
}

/** Builds an 18-char id: key prefix, a 2-char pod, a reserved '0', then 9 base62 characters. */
export function makeId(prefix: string, pod: string, serial: number): string {
    return to18(prefix + pod + '0' + base62(serial, 9));
}

/** Key prefix to sObject type, for ids found in reference fields. */
export function typeOfId(id: string): string | undefined {
    const prefix = id.slice(0, 3);
    for (const [type, p] of Object.entries(KEY_PREFIX)) if (p === prefix) return type;
    return undefined;
}
