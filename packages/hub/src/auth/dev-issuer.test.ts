import { mkdtemp, readFile, rm, stat, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEV_KEY_FILE_NAME } from './dev-key-file.ts';
import { loadOrCreateDevIssuer } from './dev-issuer.ts';
import { AuthenticationError } from './principal.ts';

let dataDir: string;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'portico-dev-issuer-'));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

async function rejection(promise: Promise<unknown>): Promise<AuthenticationError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AuthenticationError);
  return error as AuthenticationError;
}

describe('development issuer', () => {
  it('mints a token that its authenticator turns back into the principal', async () => {
    const issuer = await loadOrCreateDevIssuer(dataDir);
    const before = Math.floor(Date.now() / 1000);

    const token = await issuer.mint({ tenant: 'acme', scopes: ['events:publish', 'events:read'] });
    const principal = await issuer.authenticator().authenticate(token);

    expect(principal.tenant).toBe('acme');
    expect(principal.subject).toBe('dev-user');
    expect(principal.scopes).toEqual(new Set(['events:publish', 'events:read']));
    expect(principal.expiresAt - before).toBeGreaterThanOrEqual(3600);
    expect(principal.expiresAt - before).toBeLessThanOrEqual(3601);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'EdDSA', kid: issuer.kid, typ: 'at+jwt' });
    expect(decodeJwt(token)).toMatchObject({
      iss: issuer.issuer,
      aud: issuer.audience,
      sub: 'dev-user',
    });
  });

  it('keeps its key in the data dir, mode 0600, and reuses it after a restart', async () => {
    const first = await loadOrCreateDevIssuer(dataDir);
    const token = await first.mint({ tenant: 'acme', scopes: ['admin'], subject: 'ops' });
    const keyFile = join(dataDir, DEV_KEY_FILE_NAME);
    const stored = await readFile(keyFile, 'utf8');

    const afterRestart = await loadOrCreateDevIssuer(dataDir);

    expect(afterRestart.kid).toBe(first.kid);
    expect(await readFile(keyFile, 'utf8')).toBe(stored);
    expect((await afterRestart.authenticator().authenticate(token)).subject).toBe('ops');
    if (process.platform !== 'win32') expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
  });

  it('gives concurrent first starts on one data dir the same key', async () => {
    const issuers = await Promise.all([1, 2, 3, 4, 5].map(() => loadOrCreateDevIssuer(dataDir)));
    expect(new Set(issuers.map((issuer) => issuer.kid)).size).toBe(1);
  });

  it.runIf(process.platform !== 'win32')('tightens a key file that others can read', async () => {
    await loadOrCreateDevIssuer(dataDir);
    const keyFile = join(dataDir, DEV_KEY_FILE_NAME);
    await chmod(keyFile, 0o644);
    await loadOrCreateDevIssuer(dataDir);
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
  });

  it("refuses another data dir's tokens", async () => {
    const otherDir = await mkdtemp(join(tmpdir(), 'portico-dev-issuer-other-'));
    try {
      const ours = await loadOrCreateDevIssuer(dataDir);
      const theirs = await loadOrCreateDevIssuer(otherDir);
      const token = await theirs.mint({ tenant: 'acme', scopes: ['admin'] });

      expect((await rejection(ours.authenticator().authenticate(token))).message).toBe(
        'unknown signing key',
      );
    } finally {
      await rm(otherDir, { recursive: true, force: true });
    }
  });

  it('refuses a token whose key id was copied but not the key', async () => {
    const otherDir = await mkdtemp(join(tmpdir(), 'portico-dev-issuer-other-'));
    try {
      const ours = await loadOrCreateDevIssuer(dataDir);
      const keyFile = join(otherDir, DEV_KEY_FILE_NAME);
      await loadOrCreateDevIssuer(otherDir);
      const forged = { ...JSON.parse(await readFile(keyFile, 'utf8')), kid: ours.kid };
      await writeFile(keyFile, JSON.stringify(forged), { mode: 0o600 });
      const theirs = await loadOrCreateDevIssuer(otherDir);
      const token = await theirs.mint({ tenant: 'acme', scopes: ['admin'] });

      expect((await rejection(ours.authenticator().authenticate(token))).message).toBe(
        'invalid signature',
      );
    } finally {
      await rm(otherDir, { recursive: true, force: true });
    }
  });

  it('respects the ttl: the token fails once it has expired (beyond the clock tolerance)', async () => {
    let clock = Date.now();
    const issuer = await loadOrCreateDevIssuer(dataDir, { now: () => clock });
    const token = await issuer.mint({ tenant: 'acme', scopes: ['events:read'], ttlSeconds: 60 });

    clock += 60_000 + 29_000;
    await expect(issuer.authenticator().authenticate(token)).resolves.toMatchObject({
      tenant: 'acme',
    });
    clock += 2_000;
    expect((await rejection(issuer.authenticator().authenticate(token))).message).toBe(
      'token expired',
    );
  });

  it('checks issuer and audience like the OIDC mode', async () => {
    const minted = await loadOrCreateDevIssuer(dataDir, { issuer: 'urn:a', audience: 'urn:hub' });
    const token = await minted.mint({ tenant: 'acme', scopes: [] });
    const otherIssuer = await loadOrCreateDevIssuer(dataDir, {
      issuer: 'urn:b',
      audience: 'urn:hub',
    });
    const otherAudience = await loadOrCreateDevIssuer(dataDir, {
      issuer: 'urn:a',
      audience: 'urn:other',
    });

    expect((await rejection(otherIssuer.authenticator().authenticate(token))).message).toBe(
      'issuer mismatch',
    );
    expect((await rejection(otherAudience.authenticator().authenticate(token))).message).toBe(
      'audience mismatch',
    );
  });

  it.each([
    [{ ttlSeconds: 24 * 3600 + 1 }, RangeError],
    [{ ttlSeconds: 0 }, RangeError],
    [{ ttlSeconds: 1.5 }, RangeError],
    [{ tenant: '' }, TypeError],
    [{ tenant: 'acme corp' }, TypeError],
    [{ scopes: ['events:pubish'] }, TypeError],
    [{ subject: '' }, TypeError],
    // The hub would refuse the token: its subject could not travel in an upstream header.
    [{ subject: 'ops\r\nx-portico-tenant: globex' }, TypeError],
  ])('refuses to mint %j', async (change, errorClass) => {
    const issuer = await loadOrCreateDevIssuer(dataDir);
    await expect(
      issuer.mint({ tenant: 'acme', scopes: ['events:read'], ...change }),
    ).rejects.toThrow(errorClass);
  });

  it('mints up to 24 h', async () => {
    const issuer = await loadOrCreateDevIssuer(dataDir);
    const token = await issuer.mint({ tenant: 'acme', scopes: [], ttlSeconds: 24 * 3600 });
    const { exp, iat } = decodeJwt(token);
    expect(exp! - iat!).toBe(24 * 3600);
  });

  it('publishes only the public key in its JWKS', async () => {
    const issuer = await loadOrCreateDevIssuer(dataDir);
    const { keys } = issuer.jwks();
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({
      kty: 'OKP',
      crv: 'Ed25519',
      kid: issuer.kid,
      alg: 'EdDSA',
      use: 'sig',
    });
    expect(keys[0]).not.toHaveProperty('d');
  });

  it('stops with a clear error on a damaged key file, and leaves the file alone', async () => {
    const keyFile = join(dataDir, DEV_KEY_FILE_NAME);
    await writeFile(keyFile, '{"kty":"OKP"', { mode: 0o600 });

    await expect(loadOrCreateDevIssuer(dataDir)).rejects.toThrow(
      /dev-signing-key\.json is not valid JSON/,
    );
    expect(await readFile(keyFile, 'utf8')).toBe('{"kty":"OKP"');
  });
});
