// Secrets in log lines at any depth: a token nested in an error's response, a refresh token carried by a jsforce error,
// an Authorization header. None may reach the output; what helps diagnose (codes, statuses, messages) must.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import jsforce from 'jsforce';
import { createLogger } from './logger.ts';

describe('the logger', () => {
    let server: Server;
    let url: string;
    before(async () => {
        // An org that answers every REST call with errors that echo what it was sent, as a faulty proxy might.
        server = createServer((req, res) => {
            res.writeHead(400, { 'content-type': 'application/json', 'set-cookie': 'sid=COOKIE-FROM-ORG-0001' });
            res.end(
                JSON.stringify([
                    { errorCode: 'INVALID_FIELD', message: 'No such column' },
                    {
                        errorCode: 'ECHO',
                        message: 'echo',
                        refresh_token: 'RT-IN-JSFORCE-ERROR-0001',
                        authorization: req.headers.authorization
                    }
                ])
            );
        });
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => server.close());

    const capture = () => {
        const stream = new PassThrough();
        let text = '';
        stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
        return { logger: createLogger('debug', stream), text: () => text };
    };

    test('finds no token, refresh token or Authorization header at any depth, and keeps what diagnoses', async () => {
        const { logger, text } = capture();
        const conn = new jsforce.Connection({
            instanceUrl: url,
            accessToken: 'AT-OF-THE-CONNECTION-0001',
            version: '62.0'
        });
        // Set after: jsforce wants an OAuth client to accept one in its constructor.
        conn.refreshToken = 'RT-OF-THE-CONNECTION-0001';
        const jsforceError = await conn.request('/services/data/v62.0/query?q=x').then(
            () => assert.fail('the org answered 400'),
            (error: unknown) => error as Error
        );
        logger.warn({ err: jsforceError, accountId: 'acc_1' }, 'a jsforce error');
        logger.error({ err: { response: { status: 502, body: { access_token: 'AT-NESTED-IN-BODY-0001' } } } }, 'nested in a plain object');
        logger.info(
            { call: { outbound: { request: { headers: { Authorization: 'Bearer AT-IN-A-HEADER-0001' } } } } },
            'a header deep down'
        );
        logger.info({ conn }, 'a whole connection object');
        const clientError = Object.assign(new Error('Request failed with status code 401'), {
            code: 'ERR_BAD_RESPONSE',
            response: { status: 401, headers: { 'set-cookie': 'sid=COOKIE-IN-RESPONSE-0001' }, data: 'token=AT-IN-RESPONSE-DATA-0001' },
            config: { headers: { authorization: 'Bearer AT-IN-REQUEST-CONFIG-0001' } }
        });
        logger.error(clientError, 'an HTTP client error');
        logger.info(
            { query: { code: 'aPrxOAUTHCODE0000000000000000000000000001', state: 'STATE0000000000000000000000000000000000001' } },
            'a callback'
        );
        const out = text();
        for (const secret of [
            'RT-IN-JSFORCE-ERROR-0001',
            'AT-OF-THE-CONNECTION-0001',
            'RT-OF-THE-CONNECTION-0001',
            'AT-NESTED-IN-BODY-0001',
            'AT-IN-A-HEADER-0001',
            'COOKIE-FROM-ORG-0001',
            'COOKIE-IN-RESPONSE-0001',
            'AT-IN-RESPONSE-DATA-0001',
            'AT-IN-REQUEST-CONFIG-0001',
            'aPrxOAUTHCODE0000000000000000000000000001',
            'STATE0000000000000000000000000000000000001'
        ])
            assert.equal(out.includes(secret), false, `${secret} is in the log:\n${out}`);
        // Still there: what an operator needs to tell what happened.
        const lines = out
            .trim()
            .split('\n')
            .map((line) => JSON.parse(line) as Record<string, any>);
        assert.equal(lines[0]!.err.errorCode, 'MULTIPLE_API_ERRORS');
        assert.match(lines[0]!.err.message, /Multiple errors/);
        assert.equal(lines[0]!.accountId, 'acc_1');
        assert.equal(lines[1]!.err.response.status, 502);
        assert.equal(lines[4]!.err.code, 'ERR_BAD_RESPONSE');
        assert.equal(lines[4]!.err.response.status, 401);
        assert.match(lines[4]!.err.stack, /Request failed with status code 401/);
    });

    test('a line that refers to itself is still written', () => {
        const { logger, text } = capture();
        const loop: Record<string, unknown> = { name: 'loop', password: 'PW-IN-A-LOOP-0001' };
        loop.self = loop;
        logger.info({ loop }, 'circular');
        assert.match(text(), /circular/);
        assert.equal(text().includes('PW-IN-A-LOOP-0001'), false);
    });
});
