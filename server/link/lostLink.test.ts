import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LinkStatusChange } from './events.ts';
import { PEOPLE, startHarness, type Harness } from '../test/harness.ts';

describe('a refused sixth link names the link it cost', () => {
    let h: Harness;
    before(async () => {
        h = await startHarness();
    });
    after(() => h.close());

    test('the popup and the account that lost it name it; a session started elsewhere does not; its webhook says so', async () => {
        const accounts: Array<{ id: string; key: string }> = [];
        for (let i = 1; i <= 5; i++) {
            const account = await h.newAccount(`Holder ${i}`);
            assert.equal((await h.link(account.key, PEOPLE.acmeApi)).callback.status, 200);
            accounts.push(account);
        }
        const changes: LinkStatusChange[] = [];
        h.services.events.on('status', (change: LinkStatusChange) => changes.push(change));

        // Started without naming its org (not the org's own card): the session says a link was lost, not whose.
        const sixth = await h.newAccount('Newcomer');
        const { sessionId, callback } = await h.link(sixth.key, PEOPLE.acmeApi);
        assert.equal(callback.status, 409);
        const lostName = `Holder 1 \\(${accounts[0]!.id}\\)`;
        assert.match(
            callback.text,
            new RegExp(`Account ${lostName} lost its link; relink it, or use another API user for the new account\\.`)
        );
        const session = await h.api(sixth.key).get(`/api/v1/link-sessions/${sessionId}`).expect(200);
        assert.equal(session.body.error.code, 'API_USER_LIMIT_REACHED');
        assert.match(session.body.error.message, /one of its other accounts lost its link and shows Needs relink/);
        for (const account of accounts) assert.doesNotMatch(session.body.error.message, new RegExp(account.id));

        // The account that lost it: its card and its webhook event name it and say what to do.
        const lost = await h.api(accounts[0]!.key).get('/api/v1/link').expect(200);
        assert.equal(lost.body.status, 'needs_relink');
        assert.match(
            lost.body.link.lastError.message,
            new RegExp(
                `^Account ${lostName} lost its link: Salesforce revoked it when its API user api@acme\\.example approved another contact-center account`
            )
        );
        assert.match(lost.body.link.lastError.message, /Relink it, or use another API user for the new account\.$/);
        const event = changes.find((c) => c.accountId === accounts[0]!.id);
        assert.equal(event?.to, 'needs_relink');
        assert.equal(event?.reason, lost.body.link.lastError.message);
        assert.equal(changes.filter((c) => c.to === 'needs_relink').length, 1, 'only the link Salesforce revoked');

        // Relinked, the five are full again; a sixth from the org's own card (its org named) is told whose link it cost.
        assert.equal((await h.link(accounts[0]!.key, PEOPLE.acmeApi)).callback.status, 200);
        const orgId = lost.body.link.orgId as string;
        const again = await h.link(sixth.key, PEOPLE.acmeApi, { environment: 'production', expectedOrgId: orgId });
        assert.equal(again.callback.status, 409);
        const named = await h.api(sixth.key).get(`/api/v1/link-sessions/${again.sessionId}`).expect(200);
        assert.match(named.body.error.message, /lost its link; relink it, or use another API user for the new account\.$/);
        assert.match(named.body.error.message, /Account Holder \d \(acc_/);
    });
});
