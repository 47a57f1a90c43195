import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PEOPLE, startHarness, type Harness } from '../test/harness.ts';

describe('the org’s name', () => {
    let h: Harness;
    before(async () => {
        h = await startHarness();
    });
    after(() => h.close());

    test('is read in the link’s Composite request (no extra round trip) and shown with the org id', async () => {
        const { key } = await h.newAccount('Named org');
        const { callback } = await h.link(key, PEOPLE.uatApi, { environment: 'sandbox' });
        assert.equal(callback.status, 200, callback.text);
        const status = await h.api(key).get('/api/v1/link').expect(200);
        assert.equal(status.body.link.orgName, 'Acme UAT');
        assert.match(status.body.link.orgId, /^00D/);
    });

    test('a link stored before the name was read shows none, and nothing breaks', async () => {
        const { id, key } = await h.newAccount('Older link');
        assert.equal((await h.link(key, PEOPLE.acmeApi)).callback.status, 200);
        await h.store.transaction(async (tx) => {
            await tx.links.patch(id, { orgName: null });
        });
        const status = await h.api(key).get('/api/v1/link').expect(200);
        assert.equal(status.body.link.orgName, undefined);
        assert.equal(status.body.status, 'linked');
    });
});
