import { SalesforceUnavailable, classify, type TokenSet } from './gateway.ts';
import { requestSignal, sendRequest } from './transport.ts';

/** What a SOAP login gives: a session that acts like an OAuth access token. */
export type SoapSession = Pick<TokenSet, 'accessToken' | 'instanceUrl' | 'identityUrl' | 'userId'>;

export interface SoapLoginRequest {
    loginUrl: string;
    username: string;
    /** The password followed by the security token, as the partner API takes them. */
    password: string;
    apiVersion: string;
    timeoutMs: number;
}

/**
 * The partner API's `login()` call (username, password + security token). A SOAP fault comes back as its code and
 * message; no answer, or one that cannot be read, is thrown as SalesforceUnavailable. `signal` cancels the request.
 */
export async function soapLogin(
    request: SoapLoginRequest,
    signal?: AbortSignal
): Promise<{ session: SoapSession } | { fault: { code: string; message: string } }> {
    const { loginUrl, username, password, apiVersion, timeoutMs } = request;
    const envelope =
        '<se:Envelope xmlns:se="http://schemas.xmlsoap.org/soap/envelope/"><se:Header/><se:Body>' +
        `<login xmlns="urn:partner.soap.sforce.com"><username>${escapeXml(username)}</username><password>${escapeXml(password)}</password></login>` +
        '</se:Body></se:Envelope>';
    let body: string;
    let status: number;
    try {
        const response = await sendRequest(
            {
                method: 'POST',
                url: `${loginUrl.replace(/\/$/, '')}/services/Soap/u/${apiVersion}`,
                body: envelope,
                headers: { 'content-type': 'text/xml', soapaction: '""' }
            },
            requestSignal(timeoutMs, signal)
        );
        ({ body, statusCode: status } = response);
    } catch (error) {
        throw new SalesforceUnavailable(
            `Salesforce could not be reached to log in: ${classify(error).message} Try again in a minute.`,
            false
        );
    }
    const fault = /<faultstring>([A-Z][A-Z_]+): ([^<]*)<\/faultstring>/.exec(body);
    if (fault) return { fault: { code: fault[1]!, message: unescapeXml(fault[2]!.trim()) } };
    // Salesforce answers an expired password with a restricted session that cannot call the API.
    if (/<passwordExpired>true<\/passwordExpired>/.test(body))
        return { fault: { code: 'INVALID_OPERATION_WITH_EXPIRED_PASSWORD', message: 'The API user’s password has expired.' } };
    const field = (name: string) => new RegExp(`<${name}>([^<]+)</${name}>`).exec(body)?.[1];
    const [serverUrl, sessionId, userId, orgId] = [field('serverUrl'), field('sessionId'), field('userId'), field('organizationId')];
    if (status >= 400 || !serverUrl || !sessionId || !userId || !orgId || !URL.canParse(serverUrl)) {
        throw new SalesforceUnavailable(
            `Salesforce could not be reached to log in: no usable answer to the login request (HTTP ${status}). Try again in a minute.`,
            false
        );
    }
    return {
        session: {
            accessToken: unescapeXml(sessionId),
            instanceUrl: new URL(serverUrl).origin,
            identityUrl: `${loginUrl.replace(/\/$/, '')}/id/${orgId}/${userId}`,
            userId
        }
    };
}

const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
const escapeXml = (text: string): string => text.replace(/[&<>"']/g, (c) => XML_ESCAPES[c]!);
const unescapeXml = (text: string): string =>
    text.replace(/&(amp|lt|gt|quot|apos);/g, (_, name: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" })[name]!);
