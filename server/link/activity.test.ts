import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { PEOPLE, startHarness, type Harness } from '../test/harness.ts';

describe('GET /api/v1/link/activity', () => {
    let h: Harness;
    before(async () => {
        h = await startHarness();
    });
    after(() => h.close());

    test('the account’s own entries, newest first, paged with the cursor, read with either key', async () => {
        const { account, apiKey: orgKey, platformKey } = await h.services.accounts.create('Activity');
        const other = await h.newAccount('Someone else');
        const admin = { userId: '005000000000001AAA', username: 'admin@acme.example' };
        assert.equal((await h.link(orgKey, PEOPLE.acmeApi, { environment: 'production', initiatedBy: admin })).callback.status, 200);
        assert.equal((await h.link(other.key, PEOPLE.acmeApi)).callback.status, 200);
        await h.api(orgKey).post('/api/v1/link/verify', { actor: admin }).expect(200);
        await h.api(orgKey).delete('/api/v1/link').send({ actor: admin }).expect(200);

        const first = await h.api(orgKey).get('/api/v1/link/activity?limit=2').expect(200);
        assert.deepEqual(
            first.body.entries.map((e: { action: string }) => e.action),
            ['unlink', 'verify']
        );
        assert.deepEqual(first.body.entries[0].actor, { ...admin, claimed: true });
        assert.equal(first.body.entries[0].username, PEOPLE.acmeApi.username);
        assert.equal(first.body.entries[0].accountId, undefined, 'the account’s own id is not repeated');
        assert.equal(typeof first.body.nextCursor, 'string');

        const rest = await request(h.app)
            .get(`/api/v1/link/activity?limit=10&cursor=${first.body.nextCursor}`)
            .set('Authorization', `Bearer ${platformKey}`)
            .expect(200);
        assert.deepEqual(
            rest.body.entries.map((e: { action: string }) => e.action),
            ['link', 'account_created']
        );
        assert.equal(rest.body.nextCursor, undefined, 'the last page has no cursor');
        for (const entry of [...first.body.entries, ...rest.body.entries]) assert.ok(Date.parse(entry.at), 'each entry says when');

        // The other account sees its own history only.
        const theirs = await h.api(other.key).get('/api/v1/link/activity').expect(200);
        assert.deepEqual(
            theirs.body.entries.map((e: { action: string }) => e.action),
            ['link', 'account_created']
        );
        assert.ok(!JSON.stringify(theirs.body).includes(admin.username));
        assert.ok(!JSON.stringify(theirs.body).includes(account.id));
    });

    test('ten entries by default; a wrong limit or cursor is a 400 VALIDATION_FAILED, and no key a 401', async () => {
        const { id, key } = await h.newAccount('Defaults');
        for (let i = 0; i < 12; i++) await h.services.accounts.rotateKey(id, 'platform');
        const page = await h.api(key).get('/api/v1/link/activity').expect(200);
        assert.equal(page.body.entries.length, 10);
        assert.ok(page.body.nextCursor);
        for (const query of [
            'limit=0',
            'limit=101',
            'limit=2.5',
            'limit=ten',
            'limit=',
            'cursor=abc',
            'cursor=-1',
            'cursor=0',
            'cursor=1&cursor=2',
            'limit=1&limit=2',
            'since=yesterday'
        ]) {
            const res = await h.api(key).get(`/api/v1/link/activity?${query}`);
            assert.equal(res.status, 400, `${query}: ${res.text}`);
            assert.equal(res.body.error.code, 'VALIDATION_FAILED', query);
            assert.ok(res.body.error.message.length > 10, query);
        }
        await request(h.app).get('/api/v1/link/activity').expect(401);
    });
});
