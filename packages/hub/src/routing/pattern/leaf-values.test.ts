import { describe, expect, it } from 'vitest';
import { EventLeaves } from './event-leaves.ts';
import { compileMatcher, testLeaf } from './leaf-matcher.ts';
import { PathValues } from './leaf-values.ts';
import { indexMatchers } from './matcher-set.ts';

/** One path's leaves holding `values` (in arrays: trail numbers do not matter here). */
function pathValues(values: readonly unknown[]): PathValues {
  const leaves = new EventLeaves(1);
  leaves.reset();
  for (const value of values) leaves.add(0, value, 0);
  return new PathValues(leaves, 0);
}

const VOCABULARY: unknown[] = [
  '',
  'x',
  'xy',
  'Xy',
  'xay',
  'XAY',
  'abc',
  'abcbc',
  'a-b-c',
  'y\nx',
  'x.png',
  '10.0.0.1',
  '2001:db8::7',
  'ß',
  '3',
  3,
  0,
  -2,
  3.5,
  300,
  true,
  null,
];

const MATCHERS: unknown[] = [
  'x',
  3,
  '3',
  null,
  { prefix: 'x' },
  { prefix: 'ab' },
  { suffix: 'bc' },
  { suffix: 'y' },
  { prefix: { 'equals-ignore-case': 'XA' } },
  { suffix: { 'equals-ignore-case': 'AY' } },
  { 'equals-ignore-case': 'XAY' },
  { wildcard: '*' },
  { wildcard: '*bc*c' },
  { wildcard: 'a*cb*' },
  { wildcard: 'a*b*c' },
  { wildcard: '*y\nx*' },
  { wildcard: '*.png' },
  { wildcard: 'x*' },
  { numeric: ['>', 0, '<=', 3] },
  { numeric: ['>=', 3.5] },
  { numeric: ['<', -2] },
  { numeric: ['=', 300] },
  { cidr: '10.0.0.0/8' },
  { cidr: '2001:db8::/32' },
  { exists: true },
  { 'anything-but': [3, '3', 'x', 'xy', 0] },
  { 'anything-but': 'x' },
  { 'anything-but': { prefix: 'x' } },
  { 'anything-but': { suffix: 'y' } },
  { 'anything-but': { 'equals-ignore-case': ['XY', 'abc', 'xay', '3'] } },
  { 'anything-but': { wildcard: ['x*', '*c'] } },
];

describe('PathValues', () => {
  it('says whether some value meets a matcher exactly as testing every value does', () => {
    // Every matcher against value sets that are all excluded, all sharing a prefix or a
    // suffix, mixed types, and the `*M*` search finding a non-matching value first.
    const sets: unknown[][] = [
      [],
      ['x', 'xy', 'xay', 'x.png'],
      [3, '3', 'x', 'xy', 0],
      [3, '3', 'x', 'xy', 0, 'abc'],
      ['xy', 'Xy', 'xay', 'XAY'],
      ['abc', 'abcbc'],
      ['abc', 'a-b-c', 'y\nx'],
      ['a', 'cb', 'acb'],
      [0, -2, 3.5, 300],
      ['ab', 'xab'],
      VOCABULARY,
    ];
    for (let i = 0; i < VOCABULARY.length; i++)
      sets.push(VOCABULARY.filter((_, j) => j % 4 === i % 4));
    for (const values of sets) {
      const path = pathValues(values);
      for (const raw of MATCHERS) {
        const m = compileMatcher(raw);
        expect({ values, raw, meets: path.someMeets([m], null) }).toEqual({
          values,
          raw,
          meets: values.some((v) => testLeaf(m, v)),
        });
      }
      // Conditions of several matchers, tried through the values or through the matchers.
      for (let k = 0; k + 6 <= MATCHERS.length; k += 3) {
        const matchers = MATCHERS.slice(k, k + 6).map(compileMatcher);
        expect(path.someMeets(matchers, indexMatchers(matchers))).toBe(
          values.some((v) => matchers.some((m) => testLeaf(m, v))),
        );
      }
    }
  });
});
