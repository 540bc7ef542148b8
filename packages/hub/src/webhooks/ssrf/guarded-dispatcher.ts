/**
 * The undici Agent every outbound webhook request goes through. Each new connection resolves
 * the host with the guarded lookup and checks the address it actually connects to, so the
 * check happens after DNS, at connect time (DNS rebinding fails), for every connection.
 * Redirects are never followed: undici's Agent does not follow them (no redirect interceptor
 * is composed here), and guardedRequest returns a 3xx as it is.
 */
import { lookup as dnsLookup } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { Agent, buildConnector } from 'undici';
import { createAddressGuard } from './address-guard.ts';
import type { AddressGuard } from './address-guard.ts';
import { guardConnector } from './guarded-connector.ts';
import { createGuardedLookup } from './guarded-lookup.ts';

export type SsrfPolicy = {
  /** Operator allow-list of CIDRs that may be reached although blocked (e.g. 127.0.0.0/8 in tests). */
  allowCidrs?: readonly string[];
  /** Allow plain http: targets (default: https only). */
  allowHttp?: boolean;
  /** The resolver, dns.lookup-shaped (default node:dns lookup); injectable for tests. */
  lookup?: LookupFunction;
  /** TCP (+TLS) connect timeout, default 10 s. */
  connectTimeoutMs?: number;
};

/** An undici Agent that enforces an SsrfPolicy; guardedRequest needs one. */
export class GuardedDispatcher extends Agent {
  readonly allowHttp: boolean;
  readonly guard: AddressGuard;

  constructor(policy: SsrfPolicy = {}) {
    const guard = createAddressGuard(policy.allowCidrs);
    const base = buildConnector({
      timeout: policy.connectTimeoutMs ?? 10_000,
      lookup: createGuardedLookup(policy.lookup ?? (dnsLookup as LookupFunction), guard),
    });
    super({ connect: guardConnector(base, guard) });
    this.allowHttp = policy.allowHttp === true;
    this.guard = guard;
  }
}

export function createGuardedDispatcher(policy: SsrfPolicy = {}): GuardedDispatcher {
  return new GuardedDispatcher(policy);
}
