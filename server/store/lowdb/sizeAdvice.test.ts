import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lowdbSizeAdvice } from './sizeAdvice.ts';

test('the advice names what is past the advised size and how to move, and says nothing below it', () => {
    assert.equal(lowdbSizeAdvice({ accounts: 999, ledgerEntries: 999_999 }, '/srv/ccl'), undefined);
    const accounts = lowdbSizeAdvice({ accounts: 1_000, ledgerEntries: 10 }, '/srv/ccl')!;
    assert.match(accounts, /1,000 accounts/);
    assert.doesNotMatch(accounts, /ledger/);
    assert.match(accounts, /npm run store -- move --from \/srv\/ccl/);
    const both = lowdbSizeAdvice({ accounts: 2_500, ledgerEntries: 1_200_000 }, '/srv/ccl')!;
    assert.match(both, /2,500 accounts .* and 1,200,000 task-ledger entries/);
});
