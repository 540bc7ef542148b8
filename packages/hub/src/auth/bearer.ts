/**
 * Extracts the token from an `Authorization: Bearer <token>` header (RFC 6750 §2.1).
 * Anything else (another scheme, an empty token, characters outside token68, an absurd
 * length) yields undefined, so the caller answers 401 without ever parsing garbage.
 */

/** Far above any real access token; stops a multi-megabyte header from reaching the JWT parser. */
export const MAX_BEARER_TOKEN_LENGTH = 16 * 1024;

// token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const BEARER = /^bearer[ \t]+([A-Za-z0-9\-._~+/]+=*)[ \t]*$/i;

export function parseBearer(authorizationHeader: string | undefined): string | undefined {
  if (typeof authorizationHeader !== 'string') return undefined;
  if (authorizationHeader.length > MAX_BEARER_TOKEN_LENGTH + 64) return undefined;
  const match = BEARER.exec(authorizationHeader.trim());
  const token = match?.[1];
  if (token === undefined || token.length > MAX_BEARER_TOKEN_LENGTH) return undefined;
  return token;
}
