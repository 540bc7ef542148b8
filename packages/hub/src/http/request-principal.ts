/**
 * Authentication for routes declared `public: true` that still want to know who calls
 * (the dictionary: anonymous or authenticated) or that check their own, non-vocabulary
 * scopes (the gateway). Maps failures exactly as the server's auth hook does.
 */
import type { FastifyRequest } from 'fastify';
import {
  AuthenticationError,
  AuthenticationUnavailableError,
  type Authenticator,
  type Principal,
} from '../auth/principal.ts';
import { parseBearer } from '../auth/bearer.ts';
import { problems } from './problem.ts';

/**
 * The caller's principal, or undefined when no Authorization header is sent. A header that is
 * sent but malformed, or a token that does not verify, is 401: never a silent downgrade to
 * anonymous.
 */
export async function optionalPrincipal(
  authenticator: Authenticator,
  request: FastifyRequest,
): Promise<Principal | undefined> {
  if (request.headers.authorization === undefined) return undefined;
  return requirePrincipal(authenticator, request);
}

/** The caller's principal, or a 401/503 problem. */
export function requirePrincipal(
  authenticator: Authenticator,
  request: FastifyRequest,
): Promise<Principal> {
  return verifyBearer(authenticator, parseBearer(request.headers.authorization));
}

/**
 * The principal of a bearer token already taken from the header (undefined: a missing or
 * malformed header), failures as requirePrincipal(): a token verified before is answered
 * at once, with no promise and no turn of the queue (the hot path of the scope hook and
 * the gateway); any other is verified.
 */
export function principalFor(
  authenticator: Authenticator,
  token: string | undefined,
): Principal | Promise<Principal> {
  return (
    (token === undefined ? undefined : authenticator.known?.(token)) ??
    verifyBearer(authenticator, token)
  );
}

async function verifyBearer(
  authenticator: Authenticator,
  token: string | undefined,
): Promise<Principal> {
  if (!token)
    throw problems.unauthorized('a bearer token is required (Authorization: Bearer <token>)');
  try {
    return await authenticator.authenticate(token);
  } catch (error) {
    if (error instanceof AuthenticationUnavailableError)
      throw problems.unavailable(
        'token verification is unavailable: the identity provider cannot be reached',
      );
    if (error instanceof AuthenticationError) throw problems.unauthorized(error.message);
    throw error;
  }
}
