import type { CandidateSet } from './candidate-set.ts';
import { Posting } from './posting.ts';
import { StringTable } from './string-table.ts';

/**
 * Prefixes (or suffixes) filed by their text, probed with one hash lookup per distinct
 * prefix length no longer than the value (in place: the value is never sliced). The
 * number of distinct lengths stays small however many rules there are.
 */
export class LengthIndex {
  readonly #byText = new StringTable<Posting>();
  #lengths: number[] = [];

  add(text: string, alternative: number): void {
    this.#byText.upsert(text, () => new Posting()).alternatives.push(alternative);
  }

  postings(): Iterable<Posting> {
    return this.#byText.values();
  }

  finalize(): void {
    this.#lengths = [...new Set(this.#byText.keys().map((t) => t.length))].sort((a, b) => a - b);
  }

  probePrefixes(value: string, out: CandidateSet): void {
    const lengths = this.#lengths;
    const n = value.length;
    for (let i = 0; i < lengths.length; i++) {
      const length = lengths[i] as number;
      if (length > n) return;
      const posting = this.#byText.getRange(value, 0, length);
      if (posting) out.take(posting);
    }
  }

  probeSuffixes(value: string, out: CandidateSet): void {
    const lengths = this.#lengths;
    const n = value.length;
    for (let i = 0; i < lengths.length; i++) {
      const length = lengths[i] as number;
      if (length > n) return;
      const posting = this.#byText.getRange(value, n - length, n);
      if (posting) out.take(posting);
    }
  }
}
