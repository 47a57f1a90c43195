import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { SEED, startEmulator, type Emulator, type OrgKey } from '../emulator/index.ts';
import { PACKAGE_CREDENTIAL } from '../emulator/credentials.ts';
import { mountPreview, type PreviewConfig, type PreviewOrg, type PreviewPlatform, type PreviewUser } from '../preview/server.ts';
import { linkAdminNames, OAUTH_MARKER, setupFacts } from '../preview/setupFacts.ts';
import type { AppOptions } from '../server/app.ts';
import { requireCompleteConfig, type configSchema } from '../server/config.ts';
import type { z } from 'zod';
import { createLogger, type Logger } from '../server/logger.ts';
import { runServer, type RunningServer } from '../server/main.ts';
import { demoEncryptionKey } from './secretKey.ts';

export const DEMO_CLIENT = { clientId: 'ccl-demo-client', clientSecret: 'ccl-demo-secret' };
export const DEMO_ACCOUNT_NAME = 'Demo contact center';

/** The demo serves a working API key to its page: it listens on loopback only. */
export const DEMO_HOST = '127.0.0.1';
/** ...and answers only to this machine's names, so a page whose name rebinds to 127.0.0.1 reads nothing. */
export const DEMO_HOST_NAMES = ['localhost', '127.0.0.1', '[::1]'];

export interface RunningDemo {
    /** PUBLIC_URL: where the preview page is, and the base of the OAuth redirect URI. */
    url: string;
    /** The address it listens on: loopback only. */
    host: string;
    backend: RunningServer;
    emulator: Emulator;
    account: { id: string; apiKey: string };
    close(): Promise<void>;
}

export interface DemoOptions extends AppOptions {
    logger?: Logger;
    /** First of the four emulator ports (3101); 0 gives each listener a free port. */
    emulatorPortBase?: number;
    /** Serve the preview page at / and its configuration at /preview/config.json (default true). */
    preview?: boolean;
    /** How a port nobody listens on is found for PORT=0 (default freePort). */
    pickPort?: () => Promise<number>;
}

/** How many times the demo picks another port when the one it picked for PORT=0 was taken before it listened. */
const PORT_ATTEMPTS = 5;

/** A port nobody listens on now, for PORT=0: the OAuth redirect URI has to name the real port before the backend starts. */
export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const probe = createServer();
        probe.once('error', reject);
        probe.listen(0, () => {
            const address = probe.address();
            const port = typeof address === 'object' && address ? address.port : 0;
            probe.close(() => (port ? resolve(port) : reject(new Error('no free port'))));
        });
    });
}

/**
 * The demo: an emulated Salesforce, the backend pointed at it, one contact-center account, and the preview page.
 * With PORT=0 it picks a free port, and a PUBLIC_URL whose port is 0 gets that port. The port is picked before the
 * backend listens (the OAuth redirect URI names it), so another listener may take it in between: then the demo
 * starts again on another port.
 */
export async function startDemo(settings: z.infer<typeof configSchema>, options: DemoOptions = {}): Promise<RunningDemo> {
    for (let attempt = 1; ; attempt++) {
        try {
            return await startDemoOnce(settings, options);
        } catch (error) {
            const taken = (error as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE';
            if (settings.PORT !== 0 || !taken || attempt >= PORT_ATTEMPTS) throw error;
        }
    }
}

async function startDemoOnce(settings: z.infer<typeof configSchema>, options: DemoOptions): Promise<RunningDemo> {
    let parsed = settings;
    if (parsed.PORT === 0) {
        const port = await (options.pickPort ?? freePort)();
        const publicUrl = new URL(parsed.PUBLIC_URL);
        if (publicUrl.port === '0') publicUrl.port = String(port);
        parsed = { ...parsed, PORT: port, PUBLIC_URL: publicUrl.origin };
    }
    const base = options.emulatorPortBase ?? 3101;
    const emulator = await startEmulator({
        ports: base === 0 ? undefined : { production: base, sandbox: base + 1, acme: base + 2, acmeUat: base + 3 },
        clients: [
            {
                ...DEMO_CLIENT,
                name: 'Contact Center Link',
                redirectUris: [`${parsed.PUBLIC_URL}/oauth/callback`],
                // Installed as the Contact Center Link OAuth package is: the app with its marker custom permission.
                packagedCustomPermissions: [
                    { namespacePrefix: 'cclink', developerName: OAUTH_MARKER, label: 'Contact Center Link OAuth app installed' }
                ]
            }
        ],
        quiet: true
    });
    let backend: RunningServer | undefined;
    try {
        const config = requireCompleteConfig({
            ...parsed,
            SF_CLIENT_ID: DEMO_CLIENT.clientId,
            SF_CLIENT_SECRET: DEMO_CLIENT.clientSecret,
            SF_LOGIN_URL_PRODUCTION: emulator.origins.production,
            SF_LOGIN_URL_SANDBOX: emulator.origins.sandbox,
            SF_ALLOWED_LOGIN_ORIGINS: [...new Set([...parsed.SF_ALLOWED_LOGIN_ORIGINS, ...emulator.allOrigins])],
            // The preview page plays every emulated org's Lightning page: the card the popups may hear from.
            SF_CARD_ORIGINS: {
                ...parsed.SF_CARD_ORIGINS,
                ...Object.fromEntries(emulator.allOrigins.map((origin) => [origin, [new URL(parsed.PUBLIC_URL).origin]]))
            },
            TOKEN_ENCRYPTION_KEY: parsed.TOKEN_ENCRYPTION_KEY ?? (await demoEncryptionKey(parsed.DATA_DIR)),
            // The demo's webhooks go to receivers on this machine.
            WEBHOOK_ALLOW_PRIVATE_TARGETS: true
        });
        const logger = options.logger ?? createLogger(config.LOG_LEVEL);
        let previewConfig: (() => PreviewConfig) | undefined;
        const extend: AppOptions['extend'] = (app) => {
            options.extend?.(app);
            if (options.preview ?? true) mountPreview(app, () => previewConfig?.(), demoPlatform(emulator));
        };
        const running = await runServer(config, { ...options, logger, extend, host: DEMO_HOST, hosts: DEMO_HOST_NAMES });
        backend = running;
        const account = await demoAccount(running, config.DATA_DIR);
        installPackage(emulator, config.PUBLIC_URL, account.apiKey);
        previewConfig = () => demoPreviewConfig(emulator);
        return {
            url: config.PUBLIC_URL,
            host: DEMO_HOST,
            backend: running,
            emulator,
            account,
            async close() {
                await running.close();
                await emulator.close();
            }
        };
    } catch (error) {
        await backend?.close();
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
        if ((await accounts.authenticate(saved.apiKey))?.id === saved.id) return saved;
    } catch {
        // First start, or the data was reset: make a new demo account.
    }
    const { account, apiKey } = await accounts.create(DEMO_ACCOUNT_NAME);
    const saved = { id: account.id, apiKey };
    await writeFile(file, JSON.stringify(saved), { mode: 0o600 });
    return saved;
}

const PREVIEW_ORGS = ['acme', 'acmeUat'] as const;

/**
 * The package as an admin leaves it configured in each emulated org: its Named Credential calls this backend, its
 * External Credential's principal holds the demo account's key. (A sandbox refresh keeps the URL and clears the key,
 * as Salesforce does.)
 */
export function installPackage(emulator: Emulator, publicUrl: string, apiKey: string): void {
    for (const org of PREVIEW_ORGS) {
        const { externalCredential, principal, parameter, namedCredential } = PACKAGE_CREDENTIAL;
        emulator.state.setNamedCredentialUrl(org, namedCredential, publicUrl);
        const credentials = { [parameter]: { value: apiKey, encrypted: true } };
        const held = emulator.state.credential(org, externalCredential, principal)['credentials'];
        if (held && Object.keys(held).length) emulator.state.updateCredential(org, externalCredential, principal, credentials);
        else emulator.state.createCredential(org, externalCredential, principal, credentials);
    }
}

/** The platform the preview's Apex stand-ins use, over the emulated orgs: the callout and ConnectApi.NamedCredentials. */
export function demoPlatform(emulator: Emulator): PreviewPlatform {
    const orgKey = (org: string): OrgKey => {
        if (!(PREVIEW_ORGS as readonly string[]).includes(org)) throw new Error(`No emulated org ${org.slice(0, 40)}.`);
        return org as OrgKey;
    };
    const { externalCredential: name, principal, parameter, namedCredential } = PACKAGE_CREDENTIAL;
    const calloutUrl = (org: string) => String(emulator.state.namedCredential(orgKey(org), namedCredential)['calloutUrl']);
    return {
        callout: (org) => ({ url: calloutUrl(org), key: emulator.state.credentialParameter(orgKey(org), name, principal, parameter) }),
        getCredential: (org) => emulator.state.credential(orgKey(org), name, principal),
        createCredential: (org, credentials) => emulator.state.createCredential(orgKey(org), name, principal, credentials),
        updateCredential: (org, credentials) => emulator.state.updateCredential(orgKey(org), name, principal, credentials),
        calloutUrl
    };
}

/** The users the preview lists for each emulated org, with what each one shows. */
const PREVIEW_USERS: Record<OrgKey, Array<{ user: keyof typeof SEED.users; description: string }>> = {
    acme: [
        { user: 'acmeApi', description: 'The API user: links' },
        { user: 'acmeAdmin', description: 'A System Administrator' },
        { user: 'acmeNoApi', description: 'API not enabled: refused' }
    ],
    acmeUat: [
        { user: 'uatApi', description: 'The API user of the sandbox' },
        { user: 'uatAdmin', description: 'A System Administrator' }
    ]
};
const PREVIEW_ADMINS: Record<OrgKey, keyof typeof SEED.users> = { acme: 'acmeAdmin', acmeUat: 'uatAdmin' };
/** Who else may look at the card (`?as=`): a Standard User without the package's admin permission set (a refresh copies it into the sandbox). */
const PREVIEW_VIEWERS: Record<OrgKey, string> = { acme: 'noapi@acme.example', acmeUat: 'noapi@acme.example.uat' };

/**
 * What the preview's Apex stand-ins need from each emulated org: what the Apex reads from the platform (org id, sandbox
 * or not, My Domain, the running user and whether it holds the package's admin permission set). The callout's key
 * stays in the org's External Credential (see demoPlatform). The org ids are read now, so a sandbox refresh in the
 * emulator shows on the next page load.
 */
function demoPreviewConfig(emulator: Emulator): PreviewConfig {
    const orgs: Record<string, PreviewOrg> = {};
    for (const key of PREVIEW_ORGS) {
        const org = emulator.state.org(key);
        const previewUser = (username: string): PreviewUser => {
            const user = emulator.state.user(username);
            return {
                userId: user.userId,
                username: user.username,
                name: user.name,
                canManageLink: user.permissionSets.includes(SEED.permissionSets.linkAdmin),
                linkAdmins: linkAdminNames(emulator.state, key, username)
            };
        };
        const admin = previewUser(SEED.users[PREVIEW_ADMINS[key]].username);
        const viewer = emulator.state.findUserByUsername(PREVIEW_VIEWERS[key]) ? [previewUser(PREVIEW_VIEWERS[key])] : [];
        orgs[key] = {
            name: org.name,
            orgId: org.orgId,
            environment: org.environment,
            createdDate: org.createdDate,
            domainUrl: emulator.origins[key],
            setup: setupFacts(emulator.state, key, admin.username),
            user: admin,
            users: [admin, ...viewer],
            demoUsers: PREVIEW_USERS[key].map(({ user, description }) => ({
                username: SEED.users[user].username,
                password: SEED.users[user].password,
                description
            }))
        };
    }
    return { defaultOrg: 'acme', orgs };
}
