import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { type Emulator } from '../index.ts';
import { control, link, PEOPLE, start } from './helpers.ts';

let em: Emulator;
before(async () => {
    em = await start();
});
after(() => em.close());
beforeEach(() => em.state.reset());

const MINUTE = 60_000;
const HOURS_24 = 24 * 60 * MINUTE;
const LIMITED = [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }];

async function call(
    token: string,
    method: string,
    path: string,
    body?: unknown
): Promise<{ status: number; body: any; limit: string | null }> {
    const res = await fetch(`${em.origins.acme}/services/data/v62.0/${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body)
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, limit: res.headers.get('sforce-limit-info') };
}

/** One request of each kind the org's allowance covers. */
const EVERY_KIND: Array<[string, string, unknown?]> = [
    ['GET', 'limits'],
    ['GET', 'query?q=SELECT+Id+FROM+Organization'],
    ['GET', `search?q=${encodeURIComponent('FIND {4155551212} IN PHONE FIELDS RETURNING Contact(Id)')}`],
    ['POST', 'sobjects/Task', { Subject: 'Call' }],
    ['GET', 'sobjects/Task/describe'],
    ['POST', 'composite', { compositeRequest: [{ method: 'GET', url: '/services/data/v62.0/limits', referenceId: 'l' }] }],
    ['GET', '']
];

describe("the org's daily API limit over a rolling 24 hours", () => {
    it('reports api-usage on every answer and refuses every API request over the limit until the window frees some', async () => {
        em.state.setAccessTokenTtl(3 * 86400);
        const t = await link(em, PEOPLE.acmeApi);
        em.state.setApiLimit('acme', { max: EVERY_KIND.length, used: 0 });
        for (const [i, [method, path, body]] of EVERY_KIND.entries()) {
            const r = await call(t.access_token, method, path, body);
            assert.ok(r.status < 300, `${method} ${path}: ${r.status}`);
            assert.equal(r.limit, `api-usage=${i + 1}/${EVERY_KIND.length}`);
        }
        for (const [method, path, body] of EVERY_KIND) {
            const r = await call(t.access_token, method, path, body);
            assert.equal(r.status, 403, `${method} ${path}`);
            assert.deepEqual(r.body, LIMITED);
            assert.equal(r.limit, `api-usage=${EVERY_KIND.length}/${EVERY_KIND.length}`);
        }
        assert.equal(em.state.tasks('acme').length, 1, 'nothing refused was made');
        em.state.advanceTime(HOURS_24 - 2 * MINUTE);
        assert.equal((await call(t.access_token, 'GET', 'limits')).status, 403, 'the window has not moved past the requests yet');
        em.state.advanceTime(3 * MINUTE);
        const freed = await call(t.access_token, 'GET', 'limits');
        assert.equal(freed.status, 200);
        assert.equal(freed.limit, `api-usage=1/${EVERY_KIND.length}`);
        assert.deepEqual(freed.body.DailyApiRequests, { Max: EVERY_KIND.length, Remaining: EVERY_KIND.length - 1 });
    });

    it('frees each request 24 hours after it was made, not all at once', async () => {
        em.state.setAccessTokenTtl(3 * 86400);
        const t = await link(em, PEOPLE.acmeApi);
        em.state.setApiLimit('acme', { max: 3, used: 2 });
        em.state.advanceTime(10 * MINUTE);
        assert.equal((await call(t.access_token, 'GET', 'limits')).limit, 'api-usage=3/3');
        assert.equal((await call(t.access_token, 'GET', 'limits')).status, 403);
        const info = em.state.org('acme');
        assert.deepEqual(info.apiUsage, { used: 3, max: 3 });
        assert.ok(info.apiUsageFreesAt && Date.parse(info.apiUsageFreesAt) > em.state.now());
        em.state.advanceTime(HOURS_24 - 9 * MINUTE);
        assert.deepEqual(em.state.org('acme').apiUsage, { used: 1, max: 3 }, 'the two older requests left the window');
        assert.equal((await call(t.access_token, 'GET', 'limits')).limit, 'api-usage=2/3');
        // counted per minute: a request leaves the window within the minute after its 24 hours
        em.state.advanceTime(HOURS_24 + MINUTE);
        assert.deepEqual(em.state.org('acme').apiUsage, { used: 0, max: 3 });
        assert.equal(em.state.org('acme').apiUsageFreesAt, null);
    });

    it('counts per org, and is set over HTTP', async () => {
        const t = await link(em, PEOPLE.acmeApi);
        assert.deepEqual((await control(em, 'POST', 'orgs/acme/api-limit', { max: 5, used: 5 })).body, { used: 5, max: 5 });
        assert.equal((await call(t.access_token, 'GET', 'limits')).status, 403);
        assert.deepEqual(em.state.org('acmeUat').apiUsage, { used: 0, max: 15000 });
        assert.equal((await control(em, 'POST', 'orgs/acme/api-limit', { max: 5, used: -1 })).status, 400);
        assert.equal((await control(em, 'POST', 'orgs/acme/api-limit', { max: 1.5 })).status, 400);
        assert.deepEqual((await control(em, 'POST', 'orgs/acme/api-limit', { max: 6 })).body, { used: 5, max: 6 });
        assert.equal((await call(t.access_token, 'GET', 'limits')).status, 200);
    });
});
