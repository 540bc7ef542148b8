import type { CandidateSet } from './candidate-set.ts';
import { LengthIndex } from './length-index.ts';
import type { Posting } from './posting.ts';
import { StringTable } from './string-table.ts';

/**
 * Wildcards anchored at both ends (`H*…*T`), filed by head and tail together: an event
 * value becomes a candidate only when it starts with H and ends with T, not whenever it
 * starts with H. Rules such as `<block>*<lot>` share their head with every rule of the
 * block; filed by the head alone each would be verified on every lot of that block.
 * Probing costs one lookup per distinct head length, then the tails' length index.
 */
export class HeadTailIndex {
  readonly #byHead = new StringTable<LengthIndex>();
  #lengths: number[] = [];

  add(head: string, tail: string, alternative: number): void {
    this.#byHead.upsert(head, () => new LengthIndex()).add(tail, alternative);
  }

  *postings(): Iterable<Posting> {
    for (const tails of this.#byHead.values()) yield* tails.postings();
  }

  finalize(): void {
    for (const tails of this.#byHead.values()) tails.finalize();
    this.#lengths = [...new Set(this.#byHead.keys().map((h) => h.length))].sort((a, b) => a - b);
  }

  probe(value: string, out: CandidateSet): void {
    const lengths = this.#lengths;
    const n = value.length;
    for (let i = 0; i < lengths.length; i++) {
      const length = lengths[i] as number;
      if (length > n) return;
      // A tail overlapping the head still becomes a candidate; verification rejects it.
      this.#byHead.getRange(value, 0, length)?.probeSuffixes(value, out);
    }
  }
}
