import type { EventLeaves } from './event-leaves.ts';
import type { Posting } from './posting.ts';

/**
 * The alternatives an event's leaves pointed at in the index, each once. Stamped with a
 * per-match epoch so nothing is cleared between matches.
 */
export class CandidateSet {
  readonly #stamps: Int32Array;
  readonly items: Int32Array;
  count = 0;
  #epoch = 0;
  #leaves: EventLeaves | null = null;

  constructor(alternativeCount: number) {
    this.#stamps = new Int32Array(alternativeCount);
    this.items = new Int32Array(alternativeCount);
  }

  /** Starts a match over `leaves` (needed to probe nested indexes). */
  reset(leaves: EventLeaves | null = null): void {
    this.count = 0;
    this.#leaves = leaves;
    if (++this.#epoch === 0x7fffffff) {
      this.#stamps.fill(0);
      this.#epoch = 1;
    }
  }

  add(alternative: number): void {
    if (this.#stamps[alternative] !== this.#epoch) {
      this.#stamps[alternative] = this.#epoch;
      this.items[this.count++] = alternative;
    }
  }

  addAll(alternatives: readonly number[]): void {
    for (let i = 0; i < alternatives.length; i++) this.add(alternatives[i] as number);
  }

  /** An index entry was hit: its own alternatives, and whatever its nested indexes find in the event. */
  take(posting: Posting): void {
    this.addAll(posting.alternatives);
    const nested = posting.nested;
    const leaves = this.#leaves;
    if (nested === null || leaves === null) return;
    for (let n = 0; n < nested.length; n++) {
      const { pathId, index } = nested[n]!;
      for (let leaf = leaves.first(pathId); leaf >= 0; leaf = leaves.next[leaf] as number) {
        index.probe(leaves.values[leaf], this);
      }
    }
  }
}
