// REST API errors, reported in Salesforce's array shape: [{ message, errorCode, fields? }].

export class ApiError extends Error {
    constructor(
        readonly status: number,
        readonly errorCode: string,
        message: string,
        readonly fields?: string[]
    ) {
        super(message);
    }

    toBody(): Array<Record<string, unknown>> {
        const item: Record<string, unknown> = { message: this.message, errorCode: this.errorCode };
        if (this.fields) item['fields'] = this.fields;
        return [item];
    }
}

/** Formats a SOQL/SOSL error the way Salesforce does: the statement, a caret, then the position and reason. */
export function positioned(statement: string, pos: number, reason: string): string {
    const before = statement.slice(0, pos);
    const row = before.split('\n').length;
    const lineStart = before.lastIndexOf('\n') + 1;
    const col = pos - lineStart + 1;
    const lineEnd = statement.indexOf('\n', pos);
    const line = statement.slice(lineStart, lineEnd < 0 ? undefined : lineEnd);
    return `\n${line}\n${' '.repeat(Math.max(0, col - 1))}^\nERROR at Row:${row}:Column:${col}\n${reason}`;
}

export const noSuchColumn = (field: string, entity: string): string =>
    `No such column '${field}' on entity '${entity}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`;

export const unsupportedType = (type: string): string =>
    `sObject type '${type}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.`;

export const badRelationship = (rel: string): string =>
    `Didn't understand relationship '${rel}' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.`;
