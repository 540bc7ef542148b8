import { describe, expect, it } from 'vitest';
import { CandidateSet } from './candidate-set.ts';
import { LengthIndex } from './length-index.ts';

function found(set: CandidateSet): number[] {
  return [...set.items.slice(0, set.count)].sort((a, b) => a - b);
}

describe('LengthIndex', () => {
  it('finds every filed prefix and suffix of a value, and only those', () => {
    const index = new LengthIndex();
    ['', 'a', 'ab', 'abc', 'b', 'abcd!'].forEach((text, i) => index.add(text, i));
    index.finalize();
    const out = new CandidateSet(10);
    out.reset();
    index.probePrefixes('abcd', out);
    expect(found(out)).toEqual([0, 1, 2, 3]);
    out.reset();
    index.probeSuffixes('cab', out);
    expect(found(out)).toEqual([0, 2, 4]);
  });
});
