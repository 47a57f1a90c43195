import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PEOPLE, startHarness, TEST_STORE, type Harness } from '../test/harness.ts';

const MINUTE = 60_000;
/** The org's refresh token policy in the test: expire a refresh token not used for two hours (Salesforce's is 30 days). */
const IDLE_TTL_SECONDS = 2 * 3600;
/** The backend's keepalive: an hour, inside the TTL (the smallest SF_REFRESH_KEEPALIVE_SECONDS takes). */
const KEEPALIVE_SECONDS = 3600;
/** Three hours of calls in ten-minute steps: longer than the TTL, on one access token that lives six. */
const STEP_MS = 10 * MINUTE;
const STEPS = 18;

/**
 * A contact center busy on one access token: its calls never need a refresh, so without the keepalive its refresh
 * token idles out at Salesforce and the first expiry of the access token ends the link.
 */
const busyLink = (keepalive: boolean) =>
    describe(`a link busy on one access token for longer than the idle refresh-token TTL, ${keepalive ? 'with' : 'without'} the keepalive (${TEST_STORE})`, () => {
        let h: Harness;
        let key: string;
        before(async () => {
            h = await startHarness({
                emulator: { refreshTokenIdleTtlSeconds: IDLE_TTL_SECONDS, accessTokenTtlSeconds: 6 * 3600 },
                env: { SF_REFRESH_KEEPALIVE_SECONDS: String(KEEPALIVE_SECONDS) }
            });
            ({ key } = await h.newAccount('Busy contact center'));
            const { callback } = await h.link(key, PEOPLE.acmeApi);
            assert.equal(callback.status, 200, callback.text);
        });
        after(() => h.close());

        const lookup = () => h.api(key).post('/api/v1/calls/lookup', { phone: '(415) 555-1212' });
        const keepaliveCount = async () =>
            (await h.services.metrics.refreshKeepalives.get()).values.find((v) => v.labels.outcome === 'ok')?.value ?? 0;

        test(
            keepalive
                ? 'the keepalive uses the refresh token about once an hour, one token request each and no API call: after the access token expires, calls still succeed'
                : 'without it the refresh token idles out, and the first expiry of the access token ends the link (the test above can fail)',
            async () => {
                let keepaliveRefreshes = 0;
                let keepaliveApiCalls = 0;
                for (let step = 0; step < STEPS; step++) {
                    h.clock.advance(STEP_MS);
                    h.emulator.state.advanceTime(STEP_MS);
                    const beforeCall = h.emulator.state.requestCounts('acme');
                    await lookup().expect(200);
                    assert.equal(h.emulator.state.requestCounts('acme').refresh - beforeCall.refresh, 0, 'the calls need no refresh');
                    if (!keepalive) continue;
                    const before = h.emulator.state.requestCounts();
                    const usageBefore = h.emulator.state.org('acme').apiUsage.used;
                    await h.services.keepalive.pass();
                    const spent = h.emulator.state.requestCounts();
                    keepaliveRefreshes += spent.refresh - before.refresh;
                    keepaliveApiCalls += h.emulator.state.org('acme').apiUsage.used - usageBefore;
                }
                const [grant] = h.emulator.state.grants(PEOPLE.acmeApi.username);
                if (keepalive) {
                    // Three hours with a one-hour keepalive, looked at every ten minutes: due after 50 minutes unused.
                    assert.ok(keepaliveRefreshes >= 3 && keepaliveRefreshes <= 4, `keepalive refreshes: ${keepaliveRefreshes}`);
                    assert.equal(keepaliveApiCalls, 0, 'a keepalive costs no API call');
                    assert.equal(await keepaliveCount(), keepaliveRefreshes, 'each counted once in ccl_refresh_keepalives_total');
                    assert.ok(grant, 'the grant is alive at Salesforce');
                    const status = (await h.api(key).get('/api/v1/link').expect(200)).body;
                    assert.ok(
                        Date.parse(status.link.lastRefreshedAt) > h.clock.now().getTime() - KEEPALIVE_SECONDS * 1000,
                        `lastRefreshedAt ${status.link.lastRefreshedAt}`
                    );
                } else {
                    assert.equal(grant, undefined, 'the refresh token idled out at Salesforce');
                }
                // The quiet night: the access token expires, the next call must refresh.
                assert.ok(h.emulator.state.expireAccessTokens(PEOPLE.acmeApi.username) >= 0);
                const after = await lookup();
                if (keepalive) {
                    assert.equal(after.status, 200, after.text);
                    assert.equal((await h.api(key).get('/api/v1/link').expect(200)).body.status, 'linked');
                } else {
                    assert.equal(after.status, 409, after.text);
                    assert.equal(after.body.error.code, 'NEEDS_RELINK');
                    assert.equal((await h.api(key).get('/api/v1/link').expect(200)).body.status, 'needs_relink');
                }
            }
        );
    });

void busyLink(true);
void busyLink(false);

describe(`the keepalive pass (${TEST_STORE})`, () => {
    let h: Harness;
    before(async () => {
        h = await startHarness({ env: { SF_REFRESH_KEEPALIVE_SECONDS: String(KEEPALIVE_SECONDS) } });
    });
    after(() => h.close());

    test('leaves a link refreshed within the period alone, and refreshes a due link once however many passes run at once', async () => {
        const { key } = await h.newAccount('Due');
        const { callback } = await h.link(key, PEOPLE.acmeApi);
        assert.equal(callback.status, 200, callback.text);
        h.emulator.state.resetCounts();
        assert.deepEqual(await h.services.keepalive.pass(), { due: 0, refreshed: 0, failed: 0 });
        h.clock.advance(KEEPALIVE_SECONDS * 1000);
        const passes = await Promise.all([h.services.keepalive.pass(), h.services.keepalive.pass(), h.services.keepalive.tick()]);
        assert.equal(h.emulator.state.requestCounts().refresh, 1, JSON.stringify(passes));
        // A second instance's pass right after sees the row: not due any more.
        assert.deepEqual(await h.services.keepalive.pass(), { due: 0, refreshed: 0, failed: 0 });
        await h.api(key).delete('/api/v1/link').expect(200);
    });

    test('a refresh token Salesforce revoked is found by the keepalive: the link says so before a call fails', async () => {
        const { key } = await h.newAccount('Revoked');
        const { callback } = await h.link(key, PEOPLE.acmeApi);
        assert.equal(callback.status, 200, callback.text);
        h.emulator.state.revokeUserTokens(PEOPLE.acmeApi.username);
        h.clock.advance(KEEPALIVE_SECONDS * 1000);
        const report = await h.services.keepalive.pass();
        assert.equal(report.failed, 1, JSON.stringify(report));
        assert.equal((await h.api(key).get('/api/v1/link').expect(200)).body.status, 'needs_relink');
        const failed = (await h.services.metrics.refreshKeepalives.get()).values.find((v) => v.labels.outcome === 'NEEDS_RELINK');
        assert.equal(failed?.value, 1);
        await h.api(key).delete('/api/v1/link').expect(200);
    });

    test('Salesforce out of reach: the link is left as it is, and the next pass tries again', async () => {
        const { key } = await h.newAccount('Outage');
        const { callback } = await h.link(key, PEOPLE.acmeApi);
        assert.equal(callback.status, 200, callback.text);
        h.clock.advance(KEEPALIVE_SECONDS * 1000);
        h.emulator.state.failNext('refresh', 'http503', { count: 1 });
        const first = await h.services.keepalive.pass();
        assert.equal(first.failed, 1, JSON.stringify(first));
        assert.equal((await h.api(key).get('/api/v1/link').expect(200)).body.status, 'linked');
        const second = await h.services.keepalive.pass();
        assert.equal(second.refreshed, 1, JSON.stringify(second));
        await h.api(key).delete('/api/v1/link').expect(200);
    });
});
