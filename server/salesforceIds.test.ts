import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { normalizeId, to15 } from '../emulator/ids.ts';
import { id15, normalizeSalesforceId } from './salesforceIds.ts';

const ALPHANUMERIC = [...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'];
const anyCase = (text: string, upper: boolean[]): string =>
    [...text].map((c, i) => (upper[i % upper.length] ? c.toUpperCase() : c.toLowerCase())).join('');

test('an id in its 15- and 18-character forms: the documented example', () => {
    assert.equal(normalizeSalesforceId('001A0000006Vm9r'), '001A0000006Vm9rIAC');
    assert.equal(normalizeSalesforceId('001a0000006vm9riac'), '001A0000006Vm9rIAC');
    assert.equal(normalizeSalesforceId('001A0000006Vm9r9AC'), undefined);
    assert.equal(id15('001A0000006Vm9rIAC'), '001A0000006Vm9r');
});

test('the backend and the emulator keep one id rule: they agree on every 15- and 18-character string', () => {
    const id15s = fc.array(fc.constantFrom(...ALPHANUMERIC), { minLength: 15, maxLength: 15 }).map((chars) => chars.join(''));
    const inputs = fc.oneof(
        id15s,
        // The 18-character form of a real id, in any letter case.
        fc
            .tuple(id15s, fc.array(fc.boolean(), { minLength: 1, maxLength: 18 }))
            .map(([id, upper]) => anyCase(normalizeSalesforceId(id)!, upper)),
        // Any 18 characters: mostly suffixes that cannot describe their id.
        fc.array(fc.constantFrom(...ALPHANUMERIC), { minLength: 18, maxLength: 18 }).map((chars) => chars.join('')),
        fc.string({ maxLength: 20 })
    );
    fc.assert(
        fc.property(inputs, (value) => {
            assert.equal(normalizeId(value) ?? undefined, normalizeSalesforceId(value), value);
            assert.equal(to15(value), id15(value));
        }),
        { numRuns: 2000 }
    );
});
