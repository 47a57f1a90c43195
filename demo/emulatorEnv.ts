import type { Emulator } from '../emulator/index.ts';
import { generateEncryptionKey } from '../server/crypto.ts';

/**
 * The environment of a backend pointed at the emulator (tests, benchmarks): its login hosts,
 * its client, a fresh encryption key. `extra` adds or overrides variables.
 */
export function emulatorEnv(
    emulator: Pick<Emulator, 'origins' | 'allOrigins'>,
    client: { clientId: string; clientSecret: string },
    base: { PUBLIC_URL: string; DATA_DIR: string },
    extra: Record<string, string> = {}
): Record<string, string> {
    return {
        ...base,
        SF_CLIENT_ID: client.clientId,
        SF_CLIENT_SECRET: client.clientSecret,
        SF_LOGIN_URL_PRODUCTION: emulator.origins.production,
        SF_LOGIN_URL_SANDBOX: emulator.origins.sandbox,
        SF_ALLOWED_LOGIN_ORIGINS: emulator.allOrigins.join(','),
        TOKEN_ENCRYPTION_KEY: generateEncryptionKey(),
        ...extra
    };
}
