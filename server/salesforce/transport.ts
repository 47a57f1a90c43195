import { PassThrough } from 'node:stream';
import type { HttpRequest, HttpResponse, StreamPromise } from 'jsforce';

/**
 * The HTTP layer jsforce sends through (`conn.request(req, { transport })`), on Node's fetch with the caller's
 * AbortSignal: when the signal fires, the request and its socket are closed, not merely no longer awaited.
 * jsforce's own transport keeps an AbortController of its own and process-wide defaults, neither of which a caller
 * can reach; this one has no defaults, no retries and follows no redirects.
 */
export interface SalesforceTransport {
    httpRequest(request: HttpRequest): StreamPromise<HttpResponse>;
}

/** Sends every request under `signal`; `observe` is told each response's status and headers (jsforce's errors leave them out). */
export function abortableTransport(signal: AbortSignal, observe?: (response: HttpResponse) => void): SalesforceTransport {
    return {
        httpRequest(request) {
            // jsforce awaits the answer and asks for `stream()`, which we leave empty: the body travels in the answer.
            const stream = new PassThrough();
            const promise = sendRequest(request, signal).then(
                (response) => {
                    observe?.(response);
                    stream.end();
                    return response;
                },
                (error: unknown) => {
                    stream.destroy();
                    throw error;
                }
            );
            return Object.assign(promise, { stream: () => stream });
        }
    };
}

/** jsforce sends JSON, form or SOAP text; like jsforce's own transport, a null body is none. */
function textBody(body: HttpRequest['body']): string | undefined {
    if (body === undefined || body === null || typeof body === 'string') return body ?? undefined;
    if (Buffer.isBuffer(body) || body instanceof URLSearchParams) return body.toString();
    throw new TypeError('The Salesforce transport sends text bodies, not a stream or form data.');
}

/** One HTTP exchange, the whole body read as text, both under `signal`. */
export async function sendRequest(request: HttpRequest, signal: AbortSignal): Promise<HttpResponse> {
    signal.throwIfAborted();
    const response = await fetch(request.url, {
        method: request.method,
        headers: request.headers,
        body: textBody(request.body),
        redirect: 'manual',
        signal
    });
    const body = await response.text();
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => {
        headers[name] = value;
    });
    return { statusCode: response.status, headers, body };
}

/** The caller's signal (if any) and this request's own time limit, whichever fires first. */
export function requestSignal(timeoutMs: number, caller?: AbortSignal): AbortSignal {
    const own = AbortSignal.timeout(timeoutMs);
    return caller ? AbortSignal.any([caller, own]) : own;
}
