// Bodies nobody will read: a body announced larger than the route takes is refused from its Content-Length, and the
// connection is closed rather than drained, on /oauth as on /api; a request refused for its key is not drained either.
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { startHarness, type Harness } from '../test/harness.ts';

const TEN_MB = 10 * 1024 * 1024;

/**
 * Sends the headers and the first kilobyte of a body announced as `length`, and waits for the server to answer and
 * close. Returns the answer, how much of the body was sent, and whether the server closed the connection by itself.
 */
async function announce(port: number, head: string, length: number) {
    const socket = net.connect(port, '127.0.0.1');
    let answer = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (answer += chunk));
    const ended = new Promise<boolean>((resolve) => {
        socket.once('end', () => resolve(true));
        socket.once('close', () => resolve(true));
        setTimeout(() => resolve(false), 3000).unref();
    });
    socket.on('error', () => undefined);
    socket.write(`${head}\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${length}\r\n\r\n`);
    socket.write('token=' + 'a'.repeat(1018));
    const closedByServer = await ended;
    socket.destroy();
    return { status: Number(answer.split(' ')[1]), head: answer.split('\r\n\r\n')[0]!.toLowerCase(), answer, closedByServer };
}

describe('an oversize body announced by Content-Length', () => {
    let h: Harness;
    let server: Server;
    let port: number;
    let sessionId: string;
    before(async () => {
        h = await startHarness();
        server = h.app.listen(0, '127.0.0.1');
        await new Promise((resolve) => server.once('listening', resolve));
        port = (server.address() as net.AddressInfo).port;
        const { key } = await h.newAccount('Big bodies');
        sessionId = (await h.api(key).post('/api/v1/link-sessions', { environment: 'production' }).expect(201)).body.id as string;
    });
    after(async () => {
        server.close();
        await h.close();
    });

    test('on /oauth: 413 as a page, from the header alone, and the connection closed unread', async () => {
        for (const head of [
            `POST /oauth/start/${sessionId} HTTP/1.1`,
            `GET /oauth/start/${sessionId} HTTP/1.1`,
            'POST /oauth/callback HTTP/1.1'
        ]) {
            const res = await announce(port, head, TEN_MB);
            assert.equal(res.status, 413, `${head}: ${res.answer.slice(0, 300)}`);
            assert.match(res.head, /content-type: text\/html/, head);
            assert.match(res.head, /connection: close/, head);
            assert.ok(res.closedByServer, `${head}: the server waited for the rest of the body`);
        }
        // The session is untouched: its popup still opens.
        await request(h.app).get(`/oauth/start/${sessionId}`).expect(200);
    });

    test('on /api without a valid key: 401, and the connection closed unread', async () => {
        const res = await announce(port, 'PUT /api/v1/calls/c1/task HTTP/1.1', TEN_MB);
        assert.equal(res.status, 401, res.answer.slice(0, 300));
        assert.ok(res.closedByServer, 'the server waited for the rest of the body');
    });
});
