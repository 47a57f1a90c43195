import { lookup } from 'node:dns/promises';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * Where a webhook may be delivered: public unicast addresses only. Loopback, private, shared (CGNAT), link-local (the
 * cloud metadata service at 169.254.169.254), multicast and reserved ranges are refused, in IPv4 and IPv6.
 */
const NON_PUBLIC = new BlockList();
for (const [network, prefix] of [
    ['0.0.0.0', 8],
    ['10.0.0.0', 8],
    ['100.64.0.0', 10],
    ['127.0.0.0', 8],
    ['169.254.0.0', 16],
    ['172.16.0.0', 12],
    ['192.0.0.0', 24],
    ['192.0.2.0', 24],
    ['192.168.0.0', 16],
    ['198.18.0.0', 15],
    ['198.51.100.0', 24],
    ['203.0.113.0', 24],
    ['224.0.0.0', 4],
    ['240.0.0.0', 4]
] as const) {
    NON_PUBLIC.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
    ['::', 128],
    ['::1', 128],
    ['64:ff9b::', 96],
    ['100::', 64],
    ['2001:db8::', 32],
    ['fc00::', 7],
    ['fe80::', 10],
    ['ff00::', 8]
] as const) {
    NON_PUBLIC.addSubnet(network, prefix, 'ipv6');
}

export function isPublicAddress(address: string): boolean {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return isPublicAddress(mapped[1]!);
    const family = isIP(address);
    if (!family) return false;
    return !NON_PUBLIC.check(address, family === 6 ? 'ipv6' : 'ipv4');
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
    if (inner) throw new WebhookTargetRefused(`${host} points at ${inner}, which is a loopback, private, link-local or reserved address`);
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
