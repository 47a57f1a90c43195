// HTML pages of the emulated login flow: login, "Allow Access?", OAuth error and maintenance.

import { escapeHtml as h } from './http.ts';

const STYLE = `
*{box-sizing:border-box}
body{margin:0;font-family:"Salesforce Sans",Arial,sans-serif;background:#f3f2f2;color:#16325c;font-size:14px}
.banner{background:#fef1c7;color:#4b3a00;border-bottom:1px solid #e6c24f;padding:6px 12px;font-size:12px;text-align:center}
.wrap{max-width:400px;margin:40px auto;padding:0 16px}
.popup .wrap{margin-top:16px}
.logo{text-align:center;font-size:30px;font-weight:bold;color:#00a1e0;letter-spacing:-1px;margin-bottom:4px}
.host{text-align:center;color:#54698d;font-size:12px;margin-bottom:18px}
.card{background:#fff;border:1px solid #d8dde6;border-radius:4px;padding:20px}
label{display:block;font-size:13px;color:#54698d;margin:12px 0 4px}
input[type=text],input[type=email],input[type=password]{width:100%;padding:10px;border:1px solid #d8dde6;border-radius:4px;font-size:14px}
.btn{display:inline-block;padding:10px 16px;border-radius:4px;border:1px solid #0070d2;font-size:14px;cursor:pointer}
.primary{background:#0070d2;color:#fff;width:100%;margin-top:18px}
.neutral{background:#fff;color:#0070d2}
.row{display:flex;gap:10px;justify-content:flex-end;margin-top:18px}
.error{background:#c23934;color:#fff;padding:10px;border-radius:4px;margin-bottom:12px}
h1{font-size:20px;margin:0 0 12px}
ul{padding-left:20px}
li{margin:6px 0}
.muted{color:#54698d;font-size:12px}
code{word-break:break-all}
`;

interface Frame {
  page: 'login' | 'approve' | 'error' | 'maintenance';
  title: string;
  hostLabel: string;
  popup: boolean;
  body: string;
}

function frame(f: Frame): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="emulator-page" content="${f.page}">
<title>${h(f.title)} | Salesforce (emulated)</title><style>${STYLE}</style></head>
<body class="${f.popup ? 'popup' : ''}">
<div class="banner">Emulated Salesforce org for development and tests. This is not Salesforce.</div>
<div class="wrap"><div class="logo">salesforce</div><div class="host">${h(f.hostLabel)}</div>
${f.body}
</div></body></html>`;
}

function hidden(params: Record<string, string>): string {
  return Object.entries(params)
    .map(([k, v]) => `<input type="hidden" name="${h(k)}" value="${h(v)}">`)
    .join('\n');
}

export function loginPage(args: { hostLabel: string; popup: boolean; params: Record<string, string>; csrf: string; error?: string; username?: string }): string {
  const err = args.error ? `<div class="error" id="error" role="alert">${h(args.error)}</div>` : '';
  return frame({
    page: 'login',
    title: 'Login',
    hostLabel: args.hostLabel,
    popup: args.popup,
    body: `<div class="card">${err}
<form method="post" action="/services/oauth2/authorize" autocomplete="off">
${hidden(args.params)}
<input type="hidden" name="_action" value="login">
<input type="hidden" name="_csrf" value="${h(args.csrf)}">
<label for="username">Username</label>
<input type="email" id="username" name="username" value="${h(args.username ?? '')}" required autofocus>
<label for="password">Password</label>
<input type="password" id="password" name="password" required>
<button class="btn primary" type="submit" name="Login" value="Log In">Log In</button>
</form></div>
<p class="muted">Emulated orgs accept the demo users only; no real credentials belong here.</p>`,
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
  full: 'Full access (full)',
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
    body: `<div class="card">
<h1>Allow Access?</h1>
<p><strong>${h(args.clientName)}</strong> is asking to:</p>
<ul>${lines.map((l) => `<li>${h(l)}</li>`).join('')}</ul>
<p>Do you want to allow access for <strong>${h(args.username)}</strong> (${h(args.orgName)})?</p>
<form method="post" action="/services/oauth2/authorize">
${hidden(args.params)}
<input type="hidden" name="_action" value="approve">
<input type="hidden" name="_csrf" value="${h(args.csrf)}">
<div class="row">
<button class="btn neutral" type="submit" name="decision" value="deny">Deny</button>
<button class="btn primary" style="width:auto;margin-top:0" type="submit" name="decision" value="allow">Allow</button>
</div>
</form></div>`,
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
    body: `<div class="card"><h1>OAuth Error</h1>
<p>We can't authorize you because of an OAuth error. For more information, contact your Salesforce administrator.</p>
<p id="error" role="alert"><code>${h(text)}</code></p></div>`,
  });
}

export function maintenancePage(): string {
  return frame({
    page: 'maintenance',
    title: 'Down for maintenance',
    hostLabel: '',
    popup: false,
    body: `<div class="card"><h1>Down for maintenance</h1><p id="error">This Salesforce instance is temporarily unavailable. Please try again shortly.</p></div>`,
  });
}
