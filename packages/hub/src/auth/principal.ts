/** Who is calling, as established by an Authenticator. */
export type Principal = {
  tenant: string;
  subject: string;
  scopes: ReadonlySet<string>;
  /** Epoch seconds at which the credential expires. */
  expiresAt: number;
};

/** The scope vocabulary. Every route declares which one it needs. */
export const SCOPES = [
  'events:publish',
  'events:read',
  'rules:write',
  'webhooks:write',
  'schemas:write',
  'dictionary:write',
  'admin',
] as const;
export type Scope = (typeof SCOPES)[number];

/** Raised for a missing, malformed, expired or untrusted credential (maps to 401). */
export class AuthenticationError extends Error {
  override name = 'AuthenticationError';
}

/**
 * The credential could not be checked at all: the identity provider's discovery document or
 * signing keys are unreachable or invalid. It is still an AuthenticationError (a caller that
 * knows only that class answers 401), but an HTTP layer should prefer 503: the token may be fine.
 */
export class AuthenticationUnavailableError extends AuthenticationError {
  override name = 'AuthenticationUnavailableError';
}

export interface Authenticator {
  /** Verifies a bearer token and returns its principal, or throws AuthenticationError. */
  authenticate(token: string): Promise<Principal>;
  /**
   * The principal of a token already verified and still valid, answered synchronously,
   * or undefined (then call `authenticate`). Lets the per-request auth hook skip its
   * promises for the common case of a token seen before.
   */
  known?(token: string): Principal | undefined;
}

/** `admin` implies every other scope. */
export function hasScope(principal: Principal, scope: Scope): boolean {
  return principal.scopes.has(scope) || principal.scopes.has('admin');
}
