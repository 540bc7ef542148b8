/**
 * The JWS algorithms Portico accepts for access tokens. Only asymmetric ones: the verification
 * keys come from a public JWKS, so a symmetric algorithm (HS*) would let anyone who can read
 * the public key forge tokens (the key-confusion attack), and `none` is no signature at all.
 */

export const ASYMMETRIC_ALGORITHMS: ReadonlySet<string> = new Set([
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
]);

export const DEFAULT_ALGORITHMS: readonly string[] = ['RS256', 'PS256', 'ES256', 'EdDSA'];

/** Validates a configured allow-list; throws (at start-up, not per request) on anything unsafe. */
export function checkAlgorithmAllowList(algorithms: readonly string[]): string[] {
  if (algorithms.length === 0) throw new TypeError('auth: the algorithm allow-list is empty');
  for (const alg of algorithms) {
    if (!ASYMMETRIC_ALGORITHMS.has(alg)) {
      throw new TypeError(
        `auth: algorithm ${JSON.stringify(alg)} is not allowed; use one of ${[...ASYMMETRIC_ALGORITHMS].join(', ')}`,
      );
    }
  }
  return [...new Set(algorithms)];
}
