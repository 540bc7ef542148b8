import { base64url, exportSPKI, SignJWT } from 'jose';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createOidcAuthenticator, type OidcAuthenticatorOptions } from './oidc-authenticator.ts';
import { AuthenticationError, AuthenticationUnavailableError } from './principal.ts';
import {
  generateTestSigningKey,
  startTestIdentityProvider,
  type TestIdentityProvider,
  type TestSigningKey,
} from './test-identity-provider.ts';

const AUDIENCE = 'urn:portico:hub';
const COOLDOWN_MS = 30_000;

let idp: TestIdentityProvider;
/** RSA keys, generated once per file because generation is slow: the provider's first key and spares. */
let rsaKeys: TestSigningKey[];
/** The authenticator's clock (epoch ms): moved by hand to get past cooldowns without waiting. */
let clock: number;

beforeAll(async () => {
  rsaKeys = await Promise.all([1, 2, 3].map(() => generateTestSigningKey('RS256')));
});
beforeEach(async () => {
  idp = await startTestIdentityProvider({ audience: AUDIENCE, key: rsaKeys[0] });
  clock = Date.now();
});
afterEach(async () => {
  await idp.close();
});

function authenticator(options: Partial<OidcAuthenticatorOptions> = {}) {
  return createOidcAuthenticator({
    issuer: idp.issuer,
    audience: AUDIENCE,
    requireTyp: true,
    jwksCooldownMs: COOLDOWN_MS,
    now: () => clock,
    ...options,
  });
}

/** The AuthenticationError a promise rejects with (fails the test if it resolves or throws something else). */
async function failure(promise: Promise<unknown>): Promise<AuthenticationError> {
  const outcome = await promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome))
    throw new Error(`expected a rejection, got ${JSON.stringify(outcome.value)}`);
  expect(outcome.error).toBeInstanceOf(AuthenticationError);
  return outcome.error as AuthenticationError;
}

const nowSec = () => Math.floor(Date.now() / 1000);

describe('OIDC authenticator: valid tokens', () => {
  it('maps a valid token to a principal (space-separated scope string)', async () => {
    const auth = authenticator();
    const exp = nowSec() + 600;
    const token = await idp.sign({
      sub: 'alice',
      tenant: 'acme',
      scope: 'events:read events:publish',
      exp,
    });

    const principal = await auth.authenticate(token);

    expect(principal).toEqual({
      tenant: 'acme',
      subject: 'alice',
      scopes: new Set(['events:read', 'events:publish']),
      expiresAt: exp,
    });
  });

  it('reads scopes given as an array, and from `scp` when `scope` is absent', async () => {
    const auth = authenticator();
    const asArray = await idp.sign({ scope: ['rules:write', 'admin'] });
    const asScp = await idp.sign({ scope: undefined, scp: ['events:publish'] });

    expect((await auth.authenticate(asArray)).scopes).toEqual(new Set(['rules:write', 'admin']));
    expect((await auth.authenticate(asScp)).scopes).toEqual(new Set(['events:publish']));
  });

  it('uses configured claim names for tenant and scopes', async () => {
    const auth = authenticator({
      tenantClaim: 'https://portico.example/tenant',
      scopeClaim: 'permissions',
    });
    const token = await idp.sign({
      tenant: undefined,
      'https://portico.example/tenant': 'globex',
      permissions: ['webhooks:write'],
      scope: 'admin',
    });

    const principal = await auth.authenticate(token);

    expect(principal.tenant).toBe('globex');
    expect(principal.scopes).toEqual(new Set(['webhooks:write']));
  });

  it('accepts `typ: application/at+jwt`, an `aud` array, and, when typ is not required, `typ: JWT`', async () => {
    const fullTyp = await idp.sign({}, { header: { typ: 'application/at+jwt' } });
    const audArray = await idp.sign({ aud: ['https://other.example', AUDIENCE] });
    const plainJwt = await idp.sign({}, { header: { typ: 'JWT' } });

    await expect(authenticator().authenticate(fullTyp)).resolves.toMatchObject({ tenant: 'acme' });
    await expect(authenticator().authenticate(audArray)).resolves.toMatchObject({ tenant: 'acme' });
    await expect(
      authenticator({ requireTyp: false }).authenticate(plainJwt),
    ).resolves.toMatchObject({
      tenant: 'acme',
    });
  });

  it('allows a small clock skew on exp, and no more', async () => {
    const auth = authenticator({ clockToleranceSec: 30 });
    const justExpired = await idp.sign({ exp: nowSec() - 10 });
    const longExpired = await idp.sign({ exp: nowSec() - 60 });

    await expect(auth.authenticate(justExpired)).resolves.toMatchObject({ tenant: 'acme' });
    expect((await failure(auth.authenticate(longExpired))).message).toBe('token expired');
  });

  it('fetches discovery and the JWKS lazily, once, then verifies from the cache', async () => {
    const auth = authenticator();
    expect(idp.requests).toEqual({ discovery: 0, jwks: 0 });

    for (let i = 0; i < 5; i++) await auth.authenticate(await idp.sign({ sub: `user-${i}` }));
    await Promise.all([1, 2, 3].map(async () => auth.authenticate(await idp.sign())));

    expect(idp.requests).toEqual({ discovery: 1, jwks: 1 });
  });
});

describe('OIDC authenticator: the attack list', () => {
  // Each case builds a token from the identity provider `idp`; every one must be refused with
  // the given reason, and the reason must not echo the token.
  const attacks: [string, () => Promise<string>, string][] = [
    ['an expired token', () => idp.sign({ exp: nowSec() - 3600 }), 'token expired'],
    ['a wrong issuer', () => idp.sign({ iss: 'https://evil.example' }), 'issuer mismatch'],
    ['a wrong audience', () => idp.sign({ aud: 'urn:someone:else' }), 'audience mismatch'],
    ['alg: none (unsigned, crafted by hand)', () => unsignedToken(), 'unsupported algorithm'],
    [
      'HS256 signed with the RSA public key (PEM) as the HMAC secret',
      () => hmacWithPublicKey(),
      'unsupported algorithm',
    ],
    [
      'an unknown kid',
      () => idp.sign({}, { header: { kid: 'never-published' } }),
      'unknown signing key',
    ],
    ['no exp', () => idp.sign({}, { omit: ['exp'] }), 'token has no expiry'],
    ['exp that is not a number', () => idp.sign({ exp: 'tomorrow' as never }), 'invalid expiry'],
    ['nbf in the future', () => idp.sign({ nbf: nowSec() + 3600 }), 'token not yet valid'],
    ['no tenant claim', () => idp.sign({ tenant: undefined }), 'token has no tenant claim'],
    [
      'a tenant with wildcards',
      () => idp.sign({ tenant: 'acme.>' }),
      'token has an invalid tenant claim',
    ],
    ['no subject', () => idp.sign({ sub: undefined }), 'token has no subject'],
    [
      'a subject with CR LF (it would be an upstream header)',
      () => idp.sign({ sub: 'alice\r\nx-portico-tenant: globex' }),
      'token has an invalid subject',
    ],
    [
      'a scope with a NUL character',
      () => idp.sign({ scope: ['events:read\u0000admin'] }),
      'token has an invalid scope claim',
    ],
    [
      'an exp past the last instant a Date can hold',
      () => idp.sign({ exp: 1e13 }),
      'invalid expiry',
    ],
    [
      'a scope claim of the wrong type',
      () => idp.sign({ scope: 42 as never }),
      'token has an invalid scope claim',
    ],
    [
      'typ JWT where at+jwt is required',
      () => idp.sign({}, { header: { typ: 'JWT' } }),
      'unexpected token type',
    ],
    [
      'no typ where at+jwt is required',
      () => idp.sign({}, { header: { typ: undefined } }),
      'unexpected token type',
    ],
    ['a different key using the same kid', () => signedByImpostor(), 'invalid signature'],
    [
      'an impostor key offered in the `jwk` and `jku` headers',
      () => signedByImpostor({ jwk: rsaKeys[2]!.publicJwk, jku: 'http://127.0.0.1:1/jwks' }),
      'invalid signature',
    ],
    ['a tampered payload', () => tamperedToken(), 'invalid signature'],
  ];

  it.each(attacks)('refuses %s', async (_name, build, reason) => {
    const auth = authenticator();
    await auth.warmUp();
    const token = await build();

    const error = await failure(auth.authenticate(token));

    expect(error.message).toBe(reason);
    expect(error).not.toBeInstanceOf(AuthenticationUnavailableError);
    expect(error.message).not.toContain(token);
    expect(String(error.stack)).not.toContain(token);
  });

  it.each([
    ['empty', ''],
    ['a word', 'garbage'],
    ['three dots', 'a.b.c'],
    ['empty segments', '..'],
    ['base64 junk', 'eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl'],
    ['a JWE-shaped string', 'a.b.c.d.e'],
    [
      'a JSON header that is not an object',
      `${base64url.encode('"x"')}.${base64url.encode('{}')}.sig`,
    ],
    ['an enormous string', 'a'.repeat(100_000)],
  ])('refuses garbage: %s', async (_name, token) => {
    const error = await failure(authenticator().authenticate(token));
    expect(error).not.toBeInstanceOf(AuthenticationUnavailableError);
    expect(error.message.length).toBeLessThan(60);
  });

  it('refuses an algorithm that is asymmetric but not on the allow-list', async () => {
    const auth = authenticator({ algorithms: ['ES256'] });
    const rs256 = await idp.sign();
    expect((await failure(auth.authenticate(rs256))).message).toBe('unsupported algorithm');
  });

  it('refuses to be configured with none, HS*, unknown or no algorithms', () => {
    for (const algorithms of [['none'], ['HS256'], ['RS256', 'HS512'], ['XY999'], []]) {
      expect(() => authenticator({ algorithms })).toThrow(TypeError);
    }
  });

  it('refuses plain http to a non-loopback issuer unless allowed', () => {
    expect(() => authenticator({ issuer: 'http://idp.example.com' })).toThrow(/https/);
    expect(() =>
      authenticator({ issuer: 'http://idp.example.com', allowInsecureHttp: true }),
    ).not.toThrow();
  });
});

describe('OIDC authenticator: key rotation and the JWKS cooldown', () => {
  it('accepts a token signed with a rotated key (new kid) after refetching the JWKS', async () => {
    const auth = authenticator();
    await auth.authenticate(await idp.sign());
    expect(idp.requests.jwks).toBe(1);

    await idp.rotate({ alg: 'ES256' });
    clock += COOLDOWN_MS + 1;
    const principal = await auth.authenticate(await idp.sign({ sub: 'after-rotation' }));

    expect(principal.subject).toBe('after-rotation');
    expect(idp.requests).toEqual({ discovery: 1, jwks: 2 });
  });

  it('refuses the retired key once it has left the JWKS', async () => {
    const auth = authenticator();
    const retired = idp.currentKey;
    await auth.authenticate(await idp.sign());
    await idp.rotate({ alg: 'ES256' });
    clock += COOLDOWN_MS + 1;
    await auth.authenticate(await idp.sign());

    const error = await failure(auth.authenticate(await idp.sign({}, { key: retired })));

    expect(error.message).toBe('unknown signing key');
    expect(idp.requests.jwks).toBe(2);
  });

  it('refuses unknown kids without hammering the JWKS endpoint: one refetch per cooldown', async () => {
    const auth = authenticator();
    await auth.authenticate(await idp.sign());
    expect(idp.requests.jwks).toBe(1);
    const unknownKid = (i: number) => idp.sign({}, { header: { kid: `made-up-${i}` } });

    // Within the cooldown of the first fetch: no refetch at all.
    for (let i = 0; i < 20; i++) {
      expect((await failure(auth.authenticate(await unknownKid(i)))).message).toBe(
        'unknown signing key',
      );
    }
    expect(idp.requests.jwks).toBe(1);

    // Past the cooldown, a concurrent flood causes exactly one refetch, then none again.
    clock += COOLDOWN_MS + 1;
    const tokens = await Promise.all(Array.from({ length: 50 }, (_, i) => unknownKid(100 + i)));
    const errors = await Promise.all(tokens.map((token) => failure(auth.authenticate(token))));
    expect(new Set(errors.map((error) => error.message))).toEqual(new Set(['unknown signing key']));
    expect(idp.requests.jwks).toBe(2);
    for (let i = 0; i < 20; i++) await failure(auth.authenticate(await unknownKid(200 + i)));
    expect(idp.requests.jwks).toBe(2);

    // Valid tokens keep working from the cache throughout.
    await expect(auth.authenticate(await idp.sign())).resolves.toMatchObject({ tenant: 'acme' });
    expect(idp.requests).toEqual({ discovery: 1, jwks: 2 });
  });

  it('refetches keys older than the max age, and keeps using them if the refetch fails', async () => {
    const auth = authenticator({ jwksMaxAgeMs: 60_000 });
    await auth.authenticate(await idp.sign());
    clock += 61_000;
    await auth.authenticate(await idp.sign());
    expect(idp.requests.jwks).toBe(2);

    const token = await idp.sign();
    await idp.close(); // the identity provider goes away
    clock += 61_000;
    await expect(auth.authenticate(token)).resolves.toMatchObject({ tenant: 'acme' });
    idp = await startTestIdentityProvider({ key: rsaKeys[0] }); // for afterEach
  });

  it('tries each candidate key for a token without kid while two keys are published', async () => {
    const auth = authenticator();
    const first = idp.currentKey;
    await idp.rotate({ key: rsaKeys[1], keepOld: true });

    const byOld = await idp.sign({ sub: 'old' }, { key: first, header: { kid: undefined } });
    const byNew = await idp.sign({ sub: 'new' }, { header: { kid: undefined } });
    const stranger = rsaKeys[2]!;
    const byStranger = await idp.sign({}, { key: stranger, header: { kid: undefined } });

    expect((await auth.authenticate(byOld)).subject).toBe('old');
    expect((await auth.authenticate(byNew)).subject).toBe('new');
    expect((await failure(auth.authenticate(byStranger))).message).toBe('invalid signature');
  });
});

describe('OIDC authenticator: discovery', () => {
  it('does not cache a failed discovery forever: it retries after the cooldown, not before', async () => {
    const auth = authenticator();
    idp.failDiscovery(1);
    const token = await idp.sign();

    const first = await failure(auth.authenticate(token));
    expect(first).toBeInstanceOf(AuthenticationUnavailableError);
    expect(first.message).toMatch(/discovery answered HTTP 500/);
    await failure(auth.authenticate(token));
    expect(idp.requests.discovery).toBe(1);

    clock += COOLDOWN_MS + 1;
    await expect(auth.authenticate(token)).resolves.toMatchObject({ tenant: 'acme' });
    expect(idp.requests).toEqual({ discovery: 2, jwks: 1 });
  });

  it('warmUp loads discovery and keys, and reports a discovery document for another issuer', async () => {
    await authenticator().warmUp();
    expect(idp.requests).toEqual({ discovery: 1, jwks: 1 });

    // With a trailing slash the configured issuer differs from the document's `issuer`.
    const misconfigured = authenticator({ issuer: `${idp.issuer}/` });
    await expect(misconfigured.warmUp()).rejects.toThrow(AuthenticationUnavailableError);
    await expect(misconfigured.warmUp()).rejects.toThrow(/issuer mismatch/);
  });

  it('reports an unreachable identity provider as unavailable', async () => {
    const auth = authenticator({ timeoutMs: 2_000 });
    const token = await idp.sign();
    await idp.close();

    const error = await failure(auth.authenticate(token));

    expect(error).toBeInstanceOf(AuthenticationUnavailableError);
    expect(error.message).not.toContain(token);
    idp = await startTestIdentityProvider({ key: rsaKeys[0] });
  });
});

/** `alg: none` with a valid-looking payload and an empty signature. */
async function unsignedToken(): Promise<string> {
  const header = { alg: 'none', typ: 'at+jwt', kid: idp.currentKey.kid };
  const payload = {
    iss: idp.issuer,
    aud: AUDIENCE,
    sub: 'mallory',
    tenant: 'acme',
    scope: 'admin',
    exp: nowSec() + 300,
  };
  return `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(payload))}.`;
}

/** The classic key confusion: the public key, which anyone can fetch, used as an HMAC secret. */
async function hmacWithPublicKey(): Promise<string> {
  const pem = await exportSPKI(idp.currentKey.publicKey);
  return new SignJWT({
    iss: idp.issuer,
    aud: AUDIENCE,
    sub: 'mallory',
    tenant: 'acme',
    scope: 'admin',
    exp: nowSec() + 300,
  })
    .setProtectedHeader({ alg: 'HS256', kid: idp.currentKey.kid, typ: 'at+jwt' })
    .sign(new TextEncoder().encode(pem));
}

/** Signed by a key the issuer never published, claiming the issuer's kid (and maybe more). */
async function signedByImpostor(header: Record<string, unknown> = {}): Promise<string> {
  const impostor = rsaKeys[2]!;
  return idp.sign({ scope: 'admin' }, { key: { ...impostor, kid: idp.currentKey.kid }, header });
}

async function tamperedToken(): Promise<string> {
  const [header, , signature] = (await idp.sign()).split('.');
  const payload = {
    iss: idp.issuer,
    aud: AUDIENCE,
    sub: 'mallory',
    tenant: 'globex',
    scope: 'admin',
    exp: nowSec() + 300,
  };
  return `${header}.${base64url.encode(JSON.stringify(payload))}.${signature}`;
}
