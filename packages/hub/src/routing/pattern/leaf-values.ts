import type { EventLeaves } from './event-leaves.ts';
import { addressBits } from './ip-bits.ts';
import {
  BUT_IGNORE_CASE,
  BUT_PREFIX,
  BUT_SUFFIX,
  BUT_VALUES,
  CIDR,
  EQUALS_IGNORE_CASE,
  EXACT,
  EXISTS,
  NUMERIC,
  PREFIX,
  PREFIX_IGNORE_CASE,
  SUFFIX,
  SUFFIX_IGNORE_CASE,
  WILDCARD,
  foldCase,
  testLeaf,
  type LeafMatcher,
} from './leaf-matcher.ts';
import { anyMatcherHolds, type MatcherSet } from './matcher-set.ts';
import { indexOfSegment, matchesWildcardSegments } from './wildcard.ts';

/**
 * Up to this many leaves on a path, "does some leaf meet the condition" tries each leaf;
 * above it (an array), the path's values are gathered once per event into a PathValues.
 * Gathering costs more than trying a few dozen leaves (citylots' 30-60 coordinates).
 */
export const FEW_LEAVES = 64;

/**
 * The distinct values of one path's leaves in one event, with sorted views built on first
 * use, so that "does some leaf meet this matcher" costs a hash lookup or a binary search
 * instead of a pass over the leaves. A thousand conditions on a 65k-element array cost a
 * thousand searches, not 65 million tests. Anything-but is decided by its complement: a
 * value fails `anything-but` only when it is excluded, so the search stops at the first
 * distinct value that is not (after at most one more value than it excludes).
 */
export class PathValues {
  readonly distinct = new Set<unknown>();
  #strings: string[] | null = null;
  #reversed: string[] | null = null;
  #folded: string[] | null = null;
  #foldedReversed: string[] | null = null;
  #foldedSet: Set<string> | null = null;
  #numbers: Float64Array | null = null;
  #addresses: string[] | null = null;
  #joined: { text: string; starts: Int32Array } | null = null;
  #nonStrings = false;

  constructor(leaves: EventLeaves, pathId: number) {
    for (let leaf = leaves.first(pathId); leaf >= 0; leaf = leaves.next[leaf] as number) {
      const value = leaves.values[leaf];
      this.distinct.add(value);
      if (typeof value !== 'string') this.#nonStrings = true;
    }
  }

  /** Does some value satisfy one of the matchers? As testing each value with anyMatcherHolds. */
  someMeets(matchers: readonly LeafMatcher[], set: MatcherSet | null): boolean {
    // Whichever is fewer: the values through the condition's own test, or the matchers
    // through the sorted views (each a search in about log(values) steps).
    if (this.distinct.size <= matchers.length) {
      for (const value of this.distinct) if (anyMatcherHolds(matchers, set, value)) return true;
      return false;
    }
    for (let m = 0; m < matchers.length; m++)
      if (this.#someMeets(matchers[m] as LeafMatcher)) return true;
    return false;
  }

  #someMeets(m: LeafMatcher): boolean {
    switch (m.kind) {
      case EXACT:
        return this.distinct.has(m.value);
      case PREFIX:
        return startsAny(this.#sortedStrings(), m.text);
      case SUFFIX:
        return startsAny(this.#reversedStrings(), reverse(m.text));
      case PREFIX_IGNORE_CASE:
        return startsAny(this.#foldedStrings(), m.text);
      case SUFFIX_IGNORE_CASE:
        return startsAny(this.#foldedReversedStrings(), reverse(m.text));
      case EQUALS_IGNORE_CASE:
        return this.#foldedDistinct().has(m.text);
      case CIDR:
        return startsAny(this.#sortedAddresses(), m.text);
      case NUMERIC:
        return this.#inRange(m);
      case EXISTS:
        return this.distinct.size > 0;
      case WILDCARD:
        return this.#someMatches(m.segments);
      case BUT_VALUES:
        for (const value of this.distinct) if (!m.excluded.has(value)) return true;
        return false;
      case BUT_IGNORE_CASE:
        if (this.#nonStrings) return true;
        for (const folded of this.#foldedDistinct()) if (!m.excluded.has(folded)) return true;
        return false;
      case BUT_PREFIX:
        return this.#nonStrings || !allStart(this.#sortedStrings(), m.text);
      case BUT_SUFFIX:
        return this.#nonStrings || !allStart(this.#reversedStrings(), reverse(m.text));
      default:
        for (const value of this.distinct) if (testLeaf(m, value)) return true;
        return false;
    }
  }

  #someMatches(segments: readonly string[]): boolean {
    if (segments.length === 1) return this.distinct.has(segments[0]);
    const head = segments[0] as string;
    if (segments.length === 2 && head === '')
      return startsAny(this.#reversedStrings(), reverse(segments[1] as string));
    let middle = '';
    for (let s = 1; s < segments.length - 1; s++)
      if ((segments[s] as string).length > middle.length) middle = segments[s] as string;
    if (middle.length > head.length) return this.#someContaining(segments, middle);
    // Only the strings starting with the head can match: one contiguous run when sorted.
    const strings = this.#sortedStrings();
    for (let i = lowerBound(strings, head); i < strings.length; i++) {
      const value = strings[i] as string;
      if (!value.startsWith(head)) break;
      if (matchesWildcardSegments(segments, value)) return true;
    }
    return false;
  }

  /**
   * Only strings containing `middle` can match: found by searching all the strings joined
   * into one text, so a thousand `*x*`-style wildcards read the values a thousand times
   * at memory speed (a search per wildcard) instead of testing each value. A find that
   * runs across a boundary only costs a test of one value; the search resumes at the next.
   */
  #someContaining(segments: readonly string[], middle: string): boolean {
    const strings = this.#sortedStrings();
    const { text, starts } = (this.#joined ??= joined(strings));
    let from = 0;
    while (from < text.length) {
      const at = indexOfSegment(text, middle, from);
      if (at < 0) return false;
      // The value whose span (its text and the separator after it) holds the find.
      let lo = 0;
      let hi = strings.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >>> 1;
        if ((starts[mid] as number) <= at) lo = mid;
        else hi = mid - 1;
      }
      if (matchesWildcardSegments(segments, strings[lo] as string)) return true;
      from = starts[lo + 1] as number;
    }
    return false;
  }

  #inRange(m: LeafMatcher): boolean {
    const numbers = (this.#numbers ??= sortedNumbers(this.distinct));
    // The first value above the lower bound (or at it, when inclusive), then the upper bound.
    let lo = 0;
    let hi = numbers.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const v = numbers[mid] as number;
      if (m.loInclusive ? v >= m.lo : v > m.lo) hi = mid;
      else lo = mid + 1;
    }
    if (lo === numbers.length) return false;
    const v = numbers[lo] as number;
    return m.hiInclusive ? v <= m.hi : v < m.hi;
  }

  #sortedStrings(): string[] {
    return (this.#strings ??= stringsOf(this.distinct).sort());
  }

  #reversedStrings(): string[] {
    return (this.#reversed ??= stringsOf(this.distinct).map(reverse).sort());
  }

  #foldedDistinct(): Set<string> {
    return (this.#foldedSet ??= new Set(stringsOf(this.distinct).map(foldCase)));
  }

  #foldedStrings(): string[] {
    return (this.#folded ??= [...this.#foldedDistinct()].sort());
  }

  #foldedReversedStrings(): string[] {
    return (this.#foldedReversed ??= [...this.#foldedDistinct()].map(reverse).sort());
  }

  #sortedAddresses(): string[] {
    if (this.#addresses === null) {
      const bits: string[] = [];
      for (const value of stringsOf(this.distinct)) {
        const b = addressBits(value);
        if (b !== undefined) bits.push(b);
      }
      this.#addresses = bits.sort();
    }
    return this.#addresses;
  }
}

function stringsOf(values: Set<unknown>): string[] {
  const strings: string[] = [];
  for (const value of values) if (typeof value === 'string') strings.push(value);
  return strings;
}

/** The strings joined by a separator, with where each starts (and, last, the end of the text plus one). */
function joined(strings: readonly string[]): { text: string; starts: Int32Array } {
  const starts = new Int32Array(strings.length + 1);
  let at = 0;
  for (let i = 0; i < strings.length; i++) {
    starts[i] = at;
    at += (strings[i] as string).length + 1;
  }
  starts[strings.length] = at;
  return { text: strings.join('\n'), starts };
}

function sortedNumbers(values: Set<unknown>): Float64Array {
  const numbers: number[] = [];
  for (const value of values) if (typeof value === 'number') numbers.push(value);
  return Float64Array.from(numbers).sort();
}

/** By UTF-16 code units, as `endsWith` compares: a suffix of a value is a prefix of its reverse. */
function reverse(text: string): string {
  let out = '';
  for (let i = text.length - 1; i >= 0; i--) out += text[i];
  return out;
}

/** The first index whose string is not below `key` (default sort order: UTF-16 code units). */
function lowerBound(sorted: readonly string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as string) < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Does some string start with `prefix`? Those that do sort right at or after it. */
function startsAny(sorted: readonly string[], prefix: string): boolean {
  const i = lowerBound(sorted, prefix);
  return i < sorted.length && (sorted[i] as string).startsWith(prefix);
}

/** Do all the strings start with `prefix`? Those that do are one contiguous run when sorted. */
function allStart(sorted: readonly string[], prefix: string): boolean {
  return (
    sorted.length === 0 ||
    ((sorted[0] as string).startsWith(prefix) &&
      (sorted[sorted.length - 1] as string).startsWith(prefix))
  );
}
