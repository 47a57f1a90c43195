/**
 * The process the crash test kills: writes links and task-ledger entries through LowdbStore.update
 * as fast as it can, and prints the id of each write once `update` has resolved (acknowledged).
 *
 *   node --import tsx server/test/reliability/crashWriter.ts <dataDir> <tag>
 */
import { LowdbStore } from '../../store/lowdbStore.ts';
import type { LinkRecord } from '../../store/types.ts';

const [dataDir, tag] = process.argv.slice(2);
if (!dataDir || !tag) throw new Error('usage: crashWriter.ts <dataDir> <tag>');

const store = await LowdbStore.open(dataDir);
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
    if (n % 2 === 0) {
        await store.update((db) => {
            db.links.push(link(id));
            db.audit.push({ at: new Date().toISOString(), accountId: id, action: 'link', outcome: 'ok' });
        });
    } else {
        await store.update((db) => {
            db.taskLedger.calls[id] = { state: 'created', taskId: '00T000000000001AAA', at: new Date().toISOString() };
        });
    }
    // Pipes are written synchronously on Linux: once this returns, the parent will read the line.
    process.stdout.write(`${id}\n`);
}
