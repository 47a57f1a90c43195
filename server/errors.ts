/** The one error type of the backend: a stable code, an HTTP status and a sentence a person can act on. */
export class AppError extends Error {
    override name = 'AppError';
    constructor(
        readonly code: string,
        message: string,
        readonly status = 400,
        readonly details?: Record<string, unknown>
    ) {
        super(message);
    }
}

export const isAppError = (error: unknown): error is AppError => error instanceof AppError;
