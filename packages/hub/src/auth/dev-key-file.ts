import { randomUUID } from 'node:crypto';
import { chmod, link, mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';

export const DEV_KEY_FILE_NAME = 'dev-signing-key.json';

/** The development signing key as stored: an Ed25519 private JWK with its `kid`. */
export type DevSigningJwk = JWK & { kty: 'OKP'; crv: 'Ed25519'; x: string; d: string; kid: string };

/**
 * Reads the development signing key from `<dataDir>/dev-signing-key.json`, creating it (mode
 * 0600) on first use. Creation writes a private temporary file and hard-links it into place,
 * which fails if the file already exists: two hubs starting on one data dir end up with the
 * same key, and a crash never leaves a half-written key behind.
 */
export async function loadOrCreateDevSigningKey(dataDir: string): Promise<DevSigningJwk> {
  const path = join(dataDir, DEV_KEY_FILE_NAME);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  if (!(await exists(path))) await createKeyFile(path);
  return readKeyFile(path);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

async function createKeyFile(path: string): Promise<void> {
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint({ kty: jwk.kty, crv: jwk.crv, x: jwk.x });
  const body = `${JSON.stringify({ ...jwk, kid, alg: 'EdDSA', use: 'sig' }, null, 2)}\n`;
  const temporary = `${path}.${process.pid}.${randomUUID()}.tmp`;
  const handle = await open(temporary, 'wx', 0o600);
  try {
    await handle.writeFile(body);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(temporary, path);
  } catch (error) {
    // Another process created the key first; theirs is the one everybody uses.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await unlink(temporary).catch(() => {});
  }
}

async function readKeyFile(path: string): Promise<DevSigningJwk> {
  if (process.platform !== 'win32') {
    // A key that others can read signs tokens others can mint: tighten it rather than use it.
    const { mode } = await stat(path);
    if ((mode & 0o077) !== 0) await chmod(path, 0o600);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch {
    throw new Error(
      `auth: the development signing key ${path} is not valid JSON; delete it to create a new one`,
    );
  }
  if (!isDevSigningJwk(parsed)) {
    throw new Error(
      `auth: the development signing key ${path} is not an Ed25519 private JWK with a kid; delete it to create a new one`,
    );
  }
  return parsed;
}

function isDevSigningJwk(value: unknown): value is DevSigningJwk {
  if (typeof value !== 'object' || value === null) return false;
  const jwk = value as Record<string, unknown>;
  return (
    jwk['kty'] === 'OKP' &&
    jwk['crv'] === 'Ed25519' &&
    typeof jwk['x'] === 'string' &&
    typeof jwk['d'] === 'string' &&
    typeof jwk['kid'] === 'string' &&
    jwk['kid'].length > 0
  );
}
