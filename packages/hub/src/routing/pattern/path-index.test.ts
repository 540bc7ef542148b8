import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_HASHED_LENGTHS } from './affix-index.ts';
import { CandidateSet } from './candidate-set.ts';
import { MAX_HASHED_PAIRS } from './head-tail-index.ts';
import { compileMatcher } from './leaf-matcher.ts';
import { PathIndex } from './path-index.ts';

/**
 * Probing a string reads its characters (and the keys') through `charCodeAt`: counting
 * those calls measures the work of a probe without timing it. Rules with thousands of
 * distinct prefix lengths used to cost one hash of the value per length, quadratic in the
 * value's length (seconds per crafted event); a probe must stay linear. Below a few lengths
 * the hash lookups are kept (faster there): each reads exactly the slice it hashes, while
 * a trie walk stops at the first character no key continues with.
 */
function charReads(index: PathIndex, value: string, out: CandidateSet): number {
  const spy = vi.spyOn(String.prototype, 'charCodeAt');
  out.reset();
  index.probe(value, out);
  const reads = spy.mock.calls.length;
  spy.mockRestore();
  return reads;
}

function found(set: CandidateSet): number[] {
  return [...set.items.slice(0, set.count)].sort((a, b) => a - b);
}

afterEach(() => vi.restoreAllMocks());

describe('PathIndex probing work', () => {
  const n = 1000;
  const value = 'a'.repeat(n);

  it('reads a value a bounded number of times whatever the number of prefix or suffix lengths', () => {
    for (const end of ['prefix', 'suffix'] as const) {
      const index = new PathIndex();
      let alternative = 0;
      // A key of every length that never matches, and three that do.
      for (let l = 1; l <= n; l++)
        index.register(compileMatcher({ [end]: 'b'.repeat(l) }), alternative++);
      for (const l of [1, 7, n])
        index.register(compileMatcher({ [end]: 'a'.repeat(l) }), alternative++);
      index.finalize();
      const out = new CandidateSet(alternative);
      expect(charReads(index, value, out)).toBeLessThanOrEqual(3 * n);
      expect(found(out)).toEqual([n, n + 1, n + 2]);
    }
  });

  it('reads a value a bounded number of times whatever the number of head*tail length pairs', () => {
    const index = new PathIndex();
    let alternative = 0;
    // Every (head, tail) pair of lengths up to 40 that never matches, and two that do.
    for (let h = 1; h <= 40; h++)
      for (let t = 1; t <= 40; t++)
        index.register(
          compileMatcher({ wildcard: `${'b'.repeat(h)}*${'a'.repeat(t)}` }),
          alternative++,
        );
    index.register(compileMatcher({ wildcard: 'a*a' }), alternative++);
    index.register(
      compileMatcher({ wildcard: `${'a'.repeat(n / 2)}*${'a'.repeat(n / 2)}` }),
      alternative++,
    );
    index.register(compileMatcher({ wildcard: `a*${'a'.repeat(n)}` }), alternative++); // overlaps
    index.finalize();
    const out = new CandidateSet(alternative);
    expect(charReads(index, value, out)).toBeLessThanOrEqual(3 * n);
    expect(found(out)).toEqual([1600, 1601]);
  });

  it('hashes one slice per length up to MAX_HASHED_LENGTHS lengths, and walks a trie above', () => {
    for (const end of ['prefix', 'suffix'] as const) {
      for (const count of [MAX_HASHED_LENGTHS, MAX_HASHED_LENGTHS + 1]) {
        const index = new PathIndex();
        // Keys that never match, of lengths 10, 20, ...: a walk reads one character of
        // the value, hash lookups each whole slice.
        const lengths = Array.from({ length: count }, (_, i) => 10 * (i + 1));
        lengths.forEach((l, i) => index.register(compileMatcher({ [end]: 'b'.repeat(l) }), i));
        index.register(compileMatcher({ [end]: 'a'.repeat(10) }), count);
        index.finalize();
        const out = new CandidateSet(count + 1);
        const reads = charReads(index, value, out);
        if (count === MAX_HASHED_LENGTHS)
          expect(reads).toBeGreaterThanOrEqual(lengths.reduce((a, b) => a + b, 0));
        else expect(reads).toBeLessThanOrEqual(2 * 10);
        expect(found(out)).toEqual([count]);
      }
    }
  });

  it('hashes one head and tail per length pair up to MAX_HASHED_PAIRS pairs, and walks tries above', () => {
    for (const count of [MAX_HASHED_PAIRS, MAX_HASHED_PAIRS + 1]) {
      const index = new PathIndex();
      const pairs = Array.from({ length: count }, (_, i) => [10 * (i + 1), 5] as const);
      pairs.forEach(([h, t], i) =>
        index.register(compileMatcher({ wildcard: `${'b'.repeat(h)}*${'a'.repeat(t)}` }), i),
      );
      index.register(compileMatcher({ wildcard: `${'a'.repeat(10)}*${'a'.repeat(5)}` }), count);
      index.finalize();
      const out = new CandidateSet(count + 1);
      const reads = charReads(index, value, out);
      if (count === MAX_HASHED_PAIRS)
        expect(reads).toBeGreaterThanOrEqual(pairs.reduce((a, [h, t]) => a + h + t, 0));
      else expect(reads).toBeLessThanOrEqual(2 * 15);
      expect(found(out)).toEqual([count]);
    }
  });

  it('finds head*tail wildcards whose head or tail holds the pair key separator, both ways', () => {
    // pairKey('x\uffff', 'y') === pairKey('x', '\uffffy'): the two share an entry.
    for (const filler of [0, MAX_HASHED_PAIRS]) {
      const index = new PathIndex();
      index.register(compileMatcher({ wildcard: 'x\uffff*y' }), 0);
      index.register(compileMatcher({ wildcard: 'x*\uffffy' }), 1);
      for (let i = 0; i < filler; i++)
        index.register(compileMatcher({ wildcard: `${'c'.repeat(i + 2)}*c` }), 2 + i);
      index.finalize();
      const out = new CandidateSet(2 + filler);
      for (const [text, expected] of [
        ['x\uffffzy', 0],
        ['xz\uffffy', 1],
      ] as const) {
        out.reset();
        index.probe(text, out);
        expect(found(out)).toContain(expected);
      }
    }
  });
});
