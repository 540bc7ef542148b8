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
import { checkTargetUrl, type TargetUrlCheck } from './target-url.ts';

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

/** URL checks remembered per dispatcher; past this many distinct URLs the memo starts over. */
const MAX_CHECKED_URLS = 10_000;

/** An undici Agent that enforces an SsrfPolicy; guardedRequest needs one. */
export class GuardedDispatcher extends Agent {
  readonly allowHttp: boolean;
  readonly guard: AddressGuard;
  readonly #checked = new Map<string, TargetUrlCheck>();

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

  /**
   * checkTargetUrl under this policy, remembered per URL string: the static check (scheme,
   * credentials, a literal IP's range) depends on nothing else, so parsing the URL again on
   * every attempt buys nothing. Host names are not resolved here; every connection still
   * resolves and checks its address (the connector above), which is never remembered.
   * The URL in an ok answer is shared: read it, never modify it.
   */
  checkUrl(url: string): TargetUrlCheck {
    let check = this.#checked.get(url);
    if (check === undefined) {
      check = checkTargetUrl(url, this.allowHttp, this.guard);
      if (this.#checked.size >= MAX_CHECKED_URLS) this.#checked.clear();
      this.#checked.set(url, check);
    }
    return check;
  }
}

export function createGuardedDispatcher(policy: SsrfPolicy = {}): GuardedDispatcher {
  return new GuardedDispatcher(policy);
}
