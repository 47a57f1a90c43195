import { pino, stdSerializers, type Logger } from 'pino';

const CENSOR = '[redacted]';

/**
 * Fields whose value is a secret wherever they are in a log line, at any depth (compared without case, `-` or `_`):
 * tokens, passwords, keys, and the headers that carry them.
 */
const SECRET_FIELDS = new Set(
    [
        'accessToken',
        'refreshToken',
        'idToken',
        'token',
        'password',
        'securityToken',
        'apiKey',
        'secret',
        'clientSecret',
        'codeVerifier',
        'authorization',
        'proxyAuthorization',
        'cookie',
        'setCookie'
    ].map((name) => name.toLowerCase())
);
const fieldKey = (name: string): string => name.replace(/[-_]/g, '').toLowerCase();

/**
 * `code` and `state` name an OAuth authorization code and state, but also an error's code and a session's state: the
 * OAuth values are long random strings, the others short words, so only long ones are censored.
 */
const OAUTH_VALUE_FIELDS = new Set(['code', 'state']);
const looksLikeOAuthValue = (value: unknown): boolean => typeof value === 'string' && value.length >= 32 && !/\s/.test(value);

/** What an error keeps of an outbound HTTP exchange: never a body or headers (they carry tokens and cookies), nor the request made. */
const EXCHANGE_FIELDS_DROPPED = new Set(['body', 'data', 'content', 'headers', 'rawHeaders', 'request', 'config', 'options']);

/** An error as a log line holds it: pino's standard fields, minus what outbound requests and responses carry. */
export function serializeError(error: unknown): unknown {
    if (!(error instanceof Error)) return error;
    const plain = { ...(stdSerializers.err(error) as unknown as Record<string, unknown>) };
    for (const key of Object.keys(plain)) {
        if (EXCHANGE_FIELDS_DROPPED.has(key)) delete plain[key];
    }
    const response = (error as { response?: unknown }).response;
    if (response && typeof response === 'object') {
        // Only what says how it went.
        const { status, statusCode, statusText } = response as Record<string, unknown>;
        plain.response = Object.fromEntries(Object.entries({ status, statusCode, statusText }).filter(([, v]) => v !== undefined));
    }
    return plain;
}

const MAX_DEPTH = 8;

/** A copy of `value` with every secret field censored, errors serialized, cycles cut; what JSON would write, no more. */
function censor(value: unknown, depth: number, seen: WeakSet<object>): unknown {
    if (value === null || typeof value !== 'object') return value;
    if (value instanceof Error) value = serializeError(value);
    else if (typeof (value as { toJSON?: unknown }).toJSON === 'function') value = (value as { toJSON(): unknown }).toJSON();
    if (value === null || typeof value !== 'object') return value;
    if (seen.has(value)) return '[Circular]';
    if (depth >= MAX_DEPTH) return '[deeper than the log keeps]';
    seen.add(value);
    try {
        if (Array.isArray(value)) return value.map((item) => censor(item, depth + 1, seen));
        const copy: Record<string, unknown> = {};
        for (const [key, inner] of Object.entries(value)) {
            const field = fieldKey(key);
            copy[key] =
                SECRET_FIELDS.has(field) || (OAUTH_VALUE_FIELDS.has(field) && looksLikeOAuthValue(inner))
                    ? CENSOR
                    : censor(inner, depth + 1, seen);
        }
        return copy;
    } finally {
        seen.delete(value);
    }
}

/** Every field that could carry a secret is censored, at any depth, so a careless log call cannot leak one. */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
    return pino(
        {
            level,
            serializers: { err: serializeError },
            formatters: { log: (object) => censor(object, 0, new WeakSet()) as Record<string, unknown> }
        },
        destination ?? process.stdout
    );
}

export type { Logger };
