/**
 * Topic names and topic patterns.
 *
 * An event `type` is `domain.entity.action` (lowercase segments); the hub's environment
 * turns it into the topic `domain.<env>.entity.action`. Patterns use NATS subject
 * wildcards: `*` matches exactly one segment, `>` (last token only) one or more.
 */

const SEGMENT = /^[a-z0-9][a-z0-9_-]*$/;

/** Returns why `type` is not a valid event type, or undefined when it is. */
export function eventTypeProblem(type: string): string | undefined {
  // The topic is part of a NATS subject; a subject past the server's control-line limit
  // (4 KiB) made NATS close the hub's connection, failing every request in flight.
  if (type.length > 256) return 'must be at most 256 characters';
  const parts = type.split('.');
  if (parts.length !== 3)
    return `must have exactly three dot-separated segments (domain.entity.action), got ${parts.length}`;
  const bad = parts.find((p) => !SEGMENT.test(p));
  if (bad !== undefined)
    return `segment "${bad}" must be lowercase letters, digits, '-' or '_', starting with a letter or digit`;
  return undefined;
}

export function topicForType(type: string, env: string): string {
  const [domain, entity, action] = type.split('.');
  return `${domain}.${env}.${entity}.${action}`;
}

/** Returns why `pattern` is not a valid topic pattern, or undefined when it is. */
export function topicPatternProblem(pattern: string): string | undefined {
  if (pattern.length === 0) return 'must not be empty';
  const parts = pattern.split('.');
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (p === '>' && i !== parts.length - 1) return "'>' may only be the last segment";
    if (p !== '*' && p !== '>' && !SEGMENT.test(p))
      return `segment "${p}" is not a valid topic segment`;
  }
  return undefined;
}

export type TopicMatcher = (topic: string) => boolean;

/** Compiles a (valid) topic pattern into a predicate. */
export function compileTopicPattern(pattern: string): TopicMatcher {
  if (pattern === '>') return () => true;
  const parts = pattern.split('.');
  if (!parts.includes('*') && !parts.includes('>')) return (topic) => topic === pattern;
  return (topic) => {
    const t = topic.split('.');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (p === '>') return t.length > i;
      if (i >= t.length) return false;
      if (p !== '*' && p !== t[i]) return false;
    }
    return t.length === parts.length;
  };
}
