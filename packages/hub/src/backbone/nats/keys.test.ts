import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keyOf } from './appender.ts';

describe('keyOf', () => {
  it('gives the keys that earlier versions stored (dedupe rows and message ids stay valid)', () => {
    // The original form: sha256 over tenant, a newline and the text, base64url.
    const stored = (tenant: string, text: string) =>
      createHash('sha256').update(tenant).update('\n').update(text).digest('base64url');
    for (const [tenant, text] of [
      ['acme', '/orders\u0000o-1'],
      ['a.b c', 'ü漢'],
      ['\ud800', 'lone surrogates'],
    ] as const)
      expect(keyOf(tenant, text)).toBe(stored(tenant, text));
    expect(keyOf('acme', '/orders\u0000o-1')).toBe('yGuLpOZekjsNTeIH9Hv2f9A5bj4W-cYU1nwIV2Vq8XI');
  });
});
