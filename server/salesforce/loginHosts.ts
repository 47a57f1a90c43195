import { AppError } from '../errors.ts';
import type { Environment } from '../store/types.ts';

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const MY_DOMAIN_PRODUCTION = new RegExp(`^${LABEL}\\.(?:develop\\.)?my\\.salesforce\\.com$`);
const MY_DOMAIN_SANDBOX = new RegExp(`^${LABEL}\\.(?:sandbox|scratch)\\.my\\.salesforce\\.com$`);
const LIGHTNING_UI = /^([a-z0-9-]+)(\.(?:sandbox|develop|scratch))?\.lightning\.force\.com$/;
const LEGACY_INSTANCE = /^[a-z]{2,3}[0-9]{1,4}(?:-[a-z]+)?\.salesforce\.com$/;

export interface LoginHostPolicy {
    productionUrl: string;
    sandboxUrl: string;
    allowedOrigins: string[];
}

function parseHttpsOrigin(raw: string): URL {
    let url: URL;
    try {
        url = new URL(raw);
    } catch {
        throw new AppError('LOGIN_HOST_NOT_ALLOWED', `"${raw.slice(0, 200)}" is not a URL. Use https://login.salesforce.com, https://test.salesforce.com or your My Domain URL.`);
    }
    return url;
}

/** The hint for someone who pasted the Lightning UI address instead of the My Domain one. */
function lightningHint(host: string): string | undefined {
    const match = LIGHTNING_UI.exec(host);
    if (!match) return undefined;
    return `https://${match[1]}${match[2] ?? ''}.my.salesforce.com`;
}

/**
 * Decides which login host a link may use. Only Salesforce's OAuth hosts (or origins the operator
 * listed, such as the emulator) are accepted, so an authorization code is never sent elsewhere.
 */
export function resolveLoginUrl(policy: LoginHostPolicy, environment: Environment, requested?: string): string {
    if (!requested) return environment === 'production' ? policy.productionUrl : policy.sandboxUrl;
    const url = parseHttpsOrigin(requested.trim());
    if (policy.allowedOrigins.includes(url.origin) && (url.pathname === '/' || url.pathname === '')) return url.origin;

    const host = url.hostname.toLowerCase();
    const hint = lightningHint(host);
    if (hint) {
        throw new AppError(
            'LOGIN_HOST_NOT_ALLOWED',
            `${url.origin} is the Lightning address of the org, not a login host. Use its My Domain URL instead: ${hint}`
        );
    }
    if (url.protocol !== 'https:' || url.port || url.username || url.password || url.search || url.hash || (url.pathname !== '/' && url.pathname !== '')) {
        throw new AppError('LOGIN_HOST_NOT_ALLOWED', `The login URL must be a bare https origin such as https://yourcompany.my.salesforce.com; got ${url.origin}${url.pathname === '/' ? '' : url.pathname}.`);
    }
    const isProductionHost = host === 'login.salesforce.com' || MY_DOMAIN_PRODUCTION.test(host);
    const isSandboxHost = host === 'test.salesforce.com' || MY_DOMAIN_SANDBOX.test(host);
    if (!isProductionHost && !isSandboxHost) {
        throw new AppError(
            'LOGIN_HOST_NOT_ALLOWED',
            `${url.origin} is not a Salesforce login host. Use https://login.salesforce.com, https://test.salesforce.com or your My Domain URL (https://yourcompany.my.salesforce.com).`
        );
    }
    if (environment === 'sandbox' && isProductionHost) {
        throw new AppError('VALIDATION_FAILED', `${url.origin} is a production login host, but the link was asked for a sandbox. Choose Production, or use the sandbox's My Domain URL.`);
    }
    if (environment === 'production' && isSandboxHost) {
        throw new AppError('VALIDATION_FAILED', `${url.origin} is a sandbox login host, but the link was asked for production. Choose Sandbox, or use the production My Domain URL.`);
    }
    return url.origin;
}

/** Whether a URL Salesforce handed back (instance_url, identity URL) is one we may send a token to. */
export function isSalesforceOrigin(policy: LoginHostPolicy, raw: string): boolean {
    let url: URL;
    try {
        url = new URL(raw);
    } catch {
        return false;
    }
    if (policy.allowedOrigins.includes(url.origin)) return true;
    if (url.protocol !== 'https:' || url.port || url.username) return false;
    const host = url.hostname.toLowerCase();
    return (
        host === 'login.salesforce.com' ||
        host === 'test.salesforce.com' ||
        MY_DOMAIN_PRODUCTION.test(host) ||
        MY_DOMAIN_SANDBOX.test(host) ||
        LEGACY_INSTANCE.test(host) ||
        [policy.productionUrl, policy.sandboxUrl].includes(url.origin)
    );
}
