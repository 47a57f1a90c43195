/**
 * Long on purpose: the store's contract, every repository in one suite, the same tests against lowdb and PostgreSQL
 * (each PostgreSQL run in a database of its own, created and dropped here). Without DATABASE_URL the PostgreSQL half
 * is skipped, and says so.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Accounts } from '../accounts.ts';
import { systemClock } from '../clock.ts';
import { accountLock, apiUserLock, type Store } from './store.ts';
import type {
    AccountRecord,
    AuditEntry,
    KeptTaskRecord,
    LegacyLinkRecord,
    LinkSessionRecord,
    OAuthLinkRecord,
    OutboxEvent
} from './types.ts';
import { openTestStore } from '../test/harness.ts';
import { PG_SKIP, warnIfNoPostgres } from '../test/pgDatabase.ts';

warnIfNoPostgres();

const ORG = '00D000000000001AAA';
const USER = '005000000000001AAA';
const account = (id: string, extra: Partial<AccountRecord> = {}): AccountRecord => ({
    id,
    name: `Name ${id}`,
    apiKeyHash: `hash-${id}`,
    createdAt: `2026-01-01T00:00:00.00${id.length % 10}Z`,
    ...extra
});
const link = (accountId: string, extra: Partial<OAuthLinkRecord> = {}): OAuthLinkRecord => ({
    accountId,
    method: 'oauth',
    status: 'linked',
    environment: 'production',
    orgId: ORG,
    userId: USER,
    username: 'api@acme.example',
    displayName: 'API User',
    instanceUrl: 'https://acme.my.salesforce.com',
    loginUrl: 'https://login.salesforce.com',
    linkedAt: '2026-01-01T00:00:00.000Z',
    refreshToken: { v: 1, iv: 'iv', tag: 'tag', data: `token-${accountId}` },
    ...extra
});
/** A link imported from the old method: its sealed password instead of a refresh token. */
const legacyLink = (accountId: string): LegacyLinkRecord => {
    const { refreshToken: _oauthOnly, ...fields } = link(accountId);
    return {
        ...fields,
        method: 'legacy',
        status: 'legacy',
        legacyCredentials: { v: 1, iv: 'iv', tag: 'tag', data: `password-${accountId}` }
    };
};
const session = (id: string, extra: Partial<LinkSessionRecord> = {}): LinkSessionRecord => ({
    id,
    accountId: 'a1',
    environment: 'production',
    loginUrl: 'https://login.salesforce.com',
    state: 'pending',
    createdAt: '2026-01-01T00:00:00.000Z',
    expiresAt: '2026-01-01T00:10:00.000Z',
    ...extra
});
const entry = (accountId: string, at: string, extra: Partial<AuditEntry> = {}): AuditEntry => ({
    at,
    accountId,
    action: 'verify',
    outcome: 'ok',
    ...extra
});
const OTHER_ORG = '00D000000000002AAA';
const kept = (accountId: string, callId: string, callAt: string, extra: Partial<KeptTaskRecord> = {}): KeptTaskRecord => ({
    accountId,
    callId,
    orgId: ORG,
    input: { direction: 'inbound', durationSeconds: 60 },
    callAt,
    reason: 'api_limit',
    state: 'waiting',
    attempts: 0,
    nextAttemptAt: callAt,
    ...extra
});
const event = (id: string, accountId: string, createdAt: string, extra: Partial<OutboxEvent> = {}): OutboxEvent => ({
    id,
    accountId,
    type: 'link.status_changed',
    createdAt,
    data: { accountId, from: 'linked', to: 'needs_relink', reason: 'revoked' },
    state: 'pending',
    attempts: 0,
    nextAttemptAt: createdAt,
    ...extra
});

for (const kind of ['lowdb', 'postgres'] as const) {
    describe(`store contract: ${kind}`, { skip: kind === 'postgres' && PG_SKIP }, () => {
        let dir: string;
        let store: Store;
        let drop: () => Promise<void>;
        let reopen: () => Promise<Store>;
        before(async () => {
            dir = await mkdtemp(path.join(tmpdir(), 'ccl-contract-'));
            const opened = await openTestStore(kind, dir);
            store = opened.store;
            drop = opened.drop;
            reopen = async () => {
                if (opened.database) return (await import('./pgStore.ts')).PgStore.open(opened.database.url);
                return (await import('./lowdb/store.ts')).LowdbStore.open(dir);
            };
        });
        after(async () => {
            await store.close();
            await drop();
            await rm(dir, { recursive: true, force: true });
        });

        test('accounts: insert, get, by key hash, names, patch (null clears), list with the link', async () => {
            await store.accounts.insert(account('a1'));
            await store.accounts.insert(
                account('a2', {
                    webhook: {
                        url: 'https://hooks.example/x',
                        secret: { v: 1, iv: 'i', tag: 't', data: 'd' },
                        createdAt: '2026-01-01T00:00:00.000Z'
                    }
                })
            );
            assert.deepEqual(await store.accounts.get('a1'), account('a1'));
            assert.equal((await store.accounts.byKeyHash('hash-a2'))?.id, 'a2');
            await store.accounts.insert(account('a9', { platformKeyHash: 'platform-hash-a9' }));
            assert.equal((await store.accounts.byKeyHash('platform-hash-a9'))?.id, 'a9', 'the platform key finds its account too');
            assert.equal(await store.accounts.byKeyHash('hash-nobody'), undefined);
            assert.deepEqual(
                await store.accounts.names(['a1', 'a2', 'missing']),
                new Map([
                    ['a1', 'Name a1'],
                    ['a2', 'Name a2']
                ])
            );
            assert.equal(await store.accounts.patch('a2', { webhook: null, keyRotatedAt: '2026-02-01T00:00:00.000Z' }), true);
            assert.deepEqual(await store.accounts.get('a2'), { ...account('a2'), keyRotatedAt: '2026-02-01T00:00:00.000Z' });
            assert.equal(await store.accounts.patch('missing', { name: 'x' }), false);
            await store.links.put(link('a1'));
            const list = await store.accounts.list();
            assert.deepEqual(list.map((r) => [r.account.id, r.link?.status]).sort(), [
                ['a1', 'linked'],
                ['a2', undefined],
                ['a9', undefined]
            ]);
            // A key hash is unique.
            await assert.rejects(store.accounts.insert(account('a3', { apiKeyHash: 'hash-a1' })));
            // Reads are copies.
            const copy = await store.accounts.get('a1');
            copy!.name = 'changed';
            assert.equal((await store.accounts.get('a1'))?.name, 'Name a1');
        });

        test('links: put returns the one replaced, API user lookups on 15 characters, due for check, counts, delete', async () => {
            const first = await store.links.put(link('l1', { lastVerifiedAt: '2026-01-02T00:00:00.000Z' }));
            assert.equal(first, undefined);
            const replaced = await store.links.put(
                link('l1', { username: 'new@acme.example', lastVerifiedAt: '2026-01-02T00:00:00.000Z' })
            );
            assert.equal(replaced?.username, 'api@acme.example');
            await store.links.put(link('l2', { orgId: ORG.slice(0, 15), lastVerifiedAt: '2026-01-03T00:00:00.000Z' }));
            await store.links.put(legacyLink('l3'));
            await store.links.put(link('l4', { userId: '005000000000002AAA' }));
            await store.links.put(link('l5', { status: 'needs_relink' }));
            const holders = (await store.links.ofApiUser(ORG, USER.slice(0, 15), { except: 'l2' })).map((l) => l.accountId).sort();
            assert.deepEqual(holders, ['a1', 'l1', 'l5']);
            assert.deepEqual(
                (await store.links.dueForCheck('2026-01-02T12:00:00.000Z')).sort(),
                ['a1', 'l1', 'l3', 'l4'],
                'legacy links are checked too'
            );
            assert.deepEqual((await store.links.dueForCheck()).sort(), ['a1', 'l1', 'l2', 'l3', 'l4']);
            // The keepalive: linked OAuth links by when their refresh token was last used, or issued (linkedAt) if never.
            await store.links.patch('l2', { lastRefreshedAt: '2026-01-09T00:00:00.000Z' });
            await store.links.patch('l4', { lastRefreshedAt: '2025-12-31T00:00:00.000Z' });
            const keepalive = await store.links.dueForKeepalive('2026-01-05T00:00:00.000Z');
            assert.equal(keepalive[0], 'l4', 'the longest unused first');
            assert.deepEqual(keepalive.slice(1).sort(), ['a1', 'l1'], 'not l2 (used since), l3 (legacy) nor l5 (needs relink)');
            assert.deepEqual(await store.links.dueForKeepalive('2025-12-31T00:00:00.000Z'), []);
            assert.deepEqual(await store.links.countByStatus(), { linked: 4, legacy: 1, needs_relink: 1 });
            assert.equal(await store.links.patch('l5', { status: 'linked', lastError: null }), true);
            assert.equal((await store.links.get('l5'))?.status, 'linked');
            assert.equal((await store.links.delete('l5'))?.accountId, 'l5');
            assert.equal(await store.links.get('l5'), undefined);
            assert.equal(await store.links.delete('l5'), undefined);
        });

        test('sessions: insert, by state hash (unique), pending count, patch, purge', async () => {
            await store.sessions.insert(
                session('s1', {
                    attempt: {
                        stateHash: 'state-1',
                        cookieHash: 'c',
                        codeVerifier: { v: 1, iv: 'i', tag: 't', data: 'd' },
                        startedAt: '2026-01-01T00:00:00.000Z'
                    }
                })
            );
            await store.sessions.insert(session('s2'));
            await store.sessions.insert(session('s3', { state: 'linked' }));
            await store.sessions.insert(session('s4', { expiresAt: '2025-12-01T00:00:00.000Z' }));
            assert.equal((await store.sessions.byStateHash('state-1'))?.id, 's1');
            assert.equal(await store.sessions.byStateHash('state-x'), undefined);
            assert.equal(await store.sessions.countPending('a1', '2026-01-01T00:05:00.000Z'), 2);
            await assert.rejects(
                store.sessions.patch('s2', {
                    attempt: { stateHash: 'state-1', cookieHash: 'c', codeVerifier: { v: 1, iv: 'i', tag: 't', data: 'd' }, startedAt: '' }
                })
            );
            assert.equal(await store.sessions.patch('s1', { attempt: null, state: 'failed', error: { code: 'X', message: 'y' } }), true);
            assert.equal(await store.sessions.byStateHash('state-1'), undefined);
            assert.deepEqual((await store.sessions.get('s1'))?.error, { code: 'X', message: 'y' });
            assert.equal(await store.sessions.purge('2026-01-01T00:00:00.000Z'), 1);
            assert.equal(await store.sessions.get('s4'), undefined);
        });

        test('audit: newest first in pages, repeats skipped when asked, first link into an org, pruned by age and count', async () => {
            for (let i = 0; i < 7; i++) await store.audit.append(entry('au', `2026-01-0${i + 1}T00:00:00.000Z`, { outcome: `o${i}` }));
            assert.equal(
                await store.audit.append(entry('au', '2026-01-08T00:00:00.000Z', { outcome: 'o6' }), { unlessRepeat: true }),
                false
            );
            assert.equal(await store.audit.append(entry('au', '2026-01-08T00:00:00.000Z', { outcome: 'o6' })), true);
            const first = await store.audit.page('au', { limit: 3 });
            assert.deepEqual(
                first.entries.map((e) => e.at),
                ['2026-01-08T00:00:00.000Z', '2026-01-07T00:00:00.000Z', '2026-01-06T00:00:00.000Z']
            );
            assert.ok(first.nextCursor);
            const second = await store.audit.page('au', { limit: 3, cursor: first.nextCursor });
            assert.deepEqual(
                second.entries.map((e) => e.outcome),
                ['o4', 'o3', 'o2']
            );
            const last = await store.audit.page('au', { limit: 3, cursor: second.nextCursor });
            assert.deepEqual(
                last.entries.map((e) => e.outcome),
                ['o1', 'o0']
            );
            assert.equal(last.nextCursor, undefined);

            await store.audit.append(entry('fl', '2026-01-01T00:00:00.000Z', { action: 'link', orgId: '00D000000000009AAA' }));
            await store.audit.append(entry('fl', '2026-01-02T00:00:00.000Z', { action: 'link', outcome: 'failed', orgId: ORG }));
            await store.audit.append(entry('fl', '2026-01-03T00:00:00.000Z', { action: 'relink', orgId: ORG.slice(0, 15) }));
            assert.equal(await store.audit.firstLinkedAt('fl', ORG), '2026-01-03T00:00:00.000Z');
            assert.equal(await store.audit.firstLinkedAt('nobody', ORG), undefined);

            // Older than 2026-01-03 goes; of what is left, 'au' keeps its newest 2.
            const dropped = await store.audit.prune('2026-01-03T00:00:00.000Z', 2);
            assert.equal(dropped, 2 + 4 + 2);
            assert.deepEqual(
                (await store.audit.page('au', { limit: 10 })).entries.map((e) => e.outcome),
                ['o6', 'o6']
            );
            assert.deepEqual(
                (await store.audit.page('fl', { limit: 10 })).entries.map((e) => e.at),
                ['2026-01-03T00:00:00.000Z']
            );
        });

        test('ledger: a key is claimed once, settled, released, pruned', async () => {
            assert.match(await store.ledger.startedAt(), /^\d{4}-\d\d-\d\dT/);
            assert.equal(await store.ledger.claim('k1', { at: '2026-01-01T00:00:00.000Z', by: 'p1' }), undefined);
            assert.deepEqual(await store.ledger.claim('k1', { at: '2026-01-01T00:00:01.000Z', by: 'p2' }), {
                state: 'pending',
                at: '2026-01-01T00:00:00.000Z',
                by: 'p1'
            });
            await store.ledger.settle('k1', '00T1', '2026-01-01T00:00:02.000Z');
            assert.deepEqual(await store.ledger.get('k1'), { state: 'created', taskId: '00T1', at: '2026-01-01T00:00:02.000Z' });
            await store.ledger.release('k1');
            assert.equal((await store.ledger.get('k1'))?.taskId, '00T1', 'a created entry is never released');
            await store.ledger.claim('k2', { at: '2026-01-01T00:00:00.000Z', by: 'p1' });
            await store.ledger.release('k2');
            assert.equal(await store.ledger.get('k2'), undefined);
            // Concurrent claims of one key: exactly one owner.
            const claims = await Promise.all(
                Array.from({ length: 20 }, (_, i) => store.ledger.claim('k3', { at: '2026-01-02T00:00:00.000Z', by: `p${i}` }))
            );
            assert.equal(claims.filter((c) => c === undefined).length, 1);
            assert.equal(await store.ledger.prune('2026-01-02T00:00:00.000Z'), 1);
            assert.equal(await store.ledger.get('k1'), undefined);
            assert.ok(await store.ledger.get('k3'));
        });

        test('ledger: a live call is claimed once, unless kept, in one step', async () => {
            const at = '2026-01-06T00:00:00.000Z';
            const call = { accountId: 'lk1', callId: 'c1' };
            assert.deepEqual(await store.ledger.claimUnlessKept('lk1|c1', { at, by: 'p1' }, call), {}, 'claimed');
            assert.deepEqual(await store.ledger.get('lk1|c1'), { state: 'pending', at, by: 'p1' });
            assert.deepEqual(await store.ledger.claimUnlessKept('lk1|c1', { at: '2026-01-06T00:00:01.000Z', by: 'p2' }, call), {
                entry: { state: 'pending', at, by: 'p1' }
            });
            await store.ledger.settle('lk1|c1', '00T1', at);
            assert.deepEqual(await store.ledger.claimUnlessKept('lk1|c1', { at, by: 'p2' }, call), {
                entry: { state: 'created', taskId: '00T1', at }
            });
            // A kept call: its row answers, nothing is claimed, whatever the ledger holds.
            await store.kept.add(kept('lk1', 'c2', at));
            const keptOne = await store.ledger.claimUnlessKept('lk1|c2', { at, by: 'p1' }, { accountId: 'lk1', callId: 'c2' });
            assert.equal(keptOne.kept?.callId, 'c2');
            assert.equal(keptOne.entry, undefined);
            assert.equal(await store.ledger.get('lk1|c2'), undefined, 'a kept call is not claimed');
            // The same call id of another account is not that account's kept row.
            assert.deepEqual(await store.ledger.claimUnlessKept('lk2|c2', { at, by: 'p1' }, { accountId: 'lk2', callId: 'c2' }), {});
            // Many at once: exactly one claims, every other sees its entry.
            const outcomes = await Promise.all(
                Array.from({ length: 20 }, (_, i) =>
                    store.ledger.claimUnlessKept('lk1|c3', { at, by: `p${i}` }, { accountId: 'lk1', callId: 'c3' })
                )
            );
            assert.equal(outcomes.filter((o) => !o.entry && !o.kept).length, 1);
            const holder = (await store.ledger.get('lk1|c3'))?.by;
            assert.ok(outcomes.every((o) => (o.entry ? o.entry.by === holder : true)));
            // Inside a transaction: its own claim and kept rows are seen.
            await store.transaction(async (tx) => {
                assert.deepEqual(await tx.ledger.claimUnlessKept('lk1|c4', { at, by: 'p1' }, { accountId: 'lk1', callId: 'c4' }), {});
                assert.equal(
                    (await tx.ledger.claimUnlessKept('lk1|c4', { at, by: 'p2' }, { accountId: 'lk1', callId: 'c4' })).entry?.by,
                    'p1'
                );
                await tx.kept.add(kept('lk1', 'c5', at));
                assert.equal(
                    (await tx.ledger.claimUnlessKept('lk1|c5', { at, by: 'p1' }, { accountId: 'lk1', callId: 'c5' })).kept?.callId,
                    'c5'
                );
            });
            assert.equal((await store.ledger.get('lk1|c4'))?.by, 'p1');
            // The kept Tasks' test counts every row: these go.
            assert.equal(await store.kept.remove('lk1', 'c2'), true);
            assert.equal(await store.kept.remove('lk1', 'c5'), true);
        });

        test('ledger: a pending claim is taken over or abandoned only as it was read', async () => {
            const at = '2026-01-05T00:00:00.000Z';
            assert.equal(await store.ledger.claim('r1', { at, by: 'p1' }), undefined);
            assert.equal(await store.ledger.reclaim('r1', { at, by: 'p2' }, { at, by: 'p3' }), false, 'not as read: another claimant');
            assert.equal(
                await store.ledger.reclaim('r1', { at: '2026-01-05T00:00:09.000Z', by: 'p1' }, { at, by: 'p3' }),
                false,
                'not as read: another time'
            );
            // Abandoned by its owner (the create's outcome is unknown): no claimant, still pending.
            assert.equal(await store.ledger.reclaim('r1', { at, by: 'p1' }, { at }), true);
            assert.deepEqual(await store.ledger.get('r1'), { state: 'pending', at });
            // Two takers of the abandoned claim: one wins.
            const later = '2026-01-05T00:00:01.000Z';
            const takes = await Promise.all(['p4', 'p5', 'p6'].map((by) => store.ledger.reclaim('r1', { at }, { at: later, by })));
            assert.equal(takes.filter(Boolean).length, 1);
            assert.equal((await store.ledger.get('r1'))?.at, later);
            await store.ledger.settle('r1', '00T9', later);
            assert.equal(
                await store.ledger.reclaim('r1', { at: later }, { at: later, by: 'p7' }),
                false,
                'a created entry is never reclaimed'
            );
            assert.equal(await store.ledger.reclaim('absent', { at }, { at, by: 'p1' }), false);
        });

        test('outbox: events claimed once while the claim holds, outcomes recorded by the holder only, newest first, pruned', async () => {
            await store.outbox.add(event('e1', 'ob', '2026-02-01T00:00:00.000Z'));
            await store.outbox.add(event('e2', 'ob', '2026-02-01T00:00:01.000Z'));
            await store.outbox.add(event('e3', 'ob', '2026-02-01T00:00:02.000Z', { nextAttemptAt: '2026-02-01T01:00:00.000Z' }));
            await assert.rejects(store.outbox.add(event('e1', 'ob', '2026-02-01T00:00:00.000Z')));
            const now = '2026-02-01T00:00:10.000Z';
            const until = '2026-02-01T00:00:40.000Z';
            const first = await store.outbox.claimDue({ now, by: 'i1', until, limit: 1 });
            assert.deepEqual(
                first.map((e) => [e.id, e.claim]),
                [['e1', { by: 'i1', until }]]
            );
            // Claims from two instances at once: each due event goes to one of them; e3 is not due.
            const [a, b] = await Promise.all([
                store.outbox.claimDue({ now, by: 'i2', until, limit: 10 }),
                store.outbox.claimDue({ now, by: 'i3', until, limit: 10 })
            ]);
            assert.deepEqual(
                [...a, ...b].map((e) => e.id),
                ['e2']
            );
            const e2holder = a.length ? 'i2' : 'i3';
            // Only the holder records.
            assert.equal(await store.outbox.record('e1', 'i2', { state: 'delivered' }), false);
            assert.equal(
                await store.outbox.record('e1', 'i1', {
                    state: 'delivered',
                    attempts: 1,
                    deliveredAt: now,
                    lastAttempt: { at: now, status: 204 },
                    claim: null
                }),
                true
            );
            assert.equal(await store.outbox.record('e1', 'i1', { attempts: 2 }), false, 'the claim was given back');
            // A lapsed claim is taken over.
            const lapsed = '2026-02-01T00:00:41.000Z';
            const taken = await store.outbox.claimDue({ now: lapsed, by: 'i4', until: '2026-02-01T00:01:10.000Z', limit: 10 });
            assert.deepEqual(
                taken.map((e) => e.id),
                ['e2']
            );
            assert.equal(await store.outbox.record('e2', e2holder, { attempts: 1 }), false, 'the old holder lost it');
            assert.equal(
                await store.outbox.record('e2', 'i4', {
                    state: 'failed',
                    attempts: 6,
                    lastAttempt: { at: lapsed, error: 'refused' },
                    claim: null
                }),
                true
            );
            const recent = await store.outbox.recent('ob', 10);
            assert.deepEqual(
                recent.map((e) => [e.id, e.state]),
                [
                    ['e3', 'pending'],
                    ['e2', 'failed'],
                    ['e1', 'delivered']
                ]
            );
            assert.equal(recent[2]!.claim, undefined);
            assert.deepEqual(recent[2]!.lastAttempt, { at: now, status: 204 });
            assert.deepEqual(await store.outbox.recent('nobody', 10), []);
            // Pruned: finished events before the cutoff, and beyond the count per account; a pending one never.
            await store.outbox.add(event('e4', 'ob', '2026-03-01T00:00:00.000Z', { state: 'delivered' }));
            await store.outbox.add(event('e5', 'ob', '2026-03-01T00:00:01.000Z', { state: 'delivered' }));
            assert.equal(await store.outbox.prune('2026-02-01T00:00:01.500Z', 2), 2);
            assert.deepEqual(
                (await store.outbox.recent('ob', 10)).map((e) => e.id),
                ['e5', 'e4', 'e3']
            );
        });

        test('kept Tasks: kept once per call, claimed once while the claim holds, deferred, relinked, decided, expired', async () => {
            const t = (s: number) => new Date(Date.UTC(2026, 2, 1, 0, 0, s)).toISOString();
            assert.equal(await store.kept.add(kept('k1', 'c1', t(1))), undefined);
            assert.equal(await store.kept.add(kept('k1', 'c2', t(2), { reason: 'salesforce_unavailable', detail: 'timeout' })), undefined);
            assert.equal(await store.kept.add(kept('k1', 'c3', t(3), { nextAttemptAt: t(100) })), undefined);
            assert.equal(await store.kept.add(kept('k2', 'c1', t(0))), undefined);
            // The same call again: kept once, the row already there answered.
            assert.equal((await store.kept.add(kept('k1', 'c1', t(50), { reason: 'needs_relink' })))?.callAt, t(1));
            assert.equal((await store.kept.get('k1', 'c2'))?.detail, 'timeout');
            assert.equal(await store.kept.get('k1', 'nope'), undefined);
            assert.deepEqual(await store.kept.summary('k1'), {
                count: 3,
                awaitingChoice: 0,
                oldestCallAt: t(1),
                reasons: { api_limit: 2, salesforce_unavailable: 1 }
            });
            assert.deepEqual(await store.kept.summary('none'), { count: 0, awaitingChoice: 0, reasons: {} });
            assert.equal(await store.kept.countAll(), 4);
            assert.deepEqual(await store.kept.accountsDue(t(10), 10), ['k2', 'k1']);
            assert.deepEqual(await store.kept.accountsDue(t(10), 1), ['k2']);
            // Two instances claim at once: each due row goes to one of them; c3 is not due.
            const until = t(40);
            const [a, b] = await Promise.all([
                store.kept.claim({ accountId: 'k1', now: t(10), by: 'i1', until, limit: 10 }),
                store.kept.claim({ accountId: 'k1', now: t(10), by: 'i2', until, limit: 10 })
            ]);
            assert.deepEqual([...a, ...b].map((r) => r.callId).sort(), ['c1', 'c2']);
            const holderOf = (callId: string) => ([...a].some((r) => r.callId === callId) ? 'i1' : 'i2');
            assert.deepEqual(await store.kept.claim({ accountId: 'k1', now: t(10), by: 'i3', until, limit: 10 }), []);
            // Claimed rows still make their account due: its replay lease says who may replay it.
            assert.deepEqual(await store.kept.accountsDue(t(10), 10), ['k2', 'k1']);
            // An instance that died: its claims are freed, and claimed again at once.
            const dead = holderOf('c2');
            const deadRows = ['c1', 'c2'].filter((callId) => holderOf(callId) === dead);
            assert.equal(await store.kept.releaseClaims('k1', dead), deadRows.length);
            assert.equal(await store.kept.releaseClaims('k1', dead), 0);
            assert.deepEqual(
                (await store.kept.claim({ accountId: 'k1', now: t(10), by: dead, until, limit: 10 })).map((r) => r.callId),
                deadRows
            );
            // Only the holder records or removes.
            const other = holderOf('c1') === 'i1' ? 'i2' : 'i1';
            assert.equal(await store.kept.record('k1', 'c1', other, { attempts: 1 }), false);
            assert.equal(
                await store.kept.record('k1', 'c1', holderOf('c1'), {
                    attempts: 1,
                    lastAttempt: { at: t(11), error: 'REQUEST_LIMIT_EXCEEDED' },
                    nextAttemptAt: t(30),
                    claim: null
                }),
                true
            );
            assert.equal((await store.kept.get('k1', 'c1'))?.claim, undefined);
            assert.equal(await store.kept.remove('k1', 'c2', other), false);
            assert.equal(await store.kept.remove('k1', 'c2', holderOf('c2')), true);
            assert.equal(await store.kept.remove('k1', 'c2'), false);
            // A lapsed claim is taken over.
            await store.kept.add(kept('k1', 'c4', t(4)));
            const [c4] = await store.kept.claim({ accountId: 'k1', now: t(10), by: 'i1', until: t(20), limit: 1 });
            assert.equal(c4?.callId, 'c4');
            assert.deepEqual(
                (await store.kept.claim({ accountId: 'k1', now: t(21), by: 'i2', until: t(60), limit: 5 })).map((r) => r.callId),
                ['c4']
            );
            assert.equal(await store.kept.record('k1', 'c4', 'i2', { claim: null }), true);
            // Deferred: every waiting row of the account waits at least that long; later ones keep their time.
            assert.equal(await store.kept.defer('k1', t(90)), 2);
            assert.deepEqual(
                [(await store.kept.get('k1', 'c1'))?.nextAttemptAt, (await store.kept.get('k1', 'c3'))?.nextAttemptAt],
                [t(90), t(100)]
            );
            assert.deepEqual(await store.kept.accountsDue(t(95), 10), ['k2', 'k1']);
            // A relink to another org: every row waits for the admin's choice; back to the same org (15 characters): due now.
            assert.deepEqual(await store.kept.relinked('k1', OTHER_ORG, t(120)), { waiting: 0, awaitingChoice: 3 });
            assert.deepEqual(await store.kept.accountsDue(t(500), 10), ['k2']);
            const held = await store.kept.summary('k1');
            assert.equal(held.awaitingChoice, 3);
            assert.equal(held.awaitingOrgId, ORG);
            assert.deepEqual(await store.kept.relinked('k1', ORG.slice(0, 15), t(130)), { waiting: 3, awaitingChoice: 0 });
            assert.equal((await store.kept.get('k1', 'c3'))?.nextAttemptAt, t(130));
            // The choice: made in the org linked now, or dropped; only rows awaiting it.
            await store.kept.relinked('k1', OTHER_ORG, t(140));
            await store.kept.add(kept('k1', 'c5', t(5), { orgId: OTHER_ORG }));
            assert.equal(await store.kept.decide('k1', 'make', OTHER_ORG, t(150)), 3);
            const made = await store.kept.get('k1', 'c1');
            assert.deepEqual([made?.state, made?.orgId, made?.attempts, made?.nextAttemptAt], ['waiting', OTHER_ORG, 0, t(150)]);
            await store.kept.relinked('k1', ORG, t(160));
            assert.equal(await store.kept.decide('k1', 'drop', ORG, t(170)), 4);
            assert.equal((await store.kept.summary('k1')).count, 0);
            // Expired: rows whose call is older than the bound, counted per account.
            await store.kept.add(kept('k3', 'old', t(1)));
            await store.kept.add(kept('k3', 'new', t(200)));
            assert.deepEqual(
                await store.kept.expire(t(100)),
                [
                    { accountId: 'k2', count: 1 },
                    { accountId: 'k3', count: 1 }
                ].sort((x, y) => x.accountId.localeCompare(y.accountId))
            );
            assert.equal((await store.kept.summary('k3')).count, 1);
            // Inside a transaction: what it wrote is read back, and a rollback leaves nothing.
            await assert.rejects(
                store.transaction(async (tx) => {
                    await tx.kept.add(kept('k4', 'c1', t(1)));
                    assert.equal((await tx.kept.summary('k4')).count, 1);
                    throw new Error('roll back');
                })
            );
            assert.equal(await store.kept.get('k4', 'c1'), undefined);
            // Another process sees them.
            const again = await reopen();
            try {
                assert.equal((await again.kept.get('k3', 'new'))?.callAt, t(200));
            } finally {
                await again.close();
            }
        });

        test('leases: one holder per key until it lapses or is released', async () => {
            const now = '2026-02-02T00:00:00.000Z';
            const until = '2026-02-02T00:00:30.000Z';
            const wins = await Promise.all(['h1', 'h2', 'h3'].map((by) => store.leases.acquire('refresh:acc', by, { now, until })));
            assert.equal(wins.filter(Boolean).length, 1);
            const holder = ['h1', 'h2', 'h3'][wins.indexOf(true)]!;
            const other = holder === 'h1' ? 'h2' : 'h1';
            assert.equal(
                await store.leases.acquire('refresh:acc', holder, { now, until: '2026-02-02T00:01:00.000Z' }),
                true,
                'the holder extends it'
            );
            assert.equal(await store.leases.acquire('refresh:acc', other, { now: '2026-02-02T00:00:59.000Z', until }), false);
            await store.leases.release('refresh:acc', other);
            assert.equal(await store.leases.acquire('refresh:acc', other, { now, until }), false, 'only the holder releases');
            assert.equal(
                await store.leases.acquire('refresh:acc', other, { now: '2026-02-02T00:01:01.000Z', until: '2026-02-02T00:02:00.000Z' }),
                true,
                'lapsed'
            );
            await store.leases.release('refresh:acc', other);
            assert.equal(await store.leases.acquire('refresh:acc', holder, { now, until }), true, 'released');
            assert.equal(await store.leases.acquire('sweep', other, { now, until }), true, 'keys are independent');
            assert.deepEqual(await store.leases.get('sweep'), { by: other, until });
            assert.equal(await store.leases.get('nothing'), undefined);
            assert.equal(await store.leases.prune('2026-02-02T00:01:00.000Z'), 2, 'both leases lapsed before the cutoff');
            assert.equal(await store.leases.get('sweep'), undefined);
            assert.equal(await store.leases.acquire('kept', other, { now, until: '2026-02-03T00:00:00.000Z' }), true);
            assert.equal(await store.leases.prune('2026-02-02T12:00:00.000Z'), 0);
            assert.ok(await store.leases.get('kept'));
        });

        test('transactions: all or nothing, and what they wrote is read back inside them', async () => {
            await assert.rejects(
                store.transaction(async (tx) => {
                    await tx.lock(accountLock('t1'));
                    await tx.accounts.insert(account('t1'));
                    await tx.links.put(link('t1'));
                    await tx.audit.append(entry('t1', '2026-01-01T00:00:00.000Z'));
                    await tx.ledger.claim('t1-call', { at: '2026-01-01T00:00:00.000Z', by: 'p' });
                    await tx.outbox.add(event('t1-event', 't1', '2026-01-01T00:00:00.000Z'));
                    assert.equal((await tx.links.get('t1'))?.accountId, 't1');
                    assert.equal((await tx.ledger.get('t1-call'))?.state, 'pending');
                    throw new Error('refused');
                }),
                /refused/
            );
            assert.equal(await store.accounts.get('t1'), undefined);
            assert.equal(await store.links.get('t1'), undefined);
            assert.deepEqual((await store.audit.page('t1', { limit: 5 })).entries, []);
            assert.equal(await store.ledger.get('t1-call'), undefined);
            assert.deepEqual(await store.outbox.recent('t1', 5), []);
            const made = await store.transaction(async (tx) => {
                await tx.accounts.insert(account('t2'));
                await tx.audit.append(entry('t2', '2026-01-01T00:00:00.000Z'));
                return 'done';
            });
            assert.equal(made, 'done');
            assert.ok(await store.accounts.get('t2'));
        });

        test('the five-account rule holds when completions of one API user race', async () => {
            const org = '00D0000000000RACE';
            const user = '0050000000000RACE';
            const complete = (accountId: string) =>
                store.transaction(async (tx) => {
                    await tx.lock(apiUserLock(org, user), accountLock(accountId));
                    const holders = await tx.links.ofApiUser(org, user, { except: accountId });
                    if (holders.length >= 5) return 'refused';
                    await new Promise((resolve) => setTimeout(resolve, 5)); // widen the window between the check and the write
                    await tx.links.put(link(accountId, { orgId: org, userId: user }));
                    return 'linked';
                });
            const outcomes = await Promise.all(Array.from({ length: 8 }, (_, i) => complete(`race-${i}`)));
            assert.equal(outcomes.filter((o) => o === 'linked').length, 5);
            assert.equal((await store.links.ofApiUser(org, user)).length, 5);
        });

        test('another process sees a key rotated, an account made and a link changed at once', async () => {
            const other = await reopen();
            try {
                const here = new Accounts(store, systemClock);
                const there = new Accounts(other, systemClock);
                const made = await there.create('Made elsewhere');
                assert.equal((await here.authenticate(made.apiKey))?.id, made.account.id);
                const rotated = await here.rotateKey(made.account.id);
                assert.equal(await there.authenticate(made.apiKey), undefined);
                assert.equal((await there.authenticate(rotated))?.id, made.account.id);
                await other.links.put(link(made.account.id));
                assert.equal((await store.links.get(made.account.id))?.status, 'linked');
                // A failed write leaves no trace, here or there.
                await assert.rejects(
                    other.transaction(async (tx) => (await tx.accounts.insert(account('ghost')), Promise.reject(new Error('refused'))))
                );
                assert.equal(await store.accounts.get('ghost'), undefined);
            } finally {
                await other.close();
            }
        });

        test('seed and dump carry every row as it is', async () => {
            const before = await store.dump();
            const other = await openTestStore(kind, await mkdtemp(path.join(tmpdir(), 'ccl-contract-copy-')));
            try {
                await other.store.seed(before);
                const copy = await other.store.dump();
                const byKey = <T>(rows: T[], key: (row: T) => string) => [...rows].sort((a, b) => key(a).localeCompare(key(b)));
                assert.deepEqual(
                    byKey(copy.accounts, (a) => a.id),
                    byKey(before.accounts, (a) => a.id)
                );
                assert.deepEqual(
                    byKey(copy.links, (l) => l.accountId),
                    byKey(before.links, (l) => l.accountId)
                );
                assert.deepEqual(
                    byKey(copy.linkSessions, (s) => s.id),
                    byKey(before.linkSessions, (s) => s.id)
                );
                assert.deepEqual(copy.audit, before.audit);
                assert.deepEqual(copy.taskLedger, before.taskLedger);
                assert.ok(before.outbox?.length, 'the outbox tests above left events');
                assert.deepEqual(copy.outbox, before.outbox);
                assert.ok(before.keptTasks?.length, 'the kept Tasks test above left rows');
                assert.deepEqual(copy.keptTasks, before.keptTasks);
            } finally {
                await other.store.close();
                await other.drop();
            }
        });
    });
}
