import { errors } from 'jose';
import { AuthenticationError } from './principal.ts';

/**
 * Turns whatever token verification threw into an AuthenticationError with a short, fixed
 * reason. jose's own errors are not kept as `cause`: JWTClaimValidationFailed carries the whole
 * claims set in `payload`, which a logger serialising causes would then write out.
 */
export function toAuthenticationError(error: unknown): AuthenticationError {
  if (error instanceof AuthenticationError) return error;
  if (error instanceof errors.JWTExpired) return new AuthenticationError('token expired');
  if (error instanceof errors.JWTClaimValidationFailed) return claimFailure(error);
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
    return new AuthenticationError('unsupported algorithm');
  }
  if (error instanceof errors.JWKSNoMatchingKey)
    return new AuthenticationError('unknown signing key');
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return new AuthenticationError('invalid signature');
  }
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) {
    return new AuthenticationError('malformed token');
  }
  return new AuthenticationError('invalid token');
}

function claimFailure(error: InstanceType<typeof errors.JWTClaimValidationFailed>) {
  const missing = error.reason === 'missing';
  switch (error.claim) {
    case 'iss':
      return new AuthenticationError(missing ? 'token has no issuer' : 'issuer mismatch');
    case 'aud':
      return new AuthenticationError(missing ? 'token has no audience' : 'audience mismatch');
    case 'exp':
      return new AuthenticationError(missing ? 'token has no expiry' : 'invalid expiry');
    case 'nbf':
      return new AuthenticationError('token not yet valid');
    case 'iat':
      return new AuthenticationError('invalid issued-at time');
    case 'typ':
      return new AuthenticationError('unexpected token type');
    default:
      return new AuthenticationError('invalid token claims');
  }
}
