import assert from 'node:assert/strict';
import type { Snapshot } from '../store/types.ts';
import { after, afterEach, before, describe, test } from 'node:test';
import { PEOPLE, startHarness, type Harness } from '../test/harness.ts';

describe('permission preflight', () => {
    let h: Harness;
    before(async () => {
        h = await startHarness();
    });
    afterEach(() => h.emulator.state.reset());
    after(() => h.close());

    const checksOf = (body: { permissions?: { checks: Array<{ id: string; ok: boolean; severity: string; detail?: string }> } }) =>
        Object.fromEntries((body.permissions?.checks ?? []).map((c) => [c.id, c]));

    test('the seeded API user passes every check, and the link records them', async () => {
        const { key } = await h.newAccount('All good');
        await h.link(key, PEOPLE.acmeApi);
        const status = await h.api(key).get('/api/v1/link').expect(200);
        const checks = checksOf(status.body);
        assert.ok(status.body.permissions.checkedAt);
        for (const id of [
            'api_enabled',
            'user_active',
            'api_only',
            'user_license',
            'task_create',
            'task_update',
            'task_fields',
            'read_contact',
            'read_lead',
            'read_account',
            'read_case',
            'phone_search',
            'view_all_users'
        ]) {
            assert.equal(checks[id]?.ok, true, `${id}: ${checks[id]?.detail}`);
        }
        assert.equal(checks.private_sharing, undefined);
    });

    test('a link costs two Salesforce round trips: token, then one Composite request with the identity facts and the checks', async () => {
        const { key } = await h.newAccount('Frugal');
        h.emulator.state.resetCounts();
        await h.link(key, PEOPLE.acmeApi);
        const counts = h.emulator.state.requestCounts();
        assert.equal(counts.token, 1);
        assert.equal(counts.identity, 0);
        assert.equal(counts.composite, 1);
        assert.equal(counts.rest, 1, 'one REST call: the composite');
        assert.equal(h.emulator.state.org('acme').apiUsage.used - 0 >= 1, true);
    });

    test('a System Administrator API user links with warnings', async () => {
        const { key } = await h.newAccount('Admin user');
        const { callback } = await h.link(key, PEOPLE.acmeAdmin);
        assert.equal(callback.status, 200, callback.text);
        const checks = checksOf((await h.api(key).get('/api/v1/link')).body);
        assert.equal(checks.user_license?.ok, false);
        assert.equal(checks.user_license?.severity, 'warning');
        assert.match(checks.user_license?.detail ?? '', /System Administrator/);
        assert.equal(checks.api_only?.ok, false);
    });

    test('without the permission set the link fails with PERMISSIONS_MISSING and says what to grant; the old link stays', async () => {
        const { id, key } = await h.newAccount('Missing perms');
        await h.link(key, PEOPLE.uatApi, { environment: 'sandbox' });
        const before = ((db: Snapshot) => structuredClone(db.links.find((l) => l.accountId === id)))(await h.services.store.dump());
        h.emulator.state.unassignPermissionSet(PEOPLE.acmeApi.username, 'Contact_Center_API_User');
        const tokens = h.emulator.state.tokensFor(PEOPLE.acmeApi.username);
        const { sessionId } = await h.link(key, PEOPLE.acmeApi);
        const session = await h.api(key).get(`/api/v1/link-sessions/${sessionId}`).expect(200);
        assert.equal(session.body.error.code, 'PERMISSIONS_MISSING');
        assert.match(session.body.error.message, /Create Tasks/);
        assert.match(session.body.error.message, /Read Contact/);
        assert.match(session.body.error.message, /Contact_Center_API_User/);
        assert.equal(h.emulator.state.tokensFor(PEOPLE.acmeApi.username), tokens, 'the new token was revoked');
        assert.deepEqual(((db: Snapshot) => db.links.find((l) => l.accountId === id))(await h.services.store.dump()), before);
    });

    test('a Task call field without field-level access is named', async () => {
        h.emulator.state.updatePermissions('acme', 'Contact_Center_API_User', {
            fields: { 'Task.CallDisposition': { read: false, edit: false } }
        });
        const { key } = await h.newAccount('No disposition');
        const { sessionId } = await h.link(key, PEOPLE.acmeApi);
        const session = await h.api(key).get(`/api/v1/link-sessions/${sessionId}`).expect(200);
        assert.equal(session.body.error.code, 'PERMISSIONS_MISSING');
        assert.match(session.body.error.message, /Task\.CallDisposition/);
    });

    test('View All Users missing and private Contacts are warnings, the link is made', async () => {
        h.emulator.state.updatePermissions('acme', 'Contact_Center_API_User', { permissions: { ViewAllUsers: false } });
        h.emulator.state.setSharingModel('acme', 'Contact', 'Private');
        const { key } = await h.newAccount('Private org');
        const { callback } = await h.link(key, PEOPLE.acmeApi);
        assert.equal(callback.status, 200, callback.text);
        const checks = checksOf((await h.api(key).get('/api/v1/link')).body);
        assert.equal(checks.view_all_users?.ok, false);
        assert.equal(checks.private_sharing?.ok, false);
        assert.match(checks.private_sharing?.detail ?? '', /View All Data/);
    });

    test('Verify runs the preflight again and shows a permission removed since the link', async () => {
        const { key } = await h.newAccount('Drifted');
        await h.link(key, PEOPLE.acmeApi);
        h.emulator.state.updatePermissions('acme', 'Contact_Center_API_User', { permissions: { EditTask: false } });
        const verified = await h.api(key).post('/api/v1/link/verify').expect(200);
        assert.equal(verified.body.status, 'linked');
        const checks = checksOf(verified.body);
        assert.equal(checks.task_create?.ok, false);
        assert.match(checks.task_create?.detail ?? '', /Edit Tasks/);
    });
});
