import { describe, expect, it } from 'vitest';
import { EventLeaves } from './event-leaves.ts';
import { FieldTrie } from './field-trie.ts';
import { flattenObject } from './flatten-object.ts';

describe('EventLeaves trails', () => {
  it('say two leaves are consistent unless they took different elements of one array', () => {
    const trie = new FieldTrie();
    const name = trie.intern(['people', 'name']);
    const tag = trie.intern(['people', 'tags']);
    const top = trie.intern(['top']);
    const leaves = new EventLeaves(trie.pathCount);
    leaves.reset();
    flattenObject(
      {
        top: 'x',
        people: [
          { name: 'a', tags: ['t1', 't2'] },
          { name: 'b', tags: ['t3'] },
        ],
      },
      trie.root,
      leaves,
      0,
    );
    const at = (pathId: number, value: string) => {
      for (let i = leaves.first(pathId); i >= 0; i = leaves.next[i]!)
        if (leaves.values[i] === value) return leaves.trail[i]!;
      throw new Error(value);
    };
    expect(leaves.consistent(at(name, 'a'), at(tag, 't1'))).toBe(true);
    expect(leaves.consistent(at(name, 'a'), at(tag, 't2'))).toBe(true);
    expect(leaves.consistent(at(name, 'a'), at(tag, 't3'))).toBe(false);
    expect(leaves.consistent(at(tag, 't1'), at(tag, 't2'))).toBe(false);
    expect(leaves.consistent(at(top, 'x'), at(tag, 't3'))).toBe(true);
  });
});
