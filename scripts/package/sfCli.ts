import path from 'node:path';

/** The project's own Salesforce CLI (`npm ci` installs it), never one on the PATH. */
export const sfBinary = (projectDir: string): string => path.join(projectDir, 'node_modules', '.bin', 'sf');

/**
 * The environment every `sf` run gets: no telemetry, no version check, and no auto-update. The CLI reads
 * SF_AUTOUPDATE_DISABLE, but its update plugin decides first from SF_DISABLE_AUTOUPDATE: with the first alone, a
 * `sf project convert source` still starts a background `sf update --autoupdate`.
 */
export const sfEnv = (): NodeJS.ProcessEnv => ({
    ...process.env,
    SF_DISABLE_TELEMETRY: 'true',
    SF_AUTOUPDATE_DISABLE: 'true',
    SF_DISABLE_AUTOUPDATE: 'true',
    SF_SKIP_NEW_VERSION_CHECK: 'true'
});
