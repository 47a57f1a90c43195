import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startEmulator, type Emulator } from '../emulator/index.ts';
import type { AppOptions } from './app.ts';
import { requireCompleteConfig, type configSchema } from './config.ts';
import type { z } from 'zod';
import { createLogger, type Logger } from './logger.ts';
import { runServer, type RunningServer } from './main.ts';
import { demoEncryptionKey } from './secretKey.ts';

export const DEMO_CLIENT = { clientId: 'ccl-demo-client', clientSecret: 'ccl-demo-secret' };
export const DEMO_ACCOUNT_NAME = 'Demo contact center';

export interface RunningDemo {
    backend: RunningServer;
    emulator: Emulator;
    account: { id: string; apiKey: string };
    close(): Promise<void>;
}

/** The demo: an emulated Salesforce, the backend pointed at it, and one contact-center account. */
export async function startDemo(parsed: z.infer<typeof configSchema>, options: AppOptions & { logger?: Logger; emulatorPortBase?: number } = {}): Promise<RunningDemo> {
    const base = options.emulatorPortBase ?? 3101;
    const emulator = await startEmulator({
        ports: base === 0 ? undefined : { production: base, sandbox: base + 1, acme: base + 2, acmeUat: base + 3 },
        clients: [{ ...DEMO_CLIENT, redirectUris: [`${parsed.PUBLIC_URL}/oauth/callback`] }],
        quiet: true
    });
    try {
        const config = requireCompleteConfig({
            ...parsed,
            SF_CLIENT_ID: DEMO_CLIENT.clientId,
            SF_CLIENT_SECRET: DEMO_CLIENT.clientSecret,
            SF_LOGIN_URL_PRODUCTION: emulator.origins.production,
            SF_LOGIN_URL_SANDBOX: emulator.origins.sandbox,
            SF_ALLOWED_LOGIN_ORIGINS: [...new Set([...parsed.SF_ALLOWED_LOGIN_ORIGINS, ...emulator.allOrigins])],
            TOKEN_ENCRYPTION_KEY: parsed.TOKEN_ENCRYPTION_KEY ?? (await demoEncryptionKey(parsed.DATA_DIR))
        });
        const logger = options.logger ?? createLogger(config.LOG_LEVEL);
        const backend = await runServer(config, { ...options, logger });
        const account = await demoAccount(backend, config.DATA_DIR);
        return {
            backend,
            emulator,
            account,
            async close() {
                await backend.close();
                await emulator.close();
            }
        };
    } catch (error) {
        await emulator.close();
        throw error;
    }
}

/** The demo keeps its account's key beside the data (mode 0600), so the preview can use it after a restart. */
async function demoAccount(backend: RunningServer, dataDir: string): Promise<{ id: string; apiKey: string }> {
    const file = path.join(dataDir, 'demo-account.json');
    const { accounts } = backend.services;
    try {
        const saved = JSON.parse(await readFile(file, 'utf8')) as { id: string; apiKey: string };
        if (accounts.authenticate(saved.apiKey)?.id === saved.id) return saved;
    } catch {
        // First start, or the data was reset: make a new demo account.
    }
    const { account, apiKey } = await accounts.create(DEMO_ACCOUNT_NAME);
    const saved = { id: account.id, apiKey };
    await writeFile(file, JSON.stringify(saved), { mode: 0o600 });
    return saved;
}
