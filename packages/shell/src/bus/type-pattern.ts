/**
 * Bus event types and type patterns, spelled like the hub's: a type is `domain.entity.action`
 * (lowercase segments), a pattern uses NATS wildcards, `*` exactly one segment and `>` (last
 * segment only) one or more. Micro-frontends learn one syntax for the hub's topics and the bus.
 */

const SEGMENT = /^[a-z0-9][a-z0-9_-]*$/;

/** Why `type` is not a bus event type, or undefined when it is. */
export function eventTypeProblem(type: unknown): string | undefined {
  if (typeof type !== 'string') return 'must be a string';
  const parts = type.split('.');
  if (parts.length !== 3)
    return `must have three dot-separated segments (domain.entity.action), got ${parts.length}`;
  const bad = parts.find((p) => !SEGMENT.test(p));
  if (bad !== undefined)
    return `segment "${bad}" must be lowercase letters, digits, '-' or '_', starting with a letter or digit`;
  return undefined;
}

/** Why `pattern` is not a type pattern, or undefined when it is. */
export function typePatternProblem(pattern: unknown): string | undefined {
  if (typeof pattern !== 'string') return 'must be a string';
  if (pattern.length === 0) return 'must not be empty';
  const parts = pattern.split('.');
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (p === '>' && i !== parts.length - 1) return "'>' may only be the last segment";
    if (p !== '*' && p !== '>' && !SEGMENT.test(p)) return `segment "${p}" is not a valid segment`;
  }
  return undefined;
}

export type TypeMatcher = (type: string) => boolean;

/** Compiles a valid pattern (see typePatternProblem) into a predicate on event types. */
export function compileTypePattern(pattern: string): TypeMatcher {
  if (pattern === '>') return () => true;
  const parts = pattern.split('.');
  if (!parts.includes('*') && !parts.includes('>')) return (type) => type === pattern;
  return (type) => {
    const t = type.split('.');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (p === '>') return t.length > i;
      if (i >= t.length) return false;
      if (p !== '*' && p !== t[i]) return false;
    }
    return t.length === parts.length;
  };
}
