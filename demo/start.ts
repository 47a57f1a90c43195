import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig, startMode } from '../server/config.ts';
import { createLogger } from '../server/logger.ts';
import { closeOnSignals } from '../server/main.ts';
import { unmaintainedNode } from '../server/runtime.ts';

/**
 * `npm start`: the real backend (compiled, server/start.ts) when it is configured, the demo when nothing of a deployment
 * is set, else a refusal naming what is missing. The backend knows nothing of the demo: the choice is made here.
 */
async function start(): Promise<void> {
    if (startMode(process.env) === 'backend') {
        await import('../server/start.ts');
        return;
    }
    const parsed = parseConfig(process.env);
    const logger = createLogger(parsed.LOG_LEVEL);
    const unmaintained = unmaintainedNode();
    if (unmaintained) logger.warn({ node: process.version }, unmaintained);
    // The demo's callback must match the port it listens on when no public URL was given (PORT=0: a free port).
    if (!process.env.PUBLIC_URL) parsed.PUBLIC_URL = `http://localhost:${parsed.PORT}`;
    // The demo is a development tool (the emulator, the preview's build): it runs from the sources through tsx, so the
    // compiled backend (npm run build) holds none of it.
    const { tsImport } = await import('tsx/esm/api');
    const sources = repositoryRoot();
    const { buildPreview } = (await tsImport(path.join(sources, 'preview/build.ts'), import.meta.url)) as PreviewModule;
    const build = await buildPreview();
    const { startDemo } = (await tsImport(path.join(sources, 'demo/demo.ts'), import.meta.url)) as DemoModule;
    const portBase = Number(process.env.EMULATOR_PORT_BASE ?? 3101);
    const demo = await startDemo(parsed, { logger, emulatorPortBase: portBase });
    const url = demo.url;
    const key = demo.account.apiKey;
    console.log(`
Contact Center Link demo: Salesforce is emulated on this machine (no production setting is set).
It listens on this machine only (${demo.host}), and its API key is readable by anyone who can open the page.

  Open ${url}/

  It is the Contact Center Link tab (App Launcher) of an emulated org, Acme (production), with the package's own card;
  ${url}/?org=acmeUat stands in its sandbox, Acme UAT. Choose Link > Production (this org),
  log in as api@acme.example / demo-api-pass and click Allow: the card shows Linked.

  Preview        ${build.built ? `built in ${(build.ms / 1000).toFixed(1)} s` : 'up to date'} (npm run build:preview -- --force rebuilds it)
  Emulated orgs  login ${demo.emulator.origins.production}  ·  test ${demo.emulator.origins.sandbox}
                 Acme My Domain ${demo.emulator.origins.acme}  ·  Acme UAT ${demo.emulator.origins.acmeUat}
  Demo account   ${demo.account.id}
  Demo API key   ${key}

The same through the HTTP API:
  curl -s -H "Authorization: Bearer ${key}" ${url}/api/v1/link
  curl -s -X POST -H "Authorization: Bearer ${key}" -H "Content-Type: application/json" -d '{"environment":"production"}' ${url}/api/v1/link-sessions
`);
    closeOnSignals(demo.close, logger);
}

/** What start needs of preview/build.ts and demo.ts, said here so that the compiled backend does not pull them in. */
interface PreviewModule {
    buildPreview: () => Promise<{ built: boolean; ms: number }>;
}
interface DemoModule {
    startDemo: (
        settings: ReturnType<typeof parseConfig>,
        options: { logger: ReturnType<typeof createLogger>; emulatorPortBase: number }
    ) => Promise<{
        url: string;
        host: string;
        account: { id: string; apiKey: string };
        emulator: { origins: Record<'production' | 'sandbox' | 'acme' | 'acmeUat', string> };
        close(this: void): Promise<void>;
    }>;
}

/** The folder with package.json, from the sources (demo/) or the compiled output (dist/demo/). */
function repositoryRoot(): string {
    let dir = path.dirname(fileURLToPath(import.meta.url));
    while (!existsSync(path.join(dir, 'package.json')) || path.basename(dir) === 'dist') dir = path.dirname(dir);
    return dir;
}

start().catch((error: unknown) => {
    // By name: the demo's modules come from the sources, so their ConfigError is another class than this one.
    if (error instanceof Error && (error.name === 'ConfigError' || error.name === 'DataDirInUse')) {
        console.error(error.message);
        process.exit(2);
    }
    console.error(error);
    process.exit(1);
});
