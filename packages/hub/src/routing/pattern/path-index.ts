import { AffixIndex } from './affix-index.ts';
import type { CandidateSet } from './candidate-set.ts';
import { HeadTailIndex } from './head-tail-index.ts';
import { IntervalIndex } from './interval-index.ts';
import { addressBits } from './ip-bits.ts';
import { Posting } from './posting.ts';
import { StringTable } from './string-table.ts';
import {
  CIDR,
  EQUALS_IGNORE_CASE,
  EXACT,
  NUMERIC,
  PREFIX,
  PREFIX_IGNORE_CASE,
  SUFFIX,
  SUFFIX_IGNORE_CASE,
  WILDCARD,
  foldCase,
  type LeafMatcher,
} from './leaf-matcher.ts';

/**
 * Everything filed under one field path: given a leaf value found at that path, which
 * alternatives might now match? Exact values, folded values and numbers are hash lookups;
 * prefixes, suffixes, CIDR blocks and head*tail wildcards a hash lookup per key length
 * (or a trie walk when there are many lengths, see affix-index.ts); numeric ranges an
 * interval tree. Matchers that cannot be indexed (anything-but, `exists`, unanchored
 * wildcards) are filed as "any value here": the alternative is verified afterwards.
 */
export class PathIndex {
  #strings: StringTable<Posting> | null = null;
  #numbers: Map<number, Posting> | null = null;
  #literals: Map<unknown, Posting> | null = null; // true, false, null
  #folded: StringTable<Posting> | null = null;
  #prefixes: AffixIndex | null = null;
  #suffixes: AffixIndex | null = null;
  #foldedPrefixes: AffixIndex | null = null;
  #foldedSuffixes: AffixIndex | null = null;
  #cidrs: AffixIndex | null = null;
  #headTails: HeadTailIndex | null = null;
  #ranges: IntervalIndex | null = null;
  #present: Posting | null = null;

  register(m: LeafMatcher, alternative: number): void {
    switch (m.kind) {
      case EXACT:
        if (typeof m.value === 'string')
          file((this.#strings ??= new StringTable()), m.value, alternative);
        else if (typeof m.value === 'number')
          push((this.#numbers ??= new Map()), m.value, alternative);
        else push((this.#literals ??= new Map()), m.value, alternative);
        return;
      case PREFIX:
        (this.#prefixes ??= new AffixIndex('prefix')).add(m.text, alternative);
        return;
      case SUFFIX:
        (this.#suffixes ??= new AffixIndex('suffix')).add(m.text, alternative);
        return;
      case PREFIX_IGNORE_CASE:
        (this.#foldedPrefixes ??= new AffixIndex('prefix')).add(m.text, alternative);
        return;
      case SUFFIX_IGNORE_CASE:
        (this.#foldedSuffixes ??= new AffixIndex('suffix')).add(m.text, alternative);
        return;
      case EQUALS_IGNORE_CASE:
        file((this.#folded ??= new StringTable()), m.text, alternative);
        return;
      case CIDR:
        (this.#cidrs ??= new AffixIndex('prefix')).add(m.text, alternative);
        return;
      case NUMERIC:
        if (!filedAsRange(m)) push((this.#numbers ??= new Map()), m.lo, alternative);
        else
          (this.#ranges ??= new IntervalIndex()).add(
            m.lo,
            m.loInclusive,
            m.hi,
            m.hiInclusive,
            alternative,
          );
        return;
      case WILDCARD: {
        // Filed under its literal head and/or tail; the full wildcard is checked on verification.
        const segments = m.segments;
        const head = segments[0] as string;
        const tail = segments[segments.length - 1] as string;
        if (segments.length === 1) file((this.#strings ??= new StringTable()), head, alternative);
        else if (head !== '' && tail !== '')
          (this.#headTails ??= new HeadTailIndex()).add(head, tail, alternative);
        else if (head !== '') (this.#prefixes ??= new AffixIndex('prefix')).add(head, alternative);
        else if (tail !== '') (this.#suffixes ??= new AffixIndex('suffix')).add(tail, alternative);
        else (this.#present ??= new Posting()).alternatives.push(alternative);
        return;
      }
      default:
        (this.#present ??= new Posting()).alternatives.push(alternative);
    }
  }

  finalize(): void {
    this.#prefixes?.finalize();
    this.#suffixes?.finalize();
    this.#foldedPrefixes?.finalize();
    this.#foldedSuffixes?.finalize();
    this.#cidrs?.finalize();
    this.#headTails?.finalize();
    this.#ranges?.finalize();
  }

  /** Every entry but the numeric ranges (whose entries are single alternatives). */
  *postings(): Iterable<Posting> {
    for (const map of [this.#strings, this.#numbers, this.#literals, this.#folded])
      if (map) yield* map.values();
    for (const index of [
      this.#prefixes,
      this.#suffixes,
      this.#foldedPrefixes,
      this.#foldedSuffixes,
      this.#cidrs,
      this.#headTails,
    ]) {
      if (index) yield* index.postings();
    }
    if (this.#present) yield this.#present;
  }

  probe(value: unknown, out: CandidateSet): void {
    if (this.#present) out.take(this.#present);
    if (typeof value === 'string') {
      if (this.#strings) {
        const posting = this.#strings.get(value);
        if (posting) out.take(posting);
      }
      this.#prefixes?.probe(value, out);
      this.#suffixes?.probe(value, out);
      this.#headTails?.probe(value, out);
      if (this.#folded || this.#foldedPrefixes || this.#foldedSuffixes) {
        const folded = foldCase(value);
        if (this.#folded) {
          const posting = this.#folded.get(folded);
          if (posting) out.take(posting);
        }
        this.#foldedPrefixes?.probe(folded, out);
        this.#foldedSuffixes?.probe(folded, out);
      }
      if (this.#cidrs) {
        const bits = addressBits(value);
        if (bits !== undefined) this.#cidrs.probe(bits, out);
      }
    } else if (typeof value === 'number') {
      if (this.#numbers) {
        const posting = this.#numbers.get(value);
        if (posting) out.take(posting);
      }
      this.#ranges?.probe(value, out);
    } else if (this.#literals) {
      const posting = this.#literals.get(value);
      if (posting) out.take(posting);
    }
  }
}

/**
 * Numeric ranges go into the interval tree, whose entries are not postings (they are
 * never nested); a single number is an exact entry.
 */
export function filedAsRange(m: LeafMatcher): boolean {
  return m.kind === NUMERIC && m.lo !== m.hi;
}

function file(table: StringTable<Posting>, key: string, alternative: number): void {
  table.upsert(key, () => new Posting()).alternatives.push(alternative);
}

function push<K>(map: Map<K, Posting>, key: K, alternative: number): void {
  let posting = map.get(key);
  if (!posting) map.set(key, (posting = new Posting()));
  posting.alternatives.push(alternative);
}
