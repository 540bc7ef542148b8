import type { CandidateSet } from './candidate-set.ts';
import { Posting } from './posting.ts';

/**
 * Prefixes (or suffixes) filed by their text, probed with one hash lookup per distinct
 * prefix length no longer than the value. The number of distinct lengths stays small
 * however many rules there are.
 */
export class LengthIndex {
  readonly #byText = new Map<string, Posting>();
  #lengths: number[] = [];

  add(text: string, alternative: number): void {
    let posting = this.#byText.get(text);
    if (!posting) this.#byText.set(text, (posting = new Posting()));
    posting.alternatives.push(alternative);
  }

  postings(): Iterable<Posting> {
    return this.#byText.values();
  }

  finalize(): void {
    this.#lengths = [...new Set([...this.#byText.keys()].map((t) => t.length))].sort(
      (a, b) => a - b,
    );
  }

  probePrefixes(value: string, out: CandidateSet): void {
    const lengths = this.#lengths;
    const n = value.length;
    for (let i = 0; i < lengths.length; i++) {
      const length = lengths[i] as number;
      if (length > n) return;
      const posting = this.#byText.get(length === n ? value : value.slice(0, length));
      if (posting) out.take(posting);
    }
  }

  probeSuffixes(value: string, out: CandidateSet): void {
    const lengths = this.#lengths;
    const n = value.length;
    for (let i = 0; i < lengths.length; i++) {
      const length = lengths[i] as number;
      if (length > n) return;
      const posting = this.#byText.get(length === n ? value : value.slice(n - length));
      if (posting) out.take(posting);
    }
  }
}
