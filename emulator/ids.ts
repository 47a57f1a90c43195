// Salesforce record ids: 15-char case-sensitive ids and their 18-char case-insensitive form.

const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';
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
} as const;

function isUpper(c: string): boolean {
  return c >= 'A' && c <= 'Z';
}

/** The 3-char suffix that makes a 15-char id case-insensitive. */
export function checksumSuffix(id15: string): string {
  let out = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) {
      if (isUpper(id15.charAt(chunk * 5 + i))) bits |= 1 << i;
    }
    out += SUFFIX_ALPHABET.charAt(bits);
  }
  return out;
}

export function to18(id15: string): string {
  if (!/^[A-Za-z0-9]{15}$/.test(id15)) throw new Error(`not a 15-character id: ${id15}`);
  return id15 + checksumSuffix(id15);
}

/**
 * Canonical 18-char form of a 15- or 18-char id, or null when it is not a well-formed id.
 * An 18-char id restores the case of its first 15 characters from its suffix, as Salesforce does.
 */
export function normalizeId(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  if (/^[A-Za-z0-9]{15}$/.test(value)) return to18(value);
  if (!/^[A-Za-z0-9]{18}$/.test(value)) return null;
  const suffix = value.slice(15).toUpperCase();
  let restored = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    const bits = SUFFIX_ALPHABET.indexOf(suffix.charAt(chunk));
    if (bits < 0) return null;
    for (let i = 0; i < 5; i++) {
      const c = value.charAt(chunk * 5 + i);
      const upper = (bits & (1 << i)) !== 0;
      if (/[A-Za-z]/.test(c)) restored += upper ? c.toUpperCase() : c.toLowerCase();
      else if (upper) return null; // a digit cannot be flagged as upper case
      else restored += c;
    }
  }
  return restored + suffix;
}

export function to15(id: string): string {
  return id.slice(0, 15);
}

export function base62(n: number, width: number): string {
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
