// Small HTTP helpers over node:http: request context, bodies, cookies and replies.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { OriginKey } from './model.ts';
import type { EmulatorState } from './state.ts';

export interface Ctx {
    state: EmulatorState;
    listener: OriginKey;
    origin: string;
    port: number;
    req: IncomingMessage;
    res: ServerResponse;
    method: string;
    url: URL;
    body: Buffer;
    cookies: Record<string, string>;
    quiet: boolean;
}

export const MAX_BODY = 5 * 1024 * 1024;

export function readBody(req: IncomingMessage): Promise<Buffer> {
    return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        let size = 0;
        req.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_BODY) {
                reject(new Error('body too large'));
                req.destroy();
                return;
            }
            chunks.push(c);
        });
        req.on('end', () => resolve(Buffer.concat(chunks)));
        req.on('error', reject);
    });
}

export function parseCookies(header: string | undefined): Record<string, string> {
    const out: Record<string, string> = {};
    if (!header) return out;
    for (const part of header.split(';')) {
        const eq = part.indexOf('=');
        if (eq < 0) continue;
        const name = part.slice(0, eq).trim();
        const value = part.slice(eq + 1).trim();
        if (!name) continue;
        try {
            out[name] = decodeURIComponent(value);
        } catch {
            out[name] = value;
        }
    }
    return out;
}

/** Form parameters of a POST (application/x-www-form-urlencoded). */
export function formParams(ctx: Ctx): URLSearchParams {
    const type = String(ctx.req.headers['content-type'] ?? '');
    if (ctx.method === 'POST' && (type === '' || type.includes('application/x-www-form-urlencoded'))) {
        return new URLSearchParams(ctx.body.toString('utf8'));
    }
    return new URLSearchParams();
}

export function send(ctx: Ctx, status: number, body: string | Buffer, headers: Record<string, string | string[]> = {}): void {
    if (ctx.res.headersSent) return;
    const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    ctx.res.writeHead(status, { 'Content-Length': String(buf.length), ...headers });
    ctx.res.end(ctx.method === 'HEAD' ? undefined : buf);
}

export function sendJson(ctx: Ctx, status: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
    send(ctx, status, JSON.stringify(body), {
        'Content-Type': 'application/json;charset=UTF-8',
        'Cache-Control': 'no-cache,must-revalidate,max-age=0,no-store,private',
        ...headers
    });
}

export function sendHtml(ctx: Ctx, status: number, html: string, headers: Record<string, string | string[]> = {}): void {
    send(ctx, status, html, {
        'Content-Type': 'text/html;charset=UTF-8',
        'Cache-Control': 'no-store',
        'X-Frame-Options': 'DENY',
        ...headers
    });
}

export function redirect(ctx: Ctx, location: string, headers: Record<string, string | string[]> = {}): void {
    send(ctx, 302, '', { Location: location, 'Cache-Control': 'no-store', ...headers });
}

export function cookie(name: string, value: string, opts: { maxAgeSeconds?: number } = {}): string {
    const parts = [`${name}=${encodeURIComponent(value)}`, 'Path=/', 'HttpOnly', 'SameSite=Lax'];
    if (opts.maxAgeSeconds !== undefined) parts.push(`Max-Age=${opts.maxAgeSeconds}`);
    return parts.join('; ');
}

export function sleep(ms: number): Promise<void> {
    return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
}

export function escapeHtml(s: string): string {
    return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
