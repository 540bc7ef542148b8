/**
 * Static checks of a webhook target URL, done when an endpoint is saved and again before each
 * request. Hostnames are NOT resolved here: a DNS answer now says nothing about the answer at
 * connect time (rebinding), so names are checked by the guarded dispatcher when it connects.
 * Literal IP hosts are checked right away. Reasons never quote the URL (it may hold tokens).
 */
import { isIP } from 'node:net';
import { createAddressGuard } from './address-guard.ts';
import type { AddressGuard } from './address-guard.ts';

export type TargetUrlPolicy = {
  /** Allow plain http: targets (default: https only). */
  allowHttp?: boolean;
  /** Operator allow-list: CIDRs that may be targeted even though classified as blocked. */
  allowCidrs?: readonly string[];
};

export type TargetUrlCheck = { ok: true; url: URL } | { ok: false; reason: string };

export function validateTargetUrl(url: string, policy: TargetUrlPolicy = {}): TargetUrlCheck {
  return checkTargetUrl(url, policy.allowHttp === true, createAddressGuard(policy.allowCidrs));
}

/** validateTargetUrl with an already-built guard (the dispatcher's), for per-request use. */
export function checkTargetUrl(
  url: string,
  allowHttp: boolean,
  guard: AddressGuard,
): TargetUrlCheck {
  const parsed = typeof url === 'string' ? URL.parse(url) : null;
  if (parsed === null) return { ok: false, reason: 'the URL cannot be parsed' };
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    return {
      ok: false,
      reason: `the scheme ${parsed.protocol} is not allowed (only https:, or http: if enabled)`,
    };
  }
  if (parsed.protocol === 'http:' && !allowHttp) {
    return { ok: false, reason: 'plain http: is not allowed, use https:' };
  }
  if (parsed.username !== '' || parsed.password !== '') {
    return { ok: false, reason: 'URLs with credentials (user:password@) are not allowed' };
  }
  if (parsed.hostname === '') return { ok: false, reason: 'the URL has no host' };
  // The parser accepts port 0 (it refuses only > 65535); nothing can be reached there, and
  // every attempt would fail until the DLQ.
  if (parsed.port === '0') return { ok: false, reason: 'port 0 cannot be connected to' };

  // The URL parser already normalised odd IPv4 forms (0x7f.1, 2130706433) to dotted quads.
  const host = parsed.hostname.startsWith('[') ? parsed.hostname.slice(1, -1) : parsed.hostname;
  if (isIP(host) !== 0) {
    const blocked = guard.check(host);
    if (blocked !== undefined) return { ok: false, reason: blocked.message };
  }
  return { ok: true, url: parsed };
}
