import { isIP } from 'node:net';
import { z } from 'zod';

const commaList = z
    .string()
    .optional()
    .transform((value) =>
        (value ?? '')
            .split(',')
            .map((item) => item.trim())
            .filter(Boolean)
    );

const origin = z.url().transform((value) => new URL(value).origin);

/** `login-origin=card-origin` pairs: for login hosts that are not Salesforce's (the emulator), where the card's page runs. */
const cardOriginPairs = commaList.transform((pairs, ctx) => {
    const map: Record<string, string[]> = {};
    for (const pair of pairs) {
        const [login, card, ...rest] = pair.split('=');
        try {
            if (!login || !card || rest.length) throw new Error();
            const from = new URL(login).origin;
            (map[from] ??= []).push(new URL(card).origin);
        } catch {
            ctx.addIssue({ code: 'custom', message: `"${pair.slice(0, 100)}" is not login-origin=card-origin` });
        }
    }
    return map;
});

/** An IPv4 or IPv6 address, or a CIDR block of either. */
function isAddressOrCidr(item: string): boolean {
    const [address, bits, ...rest] = item.split('/');
    const family = isIP(address ?? '');
    const validBits = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32));
    return Boolean(family) && validBits && rest.length === 0;
}

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);
/** The proxies whose X-Forwarded-For is believed: Express's named ranges, addresses or CIDRs. None by default. */
const trustedProxies = commaList.superRefine((items, ctx) => {
    for (const item of items) {
        if (!PROXY_NAMES.has(item) && !isAddressOrCidr(item))
            ctx.addIssue({
                code: 'custom',
                message: `"${item.slice(0, 100)}" is not loopback, linklocal, uniquelocal, an IP address or a CIDR range`
            });
    }
});

/** Salesforce's refresh token IP allowlist takes at most 128 ranges. */
export const MAX_EGRESS_ADDRESSES = 128;
/**
 * The addresses this backend reaches Salesforce from (its egress: a NAT gateway, a proxy), as the admin enters them in
 * the app's refresh token IP allowlist or IP relaxation policy: addresses or CIDR blocks, IPv4 or IPv6.
 */
const egressAddresses = commaList.superRefine((items, ctx) => {
    for (const item of items) {
        if (!isAddressOrCidr(item))
            ctx.addIssue({
                code: 'custom',
                message: `"${item.slice(0, 100)}" is not an IP address or a CIDR range (203.0.113.10, 203.0.113.0/28, 2001:db8::/64)`
            });
    }
    if (items.length > MAX_EGRESS_ADDRESSES)
        ctx.addIssue({
            code: 'custom',
            message: `lists ${items.length} addresses; Salesforce's allowlist takes at most ${MAX_EGRESS_ADDRESSES}`
        });
    if (new Set(items).size !== items.length) ctx.addIssue({ code: 'custom', message: 'lists an address twice' });
});

/** Salesforce expires a partner app's refresh token not used for a refresh in 30 days: the keepalive must come well before. */
const KEEPALIVE_RANGE =
    'must be a whole number of seconds from 3600 (an hour) to 2419200 (28 days, inside Salesforce’s 30-day idle refresh-token TTL)';

/** The current key first, then older keys that still open what they sealed (rotation). */
const encryptionKey = z
    .string()
    .optional()
    .refine(
        (value) =>
            value === undefined ||
            (value.split(',').some((key) => key.trim()) &&
                value.split(',').every((key) => !key.trim() || Buffer.from(key.trim(), 'base64').length === 32)),
        {
            message: 'must be 32 bytes, base64 encoded (openssl rand -base64 32); older keys may follow, comma separated'
        }
    );

export const configSchema = z.object({
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    PUBLIC_URL: z
        .url()
        .default('http://localhost:3000')
        .transform((value) => value.replace(/\/+$/, '')),
    SF_CLIENT_ID: z.string().min(1).optional(),
    SF_CLIENT_SECRET: z.string().min(1).optional(),
    SF_LOGIN_URL_PRODUCTION: origin.default('https://login.salesforce.com'),
    SF_LOGIN_URL_SANDBOX: origin.default('https://test.salesforce.com'),
    SF_ALLOWED_LOGIN_ORIGINS: commaList.pipe(z.array(origin)),
    SF_CARD_ORIGINS: cardOriginPairs,
    SF_API_VERSION: z
        .string()
        .regex(/^\d{2}\.0$/, 'must look like 62.0')
        .default('62.0'),
    SF_HTTP_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(15_000),
    /** How long an /api/v1 request may take in all: under the Apex callout's 20 s, with room to answer (see http/requestBudget.ts). */
    API_REQUEST_BUDGET_MS: z.coerce.number().int().min(100).max(18_000).default(16_000),
    DATA_DIR: z.string().min(1).default('./data'),
    /** The audit keeps entries this long, and at most this many per account (the newest). */
    AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(400),
    AUDIT_MAX_PER_ACCOUNT: z.coerce.number().int().min(10).max(1_000_000).default(1000),
    /** postgres://…: the PostgreSQL store instead of the files in DATA_DIR. */
    DATABASE_URL: z.preprocess(
        (value) => (value === '' ? undefined : value),
        z
            .string()
            .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')
            .optional()
    ),
    /** Connections each instance keeps to PostgreSQL at most. */
    DATABASE_POOL_SIZE: z.coerce
        .number({ error: 'must be a whole number from 2 to 200' })
        .int('must be a whole number from 2 to 200')
        .min(2, 'must be a whole number from 2 to 200')
        .max(200, 'must be a whole number from 2 to 200')
        .default(10),
    TOKEN_ENCRYPTION_KEY: encryptionKey,
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    LINK_SESSION_TTL_SECONDS: z.coerce.number().int().min(60).max(600).default(600),
    /** Call Tasks kept for later (rule 13), per account: at most this many, for at most this many days (docs/operations.md). */
    KEPT_TASKS_MAX_PER_ACCOUNT: z.coerce.number().int().min(10).max(1_000_000).default(10_000),
    KEPT_TASKS_MAX_AGE_DAYS: z.coerce.number().int().min(1).max(14).default(14),
    /** Screen-pop lookups pause while the org has fewer than this share of its daily API requests left (0: never); per account too. */
    API_GUARD_RESERVE_PERCENT: z.coerce.number().int().min(0).max(50).default(10),
    HEALTH_SWEEP_INTERVAL_SECONDS: z.coerce.number().int().min(0).max(86_400).default(600),
    /** Every link's refresh token is used for a refresh at least this often, whatever its access token does (Salesforce's idle TTL). */
    SF_REFRESH_KEEPALIVE_SECONDS: z.coerce
        .number({ error: KEEPALIVE_RANGE })
        .int(KEEPALIVE_RANGE)
        .min(3600, KEEPALIVE_RANGE)
        .max(2_419_200, KEEPALIVE_RANGE)
        .default(604_800),
    /** Where this backend's requests to Salesforce come from: shown to the admin for the app's IP policies, named when Salesforce refuses them. */
    SF_EGRESS_ADDRESSES: egressAddresses,
    METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
    /** Webhooks may use http and reach loopback, private and link-local addresses: the demo and the tests only. */
    WEBHOOK_ALLOW_PRIVATE_TARGETS: z.stringbool({ error: 'must be true or false' }).default(false),
    TRUST_PROXY: trustedProxies
});

export type Config = Omit<z.infer<typeof configSchema>, 'SF_CLIENT_ID' | 'SF_CLIENT_SECRET'> & {
    SF_CLIENT_ID: string;
    SF_CLIENT_SECRET: string;
    TOKEN_ENCRYPTION_KEY: string;
};

export class ConfigError extends Error {
    override name = 'ConfigError';
}

/** Parses the environment once; every problem is reported together so an operator fixes them in one go. */
export function parseConfig(env: Record<string, string | undefined>): z.infer<typeof configSchema> {
    const result = configSchema.safeParse(env);
    if (!result.success) {
        const lines = result.error.issues.map((issue) => `  ${issue.path.join('.') || '(env)'}: ${issue.message}`);
        throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
    }
    return result.data;
}

/** Settings only a real deployment sets: with any of them present, `npm start` never falls back to the demo. */
const PRODUCTION_SETTINGS = [
    'SF_CLIENT_ID',
    'SF_CLIENT_SECRET',
    'TOKEN_ENCRYPTION_KEY',
    'DATA_DIR',
    'DATABASE_URL',
    'TRUST_PROXY',
    'METRICS_TOKEN'
] as const;
/** What the backend proper cannot run without. */
const REQUIRED_IN_PRODUCTION = ['SF_CLIENT_ID', 'SF_CLIENT_SECRET', 'TOKEN_ENCRYPTION_KEY', 'PUBLIC_URL'] as const;

/**
 * `npm start`: the demo only when no production setting is present at all; the backend when every required one is;
 * otherwise a refusal that names what is missing (a half-configured deployment must not serve the demo's open key).
 */
export function startMode(env: Record<string, string | undefined>): 'demo' | 'backend' {
    const set = (name: string): boolean => Boolean(env[name]?.trim());
    const present: string[] = PRODUCTION_SETTINGS.filter(set);
    if (env.PUBLIC_URL?.trim().toLowerCase().startsWith('https:')) present.push('an https PUBLIC_URL');
    if (present.length === 0) return 'demo';
    const missing = REQUIRED_IN_PRODUCTION.filter((name) => !set(name));
    if (missing.length > 0) {
        throw new ConfigError(
            `Invalid configuration: ${present.join(', ')} ${present.length === 1 ? 'is' : 'are'} set, so this is a real deployment, but it also needs:\n${missing.map((name) => `  ${name}: required`).join('\n')}\nSet ${missing.length === 1 ? 'it' : 'them'}, or unset every production setting to run the demo on this machine.`
        );
    }
    return 'backend';
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * A backend (not the demo) on plain http must be reached on this machine only: Salesforce accepts an http callback
 * URL only on localhost, so an http PUBLIC_URL elsewhere is a deployment mistake (and its cookies would travel in clear).
 */
export function refuseInsecurePublicUrl(publicUrl: string): void {
    const url = new URL(publicUrl);
    if (url.protocol === 'https:') return;
    if (url.protocol === 'http:' && (LOOPBACK_HOSTS.has(url.hostname) || /^127\.\d+\.\d+\.\d+$/.test(url.hostname))) return;
    throw new ConfigError(
        `Invalid configuration: PUBLIC_URL is ${url.origin}, but a backend reached from elsewhere must be served over https (PUBLIC_URL=https://…, behind a TLS proxy): Salesforce accepts an http callback only on localhost. Plain http is for this machine only (http://localhost:PORT).`
    );
}

/**
 * The backend proper (`server/start.ts`): a deployment's settings, every required one set. With none set it refuses too,
 * naming them all: only `npm start` turns an empty environment into the demo.
 */
export function requireDeployment(env: Record<string, string | undefined>): void {
    if (startMode(env) === 'backend') return;
    throw new ConfigError(
        `Invalid configuration: no production setting is set, and the backend needs:\n${REQUIRED_IN_PRODUCTION.map((name) => `  ${name}: required`).join('\n')}\nSet them (see docs/operations.md), or run \`npm start\` without any of them for the demo on this machine.`
    );
}

/** The backend proper needs the OAuth client and the key; the demo launcher fills them in before this. */
export function requireCompleteConfig(parsed: z.infer<typeof configSchema>): Config {
    const missing = (['SF_CLIENT_ID', 'SF_CLIENT_SECRET', 'TOKEN_ENCRYPTION_KEY'] as const).filter((name) => !parsed[name]);
    if (missing.length > 0) {
        throw new ConfigError(`Invalid configuration:\n${missing.map((name) => `  ${name}: required`).join('\n')}`);
    }
    return parsed as Config;
}
