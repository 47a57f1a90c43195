// Acts as the person in the popup: follows the emulator's login and approval pages over real HTTP.

export interface Person {
    username: string;
    password: string;
    decision?: 'allow' | 'deny';
}

/** Cookies keyed by host name only: browsers ignore ports, which is why the emulator namespaces its cookies per port. */
export class CookieJar {
    private readonly byHost = new Map<string, Map<string, string>>();

    store(url: URL, res: Response): void {
        const list = res.headers.getSetCookie();
        if (!list.length) return;
        let jar = this.byHost.get(url.hostname);
        if (!jar) {
            jar = new Map();
            this.byHost.set(url.hostname, jar);
        }
        for (const line of list) {
            const [pair, ...attrs] = line.split(';');
            const eq = pair!.indexOf('=');
            if (eq < 0) continue;
            const name = pair!.slice(0, eq).trim();
            const value = pair!.slice(eq + 1).trim();
            const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a));
            if (expired) jar.delete(name);
            else jar.set(name, value);
        }
    }

    header(url: URL): string | undefined {
        const jar = this.byHost.get(url.hostname);
        if (!jar || !jar.size) return undefined;
        return [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    }
}

interface FormInfo {
    action: string;
    method: string;
    fields: Array<[string, string]>;
    buttons: Array<{ name: string; value: string; label: string }>;
}

function decodeEntities(s: string): string {
    return s.replace(/&(amp|lt|gt|quot|#39);/g, (_m, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e]!);
}

function attr(tag: string, name: string): string | undefined {
    const m = new RegExp(`\\s${name}="([^"]*)"`, 'i').exec(tag);
    return m ? decodeEntities(m[1]!) : undefined;
}

function parseForm(html: string): FormInfo | undefined {
    const fm = /<form\b([^>]*)>([\s\S]*?)<\/form>/i.exec(html);
    if (!fm) return undefined;
    const open = `<form ${fm[1]}>`;
    const inner = fm[2]!;
    const fields: Array<[string, string]> = [];
    for (const m of inner.matchAll(/<input\b[^>]*>/gi)) {
        const tag = m[0];
        const name = attr(tag, 'name');
        if (!name) continue;
        const type = (attr(tag, 'type') ?? 'text').toLowerCase();
        if (type === 'submit') continue;
        fields.push([name, attr(tag, 'value') ?? '']);
    }
    const buttons: FormInfo['buttons'] = [];
    for (const m of inner.matchAll(/<button\b([^>]*)>([\s\S]*?)<\/button>/gi)) {
        const tag = `<button ${m[1]}>`;
        buttons.push({
            name: attr(tag, 'name') ?? '',
            value: attr(tag, 'value') ?? '',
            label: decodeEntities(m[2]!.replace(/<[^>]*>/g, '').trim())
        });
    }
    return { action: attr(open, 'action') ?? '', method: (attr(open, 'method') ?? 'get').toUpperCase(), fields, buttons };
}

function pageKind(html: string): string | undefined {
    return /<meta name="emulator-page" content="([a-z]+)">/.exec(html)?.[1];
}

function pageError(html: string): string | undefined {
    const m = /id="error"[^>]*>([\s\S]*?)<\/(?:div|p)>/.exec(html);
    return m ? decodeEntities(m[1]!.replace(/<[^>]*>/g, '').trim()) : undefined;
}

function sameTarget(a: URL, b: URL): boolean {
    return a.origin === b.origin && a.pathname === b.pathname;
}

/**
 * Follows the authorize URL through the login and "Allow Access?" pages and returns the final redirect to the
 * client's redirect_uri (code and state, or error=access_denied), without requesting it. Pass `browser` to share
 * cookies with other requests, as one browser would.
 */
export async function authorizeInEmulator(authorizeUrl: string, person: Person, browser: CookieJar = new CookieJar()): Promise<URL> {
    const start = new URL(authorizeUrl);
    const redirectUri = start.searchParams.get('redirect_uri');
    if (!redirectUri) throw new Error('authorizeInEmulator: the authorize URL has no redirect_uri');
    const target = new URL(redirectUri);
    const jar = browser;
    let url = start;
    let init: RequestInit = { method: 'GET' };
    let loggedIn = false;
    let decided = false;

    for (let step = 0; step < 12; step++) {
        const headers = new Headers(init.headers);
        const cookies = jar.header(url);
        if (cookies) headers.set('cookie', cookies);
        const res = await fetch(url, { ...init, headers, redirect: 'manual' });
        jar.store(url, res);
        if (res.status >= 300 && res.status < 400) {
            const location = res.headers.get('location');
            await res.arrayBuffer();
            if (!location) throw new Error(`authorizeInEmulator: ${res.status} without a Location header at ${url.href}`);
            const next = new URL(location, url);
            if (sameTarget(next, target)) return next;
            url = next;
            init = { method: 'GET' };
            continue;
        }
        const html = await res.text();
        const kind = pageKind(html);
        if (kind === 'error' || kind === 'maintenance' || !kind) {
            const text = pageError(html) ?? (html.slice(0, 200) || `HTTP ${res.status}`);
            throw new Error(`authorizeInEmulator: the emulator showed an error page (HTTP ${res.status}): ${text}`);
        }
        const form = parseForm(html);
        if (!form) throw new Error(`authorizeInEmulator: no form on the ${kind} page`);
        const body = new URLSearchParams();
        if (kind === 'login') {
            if (loggedIn) throw new Error(`authorizeInEmulator: login failed: ${pageError(html) ?? 'the login page came back'}`);
            loggedIn = true;
            for (const [k, v] of form.fields) {
                if (k === 'username') body.append(k, person.username);
                else if (k === 'password') body.append(k, person.password);
                else body.append(k, v);
            }
            if (!form.fields.some(([k]) => k === 'password')) body.append('password', person.password);
            const button = form.buttons.find((b) => b.label === 'Log In');
            if (button?.name) body.append(button.name, button.value);
        } else if (kind === 'approve') {
            if (decided) throw new Error(`authorizeInEmulator: the approval page came back: ${pageError(html) ?? ''}`);
            decided = true;
            for (const [k, v] of form.fields) body.append(k, v);
            const wanted = (person.decision ?? 'allow') === 'allow' ? 'Allow' : 'Deny';
            const button = form.buttons.find((b) => b.label === wanted);
            if (!button) throw new Error(`authorizeInEmulator: no "${wanted}" button on the approval page`);
            body.append(button.name, button.value);
        } else {
            throw new Error(`authorizeInEmulator: unexpected page ${kind}`);
        }
        url = new URL(form.action || url.href, url);
        init = { method: form.method, body: body.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } };
    }
    throw new Error('authorizeInEmulator: too many steps without reaching the redirect_uri');
}
