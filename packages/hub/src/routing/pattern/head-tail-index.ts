import type { CandidateSet } from './candidate-set.ts';
import { Posting } from './posting.ts';
import { StringTable, pairKey } from './string-table.ts';

/**
 * Wildcards anchored at both ends (`H*…*T`), filed by head and tail together: an event
 * value becomes a candidate only when it starts with H and ends with T, not whenever it
 * starts with H. Rules such as `<block>*<lot>` share their head with every rule of the
 * block; filed by the head alone each would be verified on every lot of that block.
 * Probing costs one in-place lookup per distinct (head length, tail length) pair.
 */
export class HeadTailIndex {
  readonly #byPair = new StringTable<Posting>();
  /** Distinct (head length, tail length) pairs, by total length ascending. */
  #heads: number[] = [];
  #tails: number[] = [];
  readonly #pairs = new Set<string>();

  add(head: string, tail: string, alternative: number): void {
    const posting = this.#byPair.upsert(pairKey(head, tail), () => new Posting());
    posting.alternatives.push(alternative);
    const lengths = `${head.length},${tail.length}`;
    if (!this.#pairs.has(lengths)) {
      this.#pairs.add(lengths);
      this.#heads.push(head.length);
      this.#tails.push(tail.length);
    }
  }

  postings(): Iterable<Posting> {
    return this.#byPair.values();
  }

  finalize(): void {
    const order = this.#heads
      .map((h, i) => [h, this.#tails[i] as number] as const)
      .sort((a, b) => a[0] + a[1] - (b[0] + b[1]));
    this.#heads = order.map(([h]) => h);
    this.#tails = order.map(([, t]) => t);
  }

  probe(value: string, out: CandidateSet): void {
    const heads = this.#heads;
    const tails = this.#tails;
    const n = value.length;
    for (let i = 0; i < heads.length; i++) {
      const head = heads[i] as number;
      const tail = tails[i] as number;
      // Shorter values cannot hold both without overlap; neither can any later pair.
      if (head + tail > n) return;
      const posting = this.#byPair.getPair(value, 0, head, n - tail, n);
      if (posting) out.take(posting);
    }
  }
}
