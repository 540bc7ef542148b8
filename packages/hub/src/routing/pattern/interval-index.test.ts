import { describe, expect, it } from 'vitest';
import { CandidateSet } from './candidate-set.ts';
import { IntervalIndex } from './interval-index.ts';

function found(set: CandidateSet): number[] {
  return [...set.items.slice(0, set.count)].sort((a, b) => a - b);
}

describe('IntervalIndex', () => {
  it('finds exactly the ranges containing a number, open and closed ends alike', () => {
    const index = new IntervalIndex();
    const ranges: [number, boolean, number, boolean][] = [];
    for (let i = 0; i < 200; i++) {
      const lo = (i * 37) % 101;
      const r: [number, boolean, number, boolean] = [
        lo - 50,
        i % 2 === 0,
        lo - 50 + (i % 13),
        i % 3 === 0,
      ];
      if (i % 17 === 0) r[0] = -Infinity;
      if (i % 19 === 0) r[2] = Infinity;
      ranges.push(r);
      index.add(...r, i);
    }
    index.finalize();
    const out = new CandidateSet(200);
    for (let x = -60; x <= 70; x += 0.5) {
      out.reset();
      index.probe(x, out);
      const expected = ranges
        .map(([lo, loIn, hi, hiIn], i) =>
          (loIn ? x >= lo : x > lo) && (hiIn ? x <= hi : x < hi) ? i : -1,
        )
        .filter((i) => i >= 0);
      expect(found(out), String(x)).toEqual(expected);
    }
  });
});
