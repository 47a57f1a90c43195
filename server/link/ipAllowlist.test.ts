import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { CLIENT, PEOPLE, startHarness, TEST_STORE, type Harness } from '../test/harness.ts';

/** The operator's setting: where this backend reaches Salesforce from. */
const EGRESS = '203.0.113.10,2001:db8::/64';
/** An allowlist that leaves out the tests' own address (loopback). */
const ELSEWHERE = ['198.51.100.0/24'];
/** One that admits it. */
const HERE = ['127.0.0.1', '::1'];

describe(`the app's refresh token IP allowlist (${TEST_STORE})`, () => {
    let h: Harness;
    before(async () => {
        h = await startHarness({ env: { SF_EGRESS_ADDRESSES: EGRESS } });
    });
    afterEach(() => h.emulator.state.setTokenIpAllowlist(CLIENT.clientId, null));
    after(() => h.close());

    async function linked(name: string) {
        const account = await h.newAccount(name);
        const { callback } = await h.link(account.key, PEOPLE.acmeApi);
        assert.equal(callback.status, 200, callback.text);
        return account;
    }
    const statusOf = async (key: string) => (await h.api(key).get('/api/v1/link').expect(200)).body;
    const lookup = (key: string) => h.api(key).post('/api/v1/calls/lookup', { phone: '(415) 555-1212' });

    test('the status names the backend’s egress addresses, for the admin’s allowlist', async () => {
        const { key } = await linked('Shows addresses');
        assert.deepEqual((await statusOf(key)).egressAddresses, ['203.0.113.10', '2001:db8::/64']);
        await h.api(key).delete('/api/v1/link').expect(200);
    });

    test('a refresh refused for the address is IP_NOT_ALLOWED naming the addresses, not a dead link; once allowed, Verify restores the same grant', async () => {
        const { id, key } = await linked('Refused address');
        h.emulator.state.setTokenIpAllowlist(CLIENT.clientId, ELSEWHERE);
        h.emulator.state.expireAccessTokens(PEOPLE.acmeApi.username);

        const refused = await lookup(key);
        assert.equal(refused.status, 409, refused.text);
        assert.equal(refused.body.error.code, 'IP_NOT_ALLOWED');
        assert.match(refused.body.error.message, /203\.0\.113\.10, 2001:db8::\/64/);
        assert.match(refused.body.error.message, /refresh token IP allowlist/);
        assert.doesNotMatch(refused.body.error.message, /^Relink/);

        const status = await statusOf(key);
        assert.equal(status.status, 'needs_relink');
        assert.equal(status.link.lastError.code, 'IP_NOT_ALLOWED');
        assert.match(status.link.lastError.message, /203\.0\.113\.10/);
        // Later calls say the same without asking Salesforce again.
        const before = h.emulator.state.requestCounts().refresh;
        const again = await lookup(key);
        assert.equal(again.body.error.code, 'IP_NOT_ALLOWED');
        assert.equal(h.emulator.state.requestCounts().refresh, before);
        // The refusal used nothing up: Salesforce still holds the grant.
        assert.equal(h.emulator.state.tokensFor(PEOPLE.acmeApi.username), 1);

        // A call's Task meanwhile is kept, as for a link that waits for an admin (rule 13).
        const kept = await h.api(key).put('/api/v1/calls/ip-refused-call/task').send({ direction: 'inbound', durationSeconds: 30 });
        assert.equal(kept.status, 202, kept.text);
        assert.equal(kept.body.reason, 'needs_relink');

        // Verify while the address is still refused: answered, and still precise.
        const stillRefused = await h.api(key).post('/api/v1/link/verify', {}).expect(200);
        assert.equal(stillRefused.body.status, 'needs_relink');
        assert.equal(stillRefused.body.link.lastError.code, 'IP_NOT_ALLOWED');

        // The admin adds the addresses: Verify brings the link back, no relink.
        h.emulator.state.setTokenIpAllowlist(CLIENT.clientId, HERE);
        const verified = await h.api(key).post('/api/v1/link/verify', {}).expect(200);
        assert.equal(verified.body.status, 'linked');
        assert.equal(verified.body.link.lastError, undefined);
        await lookup(key).expect(200);
        assert.equal(h.emulator.state.tokensFor(PEOPLE.acmeApi.username), 1, 'the same grant, not a new approval');
        // The kept Task is made once the link is back, exactly once.
        await h.services.replay.poke();
        const made = h.emulator.state.tasks('acme').filter((t) => t['CallObject'] === 'ip-refused-call');
        assert.equal(made.length, 1, 'the kept Task was made');
        const audit = (await h.services.store.dump()).audit.filter((e) => e.accountId === id && e.action === 'status_changed');
        assert.equal(audit.at(-1)?.outcome, 'needs_relink');
        assert.match(audit.at(-1)?.detail ?? '', /IP allowlist/);
        await h.api(key).delete('/api/v1/link').expect(200);
    });

    test('the keepalive reports the refusal the same way, and counts it by its code', async () => {
        const { key } = await linked('Refused in the background');
        h.emulator.state.setTokenIpAllowlist(CLIENT.clientId, ELSEWHERE);
        h.clock.advance(8 * 24 * 3600_000);
        const report = await h.services.keepalive.pass();
        assert.equal(report.failed, 1, JSON.stringify(report));
        const counted = (await h.services.metrics.refreshKeepalives.get()).values.find((v) => v.labels.outcome === 'IP_NOT_ALLOWED');
        assert.equal(counted?.value, 1);
        assert.equal((await statusOf(key)).link.lastError.code, 'IP_NOT_ALLOWED');
        h.clock.offsetMs = 0;
        await h.api(key).delete('/api/v1/link').expect(200);
    });

    test('a link made from a refused address fails with IP_NOT_ALLOWED, naming the addresses', async () => {
        const account = await h.newAccount('Link refused');
        h.emulator.state.setTokenIpAllowlist(CLIENT.clientId, ELSEWHERE);
        const { sessionId, callback } = await h.link(account.key, PEOPLE.acmeApi);
        assert.ok(callback.status >= 400, `${callback.status}`);
        assert.match(callback.text, /203\.0\.113\.10/);
        const session = await h.api(account.key).get(`/api/v1/link-sessions/${sessionId}`).expect(200);
        assert.equal(session.body.state, 'failed');
        assert.equal(session.body.error.code, 'IP_NOT_ALLOWED');
        assert.match(session.body.error.message, /start the link again/);
        assert.equal((await statusOf(account.key)).status, 'unlinked');
    });
});

describe(`the IP allowlist without SF_EGRESS_ADDRESSES (${TEST_STORE})`, () => {
    let h: Harness;
    before(async () => {
        h = await startHarness();
    });
    after(() => h.close());

    test('the status lists no addresses, and a refusal says to ask the contact-center operator for them', async () => {
        const account = await h.newAccount('No addresses');
        const { callback } = await h.link(account.key, PEOPLE.acmeApi);
        assert.equal(callback.status, 200, callback.text);
        assert.equal((await h.api(account.key).get('/api/v1/link').expect(200)).body.egressAddresses, undefined);
        h.emulator.state.setTokenIpAllowlist(CLIENT.clientId, ELSEWHERE);
        h.emulator.state.expireAccessTokens(PEOPLE.acmeApi.username);
        const refused = await h.api(account.key).post('/api/v1/calls/lookup', { phone: '4155551212' });
        assert.equal(refused.body.error.code, 'IP_NOT_ALLOWED');
        assert.match(refused.body.error.message, /ask them/);
    });
});
