/**
 * Standard Webhooks key material: generating it, and decoding it once into node:crypto keys.
 *
 * Formats (spec/standard-webhooks.md, "Signature scheme"; key layout as in the reference Go library):
 * - symmetric:  `whsec_` + base64 of 24–64 random bytes (HMAC-SHA256 key)
 * - asymmetric: `whsk_` + base64 of the 32-byte ed25519 seed (private),
 *               `whpk_` + base64 of the 32-byte raw ed25519 public key.
 *
 * Error messages never echo key material: they say what is wrong, not what was given.
 */
import {
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  generateKeyPairSync,
  randomBytes,
} from 'node:crypto';
import type { KeyObject } from 'node:crypto';

export const HMAC_SECRET_PREFIX = 'whsec_';
export const ED25519_SECRET_PREFIX = 'whsk_';
export const ED25519_PUBLIC_PREFIX = 'whpk_';

export const MIN_HMAC_SECRET_BYTES = 24;
export const MAX_HMAC_SECRET_BYTES = 64;
const ED25519_KEY_BYTES = 32;

// DER headers that turn a raw ed25519 seed / public key into PKCS#8 / SPKI (RFC 8410).
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

// Buffer.from(…, 'base64') silently skips junk; a mistyped secret must fail loudly instead.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export type Ed25519KeyPair = {
  /** `whsk_…`: keep on the sender. */
  secret: string;
  /** `whpk_…`: hand to receivers. */
  publicKey: string;
};

/** A new `whsec_` signing secret of `bytes` random bytes (24–64, default 32). */
export function generateSecret(bytes = 32): string {
  if (!Number.isInteger(bytes) || bytes < MIN_HMAC_SECRET_BYTES || bytes > MAX_HMAC_SECRET_BYTES) {
    throw new RangeError(
      `a webhook secret must have ${MIN_HMAC_SECRET_BYTES} to ${MAX_HMAC_SECRET_BYTES} bytes, not ${bytes}`,
    );
  }
  return HMAC_SECRET_PREFIX + randomBytes(bytes).toString('base64');
}

/** A new ed25519 key pair for `v1a` signatures. */
export function generateEd25519KeyPair(): Ed25519KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const seed = privateKey.export({ format: 'jwk' }).d;
  const raw = publicKey.export({ format: 'jwk' }).x;
  if (seed === undefined || raw === undefined)
    throw new Error('node:crypto exported an incomplete ed25519 JWK');
  return {
    secret: ED25519_SECRET_PREFIX + Buffer.from(seed, 'base64url').toString('base64'),
    publicKey: ED25519_PUBLIC_PREFIX + Buffer.from(raw, 'base64url').toString('base64'),
  };
}

/** The `whpk_` public key that belongs to a `whsk_` secret (to show it again after creation). */
export function ed25519PublicKeyOf(secret: string): string {
  const raw = createPublicKey(decodeEd25519Secret(secret)).export({ format: 'jwk' }).x;
  if (raw === undefined) throw new Error('node:crypto exported an incomplete ed25519 JWK');
  return ED25519_PUBLIC_PREFIX + Buffer.from(raw, 'base64url').toString('base64');
}

/** `whsec_…` → an HMAC key, checked for the spec's 24–64 byte length. */
export function decodeHmacSecret(secret: string): KeyObject {
  const bytes = decodePrefixed(secret, HMAC_SECRET_PREFIX, 'HMAC secret');
  if (bytes.length < MIN_HMAC_SECRET_BYTES || bytes.length > MAX_HMAC_SECRET_BYTES) {
    throw new RangeError(
      `an HMAC secret must decode to ${MIN_HMAC_SECRET_BYTES} to ${MAX_HMAC_SECRET_BYTES} bytes, this one has ${bytes.length}`,
    );
  }
  return createSecretKey(bytes);
}

/** `whsk_…` → an ed25519 private key. */
export function decodeEd25519Secret(secret: string): KeyObject {
  const seed = decodePrefixed(secret, ED25519_SECRET_PREFIX, 'ed25519 secret');
  if (seed.length !== ED25519_KEY_BYTES) {
    throw new RangeError(
      `an ed25519 secret must decode to ${ED25519_KEY_BYTES} bytes, this one has ${seed.length}`,
    );
  }
  return createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  });
}

/** `whpk_…` → an ed25519 public key (what a receiver verifies `v1a` signatures with). */
export function decodeEd25519PublicKey(publicKey: string): KeyObject {
  const raw = decodePrefixed(publicKey, ED25519_PUBLIC_PREFIX, 'ed25519 public key');
  if (raw.length !== ED25519_KEY_BYTES) {
    throw new RangeError(
      `an ed25519 public key must decode to ${ED25519_KEY_BYTES} bytes, this one has ${raw.length}`,
    );
  }
  return createPublicKey({
    key: Buffer.concat([SPKI_ED25519_PREFIX, raw]),
    format: 'der',
    type: 'spki',
  });
}

function decodePrefixed(value: string, prefix: string, what: string): Buffer {
  if (typeof value !== 'string' || !value.startsWith(prefix)) {
    throw new TypeError(`an ${what} must start with "${prefix}"`);
  }
  const body = value.slice(prefix.length);
  if (body.length === 0 || !BASE64.test(body)) {
    throw new TypeError(`an ${what} must be "${prefix}" followed by standard base64`);
  }
  return Buffer.from(body, 'base64');
}
