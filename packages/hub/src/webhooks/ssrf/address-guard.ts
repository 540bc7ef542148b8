/**
 * The one decision "may we connect to this address?": classification plus the operator's
 * allow-list (CIDRs for private targets, and for tests on loopback). Built once per policy.
 */
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { classifyAddress } from './classify-address.ts';
import { SsrfBlockedError } from './ssrf-blocked-error.ts';

export type AddressGuard = {
  /** undefined when the address may be connected to, else the error to fail with. */
  check(address: string): SsrfBlockedError | undefined;
};

export function createAddressGuard(allowCidrs: readonly string[] = []): AddressGuard {
  const allowed = allowCidrs.map((text) => {
    if (!ipaddr.isValidCIDR(text))
      throw new TypeError(`allowCidrs: ${JSON.stringify(text)} is not a CIDR`);
    return ipaddr.parseCIDR(text);
  });

  const isAllowListed = (address: string): boolean => {
    if (allowed.length === 0 || isIP(address) === 0) return false;
    // ipaddr.process turns ::ffff:a.b.c.d into a.b.c.d, so an IPv4 CIDR also covers its mapped form.
    const ip = ipaddr.process(address);
    return allowed.some((network) => network[0].kind() === ip.kind() && ip.match(network));
  };

  return {
    check(address) {
      const { blocked, range } = classifyAddress(address);
      if (!blocked || isAllowListed(address)) return undefined;
      return new SsrfBlockedError(`blocked by the SSRF policy: ${address} is in ${range}`, {
        address,
        range,
      });
    },
  };
}
