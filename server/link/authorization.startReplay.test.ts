// A repeated /oauth/start within the replay window answers the same attempt only to the browser that confirmed it:
// another browser that opens the same link gets an attempt of its own, never the first one's state and cookie.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { authorizeInEmulator } from '../../emulator/driver.ts';
import { PEOPLE, startHarness, type Harness } from '../test/harness.ts';

describe('the /oauth/start replay', () => {
    let h: Harness;
    before(async () => {
        h = await startHarness();
    });
    after(() => h.close());

    const newSession = async (): Promise<string> => {
        const { key } = await h.newAccount('Replay');
        return (await h.api(key).post('/api/v1/link-sessions', { environment: 'production' }).expect(201)).body.id as string;
    };
    /** A browser that loaded the consent page: its consent cookie and the page's form token. */
    const browser = async (sessionId: string) => {
        const page = await request(h.app).get(`/oauth/start/${sessionId}`).expect(200);
        const cookie = (page.headers['set-cookie'] as unknown as string[]).map((c) => c.split(';')[0]).join('; ');
        const token = /name="token" value="([^"]+)"/.exec(page.text)![1]!;
        return { cookie, token };
    };
    /** The browser's click on Continue: where it is sent, and the state cookie it is given. */
    const confirm = async (sessionId: string, b: { cookie: string; token: string }) => {
        const res = await request(h.app).post(`/oauth/start/${sessionId}`).set('Cookie', b.cookie).type('form').send({ token: b.token });
        assert.equal(res.status, 303, res.text);
        const linkCookie = (res.headers['set-cookie'] as unknown as string[]).find((c) => c.startsWith('ccl_link_'))!.split(';')[0]!;
        return { redirectTo: res.headers.location as string, cookie: linkCookie };
    };

    test('a second browser within the window gets its own state and cookie, not the first browser’s', async () => {
        const sessionId = await newSession();
        const first = await confirm(sessionId, await browser(sessionId));
        const other = await confirm(sessionId, await browser(sessionId));
        const state = (url: string) => new URL(url).searchParams.get('state');
        assert.notEqual(state(other.redirectTo), state(first.redirectTo));
        assert.notEqual(other.cookie, first.cookie);
        // The later attempt is the one in force: it links; the first browser's state no longer matches anything.
        const final = await authorizeInEmulator(other.redirectTo, PEOPLE.acmeApi);
        assert.equal((await request(h.app).get(`${final.pathname}${final.search}`).set('Cookie', other.cookie)).status, 200);
    });

    test('the same browser, repeating its confirmation at once, gets the same attempt (Lightning’s double request)', async () => {
        const sessionId = await newSession();
        const b = await browser(sessionId);
        const [one, two] = await Promise.all([confirm(sessionId, b), confirm(sessionId, b)]);
        assert.equal(two.redirectTo, one.redirectTo);
        assert.equal(two.cookie, one.cookie);
        const final = await authorizeInEmulator(one.redirectTo, { ...PEOPLE.acmeAdmin });
        assert.equal((await request(h.app).get(`${final.pathname}${final.search}`).set('Cookie', two.cookie)).status, 200);
    });
});
