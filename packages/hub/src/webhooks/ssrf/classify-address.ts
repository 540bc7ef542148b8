/**
 * Is an IP address a place outbound webhooks may go? Public unicast only.
 *
 * Explicit named CIDRs come first (precise names for messages and tests); then anything
 * ipaddr.js's range() does not call plain `unicast` is blocked as well, so a special range we
 * did not list is refused rather than let through. IPv6 must also be global unicast (2000::/3).
 *
 * IPv4 hidden in IPv6:
 * - IPv4-mapped ::ffff:0:0/96, IPv4-translated ::ffff:0:0:0/96 and NAT64 64:ff9b::/96: the
 *   embedded IPv4 is extracted and classified (a DNS64 network legitimately answers
 *   64:ff9b::<public IPv4>, so these cannot be blocked wholesale).
 * - IPv4-compatible ::/96, local-use NAT64 64:ff9b:1::/48, 6to4 2002::/16 and Teredo 2001::/32
 *   are blocked wholesale: deprecated or local-only, never a real webhook endpoint, and the
 *   embedding (prefix-length dependent, XOR-obfuscated for Teredo) is not worth trusting.
 */
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

export type AddressClassification = { blocked: boolean; range?: string };

type Cidr = { name: string; cidr: string; network: [ipaddr.IPv4 | ipaddr.IPv6, number] };
type Ipv6Rule = Cidr & { embedsIpv4: boolean };

const cidr = (name: string, text: string): Cidr => ({
  name,
  cidr: text,
  network: ipaddr.parseCIDR(text),
});

// Order matters only where ranges nest: broadcast before reserved 240/4.
const IPV4_BLOCKED: readonly Cidr[] = Object.freeze([
  cidr('this-network', '0.0.0.0/8'),
  cidr('private', '10.0.0.0/8'),
  cidr('carrier-grade-nat', '100.64.0.0/10'),
  cidr('loopback', '127.0.0.0/8'),
  cidr('link-local', '169.254.0.0/16'),
  cidr('private', '172.16.0.0/12'),
  cidr('ietf-protocol-assignments', '192.0.0.0/24'),
  cidr('documentation', '192.0.2.0/24'),
  cidr('6to4-relay-anycast', '192.88.99.0/24'),
  cidr('private', '192.168.0.0/16'),
  cidr('benchmarking', '198.18.0.0/15'),
  cidr('documentation', '198.51.100.0/24'),
  cidr('documentation', '203.0.113.0/24'),
  cidr('multicast', '224.0.0.0/4'),
  cidr('broadcast', '255.255.255.255/32'),
  cidr('reserved', '240.0.0.0/4'),
]);

const v6 = (name: string, text: string, embedsIpv4 = false): Ipv6Rule => ({
  ...cidr(name, text),
  embedsIpv4,
});

// Order matters: ::/128 and ::1/128 before ::/96; the embedding /96s before the 2000::/3 check.
const IPV6_RULES: readonly Ipv6Rule[] = Object.freeze([
  v6('unspecified', '::/128'),
  v6('loopback', '::1/128'),
  v6('ipv4-compatible', '::/96'),
  v6('ipv4-mapped', '::ffff:0:0/96', true),
  v6('ipv4-translated', '::ffff:0:0:0/96', true),
  v6('nat64', '64:ff9b::/96', true),
  v6('nat64-local-use', '64:ff9b:1::/48'),
  v6('discard', '100::/64'),
  v6('teredo', '2001::/32'),
  v6('documentation', '2001:db8::/32'),
  v6('6to4', '2002::/16'),
  v6('documentation', '3fff::/20'),
  v6('unique-local', 'fc00::/7'),
  v6('link-local', 'fe80::/10'),
  v6('site-local', 'fec0::/10'),
  v6('multicast', 'ff00::/8'),
]);

const GLOBAL_UNICAST = ipaddr.parseCIDR('2000::/3');

/** Classifies an IP address (as Node's net.isIP accepts it) for outbound delivery. */
export function classifyAddress(ip: string): AddressClassification {
  const family = isIP(ip);
  if (family === 4) return classifyIpv4(ipaddr.IPv4.parse(ip));
  if (family === 6) return classifyIpv6(ipaddr.IPv6.parse(dottedTailToHex(ip)));
  // Anything Node would not treat as an address (odd forms like `127.1` included) is refused.
  return { blocked: true, range: 'not an IP address' };
}

/**
 * `::8.8.8.8` → `::808:808`. ipaddr.js reads `::a.b.c.d` (IPv4-compatible, ::/96) as
 * `::ffff:a.b.c.d` (IPv4-mapped), a different address than the one a socket would use; hex
 * groups parse unambiguously. The zone (`%eth0`) does not change the class and is dropped.
 */
function dottedTailToHex(ip: string): string {
  const zoneless = ip.split('%', 1)[0]!;
  const tailStart = zoneless.lastIndexOf(':') + 1;
  const tail = zoneless.slice(tailStart);
  if (!tail.includes('.')) return zoneless;
  const [a, b, c, d] = tail.split('.').map(Number) as [number, number, number, number];
  return `${zoneless.slice(0, tailStart)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
}

function classifyIpv4(address: ipaddr.IPv4): AddressClassification {
  for (const rule of IPV4_BLOCKED) {
    if (address.match(rule.network)) return { blocked: true, range: `${rule.name} ${rule.cidr}` };
  }
  const range = address.range();
  return range === 'unicast' ? { blocked: false } : { blocked: true, range };
}

function classifyIpv6(address: ipaddr.IPv6): AddressClassification {
  for (const rule of IPV6_RULES) {
    if (!address.match(rule.network)) continue;
    if (!rule.embedsIpv4) return { blocked: true, range: `${rule.name} ${rule.cidr}` };
    const parts = address.parts;
    const embedded = new ipaddr.IPv4([
      parts[6]! >> 8,
      parts[6]! & 0xff,
      parts[7]! >> 8,
      parts[7]! & 0xff,
    ]);
    const inner = classifyIpv4(embedded);
    return inner.blocked
      ? {
          blocked: true,
          range: `${rule.name} ${rule.cidr} → ${inner.range} (${embedded.toString()})`,
        }
      : { blocked: false };
  }
  const range = address.range();
  if (range !== 'unicast') return { blocked: true, range };
  if (!address.match(GLOBAL_UNICAST))
    return { blocked: true, range: 'not global unicast (outside 2000::/3)' };
  return { blocked: false };
}
