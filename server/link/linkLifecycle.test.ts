import assert from 'node:assert/strict';
import type { Snapshot } from '../store/types.ts';
import { after, before, describe, test } from 'node:test';
import { PEOPLE, recordingGateway, startHarness, type Harness } from '../test/harness.ts';

describe('five accounts per API user', () => {
    let h: Harness;
    before(async () => {
        h = await startHarness();
    });
    after(() => h.close());

    test('a sixth account is refused, the popup names the five (the session does not), and the link Salesforce revoked is marked', async () => {
        const accounts = [];
        for (let i = 1; i <= 5; i++) {
            const account = await h.newAccount(`Tenant ${i}`);
            const { callback } = await h.link(account.key, PEOPLE.acmeApi);
            assert.equal(callback.status, 200, callback.text);
            accounts.push(account);
        }
        const fifth = await h.api(accounts[4]!.key).get('/api/v1/link').expect(200);
        assert.deepEqual(fifth.body.apiUser, { linkedAccounts: 5, limit: 5 });

        const sixth = await h.newAccount('Tenant 6');
        const { sessionId, callback } = await h.link(sixth.key, PEOPLE.acmeApi);
        assert.equal(callback.status, 409);
        const session = await h.api(sixth.key).get(`/api/v1/link-sessions/${sessionId}`).expect(200);
        assert.equal(session.body.error.code, 'API_USER_LIMIT_REACHED');
        // The person signed in to the org sees which accounts hold the API user; the account that started the link does not.
        for (let i = 1; i <= 5; i++) {
            assert.match(callback.text, new RegExp(`Tenant ${i} \\(${accounts[i - 1]!.id}\\)`));
            assert.doesNotMatch(session.body.error.message, new RegExp(`Tenant ${i}|${accounts[i - 1]!.id}`));
        }
        assert.equal((await h.api(sixth.key).get('/api/v1/link')).body.status, 'unlinked');

        // Salesforce revoked the oldest approval when it saw the sixth; that link is now known dead.
        const oldest = await h.api(accounts[0]!.key).get('/api/v1/link').expect(200);
        assert.equal(oldest.body.status, 'needs_relink');
        assert.match(oldest.body.link.lastError.message, /revoked/);
        for (const account of accounts.slice(1)) {
            assert.equal((await h.api(account.key).get('/api/v1/link')).body.status, 'linked');
        }
    });
});

test('six completions for one API user at the same moment never make six links', async () => {
    const h = await startHarness();
    try {
        for (let round = 0; round < 3; round++) {
            const accounts = await Promise.all(Array.from({ length: 6 }, (_, i) => h.newAccount(`Round ${round} tenant ${i}`)));
            const results = await Promise.all(accounts.map((a) => h.link(a.key, PEOPLE.acmeApi)));
            const ok = results.filter((r) => r.callback.status === 200).length;
            const refused = results.filter((r) => r.callback.status === 409).length;
            assert.ok(ok <= 5, `round ${round}: ${ok} links`);
            assert.equal(ok + refused, 6);
            const held = ((db: Snapshot) => db.links.filter((l) => l.username === PEOPLE.acmeApi.username).length)(
                await h.services.store.dump()
            );
            assert.ok(held <= 5, `round ${round}: the store holds ${held} links for one user`);
            await Promise.all(accounts.map((a) => h.api(a.key).delete('/api/v1/link').expect(200)));
        }
    } finally {
        await h.close();
    }
});

describe('relink, verify and unlink', () => {
    let h: Harness;
    before(async () => {
        h = await startHarness();
    });
    after(() => h.close());

    test('a relink that fails leaves the old link exactly as it was, still working', async () => {
        const { id, key } = await h.newAccount('Keeps its link');
        await h.link(key, PEOPLE.acmeApi);
        const before = ((db: Snapshot) => structuredClone(db.links.find((l) => l.accountId === id)))(await h.services.store.dump());
        const { callback } = await h.link(key, PEOPLE.acmeNoApi);
        assert.equal(callback.status, 400);
        const afterwards = ((db: Snapshot) => db.links.find((l) => l.accountId === id))(await h.services.store.dump());
        assert.deepEqual(afterwards, before);
        const verified = await h.api(key).post('/api/v1/link/verify').expect(200);
        assert.equal(verified.body.status, 'linked');
        assert.equal(verified.body.link.username, PEOPLE.acmeApi.username);
    });

    test('a relink that succeeds swaps the link and revokes the old refresh token', async () => {
        const { key } = await h.newAccount('Changes user');
        await h.link(key, PEOPLE.acmeApi);
        const apiTokens = h.emulator.state.tokensFor(PEOPLE.acmeApi.username);
        const { callback } = await h.link(key, PEOPLE.acmeAdmin, {
            environment: 'production',
            initiatedBy: { userId: '005000000000001AAA', username: 'admin@acme.example' }
        });
        assert.equal(callback.status, 200, callback.text);
        assert.equal(h.emulator.state.tokensFor(PEOPLE.acmeApi.username), apiTokens - 1);
        const status = await h.api(key).get('/api/v1/link').expect(200);
        assert.equal(status.body.link.username, PEOPLE.acmeAdmin.username);
        assert.deepEqual(status.body.link.linkedBy, { userId: '005000000000001AAA', username: 'admin@acme.example', claimed: true });
        const audit = ((db: Snapshot) => db.audit.filter((e) => e.accountId === status.body.account.id).map((e) => e.action))(
            await h.services.store.dump()
        );
        assert.deepEqual(audit, ['account_created', 'link', 'relink']);
    });

    test('verify after the API user is deactivated: needs_relink with the reason', async () => {
        const { key } = await h.newAccount('Deactivated');
        await h.link(key, PEOPLE.uatApi, { environment: 'sandbox' });
        h.emulator.state.setUserActive(PEOPLE.uatApi.username, false);
        try {
            const res = await h.api(key).post('/api/v1/link/verify').expect(200);
            assert.equal(res.body.status, 'needs_relink');
            assert.match(res.body.link.lastError.message, /inactive/);
        } finally {
            h.emulator.state.setUserActive(PEOPLE.uatApi.username, true);
        }
    });

    test('verify after a sandbox refresh: needs_relink, and relinking restores it', async () => {
        const { key } = await h.newAccount('Refreshed sandbox');
        await h.link(key, PEOPLE.uatApi, { environment: 'sandbox' });
        const oldOrg = h.emulator.state.org('acmeUat').id;
        h.emulator.state.refreshSandbox('acmeUat');
        const res = await h.api(key).post('/api/v1/link/verify').expect(200);
        assert.equal(res.body.status, 'needs_relink');
        const { callback } = await h.link(key, PEOPLE.uatApi, { environment: 'sandbox' });
        assert.equal(callback.status, 200, callback.text);
        const status = await h.api(key).get('/api/v1/link').expect(200);
        assert.equal(status.body.status, 'linked');
        assert.notEqual(status.body.link.orgId, oldOrg);
    });

    test('verify of an account that is not linked', async () => {
        const { key } = await h.newAccount('Never linked');
        const res = await h.api(key).post('/api/v1/link/verify').expect(409);
        assert.equal(res.body.error.code, 'NOT_LINKED');
    });

    test('unlink revokes at Salesforce, then deletes', async () => {
        const { key } = await h.newAccount('Leaves');
        await h.link(key, PEOPLE.uatApi, { environment: 'sandbox' });
        const tokens = h.emulator.state.tokensFor(PEOPLE.uatApi.username);
        const res = await h.api(key).delete('/api/v1/link').expect(200);
        assert.deepEqual(res.body, { status: 'unlinked', revoked: true });
        assert.equal(h.emulator.state.tokensFor(PEOPLE.uatApi.username), tokens - 1);
        assert.equal((await h.api(key).get('/api/v1/link')).body.status, 'unlinked');
        const again = await h.api(key).delete('/api/v1/link').expect(200);
        assert.deepEqual(again.body, { status: 'unlinked', revoked: false });
    });
});

test('unlink while Salesforce is unreachable deletes the link and says it was not revoked', async () => {
    const h = await startHarness({
        gateway: (real) => ({
            ...real,
            revoke: async () => {
                const error = new Error('connect ECONNREFUSED') as Error & { code: string };
                error.code = 'ECONNREFUSED';
                throw (await import('../salesforce/gateway.ts')).classify(error);
            }
        })
    });
    try {
        const { key } = await h.newAccount();
        await h.link(key, PEOPLE.acmeApi);
        const res = await h.api(key).delete('/api/v1/link').expect(200);
        assert.deepEqual(res.body, { status: 'unlinked', revoked: false });
        const audit = ((db: Snapshot) => db.audit.at(-1))(await h.services.store.dump());
        assert.equal(audit?.outcome, 'not_revoked');
    } finally {
        await h.close();
    }
});

test('legacy links: imported encrypted, shown without secrets, erased by an OAuth relink', async () => {
    const h = await startHarness();
    try {
        const { id, key } = await h.newAccount('Old customer');
        const secret = 'legacy-password-Zq81';
        const token = 'LEGACYTOKEN0000000000';
        await h.services.accounts.importLegacy(
            [{ accountId: id, username: 'api@acme.example', password: secret, securityToken: token, environment: 'production' }],
            h.services.cipher,
            h.services.hosts
        );
        const status = await h.api(key).get('/api/v1/link').expect(200);
        assert.equal(status.body.status, 'legacy');
        assert.equal(status.body.link.username, 'api@acme.example');
        assert.equal(status.body.link.method, 'legacy');
        assert.doesNotMatch(JSON.stringify(status.body), new RegExp(`${secret}|${token}|legacyCredentials`));
        const file = await h.storedText();
        assert.equal(file.includes(secret) || file.includes(token), false);

        await assert.rejects(
            h.services.accounts.importLegacy(
                [{ accountId: id, username: 'x@acme.example', password: 'p', securityToken: '', environment: 'production' }],
                h.services.cipher,
                h.services.hosts
            ),
            /already linked/
        );

        const { callback } = await h.link(key, PEOPLE.acmeApi);
        assert.equal(callback.status, 200, callback.text);
        const relinked = ((db: Snapshot) => db.links.find((l) => l.accountId === id))(await h.services.store.dump());
        assert.equal(relinked?.method, 'oauth');
        assert.equal(relinked?.legacyCredentials, undefined);
        assert.equal((await h.api(key).get('/api/v1/link')).body.status, 'linked');
    } finally {
        await h.close();
    }
});

test('no token, password or API key is ever written in clear to the data file or the logs', async () => {
    const seen = new Set<string>();
    const h = await startHarness({ gateway: (real) => recordingGateway(real, seen) });
    try {
        const { key } = await h.newAccount('Secret keeper');
        await h.link(key, PEOPLE.acmeApi);
        await h.api(key).post('/api/v1/link/verify').expect(200);
        const other = await h.newAccount('Secret keeper 2');
        await h.link(other.key, PEOPLE.acmeNoApi);
        await h.services.calls.settled();
        const file = await h.storedText();
        await h.services.store.close();
        const logs = h.logs();
        assert.ok(seen.size >= 3, 'the test saw tokens');
        assert.ok(logs.length > 0, 'the test captured logs');
        for (const secret of [...seen, key, other.key, PEOPLE.acmeApi.password, PEOPLE.acmeNoApi.password]) {
            assert.equal(file.includes(secret), false, 'a secret is in the data file');
            assert.equal(logs.includes(secret), false, 'a secret is in the logs');
        }
        assert.doesNotMatch(logs, /[?&](code|state)=/);
    } finally {
        await h.close();
    }
});

test('Verify of a legacy link logs in with the stored password; a refused password marks it needs_relink', async () => {
    const h = await startHarness();
    try {
        const good = await h.newAccount('Legacy that works');
        const bad = await h.newAccount('Legacy with an old password');
        await h.services.accounts.importLegacy(
            [
                {
                    accountId: good.id,
                    username: PEOPLE.acmeApi.username,
                    password: PEOPLE.acmeApi.password,
                    securityToken: '',
                    environment: 'production'
                },
                {
                    accountId: bad.id,
                    username: PEOPLE.uatApi.username,
                    password: 'changed-since',
                    securityToken: '',
                    environment: 'sandbox'
                }
            ],
            h.services.cipher,
            h.services.hosts
        );
        const verified = await h.api(good.key).post('/api/v1/link/verify').expect(200);
        assert.equal(verified.body.status, 'legacy');
        assert.ok(verified.body.link.lastVerifiedAt);
        const refused = await h.api(bad.key).post('/api/v1/link/verify').expect(200);
        assert.equal(refused.body.status, 'needs_relink');
        assert.match(refused.body.link.lastError.message, /Relink with OAuth/);
        assert.doesNotMatch(JSON.stringify(refused.body), /changed-since/);
    } finally {
        await h.close();
    }
});
