import { describe, expect, it } from 'vitest';
import { compileTopicPattern } from '../events/topic.ts';
import { TopicTrie } from './topic-trie.ts';

const PATTERNS = [
  '>',
  'incident.>',
  'incident.*.ticket.created',
  'incident.dev.ticket.created',
  'incident.dev.*.*',
  '*.dev.>',
  '*.*.*.*',
  'billing.dev.invoice.paid',
  'portico.*.push.alerts',
  'a.b',
  'a.*',
  'a.>',
];
const TOPICS = [
  'incident.dev.ticket.created',
  'incident.prod.ticket.created',
  'incident.dev.ticket.closed',
  'billing.dev.invoice.paid',
  'portico.prod.push.alerts',
  'a.b',
  'a.b.c',
  'a',
  'x.y.z.w.v',
];

function matches(trie: TopicTrie<string>, topic: string): string[] {
  const found: string[] = [];
  trie.forEachMatch(topic, (v) => found.push(v));
  return found.sort();
}

describe('TopicTrie', () => {
  it('finds exactly the patterns compileTopicPattern says match, each once', () => {
    const trie = new TopicTrie<string>();
    for (const p of PATTERNS) trie.add(p, p);
    for (const topic of TOPICS) {
      const expected = PATTERNS.filter((p) => compileTopicPattern(p)(topic)).sort();
      expect(matches(trie, topic), topic).toEqual(expected);
    }
  });

  it('holds many values under one pattern and forgets removed ones', () => {
    const trie = new TopicTrie<string>();
    trie.add('incident.*.ticket.created', 'shell-1');
    trie.add('incident.*.ticket.created', 'shell-2');
    trie.add('incident.>', 'ops');
    expect(matches(trie, 'incident.dev.ticket.created')).toEqual(['ops', 'shell-1', 'shell-2']);
    expect(trie.remove('incident.*.ticket.created', 'shell-1')).toBe(true);
    expect(trie.remove('incident.*.ticket.created', 'shell-1')).toBe(false);
    expect(trie.remove('incident.>', 'nobody')).toBe(false);
    expect(matches(trie, 'incident.dev.ticket.created')).toEqual(['ops', 'shell-2']);
    expect(trie.size).toBe(2);
  });

  it('prunes emptied branches, so subscribe/unsubscribe churn leaves nothing behind', () => {
    const trie = new TopicTrie<number>();
    for (let i = 0; i < 1000; i++) trie.add(`t${i}.*.x.>`, i);
    expect(trie.nodeCount()).toBe(1 + 1000 * 3);
    for (let i = 0; i < 1000; i++) expect(trie.remove(`t${i}.*.x.>`, i)).toBe(true);
    expect(trie.size).toBe(0);
    expect(trie.nodeCount()).toBe(1); // only the root is left
    expect(matches(trie as unknown as TopicTrie<string>, 't1.a.x.b')).toEqual([]);
  });
});
