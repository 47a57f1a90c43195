// The SOAP API's login() call on the partner endpoint, POST /services/Soap/u/{version}, as the old
// username + password (+ security token) integrations use it. The session it returns is an access
// token like any other: the REST API takes it as a Bearer token.

import { escapeHtml, send, type Ctx } from './http.ts';
import { Access } from './permissions.ts';
import type { OrgModel, OrgKey, UserModel } from './model.ts';

export const SOAP_LOGIN_PATH = /^\/services\/Soap\/u\/(\d+\.\d)(?:\/[A-Za-z0-9]{15,18})?\/?$/;

const SOAP_ENV = 'http://schemas.xmlsoap.org/soap/envelope/';
const xml = (s: string): string => escapeHtml(s);

function sendXml(ctx: Ctx, status: number, body: string): void {
    send(ctx, status, `<?xml version="1.0" encoding="UTF-8"?>${body}`, {
        'Content-Type': 'text/xml;charset=UTF-8',
        'Cache-Control': 'no-cache,must-revalidate,max-age=0,no-store,private'
    });
}

/** A SOAP fault the way the partner API reports one: HTTP 500, faultcode sf:CODE, faultstring "CODE: message". */
function fault(ctx: Ctx, code: string, message: string, faultType = 'LoginFault'): void {
    sendXml(
        ctx,
        500,
        `<soapenv:Envelope xmlns:soapenv="${SOAP_ENV}" xmlns:sf="urn:fault.partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` +
            '<soapenv:Body><soapenv:Fault>' +
            `<faultcode>sf:${code}</faultcode><faultstring>${xml(`${code}: ${message}`)}</faultstring>` +
            `<detail><sf:${faultType} xsi:type="sf:${faultType}"><sf:exceptionCode>${code}</sf:exceptionCode><sf:exceptionMessage>${xml(message)}</sf:exceptionMessage></sf:${faultType}></detail>` +
            '</soapenv:Fault></soapenv:Body></soapenv:Envelope>'
    );
}

function clientFault(ctx: Ctx, message: string): void {
    sendXml(
        ctx,
        500,
        `<soapenv:Envelope xmlns:soapenv="${SOAP_ENV}"><soapenv:Body><soapenv:Fault><faultcode>soapenv:Client</faultcode><faultstring>${xml(message)}</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>`
    );
}

const decodeXml = (s: string): string =>
    s.replace(/&(lt|gt|amp|quot|apos|#(\d+)|#x([0-9a-fA-F]+));/g, (_m, name: string, dec?: string, hex?: string) => {
        if (dec) return String.fromCodePoint(Number(dec));
        if (hex) return String.fromCodePoint(parseInt(hex, 16));
        return { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }[name] ?? '';
    });

/** The text of the first element with this local name, whatever its namespace prefix. */
function element(body: string, name: string): string | undefined {
    const m = new RegExp(`<(?:[A-Za-z0-9_]+:)?${name}(?:\\s[^>]*)?>([\\s\\S]*?)</(?:[A-Za-z0-9_]+:)?${name}>`).exec(body);
    return m ? decodeXml(m[1]!) : undefined;
}

/** The user a login request names, for counting requests per org. */
export function orgOfSoapLogin(ctx: Ctx): OrgKey | undefined {
    const username = element(ctx.body.toString('utf8'), 'username');
    const found = username ? ctx.state.findUserByUsername(username) : undefined;
    return found && ctx.state.serves(ctx.listener, found.org) ? found.org.key : undefined;
}

function passwordMatches(user: UserModel, given: string): boolean {
    // The security token is appended to the password; without one the server counts as inside a trusted IP range.
    return given === user.password + (user.securityToken ?? '');
}

export function handleSoapLogin(ctx: Ctx, version: string): void {
    const st = ctx.state;
    if (ctx.method !== 'POST') return clientFault(ctx, 'The SOAP API takes POST requests only');
    if (Number(version) < 20 || Number(version) > Number(st.apiVersion)) {
        return fault(ctx, 'UNSUPPORTED_API_VERSION', `Invalid Api version specified on URL: ${version}`, 'UnexpectedErrorFault');
    }
    const body = ctx.body.toString('utf8');
    if (!/<(?:[A-Za-z0-9_]+:)?login[\s>]/.test(body)) return clientFault(ctx, 'No operation available for request');
    const username = element(body, 'username') ?? '';
    const password = element(body, 'password') ?? '';
    const found = st.findUserByUsername(username);
    const invalid = (): void => fault(ctx, 'INVALID_LOGIN', 'Invalid username, password, security token; or user locked out.');
    if (!found || !st.serves(ctx.listener, found.org)) return invalid();
    const { org, user } = found;
    if (!passwordMatches(user, password) || !user.active) return invalid();
    if (user.frozen) return fault(ctx, 'USER_FROZEN', 'This user account has been frozen by an administrator.');
    if (user.loginRestriction === 'ip')
        return fault(
            ctx,
            'LOGIN_MUST_USE_SECURITY_TOKEN',
            'Invalid username, password, security token; or user locked out. Are you at a new location? When accessing Salesforce--either via a desktop client or the API--from outside of your company’s trusted networks, you must add a security token to your password to log in.'
        );
    if (user.loginRestriction === 'hours') return fault(ctx, 'LOGIN_DURING_RESTRICTED_TIME', 'Login during restricted time.');
    if (!new Access(org, user).permissions.ApiEnabled) return fault(ctx, 'API_CURRENTLY_DISABLED', 'API is disabled for this User');
    user.lastLoginAt = st.now();
    const grant = st.issueAccessToken({ clientId: 'soap-login', org, userId: user.id, scopes: ['api', 'web'] });
    sendXml(ctx, 200, loginResponse(ctx, org, user, grant.token, version));
}

function loginResponse(ctx: Ctx, org: OrgModel, user: UserModel, sessionId: string, version: string): string {
    const instance = ctx.state.origins[org.key];
    const profile = org.profiles.find((p) => p.id === user.profileId);
    const ttlSeconds = Math.round(ctx.state.accessTokenTtlMs() / 1000);
    const field = (name: string, value: string | number | boolean | null): string =>
        value === null ? `<${name} xsi:nil="true"/>` : `<${name}>${xml(String(value))}</${name}>`;
    return (
        `<soapenv:Envelope xmlns:soapenv="${SOAP_ENV}" xmlns="urn:partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` +
        '<soapenv:Body><loginResponse><result>' +
        field('metadataServerUrl', `${instance}/services/Soap/m/${version}/${org.orgId}`) +
        field('passwordExpired', false) +
        field('sandbox', org.isSandbox) +
        field('serverUrl', `${instance}/services/Soap/u/${version}/${org.orgId}`) +
        field('sessionId', sessionId) +
        field('userId', user.id) +
        '<userInfo>' +
        field('accessibilityMode', false) +
        field('currencySymbol', '$') +
        field('orgAttachmentFileSizeLimit', 5242880) +
        field('orgDefaultCurrencyIsoCode', 'USD') +
        field('orgDisallowHtmlAttachments', false) +
        field('orgHasPersonAccounts', false) +
        field('organizationId', org.orgId) +
        field('organizationMultiCurrency', false) +
        field('organizationName', org.name) +
        field('profileId', profile?.id ?? null) +
        field('roleId', null) +
        field('sessionSecondsValid', ttlSeconds) +
        field('userDefaultCurrencyIsoCode', null) +
        field('userEmail', user.email) +
        field('userFullName', `${user.firstName} ${user.lastName}`.trim()) +
        field('userId', user.id) +
        field('userLanguage', user.language) +
        field('userLocale', user.locale) +
        field('userName', user.username) +
        field('userTimeZone', user.timeZone) +
        field('userType', 'Standard') +
        field('userUiSkin', 'Theme3') +
        '</userInfo>' +
        '</result></loginResponse></soapenv:Body></soapenv:Envelope>'
    );
}
