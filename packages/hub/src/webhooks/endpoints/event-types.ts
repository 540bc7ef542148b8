/**
 * An endpoint's event types, and the routing pattern they make.
 *
 * Event types have exactly three segments (`domain.entity.action`). A type pattern is:
 * an exact type; three segments where any may be `*` (one segment); one or two leading
 * segments followed by `>` (everything below); or `>` / `*` alone (every type).
 *
 * Compiled into the EventBridge language the router already speaks: exact types as
 * strings, `a.>` as `{"prefix": "a."}`, `a.*.c` as `{"wildcard": "a.*.c"}`. The wildcard
 * `*` of EventBridge also crosses dots, but a type always has exactly two dots and a
 * three-segment pattern has two literal dots, so each `*` can only cover one segment.
 */
import type { FieldError } from '../../http/problem.ts';
import type { Pattern } from '../../routing/pattern/index.ts';

const SEGMENT = /^[a-z0-9][a-z0-9_-]*$/;
export const MAX_EVENT_TYPES = 50;

/** Why `pattern` is not an event type pattern, or undefined. */
export function eventTypeProblem(pattern: string): string | undefined {
  if (pattern === '>' || pattern === '*') return undefined;
  const parts = pattern.split('.');
  const last = parts[parts.length - 1];
  if (last === '>') {
    if (parts.length > 3)
      return 'a ">" pattern has at most two leading segments (types are domain.entity.action), e.g. "billing.>"';
    const bad = parts.slice(0, -1).find((p) => !SEGMENT.test(p));
    return bad === undefined ? undefined : segmentProblem(bad);
  }
  if (parts.length !== 3)
    return `an event type has three segments (domain.entity.action); for everything under "${parts[0]}" write "${parts[0]}.>"`;
  const bad = parts.find((p) => p !== '*' && !SEGMENT.test(p));
  return bad === undefined ? undefined : segmentProblem(bad);
}

function segmentProblem(segment: string): string {
  return `segment "${segment}" must be lowercase letters, digits, "-" or "_" (or "*" for any one segment, ">" last for the rest)`;
}

/** Every problem with a list of type patterns, as field errors under `at`. */
export function validateEventTypes(types: readonly string[], at = '/eventTypes'): FieldError[] {
  const errors: FieldError[] = [];
  types.forEach((t, i) => {
    const problem = eventTypeProblem(t);
    if (problem) errors.push({ pointer: `${at}/${i}`, detail: problem });
    else if (t.startsWith('portico.'))
      errors.push({
        pointer: `${at}/${i}`,
        detail:
          "the portico. domain holds the hub's operational events; tenant endpoints do not receive them (a platform rule with a webhook target can route them)",
      });
  });
  return errors;
}

/** The routing pattern of an endpoint: its types ANDed with its filter. */
export function endpointPattern(types: readonly string[], filter: Pattern | null): Pattern {
  const all = types.length === 0 || types.some((t) => t === '>' || t === '*');
  const typeCondition: unknown[] = all
    ? [{ exists: true }]
    : [...new Set(types)].map((t) => {
        if (t.endsWith('.>')) return { prefix: t.slice(0, -1) };
        if (t.includes('*')) return { wildcard: t };
        return t;
      });
  return { ...(filter ?? {}), type: typeCondition } as Pattern;
}
