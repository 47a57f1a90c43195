// Salesforce record ids: 15-char case-sensitive ids and their 18-char case-insensitive form.

import { normalizeSalesforceId } from '../server/calls/ids.ts';

export { id15 as to15 } from '../server/calls/ids.ts';

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
    const id = /^[A-Za-z0-9]{15}$/.test(id15) ? normalizeSalesforceId(id15) : undefined;
    if (!id) throw new Error(`not a 15-character id: ${id15}`);
    return id;
}

/**
 * Canonical 18-char form of a 15- or 18-char id, or null when it is not a well-formed id.
 * An 18-char id restores the case of its first 15 characters from its suffix, as Salesforce does.
 */
export function normalizeId(value: unknown): string | null {
    return typeof value === 'string' ? (normalizeSalesforceId(value) ?? null) : null;
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
