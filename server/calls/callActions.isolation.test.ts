import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SEED } from '../../emulator/index.ts';
import { emptyTaskLedger } from '../store/types.ts';
import { ACME, startCallsHarness, type CallsHarness } from '../test/callsHarness.ts';
import { PEOPLE } from '../test/harness.ts';

const CALL = { direction: 'inbound', durationSeconds: 42 };
let c: CallsHarness;
before(async () => {
    c = await startCallsHarness();
});
after(() => c.close());

test('the CallObject lookup sees only the Tasks of the account’s own API user, not another account’s in the same org', async () => {
    const mine = await c.task('shared-7', CALL).expect(201);
    // Another contact-center account, linked to the same org through another API user.
    const other = await c.h.newAccount('Other tenant in Acme');
    const { callback } = await c.h.link(other.key, PEOPLE.acmeAdmin);
    assert.equal(callback.status, 200, callback.text);
    // A ledger that cannot vouch for either account (restored without its ledger): both look by CallObject first.
    await c.h.services.calls.settled();
    await c.h.store.ledger.prune('9999');
    await c.h.store.seed({ taskLedger: emptyTaskLedger(c.h.clock.now()) });
    c.mark();
    const theirs = await c.task('shared-7', CALL, other.key);
    assert.equal(theirs.status, 201, 'the other account makes its own Task rather than reading or being blocked by ours');
    assert.notEqual(theirs.body.taskId, mine.body.taskId);
    assert.equal(c.spent().query, 1);
    const tasks = c.h.emulator.state.tasks(ACME).filter((t) => t['CallObject'] === 'shared-7');
    assert.deepEqual(tasks.map((t) => t['CreatedById']).sort(), [SEED.users.acmeApi.userId, SEED.users.acmeAdmin.userId].sort());
    // Our own retry still finds our own Task.
    const again = await c.task('shared-7', CALL).expect(200);
    assert.equal(again.body.taskId, mine.body.taskId);
});
