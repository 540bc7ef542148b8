import { AffixTrie, type AffixNode } from './affix-trie.ts';
import type { CandidateSet } from './candidate-set.ts';
import { Posting } from './posting.ts';
import { StringTable, pairKey } from './string-table.ts';

/**
 * Up to this many distinct (head length, tail length) pairs, a probe makes one in-place
 * hash lookup per pair; above it, it walks tries (see MAX_HASHED_LENGTHS in
 * affix-index.ts). Measured with cold caches (100k keys), the lookups stay ahead of the
 * tries up to about 24 pairs, with warm caches up to about 12.
 */
export const MAX_HASHED_PAIRS = 16;

/**
 * Wildcards anchored at both ends (`H*…*T`), filed by head and tail together: an event
 * value becomes a candidate only when it starts with H and ends with T, not whenever it
 * starts with H. Rules such as `<block>*<lot>` share their head with every rule of the
 * block; filed by the head alone each would be verified on every lot of that block.
 *
 * Up to MAX_HASHED_PAIRS distinct (head length, tail length) pairs, a probe makes one
 * in-place hash lookup per pair; above it, it walks a trie of heads from the value's start
 * and, under each head found, a trie of that head's tails from the value's end (head and
 * tail must not overlap), so the work follows the value's length and the heads and tails
 * it actually has, not the number of pairs.
 */
export class HeadTailIndex {
  /**
   * The entries by pairKey(head, tail). A head or tail holding the key's separator may
   * share its entry with another pair: the index then only offers an extra candidate.
   */
  readonly #byPair = new StringTable<Posting>();
  /** The same entries by head, then tail (to build the tries). */
  readonly #byHead = new Map<string, Map<string, Posting>>();
  /** Hash lookups: the distinct length pairs, by total length ascending. */
  #headLengths = new Int32Array(0);
  #tailLengths = new Int32Array(0);
  /** Set instead when there are more than MAX_HASHED_PAIRS length pairs. */
  #heads: AffixTrie<AffixTrie<Posting>> | null = null;
  // Scratch for one trie walk (a nested index is another instance, so never shared mid-probe).
  readonly #foundHeads: AffixNode<AffixTrie<Posting>>[] = [];
  readonly #foundTails: AffixNode<Posting>[] = [];

  add(head: string, tail: string, alternative: number): void {
    const posting = this.#byPair.upsert(pairKey(head, tail), () => new Posting());
    posting.alternatives.push(alternative);
    let tails = this.#byHead.get(head);
    if (!tails) this.#byHead.set(head, (tails = new Map()));
    tails.set(tail, posting);
  }

  postings(): Iterable<Posting> {
    return this.#byPair.values();
  }

  finalize(): void {
    const pairs = new Map<string, readonly [number, number]>();
    for (const [head, tails] of this.#byHead)
      for (const tail of tails.keys())
        pairs.set(`${head.length},${tail.length}`, [head.length, tail.length]);
    if (pairs.size > MAX_HASHED_PAIRS) {
      this.#heads = AffixTrie.build(
        [...this.#byHead].map(([head, tails]) => [head, AffixTrie.build(tails, 'suffix')] as const),
        'prefix',
      );
      return;
    }
    const order = [...pairs.values()].sort((a, b) => a[0] + a[1] - (b[0] + b[1]));
    this.#headLengths = Int32Array.from(order, ([h]) => h);
    this.#tailLengths = Int32Array.from(order, ([, t]) => t);
    this.#heads = null;
  }

  probe(value: string, out: CandidateSet): void {
    if (this.#heads === null) this.#probePairs(value, out);
    else this.#probeTries(this.#heads, value, out);
  }

  #probePairs(value: string, out: CandidateSet): void {
    const byPair = this.#byPair;
    const heads = this.#headLengths;
    const tails = this.#tailLengths;
    const n = value.length;
    for (let i = 0; i < heads.length; i++) {
      const head = heads[i] as number;
      const tail = tails[i] as number;
      // Shorter values cannot hold both without overlap; neither can any later pair.
      if (head + tail > n) return;
      const posting = byPair.getPair(value, 0, head, n - tail, n);
      if (posting) out.take(posting);
    }
  }

  #probeTries(heads: AffixTrie<AffixTrie<Posting>>, value: string, out: CandidateSet): void {
    const foundHeads = this.#foundHeads;
    const foundTails = this.#foundTails;
    const n = value.length;
    const headCount = heads.collect(value, 0, n, foundHeads);
    for (let h = 0; h < headCount; h++) {
      const head = foundHeads[h] as AffixNode<AffixTrie<Posting>>;
      const tails = head.value as AffixTrie<Posting>;
      const tailCount = tails.collect(value, head.length, n, foundTails);
      for (let t = 0; t < tailCount; t++)
        out.take((foundTails[t] as AffixNode<Posting>).value as Posting);
    }
  }
}
