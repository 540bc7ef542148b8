/**
 * Checks on `AppendInput` that every engine applies before writing anything, so a bad
 * input fails its own batch with a clear message instead of corrupting the log.
 */
import type { AppendInput } from './event-log.ts';
import { topicPatternProblem } from '../events/topic.ts';

/**
 * Returns why `input` cannot be appended, or undefined when it can. `validTopics`, when
 * given, remembers topics that passed, so a log checking every event of a busy stream
 * checks each topic once; the caller bounds it.
 */
export function appendInputProblem(
  input: AppendInput,
  validTopics?: Set<string>,
): string | undefined {
  if (typeof input !== 'object' || input === null) return 'must be an object';
  if (typeof input.tenant !== 'string' || input.tenant.length === 0)
    return 'tenant must be a non-empty string';
  // node:sqlite reads TEXT back only up to a NUL; a tenant must survive the round trip.
  if (input.tenant.includes('\u0000')) return 'tenant must not contain NUL characters';
  if (typeof input.topic !== 'string') return 'topic must be a string';
  if (validTopics === undefined || !validTopics.has(input.topic)) {
    const topicProblem = topicPatternProblem(input.topic);
    if (topicProblem !== undefined) return `topic "${input.topic}": ${topicProblem}`;
    if (input.topic.split('.').some((s) => s === '*' || s === '>'))
      return `topic "${input.topic}" must not contain wildcards`;
    validTopics?.add(input.topic);
  }
  if (typeof input.partitionKey !== 'string') return 'partitionKey must be a string';
  if (typeof input.dedupeKey !== 'string' || input.dedupeKey.length === 0)
    return 'dedupeKey must be a non-empty string';
  if (typeof input.event !== 'object' || input.event === null) return 'event must be an object';
  if (typeof input.event.id !== 'string' || input.event.id.length === 0)
    return 'event.id must be a non-empty string';
  return undefined;
}
