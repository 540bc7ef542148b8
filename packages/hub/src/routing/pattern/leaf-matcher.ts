import { isPlainObject } from './validate.ts';
import { matchesWildcardSegments, parseWildcard } from './wildcard.ts';
import { addressBits, cidrBits } from './ip-bits.ts';

/**
 * One matcher of a pattern (`"x"`, `{"prefix": "x"}`, ...) compiled for the RuleMatcher:
 * the predicate on a single leaf value, plus what the index needs to file it.
 */

export const EXACT = 0;
export const PREFIX = 1;
export const SUFFIX = 2;
export const PREFIX_IGNORE_CASE = 3;
export const SUFFIX_IGNORE_CASE = 4;
export const EQUALS_IGNORE_CASE = 5;
export const WILDCARD = 6;
export const NUMERIC = 7;
export const CIDR = 8;
export const EXISTS = 9;
export const BUT_VALUES = 10;
export const BUT_PREFIX = 11;
export const BUT_SUFFIX = 12;
export const BUT_IGNORE_CASE = 13;
export const BUT_WILDCARD = 14;

/** One shape for every kind, so the hot predicate sees monomorphic property loads. */
export class LeafMatcher {
  readonly kind: number;
  /** EXACT: the value. */
  value: unknown = undefined;
  /** Prefix/suffix text (case-folded for the ignore-case kinds), folded text, or CIDR bit prefix. */
  text = '';
  /** WILDCARD: literal segments between stars. */
  segments: readonly string[] = NO_SEGMENTS;
  /** NUMERIC bounds. */
  lo = -Infinity;
  hi = Infinity;
  loInclusive = false;
  hiInclusive = false;
  /** BUT_VALUES / BUT_IGNORE_CASE: excluded values; BUT_WILDCARD: excluded wildcards. */
  excluded: Set<unknown> = EMPTY;
  excludedWildcards: readonly (readonly string[])[] = NO_WILDCARDS;

  constructor(kind: number) {
    this.kind = kind;
  }
}

const EMPTY: Set<unknown> = new Set();
// Shared by every matcher of another kind: 100k rules need 100k matchers or more.
const NO_SEGMENTS: readonly string[] = Object.freeze([]);
const NO_WILDCARDS: readonly (readonly string[])[] = Object.freeze([]);

export function foldCase(text: string): string {
  return text.toLowerCase();
}

/** Compiles one matcher of a valid pattern. */
export function compileMatcher(raw: unknown): LeafMatcher {
  if (!isPlainObject(raw)) {
    const m = new LeafMatcher(EXACT);
    m.value = raw;
    return m;
  }
  const name = Object.keys(raw)[0] as string;
  const operand = raw[name];
  switch (name) {
    case 'prefix':
    case 'suffix': {
      const ignoreCase = typeof operand !== 'string';
      const kind =
        name === 'prefix'
          ? ignoreCase
            ? PREFIX_IGNORE_CASE
            : PREFIX
          : ignoreCase
            ? SUFFIX_IGNORE_CASE
            : SUFFIX;
      const m = new LeafMatcher(kind);
      m.text = ignoreCase
        ? foldCase((operand as Record<string, string>)['equals-ignore-case'] as string)
        : (operand as string);
      return m;
    }
    case 'equals-ignore-case': {
      const m = new LeafMatcher(EQUALS_IGNORE_CASE);
      m.text = foldCase(operand as string);
      return m;
    }
    case 'wildcard': {
      const m = new LeafMatcher(WILDCARD);
      m.segments = wildcardSegments(operand as string);
      return m;
    }
    case 'numeric':
      return compileNumeric(operand as unknown[]);
    case 'cidr': {
      const m = new LeafMatcher(CIDR);
      m.text = cidrBits(operand as string) as string;
      return m;
    }
    case 'exists':
      return new LeafMatcher(EXISTS);
    case 'anything-but':
      return compileAnythingBut(operand);
    default:
      throw new Error(`unknown matcher ${name}`);
  }
}

function compileNumeric(operations: unknown[]): LeafMatcher {
  const m = new LeafMatcher(NUMERIC);
  for (let i = 0; i < operations.length; i += 2) {
    const bound = operations[i + 1] as number;
    switch (operations[i]) {
      case '=':
        m.lo = m.hi = bound;
        m.loInclusive = m.hiInclusive = true;
        break;
      case '>':
      case '>=':
        m.lo = bound;
        m.loInclusive = operations[i] === '>=';
        break;
      case '<':
      case '<=':
        m.hi = bound;
        m.hiInclusive = operations[i] === '<=';
        break;
    }
  }
  return m;
}

function compileAnythingBut(operand: unknown): LeafMatcher {
  if (!isPlainObject(operand)) {
    const m = new LeafMatcher(BUT_VALUES);
    m.excluded = new Set(Array.isArray(operand) ? operand : [operand]);
    return m;
  }
  const name = Object.keys(operand)[0] as string;
  const inner = operand[name];
  const list = (Array.isArray(inner) ? inner : [inner]) as string[];
  switch (name) {
    case 'prefix': {
      const m = new LeafMatcher(BUT_PREFIX);
      m.text = inner as string;
      return m;
    }
    case 'suffix': {
      const m = new LeafMatcher(BUT_SUFFIX);
      m.text = inner as string;
      return m;
    }
    case 'equals-ignore-case': {
      const m = new LeafMatcher(BUT_IGNORE_CASE);
      m.excluded = new Set(list.map(foldCase));
      return m;
    }
    default: {
      const m = new LeafMatcher(BUT_WILDCARD);
      m.excludedWildcards = list.map(wildcardSegments);
      return m;
    }
  }
}

function wildcardSegments(text: string): string[] {
  const parsed = parseWildcard(text);
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.segments;
}

/** Does the leaf value (string, number, boolean or null) satisfy the matcher? */
export function testLeaf(m: LeafMatcher, value: unknown): boolean {
  switch (m.kind) {
    case EXACT:
      return value === m.value;
    case PREFIX:
      return typeof value === 'string' && value.startsWith(m.text);
    case SUFFIX:
      return typeof value === 'string' && value.endsWith(m.text);
    case PREFIX_IGNORE_CASE:
      return typeof value === 'string' && foldCase(value).startsWith(m.text);
    case SUFFIX_IGNORE_CASE:
      return typeof value === 'string' && foldCase(value).endsWith(m.text);
    case EQUALS_IGNORE_CASE:
      return typeof value === 'string' && foldCase(value) === m.text;
    case WILDCARD:
      return typeof value === 'string' && matchesWildcardSegments(m.segments, value);
    case NUMERIC:
      return (
        typeof value === 'number' &&
        (m.loInclusive ? value >= m.lo : value > m.lo) &&
        (m.hiInclusive ? value <= m.hi : value < m.hi)
      );
    case CIDR: {
      if (typeof value !== 'string') return false;
      const bits = addressBits(value);
      return bits !== undefined && bits.startsWith(m.text);
    }
    case EXISTS:
      return true;
    case BUT_VALUES:
      return !m.excluded.has(value);
    case BUT_PREFIX:
      return typeof value !== 'string' || !value.startsWith(m.text);
    case BUT_SUFFIX:
      return typeof value !== 'string' || !value.endsWith(m.text);
    case BUT_IGNORE_CASE:
      return typeof value !== 'string' || !m.excluded.has(foldCase(value));
    case BUT_WILDCARD:
      if (typeof value !== 'string') return true;
      for (const segments of m.excludedWildcards)
        if (matchesWildcardSegments(segments, value)) return false;
      return true;
    default:
      return false;
  }
}
