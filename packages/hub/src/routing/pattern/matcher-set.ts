import { AffixTrie, type AffixNode } from './affix-trie.ts';
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
  LeafMatcher,
  NUMERIC,
  PREFIX,
  PREFIX_IGNORE_CASE,
  SUFFIX,
  SUFFIX_IGNORE_CASE,
  WILDCARD,
  foldCase,
  testLeaf,
} from './leaf-matcher.ts';
import { matchesWildcardSegments } from './wildcard.ts';

/**
 * Up to this many matchers, a condition is tested one matcher after another (as cheap as
 * it gets for the one or two values real conditions list); above it, through a MatcherSet.
 */
export const MAX_LISTED_MATCHERS = 4;

/** A condition's matchers indexed when there are more than a few; null: tried in turn. */
export function indexMatchers(matchers: readonly LeafMatcher[]): MatcherSet | null {
  return matchers.length > MAX_LISTED_MATCHERS ? new MatcherSet(matchers) : null;
}

/** Whether `value` satisfies one of a condition's matchers (through its index, if any). */
export function anyMatcherHolds(
  matchers: readonly LeafMatcher[],
  set: MatcherSet | null,
  value: unknown,
): boolean {
  if (set !== null) return set.has(value);
  for (let m = 0; m < matchers.length; m++)
    if (testLeaf(matchers[m] as LeafMatcher, value)) return true;
  return false;
}

/**
 * The matchers of one condition, indexed: does a leaf value satisfy any of them? Tried
 * one by one, a condition of a few thousand matchers (a 16 KiB pattern holds that many)
 * costs that many tests per leaf, on every array element of every candidate event: seconds
 * of the routing thread for a crafted rule set. Here exact and folded values are set
 * lookups, prefixes, suffixes, CIDR blocks and wildcards (by head, then tail) one trie
 * walk each, so a test costs about the leaf's length. Numeric ranges are merged into
 * disjoint intervals (a binary search); anything-but matchers of one kind into one (a
 * value fails them all only when each excludes it). Only anything-but wildcards are still
 * tried one by one.
 */
export class MatcherSet {
  /** `exists: true` is among them: every leaf holds. */
  #any = false;
  /** Exact values, and wildcards without a star. */
  readonly #exact = new Set<unknown>();
  readonly #folded = new Set<string>();
  #prefixes: AffixTrie<true> | null = null;
  #suffixes: AffixTrie<true> | null = null;
  #foldedPrefixes: AffixTrie<true> | null = null;
  #foldedSuffixes: AffixTrie<true> | null = null;
  #cidrs: AffixTrie<true> | null = null;
  /** Wildcards with stars by head, then tail; at the tail, the full segment lists. */
  #wildcards: AffixTrie<AffixTrie<(readonly string[])[]>> | null = null;
  /** Numeric ranges merged: disjoint, ascending by lower bound. */
  #ranges: Range[] = [];
  /** Anything-but, one per kind, and anything-but wildcards: tried one by one. */
  readonly #rest: LeafMatcher[] = [];
  // Scratch for the trie walks (one test at a time: matching is synchronous).
  readonly #found: AffixNode<true>[] = [];
  readonly #heads: AffixNode<AffixTrie<(readonly string[])[]>>[] = [];
  readonly #tails: AffixNode<(readonly string[])[]>[] = [];

  constructor(matchers: readonly LeafMatcher[]) {
    const prefixes: string[] = [];
    const suffixes: string[] = [];
    const foldedPrefixes: string[] = [];
    const foldedSuffixes: string[] = [];
    const cidrs: string[] = [];
    const wildcards = new Map<string, Map<string, (readonly string[])[]>>();
    const ranges: Range[] = [];
    const butByKind = new Map<number, LeafMatcher[]>();
    for (const m of matchers) {
      switch (m.kind) {
        case EXACT:
          this.#exact.add(m.value);
          break;
        case EQUALS_IGNORE_CASE:
          this.#folded.add(m.text);
          break;
        case PREFIX:
          prefixes.push(m.text);
          break;
        case SUFFIX:
          suffixes.push(m.text);
          break;
        case PREFIX_IGNORE_CASE:
          foldedPrefixes.push(m.text);
          break;
        case SUFFIX_IGNORE_CASE:
          foldedSuffixes.push(m.text);
          break;
        case CIDR:
          cidrs.push(m.text);
          break;
        case EXISTS:
          this.#any = true;
          break;
        case WILDCARD: {
          const segments = m.segments;
          if (segments.length === 1) {
            this.#exact.add(segments[0]);
            break;
          }
          const head = segments[0] as string;
          const tail = segments[segments.length - 1] as string;
          let tails = wildcards.get(head);
          if (!tails) wildcards.set(head, (tails = new Map()));
          let lists = tails.get(tail);
          if (!lists) tails.set(tail, (lists = []));
          lists.push(segments);
          break;
        }
        case NUMERIC:
          ranges.push(m);
          break;
        case BUT_VALUES:
        case BUT_IGNORE_CASE:
        case BUT_PREFIX:
        case BUT_SUFFIX: {
          const group = butByKind.get(m.kind);
          if (group) group.push(m);
          else butByKind.set(m.kind, [m]);
          break;
        }
        default:
          this.#rest.push(m);
      }
    }
    this.#ranges = mergeRanges(ranges);
    for (const group of butByKind.values()) {
      const merged = mergeAnythingBut(group);
      if (merged === null) this.#any = true;
      else this.#rest.push(merged);
    }
    this.#prefixes = trieOf(prefixes, 'prefix');
    this.#suffixes = trieOf(suffixes, 'suffix');
    this.#foldedPrefixes = trieOf(foldedPrefixes, 'prefix');
    this.#foldedSuffixes = trieOf(foldedSuffixes, 'suffix');
    this.#cidrs = trieOf(cidrs, 'prefix');
    if (wildcards.size > 0)
      this.#wildcards = AffixTrie.build(
        [...wildcards].map(([head, tails]) => [head, AffixTrie.build(tails, 'suffix')] as const),
        'prefix',
      );
  }

  /** Does `value` satisfy any of the matchers? As trying each with testLeaf. */
  has(value: unknown): boolean {
    if (this.#any || this.#exact.has(value)) return true;
    if (typeof value === 'string') {
      if (this.#some(this.#prefixes, value) || this.#some(this.#suffixes, value)) return true;
      if (this.#wildcards !== null && this.#wildcard(this.#wildcards, value)) return true;
      if (this.#folded.size > 0 || this.#foldedPrefixes !== null || this.#foldedSuffixes !== null) {
        const folded = foldCase(value);
        if (this.#folded.has(folded)) return true;
        if (this.#some(this.#foldedPrefixes, folded) || this.#some(this.#foldedSuffixes, folded))
          return true;
      }
      if (this.#cidrs !== null) {
        const bits = addressBits(value);
        if (bits !== undefined && this.#some(this.#cidrs, bits)) return true;
      }
    }
    if (typeof value === 'number' && this.#ranges.length > 0 && inRanges(this.#ranges, value))
      return true;
    const rest = this.#rest;
    for (let m = 0; m < rest.length; m++) if (testLeaf(rest[m] as LeafMatcher, value)) return true;
    return false;
  }

  #some(trie: AffixTrie<true> | null, text: string): boolean {
    return trie !== null && trie.collect(text, 0, text.length, this.#found) > 0;
  }

  #wildcard(heads: AffixTrie<AffixTrie<(readonly string[])[]>>, value: string): boolean {
    const n = value.length;
    const foundHeads = this.#heads;
    const foundTails = this.#tails;
    const headCount = heads.collect(value, 0, n, foundHeads);
    for (let h = 0; h < headCount; h++) {
      const head = foundHeads[h] as AffixNode<AffixTrie<(readonly string[])[]>>;
      // Tails within [head's end, n): head and tail never overlap.
      const tailCount = (head.value as AffixTrie<(readonly string[])[]>).collect(
        value,
        head.length,
        n,
        foundTails,
      );
      for (let t = 0; t < tailCount; t++) {
        const lists = (foundTails[t] as AffixNode<(readonly string[])[]>)
          .value as (readonly string[])[];
        for (let l = 0; l < lists.length; l++) {
          const segments = lists[l] as readonly string[];
          // H*T holds once head and tail are found; middle segments still need a search.
          if (segments.length === 2 || matchesWildcardSegments(segments, value)) return true;
        }
      }
    }
    return false;
  }
}

function trieOf(keys: string[], anchor: 'prefix' | 'suffix'): AffixTrie<true> | null {
  if (keys.length === 0) return null;
  return AffixTrie.build(
    [...new Set(keys)].map((key) => [key, true] as const),
    anchor,
  );
}

type Range = Pick<LeafMatcher, 'lo' | 'hi' | 'loInclusive' | 'hiInclusive'>;

function contains(r: Range, value: number): boolean {
  return (
    (r.loInclusive ? value >= r.lo : value > r.lo) && (r.hiInclusive ? value <= r.hi : value < r.hi)
  );
}

/** The union of the ranges as disjoint ones, ascending: ranges that overlap or touch become one. */
function mergeRanges(ranges: readonly Range[]): Range[] {
  const sorted = ranges
    .filter((r) => r.lo < r.hi || (r.lo === r.hi && r.loInclusive && r.hiInclusive))
    .map((r) => ({ lo: r.lo, hi: r.hi, loInclusive: r.loInclusive, hiInclusive: r.hiInclusive }))
    .sort((a, b) => a.lo - b.lo || Number(b.loInclusive) - Number(a.loInclusive));
  const merged: Range[] = [];
  for (const r of sorted) {
    const last = merged[merged.length - 1];
    if (last && (r.lo < last.hi || (r.lo === last.hi && (last.hiInclusive || r.loInclusive)))) {
      if (r.hi > last.hi) {
        last.hi = r.hi;
        last.hiInclusive = r.hiInclusive;
      } else if (r.hi === last.hi) {
        last.hiInclusive ||= r.hiInclusive;
      }
    } else {
      merged.push(r);
    }
  }
  return merged;
}

/** Is `value` in one of the disjoint ranges? Only the last one starting at or below it can hold it. */
function inRanges(ranges: readonly Range[], value: number): boolean {
  let lo = 0;
  let hi = ranges.length - 1;
  let at = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if ((ranges[mid] as Range).lo <= value) {
      at = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return at >= 0 && contains(ranges[at] as Range, value);
}

/**
 * Anything-but matchers of one kind as one: a value fails them all only when each one
 * excludes it (values: it is in every excluded set; prefixes: it starts with each, so
 * with the longest, and they must be prefixes of one another). null when no value can
 * fail them all (then the condition holds for every leaf).
 */
function mergeAnythingBut(group: readonly LeafMatcher[]): LeafMatcher | null {
  const kind = (group[0] as LeafMatcher).kind;
  const merged = new LeafMatcher(kind);
  if (kind === BUT_VALUES || kind === BUT_IGNORE_CASE) {
    let common = new Set((group[0] as LeafMatcher).excluded);
    for (const m of group) common = new Set([...common].filter((v) => m.excluded.has(v)));
    if (common.size === 0) return null;
    merged.excluded = common;
    return merged;
  }
  let longest = '';
  for (const m of group) if (m.text.length > longest.length) longest = m.text;
  for (const m of group) {
    const fits = kind === BUT_PREFIX ? longest.startsWith(m.text) : longest.endsWith(m.text);
    if (!fits) return null;
  }
  merged.text = longest;
  return merged;
}
