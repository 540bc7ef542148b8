/**
 * SQL conditions selecting events by tenant and topic pattern. For the pattern, the
 * literal leading segments become a range on `events.topic`. The literal leading
 * segments become a range on the text (cheap, no function call); what remains after a
 * wildcard is decided by `compileTopicPattern`, registered as a SQL function, so there
 * is one definition of the pattern language and LIMIT / COUNT stay in SQL.
 */
import type { DatabaseSync } from 'node:sqlite';
import { compileTopicPattern, topicPatternProblem, type TopicMatcher } from '../../events/topic.ts';

export type SqlCondition = { sql: string; params: string[] };

const MATCH_FUNCTION = 'portico_topic_matches';
/** Patterns come from requests: bound the compiled-matcher cache. */
const MATCHER_CACHE_LIMIT = 256;

/** Registers the matcher function on `db` (once per connection). */
export function registerTopicMatcher(db: DatabaseSync): void {
  const cache = new Map<string, TopicMatcher>();
  db.function(MATCH_FUNCTION, { deterministic: true }, (pattern, topic) => {
    if (typeof pattern !== 'string' || typeof topic !== 'string') return 0;
    let matcher = cache.get(pattern);
    if (matcher === undefined) {
      if (cache.size >= MATCHER_CACHE_LIMIT) cache.clear();
      matcher = compileTopicPattern(pattern);
      cache.set(pattern, matcher);
    }
    return matcher(topic) ? 1 : 0;
  });
}

/** Throws on an invalid pattern; returns undefined when the pattern matches every topic. */
export function topicCondition(pattern: string | undefined): SqlCondition | undefined {
  if (pattern === undefined || pattern === '>') return undefined;
  const problem = topicPatternProblem(pattern);
  if (problem !== undefined) throw new TypeError(`invalid topic pattern "${pattern}": ${problem}`);

  const segments = pattern.split('.');
  const firstWildcard = segments.findIndex((s) => s === '*' || s === '>');
  if (firstWildcard === -1) return { sql: 'topic = ?', params: [pattern] };

  const conditions: string[] = [];
  const params: string[] = [];
  if (firstWildcard > 0) {
    // Every topic starting with `prefix` sorts in [prefix, prefix with '.' bumped to '/').
    const prefix = `${segments.slice(0, firstWildcard).join('.')}.`;
    conditions.push('topic >= ? AND topic < ?');
    params.push(prefix, `${prefix.slice(0, -1)}/`);
  }
  // `prefix.>` is fully decided by the range: topic segments are never empty.
  const restIsTail = firstWildcard === segments.length - 1 && segments[firstWildcard] === '>';
  if (!restIsTail) {
    conditions.push(`${MATCH_FUNCTION}(?, topic)`);
    params.push(pattern);
  }
  return { sql: conditions.join(' AND '), params };
}

/**
 * The condition for a reader's or group's tenant + topic pattern; `1` when unfiltered.
 * `byTopic`: whether rows of the tenant are left out by topic (a selective pattern).
 */
export function eventFilter(
  tenant: string | undefined,
  topicPattern: string | undefined,
): SqlCondition & { byTopic: boolean } {
  const conditions: string[] = [];
  const params: string[] = [];
  if (tenant !== undefined) {
    conditions.push('tenant = ?');
    params.push(tenant);
  }
  const topic = topicCondition(topicPattern);
  if (topic !== undefined) {
    conditions.push(topic.sql);
    params.push(...topic.params);
  }
  return {
    sql: conditions.length === 0 ? '1' : conditions.join(' AND '),
    params,
    byTopic: topic !== undefined,
  };
}
