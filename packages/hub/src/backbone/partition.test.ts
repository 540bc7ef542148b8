import { describe, expect, it } from 'vitest';
import { fnv1a32, partitionFor } from './partition.ts';

describe('partitionFor', () => {
  it('is FNV-1a 32 over UTF-8 (published test vectors)', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('hashes non-ASCII keys by their UTF-8 bytes', () => {
    // "é" is C3 A9 in UTF-8: the hash must differ from hashing the UTF-16 unit 0xE9.
    const manual = [0xc3, 0xa9].reduce((h, b) => Math.imul(h ^ b, 0x01000193), 0x811c9dc5) >>> 0;
    expect(fnv1a32('é')).toBe(manual);
  });

  it('keeps a key on one partition within range', () => {
    for (const key of ['acme', 'globex', 'initech', 'ümlaut-tenant']) {
      const p = partitionFor(key, 16);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(16);
      expect(partitionFor(key, 16)).toBe(p);
    }
  });
});
