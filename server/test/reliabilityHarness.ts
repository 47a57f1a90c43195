import { appendFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TestContext } from 'node:test';
import type { Express } from 'express';
import request from 'supertest';
import { authorizeInEmulator } from '../../emulator/driver.ts';
import { confirmPopup, type Person } from './harness.ts';

/**
 * One seed for the whole run, printed, so a failure can be replayed:
 * RELIABILITY_SEED=1234 npm run test:reliability
 */
export const SEED = Number(process.env.RELIABILITY_SEED ?? Date.now() % 2 ** 31);

/** A small seeded generator (mulberry32), one stream per name. */
export function random(name: string): () => number {
    let state = SEED;
    for (const char of name) state = Math.imul(state ^ char.charCodeAt(0), 2654435761) >>> 0 || 1;
    return () => {
        state = (state + 0x6d2b79f5) >>> 0;
        let t = state;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

/**
 * A test's figures: a diagnostic line in the test output, and a JSON line in
 * $RELIABILITY_REPORT when set (docs/reliability.md is written from those).
 */
export function report(t: TestContext | string, name: string | Record<string, unknown>, figures?: Record<string, unknown>): void {
    const [label, data] = typeof t === 'string' ? [t, name as Record<string, unknown>] : [name as string, figures!];
    const line = JSON.stringify({ test: label, seed: SEED, ...data });
    if (typeof t !== 'string') t.diagnostic(line);
    else console.log(`# ${line}`);
    if (process.env.RELIABILITY_REPORT) appendFileSync(process.env.RELIABILITY_REPORT, `${line}\n`);
}

/** Every response the app sent: status, headers and body, for the secrets scan. */
export interface Recorder {
    handler: (req: IncomingMessage, res: ServerResponse) => void;
    responses: Array<{ status: number; headers: string; body: string }>;
    text(): string;
}

export function recordResponses(app: Express): Recorder {
    const responses: Recorder['responses'] = [];
    const handler = (req: IncomingMessage, res: ServerResponse) => {
        const chunks: string[] = [];
        const write = res.write.bind(res) as (...args: unknown[]) => boolean;
        const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
        const keep = (chunk: unknown) => {
            if (typeof chunk === 'string') chunks.push(chunk);
            else if (chunk instanceof Uint8Array) chunks.push(Buffer.from(chunk).toString('utf8'));
        };
        res.write = ((chunk: unknown, ...rest: unknown[]) => {
            keep(chunk);
            return write(chunk, ...rest);
        }) as typeof res.write;
        res.end = ((chunk?: unknown, ...rest: unknown[]) => {
            if (typeof chunk !== 'function') keep(chunk);
            responses.push({ status: res.statusCode, headers: JSON.stringify(res.getHeaders()), body: chunks.join('') });
            return end(chunk, ...rest);
        }) as typeof res.end;
        app(req as Parameters<Express>[0], res as Parameters<Express>[1]);
    };
    return { handler, responses, text: () => responses.map((r) => `${r.status} ${r.headers}\n${r.body}`).join('\n') };
}

type Target = Parameters<typeof request>[0];

/** The popup, step by step, against any app or URL: the session, /oauth/start, Salesforce's pages; the callback is left to the caller. */
export async function startPopup(
    target: Target,
    key: string,
    person: Person,
    session: Record<string, unknown> = { environment: 'production' }
): Promise<{ sessionId: string; cookie: string; callbackPath: string }> {
    const created = await request(target).post('/api/v1/link-sessions').set('Authorization', `Bearer ${key}`).send(session);
    if (created.status !== 201) throw new Error(`link session: ${created.status} ${created.text}`);
    const start = await confirmPopup(target, new URL(created.body.authorizeUrl as string).pathname);
    // The cookies the popup holds now: the confirmation's own was cleared by the answer that set the state cookie.
    const cookie = (start.headers['set-cookie'] as unknown as string[])
        .map((c) => c.split(';')[0]!)
        .filter((pair) => !pair.endsWith('='))
        .join('; ');
    const final = await authorizeInEmulator(start.headers.location!, person);
    return { sessionId: created.body.id as string, cookie, callbackPath: `${final.pathname}${final.search}` };
}

/** Runs `work` and fails when it takes longer than `ms`: no request may hang. */
export async function within<T>(ms: number, what: string, work: () => Promise<T>): Promise<{ value: T; ms: number }> {
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
    });
    try {
        const value = await Promise.race([work(), late]);
        return { value, ms: performance.now() - started };
    } finally {
        clearTimeout(timer);
    }
}
