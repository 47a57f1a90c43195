import assert from 'node:assert/strict';
import type { Snapshot } from '../store/types.ts';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { cardOrigins, ConsentForms } from './consent.ts';
import { generateEncryptionKey } from '../crypto.ts';
import { confirmPopup, PEOPLE, startHarness, type Harness } from '../test/harness.ts';

const CARD = 'https://card.example';
const cookiesOf = (res: request.Response): string =>
    ((res.headers['set-cookie'] as unknown as string[] | undefined) ?? []).map((c) => c.split(';')[0]).join('; ');
const scriptOf = (html: string): string => [...html.matchAll(/<script nonce="[^"]+">([\s\S]*?)<\/script>/g)].map((m) => m[1]).join('\n');

describe('knowing consent: the popup names the account before Salesforce', () => {
    let h: Harness;
    let acmeOrgId: string;
    before(async () => {
        h = await startHarness();
        acmeOrgId = h.emulator.state.org('acme').id;
    });
    after(() => h.close());

    test('the phishing link: another tenant’s session for the victim’s My Domain shows whose account it is and goes nowhere by itself', async () => {
        const attacker = await h.newAccount('Mallory Contact Center');
        const created = await h
            .api(attacker.key)
            .post('/api/v1/link-sessions', { environment: 'production', loginUrl: h.emulator.origins.acme })
            .expect(201);
        const path = new URL(created.body.authorizeUrl).pathname;

        // The victim's admin opens the link from an email: no redirect to Salesforce, a page that names the account.
        const page = await request(h.app).get(path).expect(200);
        assert.equal(page.headers.location, undefined);
        assert.match(page.text, /Mallory Contact Center/);
        assert.match(page.text, new RegExp(attacker.id));
        assert.match(page.text, /If someone sent you this link, close this window/);
        assert.match(page.text, /find Contacts, Leads and Accounts by phone number/);
        assert.doesNotMatch(page.text, /services\/oauth2\/authorize/);
        // No session that leaves its org open is ever continued by a script.
        assert.equal(scriptOf(page.text), '');
        assert.equal(
            ((db: Snapshot) => db.linkSessions.find((s) => s.id === created.body.id)?.attempt)(await h.services.store.dump()),
            undefined,
            'showing the page wrote nothing'
        );

        // A page elsewhere cannot post the confirmation for the victim: no cookie (SameSite=Lax), or no token, or the attacker's own token.
        await request(h.app).post(path).type('form').send({ token: 'x' }).expect(403);
        await request(h.app).post(path).set('Cookie', cookiesOf(page)).type('form').send({}).expect(403);
        const attackersOwn = await request(h.app).get(path).expect(200);
        const token = /name="token" value="([^"]+)"/.exec(attackersOwn.text)![1]!;
        const forged = await request(h.app).post(path).type('form').send({ token }).expect(403);
        assert.match(forged.text, /did not come from the page that names the account/);
        assert.equal(
            ((db: Snapshot) => db.linkSessions.find((s) => s.id === created.body.id)?.attempt)(await h.services.store.dump()),
            undefined
        );
    });

    test('only the confirmation posted by the page in that browser goes on to Salesforce', async () => {
        const { key } = await h.newAccount('Confirmed');
        const created = await h.api(key).post('/api/v1/link-sessions', { environment: 'production' }).expect(201);
        const answer = await confirmPopup(h.app, new URL(created.body.authorizeUrl).pathname);
        assert.equal(new URL(answer.headers.location!).origin, h.emulator.origins.production);
        assert.match(String(answer.headers['set-cookie']), new RegExp(`ccl_link_${created.body.id}=[^;]+; Max-Age`));
    });

    test('a token of one session does not confirm another', async () => {
        const { key } = await h.newAccount('Two popups');
        const first = await h.api(key).post('/api/v1/link-sessions', { environment: 'production' }).expect(201);
        const second = await h.api(key).post('/api/v1/link-sessions', { environment: 'production' }).expect(201);
        const page = await request(h.app).get(`/oauth/start/${first.body.id}`).expect(200);
        const token = /name="token" value="([^"]+)"/.exec(page.text)![1]!;
        const cookie = cookiesOf(page).replace(`ccl_consent_${first.body.id}`, `ccl_consent_${second.body.id}`);
        await request(h.app).post(`/oauth/start/${second.body.id}`).set('Cookie', cookie).type('form').send({ token }).expect(403);
    });

    test('opening the page twice (Lightning may request it twice) keeps one working confirmation', async () => {
        const { key } = await h.newAccount('Twice');
        const created = await h.api(key).post('/api/v1/link-sessions', { environment: 'production' }).expect(201);
        const path = `/oauth/start/${created.body.id}`;
        const first = await request(h.app).get(path).expect(200);
        const again = await request(h.app).get(path).set('Cookie', cookiesOf(first)).expect(200);
        const token = (html: string) => /name="token" value="([^"]+)"/.exec(html)![1];
        assert.equal(token(again.text), token(first.text));
        await request(h.app)
            .post(path)
            .set('Cookie', cookiesOf(first))
            .type('form')
            .send({ token: token(first.text) })
            .expect(303);
    });

    test('the success page names the account and the org; the error a session keeps never names other accounts', async () => {
        const { key, id } = await h.newAccount('Acme Support Line');
        const { callback } = await h.link(key, PEOPLE.acmeApi);
        assert.equal(callback.status, 200, callback.text);
        assert.match(callback.text, /“Acme Support Line”/);
        assert.match(callback.text, new RegExp(id));
        assert.match(callback.text, new RegExp(acmeOrgId.slice(0, 15)));
        assert.doesNotMatch(scriptOf(callback.text), /'\*'/, 'the message names its target origin');
    });
});

describe('the card vouches for its own popup', () => {
    let h: Harness;
    before(async () => {
        h = await startHarness({
            envFor: (emulator) => ({ SF_CARD_ORIGINS: `${emulator.origins.acme}=${CARD},${emulator.origins.acmeUat}=${CARD}` })
        });
    });
    after(() => h.close());

    const sessionFor = async (key: string, body: Record<string, unknown>) => {
        const created = await h.api(key).post('/api/v1/link-sessions', body).expect(201);
        return request(h.app).get(new URL(created.body.authorizeUrl).pathname).expect(200);
    };

    test('a session that names its org, from its My Domain: the page asks the opener at the card’s origin only, and checks who answers', async () => {
        const { key } = await h.newAccount('Card flow');
        const page = await sessionFor(key, {
            environment: 'production',
            loginUrl: h.emulator.origins.acme,
            expectedOrgId: h.emulator.state.org('acme').id
        });
        const script = scriptOf(page.text);
        assert.match(script, new RegExp(`cardOrigins = \\["${CARD}"\\]`));
        assert.match(script, /event\.source !== opener/);
        assert.match(script, /cardOrigins\.indexOf\(event\.origin\) < 0/);
        assert.match(script, /data\.sessionId !== sessionId/);
        assert.doesNotMatch(script, /'\*'/);
        // The form still works for a person who clicks (the card's answer may never come, e.g. under Lightning Web Security).
        assert.match(page.text, /Continue to Salesforce/);
        // The confirmation's redirect to the login host is allowed by the page's CSP.
        assert.match(String(page.headers['content-security-policy']), new RegExp(`form-action 'self' ${h.emulator.origins.acme}`));
    });

    test('a session without an expected org, or through login.salesforce.com, is never vouched for', async () => {
        const { key } = await h.newAccount('No org');
        assert.equal(scriptOf((await sessionFor(key, { environment: 'production', loginUrl: h.emulator.origins.acme })).text), '');
        assert.equal(
            scriptOf((await sessionFor(key, { environment: 'production', expectedOrgId: h.emulator.state.org('acme').id })).text),
            ''
        );
    });

    test('relinking to a different org asks, and says which link it replaces; relinking the same org does not', async () => {
        const { key } = await h.newAccount('Moving');
        const acme = h.emulator.state.org('acme').id;
        const { callback } = await h.link(key, PEOPLE.acmeApi, {
            environment: 'production',
            loginUrl: h.emulator.origins.acme,
            expectedOrgId: acme
        });
        assert.equal(callback.status, 200, callback.text);
        assert.match(scriptOf(callback.text), new RegExp(`"${CARD}"`), 'the success message goes to the card');

        const other = await sessionFor(key, {
            environment: 'sandbox',
            loginUrl: h.emulator.origins.acmeUat,
            expectedOrgId: h.emulator.state.org('acmeUat').id
        });
        assert.equal(scriptOf(other.text), '');
        assert.match(other.text, new RegExp(`linked now to org ${acme} as api@acme.example`));

        const unknown = await sessionFor(key, { environment: 'production' });
        assert.match(unknown.text, /a different org instead/);

        const same = await sessionFor(key, { environment: 'production', loginUrl: h.emulator.origins.acme, expectedOrgId: acme });
        assert.notEqual(scriptOf(same.text), '');
        assert.doesNotMatch(same.text, /linked now to org/);
    });
});

describe('the popup cookies over https', () => {
    test('are Secure when PUBLIC_URL is https', async () => {
        const h = await startHarness({ env: { PUBLIC_URL: 'https://ccl.example' } });
        try {
            const { key } = await h.newAccount('Secure');
            const created = await h.api(key).post('/api/v1/link-sessions', { environment: 'production' }).expect(201);
            const path = new URL(created.body.authorizeUrl).pathname;
            const page = await request(h.app).get(path).expect(200);
            assert.match(String(page.headers['set-cookie']), /ccl_consent_[^;]+;.*Secure/);
            const answer = await confirmPopup(h.app, path);
            const linkCookie = (answer.headers['set-cookie'] as unknown as string[]).find((c) =>
                c.startsWith(`ccl_link_${created.body.id}=`)
            );
            assert.match(linkCookie!, /; Secure/);
            assert.match(linkCookie!, /HttpOnly/);
        } finally {
            await h.close();
        }
    });
});

describe('where the card runs', () => {
    test('is derived from a My Domain only', () => {
        assert.deepEqual(cardOrigins('https://acme.my.salesforce.com'), [
            'https://acme.lightning.force.com',
            'https://acme.my.salesforce-setup.com'
        ]);
        assert.deepEqual(cardOrigins('https://acme--uat.sandbox.my.salesforce.com'), [
            'https://acme--uat.sandbox.lightning.force.com',
            'https://acme--uat.sandbox.my.salesforce-setup.com'
        ]);
        assert.deepEqual(cardOrigins('https://acme-dev-ed.develop.my.salesforce.com'), [
            'https://acme-dev-ed.develop.lightning.force.com',
            'https://acme-dev-ed.develop.my.salesforce-setup.com'
        ]);
        for (const none of [
            'https://login.salesforce.com',
            'https://test.salesforce.com',
            'https://evil.example',
            'http://acme.my.salesforce.com',
            'https://acme.my.salesforce.com:8443',
            'https://a.b.c.my.salesforce.com',
            'not a url'
        ]) {
            assert.deepEqual(cardOrigins(none), [], none);
        }
        assert.deepEqual(cardOrigins('http://127.0.0.1:9/', { 'http://127.0.0.1:9': ['http://localhost:3000'] }), [
            'http://localhost:3000'
        ]);
    });

    test('form tokens are bound to the session and the nonce, under a key derived from the encryption key', () => {
        const key = generateEncryptionKey();
        const forms = new ConsentForms(key);
        const nonce = forms.nonceFor(undefined);
        const token = forms.token('s1', nonce);
        assert.ok(forms.verify('s1', nonce, token));
        assert.ok(!forms.verify('s2', nonce, token));
        assert.ok(!forms.verify('s1', forms.nonceFor(undefined), token));
        assert.ok(!forms.verify('s1', undefined, token));
        assert.ok(!forms.verify('s1', nonce, [token]));
        assert.ok(!new ConsentForms(generateEncryptionKey()).verify('s1', nonce, token));
        assert.equal(forms.nonceFor(nonce), nonce);
        assert.notEqual(forms.nonceFor('short'), 'short');
    });
});
