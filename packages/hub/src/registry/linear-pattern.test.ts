/**
 * The linear-time matcher behind `pattern` and `patternProperties`: the same answers as
 * the native engine, without its catastrophic backtracking, and a clear refusal for what
 * cannot run in linear time.
 */
import { describe, expect, it } from 'vitest';
import { compileLinearPattern, UnsupportedPattern } from './linear-pattern.ts';

describe('linear-time patterns', () => {
  const patterns = [
    '^[A-Z]{3}-\\d{4}$',
    '^[a-z]+(-[a-z]+)*$',
    '^(a|ab)*c$',
    'a|b|',
    '\\bfoo\\b',
    '\\Bo',
    '^.$',
    '^[^]$',
    '^\\p{L}+$',
    '^[\\u{1F600}-\\u{1F64F}]$',
    '^\\uD83D\\uDE00$',
    '(?<year>\\d{4})-(?<month>\\d\\d)',
    '^a{2,3}$',
    '^a{2,}?$',
    '^[\\]\\-a]+$',
    '^\\x41\\u0042\\cJ\\0$',
    '^(|a)+$',
    '^\\w+@\\w+\\.\\w+$',
    '\\$$',
    '',
    // Where ECMA-262 and RE2 differ (the pattern is rewritten): whitespace, `.`, classes.
    '^\\s+$',
    '^\\S+$',
    '^[\\s\\S]$',
    '^[^\\s]+$',
    '^[\\S\\d]+$',
    '^a.b$',
    '^[\\b]$',
    '^[]$',
    '^\\p{Script=Greek}+$',
    '^\\P{L}$',
    '^[\\w.+-]+@[\\w-]+\\.[\\w.-]+$',
  ];
  const strings = ['', 'a', 'aa', 'aaa', 'ab', 'abc', 'aab', 'a-b', 'a-', 'ABC-1234', 'foo bar'];
  strings.push('foobar', '\n', '😀', 'é', '2024-01', 'a@b.c', ']', '-', 'AB\n\u0000', '$');
  strings.push(' \t', '\u00a0\u3000', 'a\rb', 'a\u2028b', 'a\u0085b', '\b', 'αβγ', 'a.b+c@d-e.f');

  it('answers as the native engine does', () => {
    for (const pattern of patterns) {
      const native = new RegExp(pattern, 'u');
      const linear = compileLinearPattern(pattern);
      for (const text of strings) {
        expect([pattern, text, linear.test(text)]).toEqual([pattern, text, native.test(text)]);
      }
    }
  });

  it('answers patterns that backtrack catastrophically at once', () => {
    // The native engine would take longer than the age of the universe on the first and
    // minutes on the second.
    expect(compileLinearPattern('^(a+)+$').test('a'.repeat(100_000) + '!')).toBe(false);
    expect(compileLinearPattern('[a-z]+@').test('a'.repeat(200_000))).toBe(false);
    expect(compileLinearPattern('^(\\w+\\s?)*$').test('word '.repeat(10_000) + '!')).toBe(false);
    // Many states, a long string: still one pass (an automaton, not n × states steps).
    expect(compileLinearPattern('[a-z]{0,999}x').test('a'.repeat(256 * 1024))).toBe(false);
  });

  it('refuses lookarounds, backreferences and repetitions too large to expand', () => {
    for (const pattern of [
      '(?=a)a',
      '(?<!a)b',
      '(a)\\1',
      '(?<x>a)\\k<x>',
      'a{5000}',
      '(a{100}){100}',
    ]) {
      expect(() => compileLinearPattern(pattern), pattern).toThrow(UnsupportedPattern);
    }
    expect(() => compileLinearPattern('(')).toThrow(SyntaxError);
  });
});
