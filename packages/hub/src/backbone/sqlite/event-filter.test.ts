import { DatabaseSync } from 'node:sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { compileTopicPattern } from '../../events/topic.ts';
import { eventFilter, registerTopicMatcher, topicCondition } from './event-filter.ts';

// Topics chosen to sit right at the edges of the prefix ranges ('-' and '/' sort next
// to '.', 'z' at the top of the segment alphabet).
const TOPICS = [
  'orders.dev.order.created',
  'orders.dev.order.cancelled',
  'orders.dev.zeta.created',
  'orders.devx.order.created',
  'orders-x.dev.order.created',
  'ordersx.dev.order.created',
  'orders.prod.order.created',
  'orders.dev.order.created.extra',
  'billing.dev.invoice.paid',
  'z.z.z.z',
];

const PATTERNS = [
  'orders.dev.order.created',
  'orders.dev.order.*',
  'orders.dev.*.created',
  'orders.*.order.created',
  'orders.dev.>',
  'orders.>',
  'orders.dev.order.>',
  '*.dev.*.created',
  '*.>',
  '*.*.*.*',
  'z.>',
  '>',
];

describe('eventFilter', () => {
  const db = new DatabaseSync(':memory:');
  registerTopicMatcher(db);
  db.exec('CREATE TABLE events (position INTEGER PRIMARY KEY, tenant TEXT, topic TEXT)');
  const insert = db.prepare('INSERT INTO events (tenant, topic) VALUES (?, ?)');
  for (const topic of TOPICS) {
    insert.run('acme', topic);
    insert.run('globex', topic);
  }
  afterAll(() => db.close());

  const select = (tenant: string | undefined, pattern: string | undefined): string[] => {
    const filter = eventFilter(tenant, pattern);
    return db
      .prepare(`SELECT tenant, topic FROM events WHERE ${filter.sql} ORDER BY position`)
      .all(...filter.params)
      .map((row) => `${String(row['tenant'])}/${String(row['topic'])}`);
  };

  it.each(PATTERNS)('selects exactly what compileTopicPattern matches: %s', (pattern) => {
    const matches = compileTopicPattern(pattern);
    const expected = TOPICS.filter(matches).map((t) => `acme/${t}`);
    expect(select('acme', pattern)).toEqual(expected);
  });

  it('filters by tenant alone, and by nothing', () => {
    expect(select('globex', undefined)).toEqual(TOPICS.map((t) => `globex/${t}`));
    expect(select(undefined, undefined)).toHaveLength(2 * TOPICS.length);
  });

  it('uses plain SQL (no function call) for literal topics and literal prefixes', () => {
    expect(topicCondition('orders.dev.order.created')).toEqual({
      sql: 'topic = ?',
      params: ['orders.dev.order.created'],
    });
    expect(topicCondition('orders.dev.>')).toEqual({
      sql: 'topic >= ? AND topic < ?',
      params: ['orders.dev.', 'orders.dev/'],
    });
    expect(topicCondition('>')).toBeUndefined();
    expect(topicCondition('orders.*.order.created')?.sql).toMatch(
      /^topic >= \? AND topic < \? AND portico_topic_matches/,
    );
  });

  it('rejects invalid patterns', () => {
    expect(() => topicCondition('orders.>.x')).toThrow(/invalid topic pattern/);
    expect(() => topicCondition('')).toThrow(/invalid topic pattern/);
  });
});
