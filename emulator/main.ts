// Standalone emulator: `npm run emulator`. Ports 3101-3104 unless EMULATOR_PORT_BASE moves them.

import { SEED, startEmulator } from './index.ts';

const base = Number(process.env['EMULATOR_PORT_BASE'] ?? 3100);
if (!Number.isInteger(base) || base < 1 || base > 65530) {
    console.error(`EMULATOR_PORT_BASE must be a port number, got ${process.env['EMULATOR_PORT_BASE']}`);
    process.exit(1);
}

const emulator = await startEmulator({
    host: process.env['EMULATOR_HOST'] ?? '127.0.0.1',
    ports: { production: base + 1, sandbox: base + 2, acme: base + 3, acmeUat: base + 4 },
    clients: [
        {
            clientId: process.env['EMULATOR_CLIENT_ID'] ?? SEED.demoClient.clientId,
            clientSecret: process.env['EMULATOR_CLIENT_SECRET'] ?? SEED.demoClient.clientSecret,
            redirectUris: [process.env['EMULATOR_REDIRECT_URI'] ?? SEED.demoClient.redirectUris[0]],
            name: 'Contact Center Link'
        }
    ],
    // EMULATOR_ROTATE_REFRESH_TOKENS=true or false overrides ROTATE_BY_DEFAULT
    ...(['true', 'false'].includes(process.env['EMULATOR_ROTATE_REFRESH_TOKENS'] ?? '')
        ? { rotateRefreshTokens: process.env['EMULATOR_ROTATE_REFRESH_TOKENS'] === 'true' }
        : {})
});

const o = emulator.origins;
console.log(`Salesforce emulator
  production login (login.salesforce.com)  ${o.production}
  sandbox login (test.salesforce.com)      ${o.sandbox}
  Acme My Domain (${SEED.orgs.acme.orgId})     ${o.acme}
  Acme UAT My Domain (${SEED.orgs.acmeUat.orgId}) ${o.acmeUat}
  control API: ${o.production}/__emulator/
  users: ${Object.values(SEED.users)
      .map((u) => `${u.username} / ${u.password}`)
      .join(', ')}`);

let stopping = false;
const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the emulator`);
    emulator.close().then(
        () => process.exit(0),
        () => process.exit(1)
    );
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
