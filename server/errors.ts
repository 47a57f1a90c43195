/**
 * Every code the backend answers with (`{"error":{"code","message"}}`, the popup's pages, a link session's error):
 * stable and SNAKE_CASE, for programs to act on. AppError takes nothing else; the OpenAPI document lists them.
 */
export const ERROR_CODES = [
    'ACCESS_DENIED',
    'ACCOUNT_NOT_FOUND',
    'API_ALLOWANCE_LOW',
    'API_NOT_ENABLED',
    'API_USER_LIMIT_REACHED',
    'APP_NOT_INSTALLED',
    'BAD_REQUEST',
    'CALL_IN_PROGRESS',
    'DEADLINE_EXCEEDED',
    'FORBIDDEN',
    'HOST_NOT_ALLOWED',
    'INTERNAL',
    'INVALID_JSON',
    'IP_NOT_ALLOWED',
    'KEPT_TASKS_FULL',
    'LINK_SESSION_COMPLETED',
    'LINK_SESSION_EXPIRED',
    'LINK_SESSION_NOT_FOUND',
    'LINK_SUPERSEDED',
    'LOGIN_HOST_NOT_ALLOWED',
    'METRICS_TOKEN_REQUIRED',
    'NEEDS_RELINK',
    'NOT_FOUND',
    'NOT_LINKED',
    'ORG_MISMATCH',
    'PAYLOAD_TOO_LARGE',
    'PERMISSION_MISSING',
    'PERMISSIONS_MISSING',
    'PHONE_FIELD_REFUSED',
    'RATE_LIMITED',
    'RESEAL_FAILED',
    'SALESFORCE_ERROR',
    'SALESFORCE_LIMIT_EXCEEDED',
    'SALESFORCE_REJECTED',
    'SALESFORCE_UNAVAILABLE',
    'STATE_MISMATCH',
    'TASK_FIELD_NOT_SETTABLE',
    'TASK_FIELD_UNKNOWN',
    'TASK_FIELD_VALUE_INVALID',
    'TASK_RECORD_TYPE_UNAVAILABLE',
    'TOKEN_EXCHANGE_FAILED',
    'TOO_MANY_FAILED_AUTHENTICATIONS',
    'TOO_MANY_LINK_SESSIONS',
    'UNAUTHORIZED',
    'UNSUPPORTED_ENCODING',
    'USER_INACTIVE',
    'VALIDATION_FAILED'
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** The one error type of the backend: a stable code, an HTTP status and a sentence a person can act on. */
export class AppError extends Error {
    override name = 'AppError';
    constructor(
        readonly code: ErrorCode,
        message: string,
        readonly status = 400,
        readonly details?: Record<string, unknown>
    ) {
        super(message);
    }
}

/** An AppError, or (with `code`) an AppError with that code. */
export const isAppError = (error: unknown, code?: ErrorCode): error is AppError =>
    error instanceof AppError && (code === undefined || error.code === code);
