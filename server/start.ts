import { ConfigError, parseConfig, requireCompleteConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { closeOnSignals, runServer } from './main.ts';

/** `npm start`: the real backend when SF_CLIENT_ID is set, otherwise the demo against the emulator. */
async function start(): Promise<void> {
    const parsed = parseConfig(process.env);
    const logger = createLogger(parsed.LOG_LEVEL);
    if (parsed.SF_CLIENT_ID) {
        const config = requireCompleteConfig(parsed);
        const running = await runServer(config, { logger });
        logger.info({ url: config.PUBLIC_URL }, 'Contact Center Link backend listening');
        closeOnSignals(running.close, logger);
        return;
    }
    // The demo's callback must match the port it listens on when no public URL was given.
    if (!process.env.PUBLIC_URL) parsed.PUBLIC_URL = `http://localhost:${parsed.PORT}`;
    const { startDemo } = await import('./demo.ts');
    const portBase = Number(process.env.EMULATOR_PORT_BASE ?? 3101);
    const demo = await startDemo(parsed, { logger, emulatorPortBase: portBase });
    const session = await demo.backend.services.links.createSession(demo.account.id, { environment: 'production' });
    const url = parsed.PUBLIC_URL;
    console.log(`
Contact Center Link demo (no SF_CLIENT_ID set, so Salesforce is emulated on this machine)

  Backend        ${url}
  Emulated orgs  login ${demo.emulator.origins.production}  ·  test ${demo.emulator.origins.sandbox}
                 Acme My Domain ${demo.emulator.origins.acme}  ·  Acme UAT ${demo.emulator.origins.acmeUat}
  Demo account   ${demo.account.id}
  Demo API key   ${demo.account.apiKey}

Link the demo account now: open this URL (valid 10 minutes) and log in as api@acme.example / demo-api-pass, then Allow:
  ${session.authorizeUrl}

Then see the link:
  curl -s -H "Authorization: Bearer ${demo.account.apiKey}" ${url}/api/v1/link

Start another link later:
  curl -s -X POST -H "Authorization: Bearer ${demo.account.apiKey}" -H "Content-Type: application/json" -d '{"environment":"production"}' ${url}/api/v1/link-sessions
`);
    closeOnSignals(demo.close, logger);
}

start().catch((error: unknown) => {
    if (error instanceof ConfigError) {
        console.error(error.message);
        process.exit(2);
    }
    console.error(error);
    process.exit(1);
});
