/**
 * A dns.lookup-shaped resolver for net/tls connect: it asks the real resolver for ALL addresses
 * and refuses the whole answer if ANY of them is blocked.
 *
 * Reject rather than filter: an answer that mixes public and private addresses is either a
 * misconfiguration or an attack, and silently connecting to the public half would hide both;
 * failing says so in the attempt log. Runs once per new connection, so a name that rebinds to a
 * private address after passing an earlier check is caught when it is used.
 */
import type { LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import type { AddressGuard } from './address-guard.ts';

type LookupCallback = Parameters<LookupFunction>[2];

export function createGuardedLookup(resolve: LookupFunction, guard: AddressGuard): LookupFunction {
  return (hostname, options, callback: LookupCallback) => {
    resolve(hostname, { ...options, all: true }, (err, answer, family) => {
      if (err) return callback(err, '');
      // An injected resolver may ignore `all` and answer one address.
      const addresses: LookupAddress[] =
        typeof answer === 'string'
          ? [{ address: answer, family: family ?? 0 }]
          : [...(answer ?? [])];
      if (addresses.length === 0) {
        return callback(
          Object.assign(new Error(`no addresses for ${hostname}`), { code: 'ENOTFOUND' }),
          '',
        );
      }
      for (const { address } of addresses) {
        const blocked = guard.check(address);
        if (blocked !== undefined) return callback(blocked, '');
      }
      if (options.all === true) return callback(null, addresses);
      const first = addresses[0]!;
      return callback(null, first.address, first.family);
    });
  };
}
