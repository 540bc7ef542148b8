import { createJwksCache } from './jwks-cache.ts';
import { createOidcDiscovery } from './oidc-discovery.ts';
import type { Authenticator } from './principal.ts';
import { DEFAULT_ALGORITHMS } from './signing-algorithms.ts';
import { createTokenVerifier } from './token-verifier.ts';

export type OidcAuthenticatorOptions = {
  /** The issuer identifier, compared exactly with `iss` and the discovery document's `issuer`. */
  issuer: string;
  /** Portico's resource URI; `aud` must contain it. */
  audience: string;
  /** Asymmetric algorithms only; default RS256, PS256, ES256, EdDSA. */
  algorithms?: string[];
  /** Default `tenant`. A claim name, taken literally (namespaced URLs work; no dotted paths). */
  tenantClaim?: string;
  /** Default `scope` (falling back to `scp`): a space-separated string or an array. */
  scopeClaim?: string;
  /** Require `typ: at+jwt` (RFC 9068). Default false: many issuers still send `JWT`. */
  requireTyp?: boolean;
  /** Default 30. */
  clockToleranceSec?: number;
  /** Default the global fetch. */
  fetch?: typeof fetch;
  /** Least time between JWKS fetches caused by unknown `kid`s or failures. Default 30 s. */
  jwksCooldownMs?: number;
  /** Keys are refetched when older than this. Default 10 min. */
  jwksMaxAgeMs?: number;
  /** Per metadata request. Default 5 s. */
  timeoutMs?: number;
  /** Permit plain http to a non-loopback identity provider. Default false. */
  allowInsecureHttp?: boolean;
  /** Epoch milliseconds. Default Date.now. */
  now?: () => number;
};

export type OidcAuthenticator = Authenticator & {
  /**
   * Fetches discovery and keys now, so that a misconfigured issuer stops start-up with a reason
   * instead of failing the first request. Throws AuthenticationUnavailableError.
   */
  warmUp(): Promise<void>;
};

/** Production mode: access tokens issued by an OpenID Connect provider. */
export function createOidcAuthenticator(options: OidcAuthenticatorOptions): OidcAuthenticator {
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const cooldownMs = options.jwksCooldownMs ?? 30_000;
  const discovery = createOidcDiscovery({
    issuer: options.issuer,
    fetch: fetchImpl,
    timeoutMs,
    retryAfterMs: cooldownMs,
    allowInsecureHttp: options.allowInsecureHttp ?? false,
    now,
  });
  const jwks = createJwksCache({
    jwksUri: () => discovery.jwksUri(),
    fetch: fetchImpl,
    timeoutMs,
    cooldownMs,
    maxAgeMs: options.jwksMaxAgeMs ?? 10 * 60_000,
    now,
  });
  const verifier = createTokenVerifier(
    {
      issuer: options.issuer,
      audience: options.audience,
      algorithms: options.algorithms ?? DEFAULT_ALGORITHMS,
      tenantClaim: options.tenantClaim ?? 'tenant',
      scopeClaim: options.scopeClaim ?? 'scope',
      requireTyp: options.requireTyp ?? false,
      clockToleranceSec: options.clockToleranceSec ?? 30,
      now,
    },
    jwks.getKey,
  );
  return {
    authenticate: (token) => verifier.authenticate(token),
    warmUp: () => jwks.load(),
  };
}
