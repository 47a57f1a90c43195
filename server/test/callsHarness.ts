import type { Server } from 'node:http';
import request from 'supertest';
import type { RequestCounts } from '../../emulator/index.ts';
import { PEOPLE, startHarness, type Harness, type Person } from './harness.ts';

/** The harness plus a listening server (so a burst of requests shares one), an account linked as the Acme API user and call helpers. */
export interface CallsHarness {
    h: Harness;
    server: Server;
    key: string;
    accountId: string;
    lookup(body: unknown, key?: string): request.Test;
    task(callId: string, body: unknown, key?: string): request.Test;
    get(path: string, key?: string): request.Test;
    /** Requests the Acme org has seen since the last `mark()`. */
    spent(): RequestCounts;
    mark(): void;
    close(): Promise<void>;
}

export const ACME = 'acme' as const;

export async function startCallsHarness(
    options: Parameters<typeof startHarness>[0] & { person?: Person; environment?: 'production' | 'sandbox' } = {}
): Promise<CallsHarness> {
    const h = await startHarness(options);
    const server = await new Promise<Server>((resolve) => {
        const listening = h.app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    const account = await h.newAccount('Calls');
    const { callback } = await h.link(account.key, options.person ?? PEOPLE.acmeApi, { environment: options.environment ?? 'production' });
    if (callback.status !== 200) throw new Error(`link failed: ${callback.status} ${callback.text}`);
    let base = h.emulator.state.requestCounts(ACME);
    const auth = (key?: string) => `Bearer ${key ?? account.key}`;
    return {
        h,
        server,
        key: account.key,
        accountId: account.id,
        lookup: (body, key) =>
            request(server)
                .post('/api/v1/calls/lookup')
                .set('Authorization', auth(key))
                .send(body as object),
        task: (callId, body, key) =>
            request(server)
                .put(`/api/v1/calls/${callId}/task`)
                .set('Authorization', auth(key))
                .send(body as object),
        get: (path, key) => request(server).get(path).set('Authorization', auth(key)),
        spent() {
            const now = h.emulator.state.requestCounts(ACME);
            return Object.fromEntries(
                Object.entries(now).map(([kind, n]) => [kind, n - base[kind as keyof RequestCounts]])
            ) as RequestCounts;
        },
        mark() {
            base = h.emulator.state.requestCounts(ACME);
        },
        async close() {
            await new Promise<void>((resolve) => {
                server.close(() => resolve());
                server.closeAllConnections();
            });
            await h.close();
        }
    };
}

/** Requests to Salesforce, of any kind, in a count delta. */
export const total = (counts: RequestCounts): number =>
    Object.entries(counts).reduce((sum, [kind, n]) => (kind === 'rest' ? sum : sum + n), 0);
