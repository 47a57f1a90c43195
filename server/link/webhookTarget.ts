import { lookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Where a webhook may be delivered: global unicast addresses only (ipaddr.js's ranges). Loopback, private, shared
 * (CGNAT), link-local (the cloud metadata service at 169.254.169.254), multicast, documentation and reserved ranges
 * are refused, in IPv4 and IPv6; so is IPv6 outside 2000::/3, and every tunnel or translation form (6to4, Teredo,
 * NAT64, IPv4-compatible, SIIT) but the plain mapped one, whose IPv4 address is judged instead.
 */
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3');

/** The IPv4 address an IPv6 address carries (mapped, SIIT, IPv4-compatible, NAT64, 6to4, Teredo's client), if any. */
export function embeddedIPv4(address: string): string | undefined {
    if (isIP(address) !== 6) return undefined;
    const ip = ipaddr.IPv6.parse(address);
    const p = ip.parts;
    const v4 = (high: number, low: number) => ipaddr.fromByteArray([high >> 8, high & 255, low >> 8, low & 255]).toString();
    const zeros = (from: number, to: number) => p.slice(from, to).every((part) => part === 0);
    switch (ip.range()) {
        case 'ipv4Mapped': // ::ffff:a.b.c.d
        case 'rfc6145': // ::ffff:0:a.b.c.d
            return v4(p[6]!, p[7]!);
        case 'rfc6052': // 64:ff9b::a.b.c.d (the local-use /48 embeds it elsewhere; refused whole)
            return zeros(2, 6) && p[1] === 0xff9b ? v4(p[6]!, p[7]!) : undefined;
        case '6to4': // 2002:AABB:CCDD::
            return v4(p[1]!, p[2]!);
        case 'teredo': // 2001:0:server:flags:port:client, the client's address inverted
            return v4(p[6]! ^ 0xffff, p[7]! ^ 0xffff);
        default: // ::a.b.c.d, IPv4-compatible (deprecated), not :: nor ::1
            return zeros(0, 6) && (p[6] !== 0 || p[7]! > 1) ? v4(p[6]!, p[7]!) : undefined;
    }
}

export function isPublicAddress(address: string): boolean {
    const family = isIP(address);
    if (family === 4) return ipaddr.IPv4.parse(address).range() === 'unicast';
    if (family !== 6) return false;
    const ip = ipaddr.IPv6.parse(address);
    // A socket of a dual-stack host names an IPv4 peer this way: judged as that IPv4 address.
    if (ip.isIPv4MappedAddress()) return isPublicAddress(ip.toIPv4Address().toString());
    return ip.match(GLOBAL_UNICAST_V6) && ip.range() === 'unicast';
}

/** Every address a host name resolves to (or the literal itself). */
export type Resolver = (host: string) => Promise<string[]>;
export const systemResolver: Resolver = async (host) => (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);

/** The host of a URL as the resolver and isIP want it: IPv6 literals without their brackets. */
export const bareHost = (url: URL): string => url.hostname.replace(/^\[|\]$/g, '');

/** The addresses of `host`, refused (with the reason) when any of them is not public. */
export async function publicAddresses(host: string, resolve: Resolver): Promise<string[]> {
    let addresses: string[];
    try {
        addresses = isIP(host) ? [host] : await resolve(host);
    } catch {
        throw new WebhookTargetRefused(`${host} cannot be resolved`);
    }
    if (addresses.length === 0) throw new WebhookTargetRefused(`${host} cannot be resolved`);
    const inner = addresses.find((address) => !isPublicAddress(address));
    if (inner) {
        const carried = embeddedIPv4(inner);
        throw new WebhookTargetRefused(
            `${host} points at ${inner}${carried ? ` (which carries the IPv4 address ${carried})` : ''}, which is not a global unicast address: loopback, private, link-local, reserved or a tunnel to one`
        );
    }
    return addresses;
}

export class WebhookTargetRefused extends Error {
    override name = 'WebhookTargetRefused';
}

/**
 * A `lookup` for http(s).request that checks the addresses it hands to the socket, so a name cannot resolve to a
 * public address when the webhook is set and to an inner one when it is delivered.
 */
export function checkedLookup(resolve: Resolver): LookupFunction {
    return (hostname, options, callback) => {
        publicAddresses(hostname, resolve).then(
            (addresses) => {
                const entries = addresses.map((address) => ({ address, family: isIP(address) }));
                if (options.all) (callback as unknown as (error: null, all: typeof entries) => void)(null, entries);
                else callback(null, entries[0]!.address, entries[0]!.family);
            },
            (error: Error) => callback(error as NodeJS.ErrnoException, '', 0)
        );
    };
}
