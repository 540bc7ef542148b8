import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { createLocalJWKSet, importJWK, SignJWT, type JWK } from 'jose';
import { DEV_KEY_FILE_NAME, loadOrCreateDevSigningKey } from './dev-key-file.ts';
import { SCOPES, type Authenticator } from './principal.ts';
import { isValidSubject, isValidTenantId } from './principal-from-claims.ts';
import { createTokenVerifier } from './token-verifier.ts';

export const DEFAULT_DEV_ISSUER = 'urn:portico:dev-issuer';
export const DEFAULT_DEV_AUDIENCE = 'urn:portico:hub';
export const DEV_TOKEN_DEFAULT_TTL_SECONDS = 3600;
export const DEV_TOKEN_MAX_TTL_SECONDS = 24 * 3600;

export type DevIssuerOptions = {
  issuer?: string;
  audience?: string;
  /** Epoch milliseconds, for minting and verifying. Default Date.now. */
  now?: () => number;
};

export type MintRequest = {
  tenant: string;
  /** From the scope vocabulary (SCOPES); an unknown scope is refused, which catches typos. */
  scopes: readonly string[];
  /** Default `dev-user`. */
  subject?: string;
  /** Default 3600, at most 86400. */
  ttlSeconds?: number;
};

export type DevIssuer = {
  readonly issuer: string;
  readonly audience: string;
  /** The key id of the signing key (its RFC 7638 thumbprint). */
  readonly kid: string;
  /** Where the private key lives; never print its contents. */
  readonly keyFile: string;
  /** A signed `at+jwt` access token for the given tenant and scopes. */
  mint(request: MintRequest): Promise<string>;
  /** Verifies this issuer's tokens with the same checks as the OIDC mode. */
  authenticator(): Authenticator;
  /** The public key set (no private parts), e.g. to serve at a JWKS URL. */
  jwks(): { keys: JWK[] };
};

/** Claim names the development tokens use, and the dev authenticator reads. */
const TENANT_CLAIM = 'tenant';
const SCOPE_CLAIM = 'scope';
const KNOWN_SCOPES: ReadonlySet<string> = new Set(SCOPES);

/**
 * Development mode (the embedded default): the hub is its own token issuer, with an Ed25519
 * key kept in the data dir so that tokens survive restarts. Not for production: whoever can
 * read the data dir can mint tokens for any tenant.
 */
export async function loadOrCreateDevIssuer(
  dataDir: string,
  options: DevIssuerOptions = {},
): Promise<DevIssuer> {
  const issuer = options.issuer ?? DEFAULT_DEV_ISSUER;
  const audience = options.audience ?? DEFAULT_DEV_AUDIENCE;
  const now = options.now ?? Date.now;
  const privateJwk = await loadOrCreateDevSigningKey(dataDir);
  const { kid } = privateJwk;
  const signingKey = await importJWK({ ...privateJwk, alg: 'EdDSA' }, 'EdDSA');
  const publicJwk: JWK = {
    kty: privateJwk.kty,
    crv: privateJwk.crv,
    x: privateJwk.x,
    kid,
    alg: 'EdDSA',
    use: 'sig',
  };
  const verifier = createTokenVerifier(
    {
      issuer,
      audience,
      algorithms: ['EdDSA'],
      tenantClaim: TENANT_CLAIM,
      scopeClaim: SCOPE_CLAIM,
      requireTyp: true,
      clockToleranceSec: 30,
      now,
    },
    createLocalJWKSet({ keys: [publicJwk] }),
  );

  return {
    issuer,
    audience,
    kid,
    keyFile: join(dataDir, DEV_KEY_FILE_NAME),
    async mint(request: MintRequest): Promise<string> {
      const { tenant, scopes, subject, ttlSeconds } = checkMintRequest(request);
      const issuedAt = Math.floor(now() / 1000);
      return new SignJWT({
        [TENANT_CLAIM]: tenant,
        [SCOPE_CLAIM]: scopes.join(' '),
        client_id: 'portico-dev',
      })
        .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'at+jwt' })
        .setIssuer(issuer)
        .setAudience(audience)
        .setSubject(subject)
        .setJti(randomUUID())
        .setIssuedAt(issuedAt)
        .setExpirationTime(issuedAt + ttlSeconds)
        .sign(signingKey);
    },
    authenticator: () => verifier,
    jwks: () => ({ keys: [{ ...publicJwk }] }),
  };
}

function checkMintRequest(request: MintRequest): Required<MintRequest> {
  const { tenant, scopes } = request;
  const subject = request.subject ?? 'dev-user';
  const ttlSeconds = request.ttlSeconds ?? DEV_TOKEN_DEFAULT_TTL_SECONDS;
  if (!isValidTenantId(tenant)) {
    throw new TypeError(
      'mint: tenant must be 1-128 characters of letters, digits and . _ : @ -, starting with a letter or digit',
    );
  }
  if (!isValidSubject(subject)) {
    throw new TypeError('mint: subject must be a non-empty string without control characters');
  }
  if (!Array.isArray(scopes) || !scopes.every((scope) => typeof scope === 'string')) {
    throw new TypeError('mint: scopes must be an array of strings');
  }
  const unknown = scopes.filter((scope) => !KNOWN_SCOPES.has(scope));
  if (unknown.length > 0) {
    throw new TypeError(
      `mint: unknown scope ${unknown.map((s) => JSON.stringify(s)).join(', ')}; known scopes: ${SCOPES.join(', ')}`,
    );
  }
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > DEV_TOKEN_MAX_TTL_SECONDS) {
    throw new RangeError(
      `mint: ttlSeconds must be an integer from 1 to ${DEV_TOKEN_MAX_TTL_SECONDS}`,
    );
  }
  return { tenant, scopes: [...new Set(scopes)], subject, ttlSeconds };
}
