import { pino, type Logger } from 'pino';

/** Every path that could carry a secret is censored, so a careless log call cannot leak one. */
export const REDACTED_PATHS = [
    'req.headers.authorization',
    'req.headers.cookie',
    'res.headers["set-cookie"]',
    '*.accessToken',
    '*.refreshToken',
    '*.access_token',
    '*.refresh_token',
    '*.password',
    '*.securityToken',
    '*.apiKey',
    '*.code',
    '*.codeVerifier',
    '*.state',
    '*.token',
    'accessToken',
    'refreshToken',
    'password',
    'apiKey'
];

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
    return pino({ level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, destination ?? process.stdout);
}

export type { Logger };
