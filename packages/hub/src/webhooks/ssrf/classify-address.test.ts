import { describe, expect, it } from 'vitest';
import { classifyAddress } from './classify-address.ts';

describe('classifyAddress blocks', () => {
  it.each([
    ['127.0.0.1', 'loopback 127.0.0.0/8'],
    ['127.255.255.254', 'loopback 127.0.0.0/8'],
    ['10.0.0.5', 'private 10.0.0.0/8'],
    ['172.16.0.1', 'private 172.16.0.0/12'],
    ['172.31.255.255', 'private 172.16.0.0/12'],
    ['192.168.1.1', 'private 192.168.0.0/16'],
    ['169.254.169.254', 'link-local 169.254.0.0/16'],
    ['100.64.0.1', 'carrier-grade-nat 100.64.0.0/10'],
    ['100.127.255.255', 'carrier-grade-nat 100.64.0.0/10'],
    ['224.0.0.1', 'multicast 224.0.0.0/4'],
    ['239.255.255.250', 'multicast 224.0.0.0/4'],
    ['255.255.255.255', 'broadcast 255.255.255.255/32'],
    ['192.0.2.1', 'documentation 192.0.2.0/24'],
    ['198.51.100.7', 'documentation 198.51.100.0/24'],
    ['203.0.113.9', 'documentation 203.0.113.0/24'],
    ['198.18.0.1', 'benchmarking 198.18.0.0/15'],
    ['198.19.255.255', 'benchmarking 198.18.0.0/15'],
    ['240.0.0.1', 'reserved 240.0.0.0/4'],
    ['0.0.0.0', 'this-network 0.0.0.0/8'],
    ['0.1.2.3', 'this-network 0.0.0.0/8'],
    ['192.0.0.8', 'ietf-protocol-assignments 192.0.0.0/24'],
    ['192.88.99.1', '6to4-relay-anycast 192.88.99.0/24'],
    ['192.175.48.1', 'as112'], // not in our table: caught by ipaddr.js range() ≠ unicast
  ])('IPv4 %s (%s)', (ip, range) => {
    expect(classifyAddress(ip)).toEqual({ blocked: true, range });
  });

  it.each([
    ['::1', 'loopback ::1/128'],
    ['::', 'unspecified ::/128'],
    ['fe80::1', 'link-local fe80::/10'],
    ['fe80::1%eth0', 'link-local fe80::/10'],
    ['fc00::1', 'unique-local fc00::/7'],
    ['fd12:3456::1', 'unique-local fc00::/7'],
    ['ff02::1', 'multicast ff00::/8'],
    ['2001:db8::1', 'documentation 2001:db8::/32'],
    ['3fff::1', 'documentation 3fff::/20'],
    ['fec0::1', 'site-local fec0::/10'],
    ['100::1', 'discard 100::/64'],
    ['4000::1', 'not global unicast (outside 2000::/3)'],
    ['2001:2::1', 'benchmarking'], // ipaddr.js range()
  ])('IPv6 %s (%s)', (ip, range) => {
    expect(classifyAddress(ip)).toEqual({ blocked: true, range });
  });

  it.each([
    ['::ffff:127.0.0.1', 'ipv4-mapped ::ffff:0:0/96 → loopback 127.0.0.0/8 (127.0.0.1)'],
    ['::ffff:7f00:1', 'ipv4-mapped ::ffff:0:0/96 → loopback 127.0.0.0/8 (127.0.0.1)'],
    [
      '::ffff:169.254.169.254',
      'ipv4-mapped ::ffff:0:0/96 → link-local 169.254.0.0/16 (169.254.169.254)',
    ],
    ['::ffff:10.0.0.5', 'ipv4-mapped ::ffff:0:0/96 → private 10.0.0.0/8 (10.0.0.5)'],
    ['::ffff:0:7f00:1', 'ipv4-translated ::ffff:0:0:0/96 → loopback 127.0.0.0/8 (127.0.0.1)'],
    ['64:ff9b::7f00:1', 'nat64 64:ff9b::/96 → loopback 127.0.0.0/8 (127.0.0.1)'],
    ['64:ff9b::127.0.0.1', 'nat64 64:ff9b::/96 → loopback 127.0.0.0/8 (127.0.0.1)'],
    ['::ffff:0:10.1.2.3', 'ipv4-translated ::ffff:0:0:0/96 → private 10.0.0.0/8 (10.1.2.3)'],
    ['64:ff9b::a9fe:a9fe', 'nat64 64:ff9b::/96 → link-local 169.254.0.0/16 (169.254.169.254)'],
    // Blocked wholesale, whatever IPv4 they embed:
    ['::127.0.0.1', 'ipv4-compatible ::/96'],
    ['::8.8.8.8', 'ipv4-compatible ::/96'],
    ['64:ff9b:1::a00:1', 'nat64-local-use 64:ff9b:1::/48'],
    ['2002:7f00:1::', '6to4 2002::/16'],
    ['2002:808:808::1', '6to4 2002::/16'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'teredo 2001::/32'],
  ])('IPv4 hidden in IPv6: %s (%s)', (ip, range) => {
    expect(classifyAddress(ip)).toEqual({ blocked: true, range });
  });

  it.each(['example.com', '127.1', '0x7f000001', '', '1.2.3.4.5'])(
    'anything that is not an address: %j',
    (ip) => {
      expect(classifyAddress(ip)).toEqual({ blocked: true, range: 'not an IP address' });
    },
  );
});

describe('classifyAddress allows public unicast', () => {
  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '100.63.255.255', // just below CGNAT
    '100.128.0.0', // just above CGNAT
    '172.15.255.255',
    '172.32.0.0',
    '198.17.255.255',
    '198.20.0.0',
    '223.255.255.255',
    '2606:4700::1111',
    '2001:4860:4860::8888',
    '::ffff:8.8.8.8', // mapped public IPv4
    '64:ff9b::808:808', // what DNS64 answers for a public IPv4-only host
  ])('%s', (ip) => {
    expect(classifyAddress(ip)).toEqual({ blocked: false });
  });
});
