import { describe, expect, it } from 'vitest';
import ipaddr from 'ipaddr.js';
import { addressBits, cidrBits } from './ip-bits.ts';

describe('addressBits', () => {
  it('agrees with ipaddr.js on which strings are addresses and what they are', () => {
    const samples = [
      '1.2.3.4',
      '01.2.3.4',
      '1.2.3',
      '1.2.3.4.5',
      '256.1.1.1',
      '0.0.0.0',
      '255.255.255.255',
      ' 1.2.3.4',
      '::',
      '::1',
      '1::',
      '1:2:3:4:5:6:7:8',
      '1:2:3:4:5:6:7::',
      '::2:3:4:5:6:7:8',
      '1:2:3:4:5:6:7:8:9',
      '1::2::3',
      ':1::',
      '1:2:3:4:5:6:7:',
      '::ffff:1.2.3.4',
      '::ffff:01.2.3.4',
      '1:2:3:4:5:6:1.2.3.4',
      '1:2:3:4:5:6:7:1.2.3.4',
      '::1.2.3.4:5',
      'fe80::1%eth0',
      'fe80::1%',
      'fe80::1%eth-0',
      '12345::',
      'abcd::ABCD',
      'g::1',
      ':::',
      '1:::2',
      '::ffff:1.2.3.256',
      '2001:db8::7',
      '1:2:3:4:5:6::7',
      '1:2:3:4:5:6:7::8',
    ];
    for (const text of samples) {
      let expected: string | undefined;
      if (ipaddr.IPv4.isValidFourPartDecimal(text)) {
        expected =
          '4' +
          ipaddr.IPv4.parse(text)
            .octets.map((o) => o.toString(2).padStart(8, '0'))
            .join('');
      } else if (text.includes(':') && ipaddr.IPv6.isValid(text)) {
        expected =
          '6' +
          ipaddr.IPv6.parse(text)
            .parts.map((p) => p.toString(2).padStart(16, '0'))
            .join('');
      }
      expect(addressBits(text), text).toBe(expected);
    }
  });

  it('turns CIDR blocks into bit prefixes', () => {
    expect(cidrBits('10.0.0.0/8')).toBe('400001010');
    expect(cidrBits('0.0.0.0/0')).toBe('4');
    expect(cidrBits('::/0')).toBe('6');
    expect(cidrBits('10.0.0.1')).toHaveLength(33);
    expect(cidrBits('10.0.0.0/33')).toBeUndefined();
    expect(cidrBits('10.0.0.0/ 8')).toBeUndefined();
  });
});
