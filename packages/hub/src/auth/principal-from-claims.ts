import type { JWTPayload } from 'jose';
import { AuthenticationError, type Principal } from './principal.ts';

export type ClaimNames = {
  /** The claim that carries the tenant id, e.g. `tenant` or `https://portico.example/tenant`. */
  tenantClaim: string;
  /** The claim that carries the scopes: a space-separated string or an array of strings. */
  scopeClaim: string;
};

/**
 * Tenant ids become storage keys, partition keys and parts of URLs downstream, so only a
 * conservative alphabet is accepted: no whitespace, no wildcards (`*`, `>`), no slashes.
 */
export const TENANT_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$';
const TENANT = new RegExp(TENANT_PATTERN);
/**
 * Subjects and scopes travel in HTTP header fields (the gateway's `x-portico-subject`,
 * `x-portico-scopes`) and log lines: control characters (CR, LF, NUL …) are never part of a
 * real one.
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
/** The last instant a JavaScript Date can hold, in epoch seconds (ECMA-262 §21.4.1.22). */
const MAX_DATE_SECONDS = 8.64e12;

/** A `sub` Portico can pass on: a non-empty string without control characters. */
export function isValidSubject(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && !CONTROL.test(value);
}

export function isValidTenantId(value: unknown): value is string {
  return typeof value === 'string' && TENANT.test(value);
}

/** Maps the claims of an already verified token to a Principal, or throws AuthenticationError. */
export function principalFromClaims(claims: JWTPayload, names: ClaimNames): Principal {
  const tenant = claims[names.tenantClaim];
  if (tenant === undefined) throw new AuthenticationError(`token has no tenant claim`);
  if (!isValidTenantId(tenant)) {
    throw new AuthenticationError('token has an invalid tenant claim');
  }
  const subject = claims.sub;
  if (typeof subject !== 'string' || subject.length === 0) {
    throw new AuthenticationError('token has no subject');
  }
  if (!isValidSubject(subject)) throw new AuthenticationError('token has an invalid subject');
  if (typeof claims.exp !== 'number' || !Number.isFinite(claims.exp)) {
    throw new AuthenticationError('token has no expiry');
  }
  // Expiry instants are rendered as dates (`expiresAt` of streams): past year 275760 they
  // cannot be, and no real token lives that long.
  if (claims.exp > MAX_DATE_SECONDS) throw new AuthenticationError('invalid expiry');
  return { tenant, subject, scopes: readScopes(claims, names.scopeClaim), expiresAt: claims.exp };
}

function readScopes(claims: JWTPayload, scopeClaim: string): Set<string> {
  // RFC 8693/9068 say `scope`; Azure AD and Okta send `scp`. The fallback applies only to the
  // default name, so an explicitly configured claim is never silently replaced by another one.
  let value = claims[scopeClaim];
  if (value === undefined && scopeClaim === 'scope') value = claims['scp'];
  if (value === undefined) return new Set();
  const items = typeof value === 'string' ? value.split(/\s+/) : value;
  if (
    !Array.isArray(items) ||
    !items.every((item) => typeof item === 'string' && !CONTROL.test(item))
  ) {
    throw new AuthenticationError('token has an invalid scope claim');
  }
  return new Set(items.filter((item) => item.length > 0));
}
