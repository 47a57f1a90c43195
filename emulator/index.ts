// Public entry of the Salesforce emulator: four listeners over one shared state.

import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { OriginKey } from './model.ts';
import { ORIGIN_KEYS } from './model.ts';
import { makeHandler } from './router.ts';
import { DEFAULT_REFRESH_TOKEN_IDLE_TTL_SECONDS, EmulatorState, type EmulatorClient } from './state.ts';

export { SEED } from './seed.ts';
export { EmulatorState } from './state.ts';
export type {
    EmulatorClient,
    FaultKind,
    FaultMode,
    FaultOptions,
    GrantInfo,
    OrgInfo,
    PermissionPatch,
    RequestCounts,
    RequestKind,
    TokenSummary,
    UserInfo
} from './state.ts';
export type { OrgKey, OriginKey, PermissionName, SharingModel } from './model.ts';
export { normalizeId, to18 } from './ids.ts';
export { PACKAGE_CREDENTIAL } from './credentials.ts';
export { MASTER_RECORD_TYPE_ID, PERSON_ACCOUNT_SEEDS, type CustomFieldSpec, type RecordTypeSpec } from './customization.ts';

export interface EmulatorOptions {
    /** default '127.0.0.1' */
    host?: string;
    /** default 0 (ephemeral) for each listener */
    ports?: Partial<Record<OriginKey, number>>;
    /** registered External Client Apps / connected apps */
    clients?: EmulatorClient[];
    /** default 7200 */
    accessTokenTtlSeconds?: number;
    /** each refresh answers a new refresh token and retires the old one, as a packaged app's org does; default ROTATE_BY_DEFAULT */
    rotateRefreshTokens?: boolean;
    /** a refresh token not used to refresh for this long expires; default 30 days, null: valid until revoked */
    refreshTokenIdleTtlSeconds?: number | null;
    /** newest API version served, default '62.0' */
    apiVersion?: string;
    quiet?: boolean;
}

/**
 * Whether refresh tokens rotate when no option says otherwise: on, as a packaged app's org has it (Salesforce requires
 * rotation of partner apps). A test turns it off with the option or a control.
 */
export const ROTATE_BY_DEFAULT = true;

export interface Emulator {
    origins: Record<OriginKey, string>;
    allOrigins: string[];
    state: EmulatorState;
    /** Connections with a request still being answered: a request its client cancelled must leave none. */
    requestsInFlight(): number;
    close(): Promise<void>;
}

function listen(server: Server, host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
        const onError = (err: Error): void => reject(err);
        server.once('error', onError);
        server.listen(port, host, () => {
            server.off('error', onError);
            resolve((server.address() as AddressInfo).port);
        });
    });
}

export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
    const host = opts.host ?? '127.0.0.1';
    const apiVersion = opts.apiVersion ?? '62.0';
    if (!/^\d+\.0$/.test(apiVersion)) throw new Error(`apiVersion must look like '62.0', got ${apiVersion}`);
    const state = new EmulatorState({
        accessTokenTtlSeconds: opts.accessTokenTtlSeconds ?? 7200,
        rotateRefreshTokens: opts.rotateRefreshTokens ?? ROTATE_BY_DEFAULT,
        refreshTokenIdleTtlSeconds:
            opts.refreshTokenIdleTtlSeconds === undefined ? DEFAULT_REFRESH_TOKEN_IDLE_TTL_SECONDS : opts.refreshTokenIdleTtlSeconds,
        apiVersion,
        clients: opts.clients ?? []
    });
    const quiet = opts.quiet ?? false;
    const servers: Server[] = [];
    const sockets = new Set<Socket>();
    const answering = new Set<Socket>();
    const urlHost = host.includes(':') ? `[${host}]` : host;
    try {
        for (const key of ORIGIN_KEYS) {
            const server = createServer(makeHandler(state, key, quiet));
            server.keepAliveTimeout = 5000;
            server.on('connection', (s: Socket) => {
                sockets.add(s);
                s.on('close', () => sockets.delete(s));
            });
            server.on('request', (req, res) => {
                answering.add(req.socket);
                res.on('close', () => answering.delete(req.socket));
            });
            servers.push(server);
            const port = await listen(server, host, opts.ports?.[key] ?? 0);
            state.origins[key] = `http://${urlHost}:${port}`;
        }
    } catch (err) {
        for (const s of servers) s.close();
        throw err;
    }
    const origins = { ...state.origins };
    let closed: Promise<void> | undefined;
    return {
        origins,
        allOrigins: ORIGIN_KEYS.map((k) => origins[k]),
        state,
        requestsInFlight: () => answering.size,
        close(): Promise<void> {
            closed ??= Promise.all(
                servers.map(
                    (s) =>
                        new Promise<void>((resolve) => {
                            s.close(() => resolve());
                            s.closeAllConnections();
                        })
                )
            ).then(() => {
                for (const s of sockets) s.destroy();
            });
            return closed;
        }
    };
}
