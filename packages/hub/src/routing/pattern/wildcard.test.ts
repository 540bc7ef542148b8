import { describe, expect, it } from 'vitest';
import { indexOfSegment, matchesWildcardSegments, parseWildcard } from './wildcard.ts';

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

  it('finds long segments as indexOf does, in periodic and overlapping text too', () => {
    // Past 200 characters the search is Knuth-Morris-Pratt: V8's indexOf takes about
    // text × segment on "a…aba…a" in a run of "a"s.
    const a = (n: number) => 'a'.repeat(n);
    const cases: [string, string, number][] = [
      [a(5000), a(300) + 'b' + a(300), 0],
      [a(5000) + 'b' + a(400), a(300) + 'b' + a(300), 0],
      [a(5000) + 'b' + a(400), a(300) + 'b' + a(300), 4800],
      ['ab'.repeat(3000) + 'c', 'ab'.repeat(150) + 'c', 17],
      ['xy'.repeat(300), 'yx'.repeat(150), 0],
      ['xy'.repeat(300), 'yx'.repeat(150), 2],
      ['é😀'.repeat(200), '😀é'.repeat(120), 5],
    ];
    for (const [text, segment, from] of cases)
      expect(indexOfSegment(text, segment, from)).toBe(text.indexOf(segment, from));
    const segments = ['', a(4000) + 'b' + a(4000), ''];
    expect(matchesWildcardSegments(segments, a(100_000))).toBe(false);
    expect(matchesWildcardSegments(segments, a(50_000) + 'b' + a(50_000))).toBe(true);
  });
});
