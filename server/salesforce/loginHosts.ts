import { AppError } from '../errors.ts';
import type { Environment } from '../store/types.ts';

/**
 * Salesforce's My Domain host formats (enhanced domains), from the Metadata API's MyDomainSettings: `domainPartition`
 * (OrgDomainShard: sandbox, develop, patch, trailblaze, scratch, demo, free) stands before the suffix, and
 * `myDomainSuffix` (OrgDomainProdSuffix) `MySalesforce` is `my.salesforce.com`. Each row says which login host
 * (login.salesforce.com or test.salesforce.com) serves that kind of org, which is the link's environment.
 * Other clouds' suffixes (Government Cloud Plus, the China partner cloud) are not listed: their hosts could not be
 * confirmed in Salesforce's documentation. An operator can allow such an origin with SF_ALLOWED_LOGIN_ORIGINS.
 */
export const MY_DOMAIN_FORMATS: ReadonlyArray<{ partition: string | null; kind: string; environment: Environment; example: string }> = [
    { partition: null, kind: 'a production org', environment: 'production', example: 'acme.my.salesforce.com' },
    { partition: 'sandbox', kind: 'a sandbox', environment: 'sandbox', example: 'acme--uat.sandbox.my.salesforce.com' },
    { partition: 'develop', kind: 'a Developer Edition org', environment: 'production', example: 'acme-dev-ed.develop.my.salesforce.com' },
    { partition: 'scratch', kind: 'a scratch org', environment: 'sandbox', example: 'power-fun-1234-dev-ed.scratch.my.salesforce.com' },
    { partition: 'patch', kind: 'a patch org', environment: 'production', example: 'acme.patch.my.salesforce.com' },
    {
        partition: 'trailblaze',
        kind: 'a Trailhead Playground',
        environment: 'production',
        example: 'curious-bear-1a2b3c.trailblaze.my.salesforce.com'
    },
    { partition: 'demo', kind: 'a demo org', environment: 'production', example: 'acme.demo.my.salesforce.com' },
    { partition: 'free', kind: 'a free org', environment: 'production', example: 'acme.free.my.salesforce.com' }
];

const MY_DOMAIN_SUFFIX = 'my.salesforce.com';
/** A My Domain name: letters, digits and hyphens, not at either end (`--` joins a sandbox's name to its org's). */
const MY_DOMAIN_NAME = /^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$/;
const LOGIN_HOSTS: Record<string, { kind: string; environment: Environment }> = {
    'login.salesforce.com': { kind: 'the production login host', environment: 'production' },
    'test.salesforce.com': { kind: 'the sandbox login host', environment: 'sandbox' }
};
/** Instanced hosts Salesforce still hands back as instance_url for orgs on legacy URLs (na123, cs42, usa4…). */
const LEGACY_INSTANCE = /^[a-z]{2,3}[0-9]{1,4}(?:-[a-z]+)?\.salesforce\.com$/;
const LIGHTNING_SUFFIX = '.lightning.force.com';

export interface LoginHostPolicy {
    productionUrl: string;
    sandboxUrl: string;
    allowedOrigins: string[];
}

export interface LoginHostInfo {
    /** "a Trailhead Playground", "the sandbox login host"… */
    kind: string;
    environment: Environment;
}

/** What a Salesforce host is, from its name alone: a login host or a My Domain in one of the documented formats. */
export function describeLoginHost(rawHost: string): LoginHostInfo | undefined {
    const host = rawHost.toLowerCase();
    if (Object.hasOwn(LOGIN_HOSTS, host)) return LOGIN_HOSTS[host];
    if (!host.endsWith(`.${MY_DOMAIN_SUFFIX}`)) return undefined;
    const labels = host.slice(0, -(MY_DOMAIN_SUFFIX.length + 1)).split('.');
    if (labels.length > 2 || !MY_DOMAIN_NAME.test(labels[0]!)) return undefined;
    const partition = labels[1] ?? null;
    const format = MY_DOMAIN_FORMATS.find((f) => f.partition === partition);
    if (!format) return undefined;
    // Without enhanced domains a sandbox was NAME--SANDBOX.my.salesforce.com, with no partition.
    if (partition === null && labels[0]!.includes('--')) return { kind: 'a sandbox', environment: 'sandbox' };
    return { kind: format.kind, environment: format.environment };
}

function parseUrl(raw: string): URL {
    try {
        return new URL(raw);
    } catch {
        throw new AppError(
            'LOGIN_HOST_NOT_ALLOWED',
            `"${raw.slice(0, 200)}" is not a URL. Use https://login.salesforce.com, https://test.salesforce.com or your My Domain URL.`
        );
    }
}

/** The hint for someone who pasted the Lightning UI address (NAME[.partition].lightning.force.com) instead of the My Domain one. */
function lightningHint(host: string): string | undefined {
    if (!host.endsWith(LIGHTNING_SUFFIX)) return undefined;
    const myDomain = `${host.slice(0, -LIGHTNING_SUFFIX.length)}.${MY_DOMAIN_SUFFIX}`;
    return describeLoginHost(myDomain) ? `https://${myDomain}` : undefined;
}

const ENVIRONMENT_NAMES: Record<Environment, string> = { production: 'Production', sandbox: 'Sandbox' };

/**
 * Decides which login host a link may use. Only Salesforce's OAuth hosts (or origins the operator
 * listed, such as the emulator) are accepted, so an authorization code is never sent elsewhere.
 * The host decides the environment where it can; a different choice is refused with the one to pick.
 */
export function resolveLoginUrl(policy: LoginHostPolicy, environment: Environment, requested?: string): string {
    if (!requested) return environment === 'production' ? policy.productionUrl : policy.sandboxUrl;
    const url = parseUrl(requested.trim());
    if (policy.allowedOrigins.includes(url.origin) && (url.pathname === '/' || url.pathname === '')) return url.origin;

    const host = url.hostname.toLowerCase();
    const hint = lightningHint(host);
    if (hint) {
        throw new AppError(
            'LOGIN_HOST_NOT_ALLOWED',
            `${url.origin} is the Lightning address of the org, not a login host. Use its My Domain URL instead: ${hint}`
        );
    }
    if (
        url.protocol !== 'https:' ||
        url.port ||
        url.username ||
        url.password ||
        url.search ||
        url.hash ||
        (url.pathname !== '/' && url.pathname !== '')
    ) {
        throw new AppError(
            'LOGIN_HOST_NOT_ALLOWED',
            `The login URL must be a bare https origin such as https://yourcompany.my.salesforce.com; got ${url.origin}${url.pathname === '/' ? '' : url.pathname}.`
        );
    }
    const info = describeLoginHost(host);
    if (!info) {
        throw new AppError(
            'LOGIN_HOST_NOT_ALLOWED',
            `${url.origin} is not a Salesforce login host. Use https://login.salesforce.com, https://test.salesforce.com or your My Domain URL (https://yourcompany.my.salesforce.com).`
        );
    }
    if (info.environment !== environment) {
        const loginHost = info.environment === 'production' ? 'login.salesforce.com' : 'test.salesforce.com';
        const what = Object.hasOwn(LOGIN_HOSTS, host) ? info.kind : `the My Domain of ${info.kind}, which signs in like ${loginHost}`;
        throw new AppError(
            'VALIDATION_FAILED',
            `${url.origin} is ${what}, but the link was asked for ${ENVIRONMENT_NAMES[environment]}. Choose ${ENVIRONMENT_NAMES[info.environment]}, or use the My Domain URL of the org you meant.`
        );
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
        describeLoginHost(host) !== undefined ||
        LEGACY_INSTANCE.test(host) ||
        [policy.productionUrl, policy.sandboxUrl].includes(url.origin)
    );
}
