import { describe, expect, it } from 'vitest';
import { validatePattern } from './index.ts';

/** The single problem a pattern has: its pointer and (a part of) its detail. */
function problemOf(pattern: unknown): { pointer: string; detail: string } {
  const problems = validatePattern(pattern);
  expect(problems).toHaveLength(1);
  return problems[0]!;
}

describe('validatePattern', () => {
  it('accepts every matcher kind', () => {
    expect(
      validatePattern({
        type: ['incident.created', 'incident.updated'],
        source: [{ prefix: '/apps/' }, { suffix: { 'equals-ignore-case': '-DESK' } }],
        tenantid: [{ 'equals-ignore-case': 'ACME' }],
        data: {
          file: [{ wildcard: 'dir/*.png' }, { wildcard: 'a\\*b\\\\c' }],
          state: [{ 'anything-but': ['stopped', 'failed'] }],
          code: [{ 'anything-but': [1, 2] }, { 'anything-but': 3 }],
          region: [
            { 'anything-but': { prefix: 'us-' } },
            { 'anything-but': { wildcard: ['*/lib/*', '*.md'] } },
          ],
          owner: [null, true, false, 0, -1.5, ''],
          count: [{ numeric: ['>', 0, '<=', 5] }, { numeric: ['=', 3.018e2] }],
          ip: [{ cidr: '10.0.0.0/24' }, { cidr: '2001:db8::/32' }, { cidr: '192.168.0.1' }],
          gone: [{ exists: false }],
          $or: [{ a: ['1'] }, { b: { c: [{ exists: true }] } }],
        },
      }),
    ).toEqual([]);
  });

  it('wants an object at the top, with at least one field', () => {
    expect(problemOf(null)).toEqual({
      pointer: '',
      detail: expect.stringContaining('expected a JSON object'),
    });
    expect(problemOf(['a'])).toEqual({
      pointer: '',
      detail: expect.stringContaining('expected a JSON object'),
    });
    expect(problemOf('source')).toEqual({
      pointer: '',
      detail: expect.stringContaining('expected a JSON object'),
    });
    expect(problemOf({})).toEqual({ pointer: '', detail: 'expected at least one field' });
    expect(problemOf({ data: {} })).toEqual({
      pointer: '/data',
      detail: 'expected at least one field',
    });
  });

  it('wants values in arrays (a bare value is the commonest mistake)', () => {
    expect(problemOf({ type: 'incident.created' })).toEqual({
      pointer: '/type',
      detail: expect.stringContaining('values in a pattern are always arrays'),
    });
    expect(problemOf({ data: { n: 5 } }).pointer).toBe('/data/n');
    expect(problemOf({ data: { n: null } }).pointer).toBe('/data/n');
  });

  it('rejects empty arrays and nested arrays', () => {
    expect(problemOf({ type: [] })).toEqual({
      pointer: '/type',
      detail: 'expected a non-empty array of values or matchers',
    });
    expect(problemOf({ type: [['a']] })).toEqual({
      pointer: '/type/0',
      detail: 'expected a value or a matcher object, not a nested array',
    });
  });

  it('names an unknown matcher and lists the known ones', () => {
    const problem = problemOf({ data: { severity: ['high', { contains: 'x' }] } });
    expect(problem.pointer).toBe('/data/severity/1/contains');
    expect(problem.detail).toMatch(
      /unknown matcher "contains"; expected one of prefix, suffix, .*exists/,
    );
  });

  it('wants exactly one key in a matcher object', () => {
    expect(problemOf({ a: [{}] }).detail).toContain('exactly one key');
    expect(problemOf({ a: [{ prefix: 'x', suffix: 'y' }] })).toEqual({
      pointer: '/a/0',
      detail: expect.stringContaining('got 2 keys'),
    });
  });

  it('checks prefix, suffix and equals-ignore-case operands', () => {
    expect(problemOf({ a: [{ prefix: 5 }] })).toEqual({
      pointer: '/a/0/prefix',
      detail: expect.stringContaining('expected a string or {"equals-ignore-case": "..."}'),
    });
    expect(problemOf({ a: [{ suffix: { 'equals-ignore-case': 1 } }] }).pointer).toBe(
      '/a/0/suffix/equals-ignore-case',
    );
    expect(problemOf({ a: [{ suffix: { exact: 'x' } }] }).pointer).toBe('/a/0/suffix');
    expect(problemOf({ a: [{ 'equals-ignore-case': ['x'] }] }).pointer).toBe(
      '/a/0/equals-ignore-case',
    );
  });

  it('checks wildcard syntax: no **, only \\* and \\\\ escapes', () => {
    expect(problemOf({ f: [{ wildcard: 'a**b' }] })).toEqual({
      pointer: '/f/0/wildcard',
      detail: 'consecutive wildcard characters (**) are not allowed',
    });
    expect(problemOf({ f: [{ wildcard: 'a\\nb' }] }).detail).toContain(
      '"\\n" is not a valid escape',
    );
    expect(problemOf({ f: [{ wildcard: 'ab\\' }] }).detail).toContain('lone backslash');
    expect(problemOf({ f: [{ wildcard: 7 }] }).pointer).toBe('/f/0/wildcard');
    expect(validatePattern({ f: [{ wildcard: '\\**' }] })).toEqual([]); // a literal star, then a wildcard
  });

  it('checks anything-but operands', () => {
    expect(problemOf({ s: [{ 'anything-but': [] }] }).detail).toBe(
      'expected a non-empty array of strings or of numbers',
    );
    expect(problemOf({ s: [{ 'anything-but': ['a', 1] }] })).toEqual({
      pointer: '/s/0/anything-but',
      detail: 'expected only strings or only numbers, not a mix',
    });
    expect(problemOf({ s: [{ 'anything-but': ['a', null] }] }).pointer).toBe('/s/0/anything-but/1');
    expect(problemOf({ s: [{ 'anything-but': true }] }).pointer).toBe('/s/0/anything-but');
    expect(problemOf({ s: [{ 'anything-but': { numeric: ['>', 1] } }] })).toEqual({
      pointer: '/s/0/anything-but/numeric',
      detail: expect.stringContaining('unknown anything-but matcher "numeric"'),
    });
    expect(problemOf({ s: [{ 'anything-but': { prefix: '' } }] }).pointer).toBe(
      '/s/0/anything-but/prefix',
    );
    expect(problemOf({ s: [{ 'anything-but': { wildcard: ['ok*', 'a**'] } }] }).pointer).toBe(
      '/s/0/anything-but/wildcard/1',
    );
    expect(problemOf({ s: [{ 'anything-but': { prefix: 'a', suffix: 'b' } }] }).detail).toContain(
      'exactly one of',
    );
  });

  it('checks numeric ranges', () => {
    expect(problemOf({ data: { severity: [{ numeric: 5 }] } })).toEqual({
      pointer: '/data/severity/0/numeric',
      detail: expect.stringMatching(/^expected an array of operator\/number pairs like \[">", 0\]/),
    });
    expect(problemOf({ n: [{ numeric: ['>', 1, '<'] }] }).pointer).toBe('/n/0/numeric');
    expect(problemOf({ n: [{ numeric: ['=>', 1] }] })).toEqual({
      pointer: '/n/0/numeric/0',
      detail: 'unknown operator "=>"; expected one of "=", "<", "<=", ">", ">="',
    });
    expect(problemOf({ n: [{ numeric: ['>', '1'] }] }).pointer).toBe('/n/0/numeric/1');
    expect(problemOf({ n: [{ numeric: ['>', 1, '>', 2] }] }).detail).toContain('one lower bound');
    expect(problemOf({ n: [{ numeric: ['=', 1, '<', 2] }] }).detail).toContain(
      '"=" cannot be combined',
    );
    expect(problemOf({ n: [{ numeric: ['>', 5, '<', 3] }] }).detail).toBe(
      'the range is empty: no number is > 5 and < 3',
    );
    expect(problemOf({ n: [{ numeric: ['>', 5, '<=', 5] }] }).detail).toContain('empty');
    expect(validatePattern({ n: [{ numeric: ['>=', 5, '<=', 5] }] })).toEqual([]);
  });

  it('checks cidr blocks', () => {
    for (const bad of [
      '10.0.0.0/33',
      '10.0.0/8',
      '10.0.0.0/',
      '10.0.0.0/08',
      '2001:db8::/129',
      'fe80::1%eth0/64',
      'localhost',
      7,
    ]) {
      expect(problemOf({ ip: [{ cidr: bad }] })).toEqual({
        pointer: '/ip/0/cidr',
        detail: expect.stringContaining('expected an IPv4 or IPv6 CIDR block'),
      });
    }
  });

  it('wants exists to be true or false', () => {
    expect(problemOf({ a: [{ exists: 'yes' }] })).toEqual({
      pointer: '/a/0/exists',
      detail: 'expected true or false, got the string "yes"',
    });
  });

  it('wants $or to hold at least two pattern objects', () => {
    expect(problemOf({ $or: [{ a: ['x'] }] }).pointer).toBe('/$or');
    expect(problemOf({ $or: { a: ['x'] } }).detail).toContain('at least two pattern objects');
    expect(problemOf({ $or: [{ a: ['x'] }, 'b'] }).pointer).toBe('/$or/1');
    expect(problemOf({ $or: [{ a: ['x'] }, { b: 'y' }] }).pointer).toBe('/$or/1/b');
  });

  it('escapes pointer segments (RFC 6901)', () => {
    expect(problemOf({ 'a/b': { 'c~d': 'x' } }).pointer).toBe('/a~1b/c~0d');
  });

  it('reports every problem, not just the first', () => {
    const problems = validatePattern({
      a: 'x',
      b: [],
      c: [{ exists: 1 }],
      d: { e: [{ numeric: [] }] },
    });
    expect(problems.map((p) => p.pointer)).toEqual(['/a', '/b', '/c/0/exists', '/d/e/0/numeric']);
  });

  it('refuses patterns whose $or combinations explode', () => {
    const branches = (name: string) => [
      { [name]: ['1'] },
      { [name]: ['2'] },
      { [name]: ['3'] },
      { [name]: ['4'] },
    ];
    const pattern: Record<string, unknown> = { $or: branches('a') };
    let inner = pattern;
    for (const name of ['b', 'c', 'd', 'e', 'f']) {
      inner['x'] = { $or: branches(name) };
      inner = inner['x'] as Record<string, unknown>;
    }
    expect(problemOf(pattern)).toEqual({
      pointer: '',
      detail: expect.stringContaining('expands into 4096 alternatives'),
    });
  });
});
