import assert from 'node:assert/strict';
import { test } from 'node:test';
import { phoneSearch, phoneTerms } from './phone.ts';

test('a number with an extension is searched without it', () => {
    for (const written of ['+1 415 555 1212 x123', '+1 415 555 1212 ext. 123', '(415) 555-1212 #123', '415.555.1212 X 9']) {
        const terms = phoneTerms(written, 'US');
        assert.deepEqual(terms, { e164: '+14155551212', national: '4155551212' }, written);
        assert.doesNotMatch(phoneSearch(terms), /4155551212\d/, written);
    }
    assert.deepEqual(phoneTerms('+44 20 7946 0958 ext 12', 'US'), { e164: '+442079460958', national: '02079460958' });
});
