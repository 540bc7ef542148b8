import { describe, expect, it } from 'vitest';
import {
  decodeEd25519PublicKey,
  decodeEd25519Secret,
  decodeHmacSecret,
  ed25519PublicKeyOf,
  generateEd25519KeyPair,
  generateSecret,
} from './secrets.ts';

const decodedLength = (secret: string, prefix: string) =>
  Buffer.from(secret.slice(prefix.length), 'base64').length;

describe('generateSecret', () => {
  it('makes whsec_ + base64 of 32 random bytes by default', () => {
    const secret = generateSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/);
    expect(decodedLength(secret, 'whsec_')).toBe(32);
    expect(generateSecret()).not.toBe(secret);
  });

  it.each([24, 64])('accepts %i bytes (the spec bounds)', (bytes) => {
    expect(decodedLength(generateSecret(bytes), 'whsec_')).toBe(bytes);
  });

  it.each([0, 23, 65, 24.5, Number.NaN])('refuses %s bytes', (bytes) => {
    expect(() => generateSecret(bytes)).toThrow(RangeError);
  });
});

describe('decoding secrets', () => {
  it('refuses HMAC secrets outside 24–64 bytes without echoing them', () => {
    const short = 'whsec_' + Buffer.alloc(16, 7).toString('base64');
    const long = 'whsec_' + Buffer.alloc(65, 7).toString('base64');
    for (const secret of [short, long]) {
      expect(() => decodeHmacSecret(secret)).toThrow(RangeError);
      try {
        decodeHmacSecret(secret);
      } catch (err) {
        expect((err as Error).message).not.toContain(secret.slice(6));
      }
    }
  });

  it('refuses a wrong prefix and junk base64', () => {
    const body = Buffer.alloc(32, 1).toString('base64');
    expect(() => decodeHmacSecret(body)).toThrow(/start with "whsec_"/);
    expect(() => decodeHmacSecret('whsk_' + body)).toThrow(/start with "whsec_"/);
    expect(() => decodeHmacSecret('whsec_' + body.slice(0, -1) + '!')).toThrow(/base64/);
    expect(() => decodeHmacSecret('whsec_')).toThrow(/base64/);
  });

  it('wants exactly 32 bytes for ed25519 keys', () => {
    expect(() => decodeEd25519Secret('whsk_' + Buffer.alloc(64, 1).toString('base64'))).toThrow(
      RangeError,
    );
    expect(() => decodeEd25519PublicKey('whpk_' + Buffer.alloc(31, 1).toString('base64'))).toThrow(
      RangeError,
    );
  });
});

describe('generateEd25519KeyPair', () => {
  it('makes a whsk_ 32-byte seed and its whpk_ 32-byte raw public key', () => {
    const { secret, publicKey } = generateEd25519KeyPair();
    expect(secret).toMatch(/^whsk_/);
    expect(publicKey).toMatch(/^whpk_/);
    expect(decodedLength(secret, 'whsk_')).toBe(32);
    expect(decodedLength(publicKey, 'whpk_')).toBe(32);
    expect(ed25519PublicKeyOf(secret)).toBe(publicKey);
    expect(decodeEd25519Secret(secret).asymmetricKeyType).toBe('ed25519');
  });
});
