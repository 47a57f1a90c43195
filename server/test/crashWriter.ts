/**
 * The process the crash test kills: writes links (with their audit entry, in one transaction), task-ledger entries
 * and kept call Tasks (each claimed once, as the replay does) as fast as it can, and prints the id of each write once the store has
 * acknowledged it.
 *
 *   node --import tsx server/test/crashWriter.ts <dataDir | postgres://…> <tag>
 */
import { openStore } from '../store/openStore.ts';
import type { LinkRecord } from '../store/types.ts';

const [target, tag] = process.argv.slice(2);
if (!target || !tag) throw new Error('usage: crashWriter.ts <dataDir | postgres://…> <tag>');

const store = await openStore(target.startsWith('postgres') ? { DATA_DIR: '', DATABASE_URL: target } : { DATA_DIR: target });
process.stdout.write('open\n');

const link = (id: string): LinkRecord => ({
    accountId: id,
    method: 'oauth',
    status: 'linked',
    environment: 'production',
    orgId: '00D000000000001AAA',
    userId: '005000000000001AAA',
    username: 'api@acme.example',
    displayName: 'API User',
    instanceUrl: 'https://acme.my.salesforce.com',
    loginUrl: 'https://login.salesforce.com',
    linkedAt: new Date().toISOString(),
    // A sealed token's size, so the file grows the way a real one does.
    refreshToken: { v: 1, iv: 'AAAAAAAAAAAAAAAA', tag: 'AAAAAAAAAAAAAAAAAAAAAA==', data: 'x'.repeat(160) }
});

for (let n = 0; ; n++) {
    const id = `${tag}-${n}`;
    if (n % 3 === 0) {
        await store.transaction(async (tx) => {
            await tx.links.put(link(id));
            await tx.audit.append({ at: new Date().toISOString(), accountId: id, action: 'link', outcome: 'ok' });
        });
    } else if (n % 3 === 1) {
        await store.ledger.settle(id, '00T000000000001AAA', new Date().toISOString());
    } else {
        const at = new Date().toISOString();
        await store.kept.add({
            accountId: id,
            callId: 'call',
            orgId: '00D000000000001AAA',
            input: { direction: 'inbound', durationSeconds: 30, description: 'x'.repeat(200) },
            callAt: at,
            reason: 'api_limit',
            state: 'waiting',
            attempts: 0,
            nextAttemptAt: at
        });
        await store.kept.claim({ accountId: id, now: at, by: tag, until: new Date(Date.now() + 60_000).toISOString(), limit: 1 });
    }
    // Pipes are written synchronously on Linux: once this returns, the parent will read the line.
    process.stdout.write(`${id}\n`);
}
