// HTML pages of the emulated login flow: login, "Allow Access?", OAuth error and maintenance.

import { escapeHtml as h } from './http.ts';

// Salesforce's login pages in SLDS colours and type; inline because the emulator serves no static files.
const STYLE = `
*{box-sizing:border-box}
html{background:#f3f3f3}
body{margin:0;font-family:-apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Helvetica,Arial,sans-serif,"Apple Color Emoji","Segoe UI Emoji";color:#181818;font-size:14px;line-height:1.5}
.banner{background:#fe9339;background-image:linear-gradient(45deg,rgba(0,0,0,.025) 25%,transparent 25%,transparent 50%,rgba(0,0,0,.025) 50%,rgba(0,0,0,.025) 75%,transparent 75%,transparent);background-size:64px 64px;color:#181818;padding:6px 12px;font-size:12px;text-align:center}
.wrap{max-width:380px;margin:0 auto;padding:36px 16px 24px}
.popup .wrap{padding-top:20px}
.logo{display:flex;flex-direction:column;align-items:center;margin-bottom:22px}
.logo svg{display:block}
.logo .org{font-size:26px;font-weight:700;letter-spacing:-.5px;color:#032d60;margin-top:6px}
.host{color:#747474;font-size:12px;margin-top:2px;text-align:center;word-break:break-all}
.card{background:#fff;border:1px solid #e5e5e5;border-radius:4px;padding:20px 24px;box-shadow:0 2px 2px 0 rgba(0,0,0,.1)}
label{display:block;font-size:13px;color:#444;margin:14px 0 6px}
label:first-of-type{margin-top:0}
input[type=text],input[type=email],input[type=password]{width:100%;padding:0 12px;height:40px;border:1px solid #c9c9c9;border-radius:4px;font-size:14px;color:#181818;background:#fff}
input:focus{outline:0;border-color:#1b96ff;box-shadow:0 0 3px #0176d3}
.btn{display:inline-flex;align-items:center;justify-content:center;min-height:40px;padding:0 18px;border-radius:4px;border:1px solid #c9c9c9;font-size:14px;font-family:inherit;cursor:pointer}
.btn:focus{outline:0;box-shadow:0 0 3px #0176d3}
.primary{background:#0176d3;border-color:#0176d3;color:#fff}
.primary:hover{background:#014486;border-color:#014486}
.wide{width:100%;margin-top:22px;font-size:15px}
.neutral{background:#fff;color:#0176d3}
.neutral:hover{background:#f3f3f3}
.row{display:flex;gap:8px;justify-content:flex-end;margin-top:20px;border-top:1px solid #e5e5e5;padding-top:16px}
.error{background:#fef1ee;border:1px solid #ea001e;color:#ba0517;padding:10px 12px;border-radius:4px;margin-bottom:14px;font-size:13px}
.links{display:flex;justify-content:space-between;margin-top:14px;font-size:13px}
.links span{color:#0176d3}
h1{font-size:20px;font-weight:400;margin:0 0 14px;color:#181818}
ul{padding-left:20px;margin:8px 0 14px}
li{margin:6px 0}
.muted{color:#747474;font-size:12px;text-align:center;margin-top:18px}
.who{background:#f3f3f3;border-radius:4px;padding:10px 12px}
code{word-break:break-all;font-size:13px}
`;

/** A plain cloud shape in Salesforce blue: the emulator's mark, not Salesforce's logo. */
const CLOUD = `<svg width="92" height="62" viewBox="0 0 92 62" aria-hidden="true" focusable="false">
<g fill="#00a1e0"><circle cx="30" cy="24" r="18"/><circle cx="52" cy="18" r="16"/><circle cx="70" cy="30" r="16"/><circle cx="22" cy="40" r="16"/><circle cx="48" cy="42" r="18"/><circle cx="72" cy="44" r="12"/></g>
<text x="46" y="40" text-anchor="middle" font-family="Arial,sans-serif" font-size="13" font-weight="700" fill="#fff">emulated</text>
</svg>`;

interface Frame {
    page: 'login' | 'approve' | 'error' | 'maintenance' | 'ui-login' | 'setup';
    title: string;
    hostLabel: string;
    popup: boolean;
    body: string;
}

/** "Acme My Domain (emulated) · http://…" → "Acme"; the login hosts have no org name. */
function orgOf(hostLabel: string): string | undefined {
    const m = /^(.*) My Domain \(emulated\)/.exec(hostLabel);
    return m ? m[1] : undefined;
}

function frame(f: Frame): string {
    const org = orgOf(f.hostLabel);
    return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="emulator-page" content="${f.page}">
<title>${h(f.title)} | Salesforce (emulated)</title><style>${STYLE}</style></head>
<body class="${f.popup ? 'popup' : ''}">
<div class="banner" role="note">Emulated Salesforce org for development and tests. This is not Salesforce: use the demo users only.</div>
<div class="wrap"><div class="logo">${CLOUD}${org ? `<div class="org">${h(org)}</div>` : ''}<div class="host">${h(f.hostLabel)}</div></div>
${f.body}
</div></body></html>`;
}

function hidden(params: Record<string, string>): string {
    return Object.entries(params)
        .map(([k, v]) => `<input type="hidden" name="${h(k)}" value="${h(v)}">`)
        .join('\n');
}

export function loginPage(args: {
    hostLabel: string;
    popup: boolean;
    params: Record<string, string>;
    csrf: string;
    error?: string;
    username?: string;
}): string {
    const err = args.error ? `<div class="error" id="error" role="alert">${h(args.error)}</div>` : '';
    return frame({
        page: 'login',
        title: 'Login',
        hostLabel: args.hostLabel,
        popup: args.popup,
        body: `<main class="card">${err}
<form method="post" action="/services/oauth2/authorize" autocomplete="off">
${hidden(args.params)}
<input type="hidden" name="_action" value="login">
${credentialFields(args.csrf, args.username)}
</form>
<div class="links" aria-hidden="true"><span>Forgot Your Password?</span><span>Use Custom Domain</span></div>
</main>
<p class="muted">Emulated orgs accept the demo users only; no real credentials belong here.</p>`
    });
}

const SCOPE_TEXT: Record<string, string> = {
    api: 'Manage user data via APIs (api)',
    refresh_token: 'Perform requests at any time (refresh_token, offline_access)',
    offline_access: 'Perform requests at any time (refresh_token, offline_access)',
    id: 'Access the identity URL service (id, profile, email, address, phone)',
    profile: 'Access the identity URL service (id, profile, email, address, phone)',
    email: 'Access the identity URL service (id, profile, email, address, phone)',
    openid: 'Access unique user identifiers (openid)',
    web: 'Manage user data via Web browsers (web)',
    full: 'Full access (full)'
};

export function approvePage(args: {
    hostLabel: string;
    popup: boolean;
    params: Record<string, string>;
    csrf: string;
    clientName: string;
    username: string;
    orgName: string;
    scopes: string[];
}): string {
    const lines = [...new Set(args.scopes.map((s) => SCOPE_TEXT[s] ?? s))];
    return frame({
        page: 'approve',
        title: 'Allow Access?',
        hostLabel: args.hostLabel,
        popup: args.popup,
        body: `<main class="card">
<h1>Allow Access?</h1>
<p><strong>${h(args.clientName)}</strong> is asking to:</p>
<ul>${lines.map((l) => `<li>${h(l)}</li>`).join('')}</ul>
<p class="who">Do you want to allow access for <strong>${h(args.username)}</strong> (${h(args.orgName)})?</p>
<form method="post" action="/services/oauth2/authorize">
${hidden(args.params)}
<input type="hidden" name="_action" value="approve">
<input type="hidden" name="_csrf" value="${h(args.csrf)}">
<div class="row">
<button class="btn neutral" type="submit" name="decision" value="deny">Deny</button>
<button class="btn primary" type="submit" name="decision" value="allow">Allow</button>
</div>
</form></main>`
    });
}

/** Salesforce shows OAuth errors it cannot redirect as a page with the error in query-string form. */
export function errorPage(args: { hostLabel: string; error: string; description: string }): string {
    const text = `error=${args.error}&error_description=${args.description}`;
    return frame({
        page: 'error',
        title: 'OAuth Error',
        hostLabel: args.hostLabel,
        popup: false,
        body: `<main class="card"><h1>OAuth Error</h1>
<p>We can't authorize you because of an OAuth error. For more information, contact your Salesforce administrator.</p>
<p id="error" role="alert"><code>${h(text)}</code></p></main>`
    });
}

export function maintenancePage(): string {
    return frame({
        page: 'maintenance',
        title: 'Down for maintenance',
        hostLabel: '',
        popup: false,
        body: `<main class="card"><h1>Down for maintenance</h1><p id="error">This Salesforce instance is temporarily unavailable. Please try again shortly.</p></main>`
    });
}

/** The org's own UI login (not OAuth): what an admin uses to reach Setup in this browser. */
export function uiLoginPage(args: {
    hostLabel: string;
    csrf: string;
    startUrl: string;
    error?: string;
    notice?: string;
    username?: string;
}): string {
    const err = args.error ? `<div class="error" id="error" role="alert">${h(args.error)}</div>` : '';
    const notice = args.notice ? `<div class="error" id="session-ended" role="alert">${h(args.notice)}</div>` : '';
    return frame({
        page: 'ui-login',
        title: 'Login',
        hostLabel: args.hostLabel,
        popup: false,
        body: `<main class="card">${notice}${err}
<form method="post" action="/login" autocomplete="off">
<input type="hidden" name="startURL" value="${h(args.startUrl)}">
${credentialFields(args.csrf, args.username)}
</form></main>`
    });
}

/** A stand-in for Lightning Setup: it works only while this browser's session on the domain is the admin's. */
export function setupPage(args: { hostLabel: string; name: string; username: string }): string {
    return frame({
        page: 'setup',
        title: 'Setup Home',
        hostLabel: args.hostLabel,
        popup: false,
        body: `<main class="card"><h1>Setup Home</h1>
<p id="setup-user" class="who">Logged in as <strong>${h(args.name)}</strong> (${h(args.username)})</p></main>`
    });
}

/** The username and password fields of Salesforce's login form, on the OAuth login page and on the UI login page alike. */
function credentialFields(csrf: string, username: string | undefined): string {
    return `<input type="hidden" name="_csrf" value="${h(csrf)}">
<label for="username">Username</label>
<input type="email" id="username" name="username" value="${h(username ?? '')}" required autofocus>
<label for="password">Password</label>
<input type="password" id="password" name="password" required>
<button class="btn primary wide" type="submit" name="Login" value="Log In">Log In</button>`;
}
