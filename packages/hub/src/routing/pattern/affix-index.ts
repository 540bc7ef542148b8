import { AffixTrie, type AffixNode, type Anchor } from './affix-trie.ts';
import type { CandidateSet } from './candidate-set.ts';
import { Posting } from './posting.ts';
import { StringTable } from './string-table.ts';

/**
 * Up to this many distinct key lengths, a probe hashes the value's slice of each length
 * (in place) and looks it up in a typed-array table; above it, it walks a trie. With few
 * lengths, as real rule sets have, the lookups are the faster: one typed-array probe per
 * length against a walk through scattered nodes (measured with 100k keys, cold caches,
 * they stay ahead up to about 12 lengths; bench/match has one length per path). Their
 * cost grows with the number of lengths, which crafted rules with thousands of lengths
 * turned into seconds per event; the trie's follows the value's length whatever the
 * keys. So a probe hashes at most this many slices of a value, or reads it once.
 */
export const MAX_HASHED_LENGTHS = 12;

/**
 * Prefixes (or suffixes) filed by their text: given a value, every filed key that is a
 * prefix (suffix) of it, found in place (the value is never sliced). Few distinct key
 * lengths: one hash lookup per length no longer than the value. Many: one trie walk.
 */
export class AffixIndex {
  readonly #anchor: Anchor;
  readonly #byText = new StringTable<Posting>();
  /** Distinct key lengths, ascending, while hash lookups are used. */
  #lengths: Int32Array = new Int32Array(0);
  /** Set instead when there are more than MAX_HASHED_LENGTHS lengths. */
  #trie: AffixTrie<Posting> | null = null;
  /** Scratch for one trie walk (a nested index is another instance, so never shared mid-probe). */
  readonly #found: AffixNode<Posting>[] = [];

  constructor(anchor: Anchor) {
    this.#anchor = anchor;
  }

  add(text: string, alternative: number): void {
    this.#byText.upsert(text, () => new Posting()).alternatives.push(alternative);
  }

  postings(): Iterable<Posting> {
    return this.#byText.values();
  }

  finalize(): void {
    const keys = this.#byText.keys();
    const lengths = [...new Set(keys.map((k) => k.length))].sort((a, b) => a - b);
    if (lengths.length <= MAX_HASHED_LENGTHS) {
      this.#lengths = Int32Array.from(lengths);
      this.#trie = null;
      return;
    }
    const values = this.#byText.values();
    this.#trie = AffixTrie.build(
      keys.map((key, i) => [key, values[i] as Posting] as const),
      this.#anchor,
    );
  }

  probe(value: string, out: CandidateSet): void {
    if (this.#trie === null) this.#probeLengths(value, out);
    else this.#probeTrie(this.#trie, value, out);
  }

  #probeLengths(value: string, out: CandidateSet): void {
    const lengths = this.#lengths;
    const table = this.#byText;
    const n = value.length;
    const prefix = this.#anchor === 'prefix';
    for (let i = 0; i < lengths.length; i++) {
      const length = lengths[i] as number;
      if (length > n) return;
      const posting = prefix
        ? table.getRange(value, 0, length)
        : table.getRange(value, n - length, n);
      if (posting) out.take(posting);
    }
  }

  #probeTrie(trie: AffixTrie<Posting>, value: string, out: CandidateSet): void {
    const found = this.#found;
    const count = trie.collect(value, 0, value.length, found);
    for (let i = 0; i < count; i++) out.take((found[i] as AffixNode<Posting>).value as Posting);
  }
}
