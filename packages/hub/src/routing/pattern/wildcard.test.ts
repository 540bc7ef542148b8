import { describe, expect, it } from 'vitest';
import { matchesWildcardSegments, parseWildcard } from './wildcard.ts';

describe('wildcard', () => {
  it('splits on unescaped stars and unescapes the rest', () => {
    expect(parseWildcard('a*b\\*c*\\\\')).toEqual({ ok: true, segments: ['a', 'b*c', '\\'] });
    expect(parseWildcard('plain')).toEqual({ ok: true, segments: ['plain'] });
    expect(parseWildcard('*')).toEqual({ ok: true, segments: ['', ''] });
  });

  it('matches head, tail and middle segments without overlapping them', () => {
    expect(matchesWildcardSegments(['ab', 'ba'], 'aba')).toBe(false);
    expect(matchesWildcardSegments(['ab', 'ba'], 'abba')).toBe(true);
    expect(matchesWildcardSegments(['a', 'b', 'b', 'c'], 'abbc')).toBe(true);
    expect(matchesWildcardSegments(['a', 'b', 'b', 'c'], 'abc')).toBe(false);
  });
});
