import { afterEach, describe, expect, it, vi } from 'vitest';
import { RuleMatcher } from './index.ts';
import { compileMatcher, testLeaf } from './leaf-matcher.ts';
import { MatcherSet } from './matcher-set.ts';

afterEach(() => vi.restoreAllMocks());

const VALUES: unknown[] = [
  ...['', 'x', 'xy', 'Xy', 'abc', 'ABC', 'a*b', 'x.png', '10.0.0.1', '::1', 'ß', 'SS', 'b7_3'],
  ...[-2, 0, 1, 3, 3.5, 5, 7, 300, 1e3],
  ...[true, false, null],
];

describe('MatcherSet', () => {
  it('agrees with trying each matcher (touching and nested ranges, anything-but of one kind)', () => {
    const lists: unknown[][] = [
      [{ numeric: ['>', 0, '<', 3] }, { numeric: ['>=', 3, '<', 5] }, { numeric: ['>', 5] }],
      [{ numeric: ['>', 0, '<', 3] }, { numeric: ['>', 3, '<=', 5] }, { numeric: ['=', 3] }],
      [{ numeric: ['>', 0, '<', 300] }, { numeric: ['>=', 1, '<=', 3] }, { numeric: ['<', -2] }],
      [{ numeric: ['>=', 0, '<=', 3] }, { numeric: ['>', 1, '<', 3] }, { numeric: ['<', 0] }],
      [{ numeric: ['>', 3, '<', 3] }, { numeric: ['>=', 3, '<', 3] }, { numeric: ['=', 5] }],
      [{ 'anything-but': [0, 1] }, { 'anything-but': [1, 'x'] }, { 'anything-but': 1 }],
      [{ 'anything-but': [0] }, { 'anything-but': ['x'] }],
      [{ 'anything-but': { prefix: 'x' } }, { 'anything-but': { prefix: 'xy' } }],
      [{ 'anything-but': { prefix: 'x' } }, { 'anything-but': { prefix: 'a' } }],
      [{ 'anything-but': { suffix: 'y' } }, { 'anything-but': { suffix: 'xy' } }],
      [
        { 'anything-but': { 'equals-ignore-case': ['XY', 'abc'] } },
        { 'anything-but': { 'equals-ignore-case': 'Xy' } },
      ],
      [{ 'anything-but': { wildcard: 'x*' } }, { 'anything-but': { wildcard: ['*y', 'a*'] } }],
      ['x', 3, true, null, { prefix: 'a' }, { suffix: '.png' }, { 'equals-ignore-case': 'ss' }],
      [{ prefix: { 'equals-ignore-case': 'X' } }, { suffix: { 'equals-ignore-case': 'BC' } }],
      [{ wildcard: 'a\\*b' }, { wildcard: '*' }, { wildcard: 'x*y' }, { wildcard: 'a*b*c' }],
      [{ wildcard: 'x*' }, { wildcard: '*.png' }, { wildcard: 'a*c*' }, { wildcard: 'b*_*3' }],
      [{ cidr: '10.0.0.0/8' }, { cidr: '::1/128' }, { exists: true }],
      [{ prefix: '' }, { suffix: '' }, { cidr: '0.0.0.0/0' }],
    ];
    for (const raw of [...lists, lists.flat()]) {
      const matchers = raw.map(compileMatcher);
      const set = new MatcherSet(matchers);
      for (const value of VALUES)
        expect([raw, value, set.has(value)]).toEqual([
          raw,
          value,
          matchers.some((m) => testLeaf(m, value)),
        ]);
    }
  });

  it('tests a number against many ranges without trying each', () => {
    const matchers = Array.from({ length: 500 }, (_, i) =>
      compileMatcher({ numeric: ['>', 2 * i, '<', 2 * i + 1] }),
    );
    let reads = 0;
    for (const m of matchers) {
      const lo = m.lo;
      Object.defineProperty(m, 'lo', { get: () => (reads++, lo) });
    }
    const set = new MatcherSet(matchers);
    reads = 0;
    for (let v = 0; v < 100; v++) expect(set.has(v + 0.5)).toBe(v % 2 === 0);
    expect(reads).toBe(0);
  });
});

describe('RuleMatcher verification with many matchers per condition', () => {
  // Every rule a candidate (shared x), each with a long list on v, against an array of
  // leaves: tried one by one that is rules × leaves × matchers tests (seconds of the
  // routing thread for 1000 rules of 16 KiB); indexed, rules × leaves lookups.
  const rules = (make: (r: number, i: number) => unknown) =>
    Array.from({ length: 40 }, (_, r) => ({
      id: `r${r}`,
      pattern: { x: ['hit'], v: Array.from({ length: 100 }, (_, i) => make(r, i)) },
    }));
  const event = (leaf: unknown) => ({ x: 'hit', v: Array.from({ length: 40 }, () => leaf) });

  it('reads a leaf a bounded number of times whatever the number of prefixes or suffixes', () => {
    for (const end of ['prefix', 'suffix'] as const) {
      const matcher = RuleMatcher.build(rules((r, i) => ({ [end]: `b${r}_${i}` })));
      const calls = [
        vi.spyOn(String.prototype, 'startsWith'),
        vi.spyOn(String.prototype, 'endsWith'),
        vi.spyOn(String.prototype, 'charCodeAt'),
      ];
      expect(matcher.match(event('a'))).toEqual([]);
      const work = calls.reduce((sum, spy) => sum + spy.mock.calls.length, 0);
      vi.restoreAllMocks();
      expect(work).toBeLessThan(40 * 40 * 4);
      expect(matcher.match({ x: 'hit', v: ['a', 'b7_3', 'zb7_3'] })).toEqual(['r7']);
    }
  });

  it('looks a leaf up a bounded number of times whatever the number of anything-but values', () => {
    const matcher = RuleMatcher.build(rules((r, i) => ({ 'anything-but': [0, r * 1000 + i] })));
    const has = vi.spyOn(Set.prototype, 'has');
    expect(matcher.match(event(0))).toEqual([]);
    const work = has.mock.calls.length;
    vi.restoreAllMocks();
    expect(work).toBeLessThan(40 * 40 * 4);
    expect(matcher.match({ x: 'hit', v: [0, 1] }).length).toBe(40);
  });
});
