import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { createApp, type AppOptions } from './app.ts';
import { ConfigError, parseConfig, refuseInsecurePublicUrl, requireCompleteConfig, type Config } from './config.ts';
import { createLogger, type Logger } from './logger.ts';
import { buildServices, type Services } from './services.ts';
import { unmaintainedNode } from './runtime.ts';
import { openStore } from './store/openStore.ts';
import { claimServing, DataDirInUse } from './store/servingLock.ts';
import { LowdbStore } from './store/lowdb/store.ts';
import { lowdbSizeAdvice } from './store/lowdb/sizeAdvice.ts';

export interface RunningServer {
    url: string;
    server: Server;
    services: Services;
    close(this: void): Promise<void>;
}

/** Opens the store, builds the app and listens; `close` stops taking requests, then flushes the store. */
export async function runServer(config: Config, options: AppOptions & { logger?: Logger; host?: string } = {}): Promise<RunningServer> {
    const logger = options.logger ?? createLogger(config.LOG_LEVEL);
    // The embedded store serves one backend per data directory: a second one is refused here, saying why.
    const release = config.DATABASE_URL ? () => Promise.resolve() : await claimServing(config.DATA_DIR);
    let store;
    let server: Server;
    let services;
    try {
        store = await openStore(config);
        // Past the size at which a link write takes 20 ms or more (docs/performance.md): said at every start.
        const size = store instanceof LowdbStore ? store.size() : undefined;
        const advice = size && lowdbSizeAdvice(size, config.DATA_DIR);
        if (advice) logger.warn({ ...size }, advice);
        // On lowdb this process holds the data directory alone (claimServing): a claim of any other process is dead.
        services = buildServices({ config, store, logger, servesAlone: !config.DATABASE_URL });
        const app = createApp(services, options);
        server = await new Promise<Server>((resolve, reject) => {
            const done = (error?: Error) => (error ? reject(error) : resolve(listening));
            // The demo passes a loopback host; the backend proper listens on every interface, behind its TLS proxy.
            const listening = options.host ? app.listen(config.PORT, options.host, done) : app.listen(config.PORT, done);
        });
    } catch (error) {
        await store?.close();
        await release();
        throw error;
    }
    const { port } = server.address() as AddressInfo;
    if (config.HEALTH_SWEEP_INTERVAL_SECONDS > 0) services.health.start();
    // Always on: a link whose refresh token idles out at Salesforce is dead, however busy its access token is.
    services.keepalive.start();
    services.auditRetention.start();
    services.webhooks.start();
    services.calls.start();
    services.replay.start();
    let closing: Promise<void> | undefined;
    return {
        url: `http://localhost:${port}`,
        server,
        services,
        close() {
            closing ??= (async () => {
                await new Promise<void>((resolve) => {
                    server.close(() => resolve());
                    server.closeIdleConnections();
                });
                await services.health.stop();
                await services.keepalive.stop();
                await services.replay.stop();
                await services.calls.stop();
                services.auditRetention.stop();
                // Attempts under way finish; retries wait in the outbox for the next instance to start.
                await services.webhooks.stop();
                await services.org.flush();
                await store.close();
                await release();
            })();
            return closing;
        }
    };
}

/**
 * Says that the backend listens, and on which port (PORT=0 picks a free one): in the log, and to a supervisor that
 * started this process with an IPC channel (`{ type: 'listening', port }`), so it never has to poll a port it guessed.
 */
export function announceListening(running: RunningServer, config: Config, logger: Logger): void {
    const address = running.server.address();
    const port = typeof address === 'object' && address ? address.port : config.PORT;
    logger.info({ url: config.PUBLIC_URL, port }, 'Contact Center Link backend listening');
    process.send?.({ type: 'listening', port });
}

export function closeOnSignals(close: () => Promise<void>, logger: Logger): void {
    const stop = (signal: string) => {
        logger.info({ signal }, 'shutting down');
        close().then(
            () => process.exit(0),
            (error: unknown) => {
                logger.error({ err: error }, 'shutdown failed');
                process.exit(1);
            }
        );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
}

async function main(): Promise<void> {
    let config: Config;
    try {
        config = requireCompleteConfig(parseConfig(process.env));
        refuseInsecurePublicUrl(config.PUBLIC_URL);
    } catch (error) {
        if (error instanceof ConfigError) {
            console.error(error.message);
            process.exit(2);
        }
        throw error;
    }
    const logger = createLogger(config.LOG_LEVEL);
    const unmaintained = unmaintainedNode();
    if (unmaintained) logger.warn({ node: process.version }, unmaintained);
    let running: RunningServer;
    try {
        running = await runServer(config, { logger });
    } catch (error) {
        if (error instanceof DataDirInUse) {
            console.error(error.message);
            process.exit(2);
        }
        throw error;
    }
    announceListening(running, config, logger);
    closeOnSignals(running.close, logger);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
