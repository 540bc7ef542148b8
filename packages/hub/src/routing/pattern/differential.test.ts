import { describe, expect, it } from 'vitest';
import { naiveMatch, RuleMatcher, validatePattern, type Pattern } from './index.ts';
import { FEW_LEAVES } from './leaf-values.ts';
import { MAX_LISTED_MATCHERS } from './matcher-set.ts';

/**
 * RuleMatcher against the reference interpreter on seeded random rules and events. The
 * vocabulary is small on purpose, so that fields, values and arrays collide often.
 */

/** The ids of the rules the naive interpreter says `event` matches, sorted. */
const naiveIds = (rules: readonly { id: string; pattern: Pattern }[], event: unknown): string[] =>
  rules
    .filter((r) => naiveMatch(r.pattern, event))
    .map((r) => r.id)
    .sort();

/** Both entry points of the matcher agree with the naive interpreter; the number of matches. */
function expectNaiveResult(
  matcher: RuleMatcher,
  rules: readonly { id: string; pattern: Pattern }[],
  event: Record<string, unknown>,
): number {
  const expected = naiveIds(rules, event);
  expect(matcher.match(event).sort()).toEqual(expected);
  expect(matcher.matchJson(JSON.stringify(event)).sort()).toEqual(expected);
  return expected.length;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Random = () => number;
const pick = <T>(random: Random, items: readonly T[]): T =>
  items[Math.floor(random() * items.length)] as T;

const KEYS = ['a', 'b', 'c'];
const STRINGS = [
  'x',
  'xy',
  'Xy',
  'yx',
  'abc',
  'ABC',
  'a*b',
  'a\\b',
  '',
  '10.0.0.1',
  '10.0.1.5',
  '::1',
  '2001:db8::7',
  'ß',
  'x.png',
];
const NUMBERS = [0, 1, 3, 3.5, 5, -2, 300, 1e3];
const LEAVES: unknown[] = [...STRINGS, ...NUMBERS, true, false, null];

function randomEventValue(random: Random, depth: number): unknown {
  const r = random();
  if (depth >= 3 || r < 0.45) return pick(random, LEAVES);
  if (r < 0.75) return randomEventObject(random, depth + 1);
  const length = Math.floor(random() * 4);
  return Array.from({ length }, () => randomEventValue(random, depth + 1));
}

function randomEventObject(random: Random, depth: number): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  for (const key of KEYS) if (random() < 0.6) object[key] = randomEventValue(random, depth);
  return object;
}

function randomMatcher(random: Random): unknown {
  switch (Math.floor(random() * 14)) {
    case 0:
    case 1:
      return pick(random, LEAVES);
    case 2:
      return {
        prefix:
          random() < 0.7
            ? pick(random, ['x', 'a', '10.0.', ''])
            : { 'equals-ignore-case': pick(random, ['X', 'a']) },
      };
    case 3:
      return {
        suffix:
          random() < 0.7
            ? pick(random, ['y', 'c', '.png'])
            : { 'equals-ignore-case': pick(random, ['Y', 'BC']) },
      };
    case 4:
      return { 'equals-ignore-case': pick(random, ['xy', 'ABC', 'SS', 'ß']) };
    case 5:
      return {
        wildcard: pick(random, ['x*', '*y', 'a\\*b', '*b*', 'x*y', '*', 'a\\\\b', '*.png', 'a*c']),
      };
    case 6:
      return { 'anything-but': pick<unknown>(random, ['x', 3, ['x', 'xy'], [0, 5], 'abc']) };
    case 7:
      return {
        'anything-but': pick<unknown>(random, [
          { prefix: 'x' },
          { suffix: 'c' },
          { 'equals-ignore-case': ['XY', 'abc'] },
          { 'equals-ignore-case': 'Xy' },
          { wildcard: ['x*', '*c'] },
          { wildcard: 'a*' },
        ]),
      };
    case 8:
    case 9: {
      const a = pick(random, NUMBERS);
      const b = pick(random, NUMBERS);
      const r = random();
      if (r < 0.25) return { numeric: ['=', a] };
      if (r < 0.5) return { numeric: [pick(random, ['<', '<=', '>', '>=']), a] };
      const [lo, hi] = a <= b ? [a, b] : [b, a];
      return { numeric: [pick(random, ['>', '>=']), lo, pick(random, ['<', '<=']), hi] };
    }
    case 10:
      return {
        cidr: pick(random, [
          '10.0.0.0/24',
          '10.0.0.0/8',
          '10.0.1.5',
          '::/0',
          '2001:db8::/32',
          '::1/128',
          '0.0.0.0/0',
        ]),
      };
    case 11:
      return { exists: true };
    default:
      return { exists: false };
  }
}

function randomPatternObject(random: Random, depth: number): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  const fields = 1 + Math.floor(random() * 2.5);
  for (let i = 0; i < fields; i++) {
    const key = pick(random, KEYS);
    if (depth < 2 && random() < 0.35) {
      object[key] = randomPatternObject(random, depth + 1);
    } else {
      object[key] = Array.from({ length: 1 + Math.floor(random() * 2.2) }, () =>
        randomMatcher(random),
      );
    }
  }
  if (depth < 2 && random() < 0.15) {
    object['$or'] = Array.from({ length: 2 + Math.floor(random() * 2) }, () =>
      randomPatternObject(random, depth + 1),
    );
  }
  return object;
}

function randomValidPattern(random: Random): Pattern {
  for (;;) {
    const pattern = randomPatternObject(random, 0);
    if (validatePattern(pattern).length === 0) return pattern;
  }
}

describe('RuleMatcher agrees with naiveMatch (seeded random rules and events)', () => {
  it('on thousands of events against random rule sets', () => {
    const random = mulberry32(20240611);
    let cases = 0;
    let matches = 0;
    for (let round = 0; round < 100; round++) {
      const rules = Array.from({ length: 40 }, (_, i) => ({
        id: `r${i}`,
        pattern: randomValidPattern(random),
      }));
      const matcher = RuleMatcher.build(rules);
      for (let e = 0; e < 30; e++) {
        const event = randomEventObject(random, 0);
        const expected = naiveIds(rules, event);
        const got = matcher.match(event).sort();
        if (got.join() !== expected.join()) {
          // Narrow the failure to one rule for a readable message.
          const rule = rules.find((r) => got.includes(r.id) !== expected.includes(r.id));
          expect({ rule, event, indexed: got.includes(rule!.id) }).toEqual({
            rule,
            event,
            indexed: !got.includes(rule!.id),
          });
        }
        expect(matcher.matchJson(JSON.stringify(event)).sort()).toEqual(expected);
        cases++;
        matches += expected.length;
      }
    }
    expect(cases).toBe(3000);
    // The generator must produce matches often enough for the comparison to mean something.
    expect(matches).toBeGreaterThan(cases * 2);
  });

  it('on array-heavy events (array consistency and exists: false under arrays)', () => {
    const random = mulberry32(7);
    const keyed = (r: Random): Record<string, unknown> => {
      const o: Record<string, unknown> = {};
      for (const k of KEYS)
        if (r() < 0.5) o[k] = r() < 0.3 ? [pick(r, LEAVES), pick(r, LEAVES)] : pick(r, LEAVES);
      return o;
    };
    let cases = 0;
    for (let round = 0; round < 100; round++) {
      const rules = Array.from({ length: 30 }, (_, i) => ({
        id: `r${i}`,
        pattern: { items: randomPatternObject(random, 1) } as Pattern,
      })).filter((r) => validatePattern(r.pattern).length === 0);
      const matcher = RuleMatcher.build(rules);
      for (let e = 0; e < 20; e++) {
        const event = {
          items: Array.from({ length: Math.floor(random() * 4) }, () =>
            random() < 0.2 ? [keyed(random), keyed(random)] : keyed(random),
          ),
        };
        expectNaiveResult(matcher, rules, event);
        cases++;
      }
    }
    expect(cases).toBe(2000);
  });

  it('with conditions of many matchers of mixed kinds (indexed per condition), on events with arrays', () => {
    // Conditions above MAX_LISTED_MATCHERS are tested through a MatcherSet, not one by one.
    const random = mulberry32(4242);
    const positive = (r: Random): unknown => {
      for (;;) {
        const m = randomMatcher(r);
        if (!(typeof m === 'object' && m !== null && 'exists' in m && m.exists === false)) return m;
      }
    };
    const longCondition = (r: Random): unknown[] =>
      Array.from({ length: MAX_LISTED_MATCHERS + 1 + Math.floor(r() * 12) }, () => positive(r));
    let cases = 0;
    let matches = 0;
    for (let round = 0; round < 60; round++) {
      const rules = Array.from({ length: 25 }, (_, i) => {
        const pattern: Record<string, unknown> = { [pick(random, KEYS)]: longCondition(random) };
        if (random() < 0.5) pattern[pick(random, KEYS)] = longCondition(random);
        if (random() < 0.4) pattern['items'] = { [pick(random, KEYS)]: longCondition(random) };
        return { id: `r${i}`, pattern: pattern as Pattern };
      }).filter((r) => validatePattern(r.pattern).length === 0);
      const matcher = RuleMatcher.build(rules);
      for (let e = 0; e < 25; e++) {
        const event = randomEventObject(random, 0);
        for (const key of KEYS)
          if (random() < 0.4) event[key] = Array.from({ length: 3 }, () => pick(random, LEAVES));
        event['items'] = Array.from({ length: Math.floor(random() * 3) }, () =>
          randomEventObject(random, 2),
        );
        matches += expectNaiveResult(matcher, rules, event);
        cases++;
      }
    }
    expect(cases).toBe(1500);
    expect(matches).toBeGreaterThan(cases);
  });

  it('with crowded index entries (alternatives refiled into nested indexes)', () => {
    // Few fields and values, many rules: every index entry is shared by dozens of rules.
    const random = mulberry32(99);
    const values: unknown[] = ['p', 'q', 'pq', 1, 2, 3, null];
    const condition = (r: Random): unknown[] => {
      switch (Math.floor(r() * 6)) {
        case 0:
        case 1:
          return [pick(r, values)];
        case 2:
          return [{ prefix: pick(r, ['p', 'q']) }];
        case 3:
          return [{ numeric: ['>=', pick(r, [1, 2]), '<=', 3] }];
        case 4:
          return [{ 'anything-but': pick(r, ['p', 'q']) }];
        default:
          return [pick(r, values), { exists: r() < 0.5 }];
      }
    };
    let cases = 0;
    for (let round = 0; round < 10; round++) {
      const rules = Array.from({ length: 300 }, (_, i) => {
        const pattern: Record<string, unknown> = {};
        for (const field of ['f1', 'f2', 'f3', 'f4'])
          if (random() < 0.6) pattern[field] = condition(random);
        if (Object.keys(pattern).length === 0) pattern['f1'] = condition(random);
        return { id: `r${i}`, pattern: { data: pattern } as Pattern };
      });
      const matcher = RuleMatcher.build(rules);
      for (let e = 0; e < 100; e++) {
        const data: Record<string, unknown> = {};
        for (const field of ['f1', 'f2', 'f3', 'f4']) {
          if (random() < 0.8)
            data[field] =
              random() < 0.15 ? [pick(random, values), pick(random, values)] : pick(random, values);
        }
        const event = { data };
        const expected = naiveIds(rules, event);
        expect(matcher.match(event).sort()).toEqual(expected);
        cases++;
      }
    }
    expect(cases).toBe(1000);
  });

  it('with prefixes, suffixes and head*tail wildcards of many lengths (unicode, empty, shared stems)', () => {
    // A tiny alphabet: keys of one length differ in a single character, keys extend one
    // another, and values hit long chains of them. '😀' is two UTF-16 units, 'ß' folds to
    // itself but 'ẞ' to 'ß', 'İ' folds to two units.
    const random = mulberry32(4242);
    const units = ['a', 'b', 'A', '😀', 'ß', 'ẞ', 'İ', '\u0301'];
    const text = (r: Random, max: number): string =>
      Array.from({ length: Math.floor(r() * (max + 1)) }, () => pick(r, units)).join('');
    const stems = Array.from({ length: 6 }, () => text(random, 12));
    // A key: a stem, cut or extended, so keys share long prefixes (and suffixes).
    const key = (r: Random): string => {
      const stem = pick(r, stems);
      return r() < 0.5 ? stem.slice(0, Math.floor(r() * (stem.length + 1))) : stem + text(r, 3);
    };
    const escapeWildcard = (t: string) => t.replace(/[\\*]/g, '\\$&');
    const matcher = (r: Random): unknown => {
      switch (Math.floor(r() * 6)) {
        case 0:
          return { prefix: key(r) };
        case 1:
          return { suffix: key(r) };
        case 2:
          return { prefix: { 'equals-ignore-case': key(r) } };
        case 3:
          return { suffix: { 'equals-ignore-case': key(r) } };
        case 4:
          return { wildcard: `${escapeWildcard(key(r))}*${escapeWildcard(key(r))}` };
        default:
          return { wildcard: `${escapeWildcard(key(r))}*${r() < 0.5 ? '' : 'b*'}` };
      }
    };
    const value = (r: Random): string => {
      const x = r();
      if (x < 0.1) return '';
      if (x < 0.6) return pick(r, stems) + text(r, 4) + (r() < 0.5 ? pick(r, stems) : '');
      if (x < 0.8) return key(r);
      return text(r, 30);
    };
    let cases = 0;
    let matches = 0;
    for (let round = 0; round < 40; round++) {
      const rules = Array.from({ length: 60 }, (_, i) => ({
        id: `r${i}`,
        pattern: {
          a: Array.from({ length: 1 + Math.floor(random() * 3) }, () => matcher(random)),
        } as Pattern,
      })).filter((r) => validatePattern(r.pattern).length === 0);
      const built = RuleMatcher.build(rules);
      for (let e = 0; e < 25; e++) {
        const event = { a: random() < 0.3 ? [value(random), value(random)] : value(random) };
        matches += expectNaiveResult(built, rules, event);
        cases++;
      }
    }
    expect(cases).toBe(1000);
    expect(matches).toBeGreaterThan(cases);
  });

  it('with one-star wildcards proven by the index hit, and conditions shared by many rules', () => {
    // A one-star wildcard (H*T, H*, *T) is not tested again once the index found it, and
    // equal conditions of different rules are one object whose verdict is remembered per
    // event. Heads and tails overlap in short values, hold the pair key's separator
    // (U+FFFF), and conditions recur across rules and across events with and without arrays.
    const random = mulberry32(31337);
    const units = ['a', 'b', '\uffff'];
    const text = (r: Random, max: number): string =>
      Array.from({ length: Math.floor(r() * (max + 1)) }, () => pick(r, units)).join('');
    const wildcard = (r: Random): unknown => {
      const x = r();
      if (x < 0.5) return { wildcard: `${text(r, 3) || 'a'}*${text(r, 3) || 'b'}` };
      if (x < 0.65) return { wildcard: `${text(r, 3)}*` };
      if (x < 0.8) return { wildcard: `*${text(r, 3)}` };
      if (x < 0.9) return { wildcard: pick(r, ['*', text(r, 2), 'a*b*a']) };
      return pick(r, ['ab', 'a', 3]);
    };
    const shared = [
      ['t1'],
      ['t2'],
      [{ prefix: 't' }],
      [{ numeric: ['>', 1] }],
      [{ 'anything-but': 'b' }],
    ];
    let cases = 0;
    let matches = 0;
    for (let round = 0; round < 30; round++) {
      const rules = Array.from({ length: 60 }, (_, i) => {
        const data: Record<string, unknown> = {
          v: Array.from({ length: 1 + Math.floor(random() * 2) }, () => wildcard(random)),
        };
        if (random() < 0.7) data['w'] = pick(random, shared);
        const pattern: Record<string, unknown> = { data };
        if (random() < 0.8) pattern['tenantid'] = [pick(random, ['t1', 't2'])];
        return { id: `r${i}`, pattern: pattern as Pattern };
      }).filter((r) => validatePattern(r.pattern).length === 0);
      const matcher = RuleMatcher.build(rules);
      for (let e = 0; e < 40; e++) {
        const leaf = (): unknown => (random() < 0.85 ? text(random, 6) : pick(random, [0, 3]));
        const w = (): unknown => pick(random, ['t1', 't2', 'b', 'x', 0, 5]);
        const arrays = random() < 0.4;
        const event = {
          tenantid: pick(random, ['t1', 't2']),
          data: {
            v: arrays ? [leaf(), leaf(), leaf()] : leaf(),
            w: arrays && random() < 0.5 ? [w(), w()] : w(),
          },
        };
        matches += expectNaiveResult(matcher, rules, event);
        cases++;
      }
    }
    expect(cases).toBe(1200);
    expect(matches).toBeGreaterThan(cases);
  });

  it('with many unprovable conditions on one path against large arrays (checked through its distinct values)', () => {
    // Past FEW_LEAVES leaves on a path, "does some leaf meet this condition" is answered
    // from the path's distinct values once per event (sorted views, anything-but by its
    // complement), and the array walk's verdict is shared by candidates whose conditions
    // in arrays are equal. Values collide across types ('3' and 3, '' and 0), anything-but
    // lists exclude several values or all of an event's, and rules differ only in a
    // top-level condition, so that many candidates reach the walk with equal array parts.
    const random = mulberry32(65536);
    const values: unknown[] = [...LEAVES, '3', '0', '1e3', 'a-b-c', 'xay', 'XAY', 'y\nx', 'abcbc'];
    const extra: unknown[] = [
      { 'anything-but': [3, '3', 'x', 'xy', 0] },
      { 'anything-but': STRINGS },
      { 'anything-but': [...STRINGS, ...NUMBERS] },
      { 'anything-but': { 'equals-ignore-case': ['XY', 'abc', 'xay', '3'] } },
      { 'anything-but': { prefix: 'x' } },
      { 'anything-but': { suffix: 'y' } },
      { wildcard: 'a*b*c' },
      { wildcard: '*a*' },
      { wildcard: 'x*a*y' },
      { wildcard: '*y\nx*' },
      { wildcard: '*bc*c' },
      { wildcard: 'a*cb*' },
      { wildcard: '*.png' },
      { numeric: ['>=', 3, '<', 300] },
      { prefix: { 'equals-ignore-case': 'XA' } },
      { suffix: { 'equals-ignore-case': 'AY' } },
      { suffix: 'bc' },
      { suffix: 'ay' },
      { 'equals-ignore-case': 'XAY' },
      { exists: false },
    ];
    const matcher = (r: Random): unknown => (r() < 0.5 ? pick(r, extra) : randomMatcher(r));
    const condition = (r: Random): unknown[] =>
      Array.from({ length: 1 + Math.floor(r() * (r() < 0.2 ? 8 : 2)) }, () => matcher(r));
    let cases = 0;
    let matches = 0;
    for (let round = 0; round < 40; round++) {
      const rules = Array.from({ length: 50 }, (_, i) => {
        const items: Record<string, unknown> = { a: condition(random) };
        if (random() < 0.5) items['b'] = condition(random);
        const pattern: Record<string, unknown> = {
          tenantid: [pick(random, ['t1', 't2'])],
          kind: [pick(random, ['k1', 'k2', 'k3'])],
          items: random() < 0.3 ? { a: items['a'] } : items,
        };
        if (random() < 0.3) pattern['list'] = condition(random);
        if (random() < 0.1) pattern['flag'] = [{ exists: false }];
        return { id: `r${i}`, pattern: pattern as Pattern };
      }).filter((r) => validatePattern(r.pattern).length === 0);
      const matcher = RuleMatcher.build(rules);
      for (let e = 0; e < 20; e++) {
        // Some events draw from a narrow palette: all excluded but one, all with one prefix.
        const palette = pick(random, [
          values,
          values,
          [3, '3', 'x', 'xy', 0, 0, 0, 0, 'abc'],
          ['x', 'xy', 'xay', 'x.png', 'xAY'],
          ['xy', 'yx', 'Xy', 'abc', 'ABC'],
          ['x', 'xy', 'abc', 'a*b'],
          ['abc', 'abcbc', 'a-b-c', 'y', 'y\nx', 'xa'],
          NUMBERS,
        ]);
        // A few values of the palette first, then one filler value: the leaves tried one by
        // one (the last FEW_LEAVES) often all fail a condition, and the path's distinct
        // values decide it.
        const filler = pick(random, palette);
        const rare = Math.floor(random() * 6);
        const value = (i: number): unknown =>
          i < rare || random() < 0.01 ? pick(random, palette) : filler;
        const few = random() < 0.3;
        const length = few
          ? Math.floor(random() * 4)
          : rare + FEW_LEAVES + Math.floor(random() * 8);
        const element = (_: unknown, i: number): Record<string, unknown> => {
          const o: Record<string, unknown> = {};
          if (random() < 0.9) o['a'] = value(i);
          if (random() < 0.6) o['b'] = random() < 0.2 ? [value(i)] : value(i);
          return o;
        };
        const event = {
          tenantid: pick(random, ['t1', 't2']),
          kind: pick(random, ['k1', 'k2', 'k3']),
          items: Array.from({ length }, element),
          list: Array.from({ length: few ? 2 : length }, (_, i) => value(i)),
          ...(random() < 0.5 ? { flag: pick(random, values) } : {}),
        };
        matches += expectNaiveResult(matcher, rules, event);
        cases++;
      }
    }
    expect(cases).toBe(800);
    expect(matches).toBeGreaterThan(cases / 2);
  });
});
