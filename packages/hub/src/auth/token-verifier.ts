import { errors, jwtVerify, type JWTVerifyGetKey, type JWTVerifyOptions } from 'jose';
import { MAX_BEARER_TOKEN_LENGTH } from './bearer.ts';
import { AuthenticationError, type Authenticator, type Principal } from './principal.ts';
import { principalFromClaims, type ClaimNames } from './principal-from-claims.ts';
import { checkAlgorithmAllowList } from './signing-algorithms.ts';
import { toAuthenticationError } from './verification-failure.ts';

/** What a token must satisfy. The same policy serves the OIDC and the development modes. */
export type TokenPolicy = ClaimNames & {
  issuer: string;
  audience: string;
  /** Checked before any key is looked up: the token header never chooses the algorithm alone. */
  algorithms: readonly string[];
  /** Require the RFC 9068 header `typ: at+jwt` (`application/at+jwt` is the same). */
  requireTyp: boolean;
  clockToleranceSec: number;
  /** Epoch milliseconds; injectable so expiry can be tested without waiting. */
  now?: () => number;
};

/** Only so many keys are tried for a token without `kid` when several keys match. */
const MAX_CANDIDATE_KEYS = 4;

/** An Authenticator that verifies JWT access tokens against the keys `getKey` resolves. */
export function createTokenVerifier(policy: TokenPolicy, getKey: JWTVerifyGetKey): Authenticator {
  const algorithms = checkAlgorithmAllowList(policy.algorithms);
  for (const key of ['issuer', 'audience', 'tenantClaim', 'scopeClaim'] as const) {
    if (typeof policy[key] !== 'string' || policy[key].length === 0) {
      throw new TypeError(`auth: ${key} must be a non-empty string`);
    }
  }
  if (!(policy.clockToleranceSec >= 0 && policy.clockToleranceSec <= 300)) {
    throw new TypeError('auth: clockToleranceSec must be between 0 and 300');
  }
  const claimNames: ClaimNames = { tenantClaim: policy.tenantClaim, scopeClaim: policy.scopeClaim };
  const options = (): JWTVerifyOptions => ({
    issuer: policy.issuer,
    audience: policy.audience,
    algorithms,
    requiredClaims: ['exp'],
    clockTolerance: policy.clockToleranceSec,
    ...(policy.requireTyp ? { typ: 'at+jwt' } : {}),
    ...(policy.now ? { currentDate: new Date(policy.now()) } : {}),
  });

  return {
    async authenticate(token: string): Promise<Principal> {
      if (typeof token !== 'string' || token.length === 0) {
        throw new AuthenticationError('missing token');
      }
      if (token.length > MAX_BEARER_TOKEN_LENGTH) throw new AuthenticationError('token too large');
      try {
        const { payload } = await verifyWithCandidates(token, getKey, options());
        return principalFromClaims(payload, claimNames);
      } catch (error) {
        throw toAuthenticationError(error);
      }
    },
  };
}

/**
 * jose leaves it to the caller to try each key when a token has no `kid` and several keys of
 * the JWKS fit (typical while an issuer rotates keys). One of them verifying is enough.
 */
async function verifyWithCandidates(
  token: string,
  getKey: JWTVerifyGetKey,
  options: JWTVerifyOptions,
) {
  try {
    return await jwtVerify(token, getKey, options);
  } catch (error) {
    if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error;
    let tried = 0;
    for await (const key of error) {
      if (++tried > MAX_CANDIDATE_KEYS) break;
      try {
        return await jwtVerify(token, key, options);
      } catch (attempt) {
        if (!(attempt instanceof errors.JWSSignatureVerificationFailed)) throw attempt;
      }
    }
    throw new errors.JWSSignatureVerificationFailed();
  }
}
