import assert from 'node:assert/strict';
import type { Snapshot } from '../../store/types.ts';
import { after, before, describe, test } from 'node:test';
import { PEOPLE, startHarness, type Harness } from '../harness.ts';
import request from 'supertest';
import { random, report, startPopup } from '../reliabilityHarness.ts';

const ROUNDS = Number(process.env.CONCURRENCY_ROUNDS ?? 20);
const RELINKS = Number(process.env.CONCURRENCY_RELINKS ?? 50);

describe('two sign-ins of one account that finish together', () => {
    let h: Harness;
    /** Holds the first sign-in between its token exchange and its Composite request, until released. */
    let hold: { reached: () => void; release: Promise<void> } | undefined;
    before(async () => {
        h = await startHarness({
            gateway: (real) => ({
                ...real,
                composite: async (...args) => {
                    const held = hold;
                    hold = undefined;
                    if (held) {
                        held.reached();
                        await held.release;
                    }
                    return real.composite(...args);
                }
            })
        });
    });
    after(() => h.close());

    test('the newer approval stays: the older one, saved last, is refused with LINK_SUPERSEDED and revoked', async () => {
        const { id, key } = await h.newAccount('Signed in twice');
        const older = await startPopup(h.app, key, PEOPLE.acmeApi);
        const newer = await startPopup(h.app, key, PEOPLE.acmeApi);
        let release!: () => void;
        const reached = new Promise<void>((resolve) => {
            hold = { reached: resolve, release: new Promise<void>((r) => (release = r)) };
        });
        const olderCallback = request(h.app)
            .get(older.callbackPath)
            .set('Cookie', older.cookie)
            .then((r) => r);
        await reached;
        // Salesforce's issued_at counts milliseconds: the second approval is issued in a later one.
        await new Promise((resolve) => setTimeout(resolve, 5));
        const newerCallback = await request(h.app).get(newer.callbackPath).set('Cookie', newer.cookie);
        assert.equal(newerCallback.status, 200, newerCallback.text);
        const linkedBefore = (await h.services.store.dump()).links.find((l) => l.accountId === id);
        release();
        const olderAnswer = await olderCallback;
        assert.equal(olderAnswer.status, 409, olderAnswer.text);
        assert.match(olderAnswer.text, /newer sign-in for this account/);

        const session = await h.api(key).get(`/api/v1/link-sessions/${older.sessionId}`).expect(200);
        assert.equal(session.body.state, 'failed');
        assert.equal(session.body.error.code, 'LINK_SUPERSEDED');
        const links = (await h.services.store.dump()).links.filter((l) => l.accountId === id);
        assert.equal(links.length, 1);
        assert.deepEqual(links[0], linkedBefore, 'the newer link is the one kept, untouched');
        assert.equal(h.emulator.state.tokensFor(PEOPLE.acmeApi.username), 1, 'the older approval was revoked in Salesforce');
        const verified = await h.api(key).post('/api/v1/link/verify').expect(200);
        assert.equal(verified.body.status, 'linked');
        await h.api(key).delete('/api/v1/link').expect(200);
    });

    test('saved in the order they were approved, the newer one replaces the older, whose approval is revoked', async () => {
        const { id, key } = await h.newAccount('Signed in twice, in order');
        const first = await startPopup(h.app, key, PEOPLE.acmeApi);
        const second = await startPopup(h.app, key, PEOPLE.acmeApi);
        await request(h.app).get(first.callbackPath).set('Cookie', first.cookie).expect(200);
        await new Promise((resolve) => setTimeout(resolve, 5));
        await request(h.app).get(second.callbackPath).set('Cookie', second.cookie).expect(200);
        const links = (await h.services.store.dump()).links.filter((l) => l.accountId === id);
        assert.equal(links.length, 1);
        assert.equal(h.emulator.state.tokensFor(PEOPLE.acmeApi.username), 1);
        const audit = await h.api(key).get('/api/v1/link/activity').expect(200);
        assert.ok(JSON.stringify(audit.body).includes('relink'), 'the second sign-in is recorded as a relink');
        await h.api(key).delete('/api/v1/link').expect(200);
    });
});

describe('links completing at the same moment', () => {
    let h: Harness;
    before(async () => {
        // Networks reorder: each answer from Salesforce arrives after a random extra moment.
        const jitter = random('concurrency-network');
        const late = async <T>(answer: T): Promise<T> => {
            await new Promise((resolve) => setTimeout(resolve, Math.floor(jitter() * 40)));
            return answer;
        };
        h = await startHarness({
            gateway: (real) => ({
                ...real,
                exchangeCode: async (...args) => late(await real.exchangeCode(...args)),
                identity: async (...args) => late(await real.identity(...args)),
                composite: async (...args) => late(await real.composite(...args))
            })
        });
    });
    after(() => h.close());

    const userLinks = async () =>
        ((db: Snapshot) => db.links.filter((l) => l.username === PEOPLE.acmeApi.username))(await h.services.store.dump());
    /** What Salesforce holds must be what the store holds: one live approval per working link, no orphan. */
    const assertTokensMatchLinks = async (label: string) => {
        const live = (await userLinks()).filter((l) => l.status === 'linked').length;
        assert.equal(
            h.emulator.state.tokensFor(PEOPLE.acmeApi.username),
            live,
            `${label}: Salesforce holds another number of approvals than the store has working links`
        );
    };

    test(`six completions for one API user at once, ${ROUNDS} times: never more than five links`, async (t) => {
        let linked = 0;
        let refused = 0;
        let most = 0;
        for (let round = 0; round < ROUNDS; round++) {
            const accounts = await Promise.all(Array.from({ length: 6 }, (_, i) => h.newAccount(`Round ${round} tenant ${i}`)));
            const results = await Promise.all(accounts.map((a) => h.link(a.key, PEOPLE.acmeApi)));
            const statuses = results.map((r) => r.callback.status);
            assert.ok(
                statuses.every((s) => s === 200 || s === 409),
                `round ${round}: ${statuses.join(' ')}`
            );
            for (const r of results) assert.doesNotMatch(r.callback.text, /answered unexpectedly/);
            const held = (await userLinks()).length;
            assert.ok(held <= 5, `round ${round}: the store holds ${held} links for one API user`);
            most = Math.max(most, held);
            linked += statuses.filter((s) => s === 200).length;
            refused += statuses.filter((s) => s === 409).length;
            await assertTokensMatchLinks(`round ${round}`);
            await Promise.all(accounts.map((a) => h.api(a.key).delete('/api/v1/link').expect(200)));
            assert.equal(
                h.emulator.state.tokensFor(PEOPLE.acmeApi.username),
                0,
                `round ${round}: approvals left after unlinking everything`
            );
        }
        report(t, 'concurrency-six', { rounds: ROUNDS, completions: ROUNDS * 6, linked, refused, mostLinksForOneUser: most });
    });

    test(`${RELINKS} relinks of one account at once end with exactly one link, and every displaced token revoked`, async (t) => {
        const { id, key } = await h.newAccount('Relinked many times');
        await h.link(key, PEOPLE.acmeApi);
        // An account may have 20 popups open: the relinks come in waves of 20 signed-in popups whose callbacks all land at once.
        const results: Array<{ callback: request.Response }> = [];
        for (let left = RELINKS; left > 0; left -= 20) {
            const popups = await Promise.all(Array.from({ length: Math.min(20, left) }, () => startPopup(h.app, key, PEOPLE.acmeApi)));
            results.push(
                ...(await Promise.all(
                    popups.map((p) =>
                        request(h.app)
                            .get(p.callbackPath)
                            .set('Cookie', p.cookie)
                            .then((callback) => ({ callback }))
                    )
                ))
            );
        }
        const statuses = results.map((r) => r.callback.status);
        // A relink Salesforce cut short (it keeps five approvals per user) says so, as a 409 a person can act on.
        assert.ok(
            statuses.every((s) => s === 200 || s === 409),
            statuses.join(' ')
        );
        for (const r of results) assert.doesNotMatch(r.callback.text, /answered unexpectedly/);
        const links = ((db: Snapshot) => db.links.filter((l) => l.accountId === id))(await h.services.store.dump());
        assert.equal(links.length, 1, 'one link for the account');
        assert.equal((await userLinks()).length, 1, 'one link for the API user');
        const status = await h.api(key).get('/api/v1/link').expect(200);
        await assertTokensMatchLinks('after the relinks');
        // The link that stayed works.
        if (status.body.status === 'linked') {
            const verified = await h.api(key).post('/api/v1/link/verify').expect(200);
            assert.equal(verified.body.status, 'linked');
        }
        await assertTokensMatchLinks('after verify');
        report(t, 'concurrency-relinks', {
            relinks: RELINKS,
            succeeded: statuses.filter((s) => s === 200).length,
            failed: statuses.filter((s) => s !== 200).length,
            finalStatus: status.body.status,
            liveApprovals: h.emulator.state.tokensFor(PEOPLE.acmeApi.username)
        });
        await h.api(key).delete('/api/v1/link').expect(200);
        assert.equal(h.emulator.state.tokensFor(PEOPLE.acmeApi.username), 0);
    });
});
