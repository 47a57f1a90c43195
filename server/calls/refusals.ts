import { AppError } from '../errors.ts';
import { permissionMissing } from '../link/messages.ts';
import { SalesforceError } from '../salesforce/gateway.ts';

/** Salesforce's answers that mean "the API user may not do this". */
const ACCESS_REFUSALS = new Set([
    'INSUFFICIENT_ACCESS_OR_READONLY',
    'INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY',
    'INVALID_FIELD_FOR_INSERT_UPDATE',
    'INVALID_TYPE',
    'INVALID_FIELD'
]);

/** A query or search Salesforce refused: a missing permission, or something we should not have sent. */
export function readError(error: unknown, what: string): unknown {
    if (!(error instanceof SalesforceError)) return error;
    if (ACCESS_REFUSALS.has(error.code) || error.code.startsWith('INSUFFICIENT_ACCESS')) {
        return permissionMissing(`The API user may not ${what} (${error.code}: ${gist(error.message)}).`);
    }
    return new AppError('SALESFORCE_ERROR', `Salesforce refused to ${what} (${error.code}: ${gist(error.message)}).`, 502);
}

/** The reason in a Salesforce message (positioned SOQL errors put it on the last line). */
export const gist = (message: string): string => message.trim().split('\n').filter(Boolean).slice(-1)[0]?.slice(0, 500) ?? message;
