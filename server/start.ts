import { ConfigError, parseConfig, refuseInsecurePublicUrl, requireCompleteConfig, requireDeployment } from './config.ts';
import { createLogger } from './logger.ts';
import { announceListening, closeOnSignals, runServer } from './main.ts';
import { unmaintainedNode } from './runtime.ts';
import { DataDirInUse } from './store/servingLock.ts';

/**
 * The real backend (`node dist/server/start.js`, and `npm start` when a deployment is configured): it runs when every
 * required production setting is set, and refuses naming what is missing otherwise.
 */
async function start(): Promise<void> {
    requireDeployment(process.env);
    const config = requireCompleteConfig(parseConfig(process.env));
    refuseInsecurePublicUrl(config.PUBLIC_URL);
    const logger = createLogger(config.LOG_LEVEL);
    const unmaintained = unmaintainedNode();
    if (unmaintained) logger.warn({ node: process.version }, unmaintained);
    const running = await runServer(config, { logger });
    announceListening(running, config, logger);
    closeOnSignals(running.close, logger);
}

start().catch((error: unknown) => {
    if (error instanceof ConfigError || error instanceof DataDirInUse) {
        console.error(error.message);
        process.exit(2);
    }
    console.error(error);
    process.exit(1);
});
