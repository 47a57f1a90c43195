import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LinkRecord } from './types.ts';

const fields = {
    accountId: 'acc_1',
    status: 'linked',
    environment: 'production',
    orgId: '00D000000000001AAA',
    userId: '005000000000001AAA',
    username: 'api@acme.example',
    displayName: 'API User',
    instanceUrl: 'https://acme.my.salesforce.com',
    loginUrl: 'https://login.salesforce.com',
    linkedAt: '2026-01-01T00:00:00.000Z'
} as const;
const sealed = { v: 1, iv: 'iv', tag: 'tag', data: 'data' } as const;

/** Checked by the type checker (`npx tsc --noEmit -p .`): each @ts-expect-error line must be refused. */
test('a LinkRecord is an OAuth link with its refresh token or a legacy link with its credentials, never a mix', () => {
    const oauth: LinkRecord = { ...fields, method: 'oauth', refreshToken: sealed };
    const legacy: LinkRecord = { ...fields, status: 'legacy', method: 'legacy', legacyCredentials: sealed };
    // @ts-expect-error an OAuth link without its refresh token
    const noToken: LinkRecord = { ...fields, method: 'oauth' };
    // @ts-expect-error a legacy link without its credentials
    const noCredentials: LinkRecord = { ...fields, method: 'legacy' };
    // @ts-expect-error a legacy link that also carries a refresh token
    const mixed: LinkRecord = { ...fields, method: 'legacy', legacyCredentials: sealed, refreshToken: sealed };
    const secretOf = (link: LinkRecord) => (link.method === 'oauth' ? link.refreshToken.data : link.legacyCredentials.data);
    assert.deepEqual([oauth, legacy].map(secretOf), ['data', 'data']);
    assert.equal([noToken, noCredentials, mixed].length, 3);
});
