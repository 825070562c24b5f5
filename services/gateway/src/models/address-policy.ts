import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { artifactErrors } from './artifact-errors.js';

/**
 * Addresses an artifact download must never reach: loopback, private, link-local, unspecified, CGNAT,
 * multicast and reserved ranges (IPv4 and IPv6). BlockList also matches IPv4-mapped IPv6 (`::ffff:127.0.0.1`)
 * against the IPv4 rules.
 */
const INTERNAL = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this network", includes the unspecified address
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata endpoints
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  INTERNAL.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 96], // unspecified, loopback and the deprecated IPv4-compatible form
  ['64:ff9b:1::', 48], // local-use NAT64
  ['100::', 64], // discard-only
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // deprecated site-local
  ['ff00::', 8], // multicast
] as const) {
  INTERNAL.addSubnet(net, prefix, 'ipv6');
}

const NAT64 = new BlockList();
NAT64.addSubnet('64:ff9b::', 96, 'ipv6');

/** true when `address` (an IP literal) may be reached by an artifact download. */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return !INTERNAL.check(address, 'ipv4');
  if (family === 6) {
    if (INTERNAL.check(address, 'ipv6')) return false;
    // The well-known NAT64 prefix carries an IPv4 address in its last 32 bits: judge that one.
    if (NAT64.check(address, 'ipv6')) return isPublicAddress(embeddedIpv4(address));
    return true;
  }
  return false; // not an IP literal: nothing to trust
}

function embeddedIpv4(address: string): string {
  const url = new URL(`http://[${address}]/`); // normalizes to hex groups, e.g. [64:ff9b::7f00:1]
  const groups = url.hostname.slice(1, -1).split(':');
  const hi = parseInt(groups[groups.length - 2] || '0', 16);
  const lo = parseInt(groups[groups.length - 1] || '0', 16);
  return [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff].join('.');
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/**
 * Resolves `hostname` once and checks every address it resolves to (one internal address is enough to refuse:
 * a name that mixes public and internal answers is a rebinding attempt). The caller connects to these very
 * addresses, so a second, different DNS answer can never be used.
 */
export async function resolveAllowedAddresses(hostname: string, allowPrivate: boolean): Promise<ResolvedAddress[]> {
  const literal = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  const family = isIP(literal);
  let addresses: ResolvedAddress[];
  if (family !== 0) {
    addresses = [{ address: literal, family: family as 4 | 6 }];
  } else {
    try {
      const answers = await lookup(literal, { all: true, verbatim: true });
      addresses = answers.map((a) => ({ address: a.address, family: a.family as 4 | 6 }));
    } catch (cause) {
      throw artifactErrors.hostNotFound(literal, cause);
    }
    if (addresses.length === 0) throw artifactErrors.hostNotFound(literal);
  }
  if (!allowPrivate) {
    // The message names the host the user gave, not what it resolved to: internal addresses stay private.
    if (addresses.some((a) => !isPublicAddress(a.address))) throw artifactErrors.privateHost(literal);
  }
  return addresses;
}
