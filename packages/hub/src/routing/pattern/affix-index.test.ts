import { describe, expect, it } from 'vitest';
import { AffixIndex, MAX_HASHED_LENGTHS } from './affix-index.ts';
import { CandidateSet } from './candidate-set.ts';

function found(set: CandidateSet): number[] {
  return [...set.items.slice(0, set.count)].sort((a, b) => a - b);
}

describe('AffixIndex', () => {
  // With few key lengths the index hashes one slice per length; padded with keys of many
  // more lengths (which never match) it walks a trie. Both must find the same keys.
  for (const padded of [false, true]) {
    it(`finds every filed prefix and suffix of a value, and only those (${padded ? 'trie' : 'hash lookups'})`, () => {
      const keys = ['', 'a', 'ab', 'abc', 'b', 'abcd!'];
      if (padded) for (let l = 1; l <= MAX_HASHED_LENGTHS + 1; l++) keys.push('z'.repeat(l));
      const out = new CandidateSet(keys.length);
      const prefixes = new AffixIndex('prefix');
      const suffixes = new AffixIndex('suffix');
      keys.forEach((text, i) => {
        prefixes.add(text, i);
        suffixes.add(text, i);
      });
      prefixes.finalize();
      suffixes.finalize();
      out.reset();
      prefixes.probe('abcd', out);
      expect(found(out)).toEqual([0, 1, 2, 3]);
      out.reset();
      suffixes.probe('cab', out);
      expect(found(out)).toEqual([0, 2, 4]);
      out.reset();
      suffixes.probe('', out);
      expect(found(out)).toEqual([0]);
    });
  }
});
