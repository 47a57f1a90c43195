// An app's Refresh Token IP Allowlist (External Client App settings, "Enforce Refresh Token IP Allowlist"): only
// requests from addresses in its ranges may complete the web server flow or the refresh token flow. Salesforce takes
// up to 128 ranges, 256 addresses in all, IPv4 or IPv6.

import { BlockList, isIP } from 'node:net';

export const MAX_RANGES = 128;
export const MAX_ADDRESSES = 256n;

export interface IpAllowlist {
    /** the ranges as given, for reports */
    ranges: string[];
    list: BlockList;
}

function family(address: string): 'ipv4' | 'ipv6' {
    return isIP(address) === 6 ? 'ipv6' : 'ipv4';
}

function toBigInt(address: string): bigint {
    if (isIP(address) === 4) return address.split('.').reduce((n, part) => (n << 8n) + BigInt(Number(part)), 0n);
    // expand '::' and a trailing dotted quad, then read the eight groups
    let text = address;
    const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
    if (quad) {
        const v4 = toBigInt(quad[1]!);
        text = text.slice(0, -quad[1]!.length) + `${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
    }
    const [head, tail] = text.split('::') as [string, string | undefined];
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
    return groups.reduce((n, g) => (n << 16n) + BigInt(parseInt(g, 16)), 0n);
}

/** One range: an address, "start-end", or a CIDR block; answers how many addresses it covers. */
function addRange(list: BlockList, raw: string): bigint {
    const text = raw.trim();
    const cidr = /^([^/]+)\/(\d{1,3})$/.exec(text);
    if (cidr) {
        const [, net, bitsRaw] = cidr as unknown as [string, string, string];
        const type = isIP(net);
        const bits = Number(bitsRaw);
        if (!type || bits > (type === 4 ? 32 : 128)) throw new Error(`not an IP range: ${raw}`);
        list.addSubnet(net, bits, family(net));
        return 1n << BigInt((type === 4 ? 32 : 128) - bits);
    }
    const dash = text.indexOf('-');
    if (dash > 0) {
        const start = text.slice(0, dash).trim();
        const end = text.slice(dash + 1).trim();
        if (!isIP(start) || isIP(start) !== isIP(end)) throw new Error(`not an IP range: ${raw}`);
        const size = toBigInt(end) - toBigInt(start) + 1n;
        if (size < 1n) throw new Error(`the end of an IP range must not be lower than its start: ${raw}`);
        list.addRange(start, end, family(start));
        return size;
    }
    if (!isIP(text)) throw new Error(`not an IP address or range: ${raw}`);
    list.addAddress(text, family(text));
    return 1n;
}

/** Builds an allowlist from addresses, "start-end" ranges and CIDR blocks; throws on a malformed one or over Salesforce's limits. */
export function parseAllowlist(ranges: readonly string[]): IpAllowlist {
    if (ranges.length > MAX_RANGES) throw new Error(`an IP allowlist takes at most ${MAX_RANGES} ranges`);
    const list = new BlockList();
    let total = 0n;
    for (const r of ranges) {
        if (typeof r !== 'string') throw new Error('each IP range must be a string');
        total += addRange(list, r);
    }
    if (total > MAX_ADDRESSES) throw new Error(`an IP allowlist takes at most ${MAX_ADDRESSES} addresses in all`);
    return { ranges: [...ranges], list };
}

/** Whether a request's remote address is in the allowlist (an IPv4-mapped IPv6 address counts as its IPv4 address). */
export function allows(allowlist: IpAllowlist, remoteAddress: string | undefined): boolean {
    if (!remoteAddress) return false;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remoteAddress);
    const address = mapped ? mapped[1]! : remoteAddress;
    return allowlist.list.check(address, family(address));
}
