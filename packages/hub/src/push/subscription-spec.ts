/**
 * What a client asks for when it subscribes, on either transport: an id it chooses (echoed
 * on every message the subscription matches), a topic pattern, an optional EventBridge
 * content filter, and an optional position to replay after. One parser for SSE query
 * strings, the SSE control endpoint and WebSocket messages, so the rules cannot drift.
 */
import type { FieldError } from '../http/problem.ts';
import { topicPatternProblem } from '../events/topic.ts';
import { validatePattern, type Pattern } from '../routing/pattern/index.ts';

/** Ids go into JSON, SSE data lines and URL paths; topic patterns are valid ids. */
export const SUBSCRIPTION_ID = /^[A-Za-z0-9._:*>-]{1,128}$/;
export const MAX_TOPIC_PATTERN_LENGTH = 512;
/** A filter is compiled and held per subscription: keep it small. */
export const MAX_FILTER_BYTES = 8 * 1024;

export type SubscriptionSpec = {
  id: string;
  topic: string;
  filter?: Pattern;
  /** Replay events after this position (exclusive) before going live. */
  from?: number;
};

export type SpecResult = { ok: true; spec: SubscriptionSpec } | { ok: false; errors: FieldError[] };

const KNOWN_FIELDS = new Set(['id', 'topic', 'filter', 'from']);

/**
 * Checks one subscription. `pointer` prefixes every error pointer (e.g. `/subscriptions/2`);
 * `ignore` names fields the caller owns (a WebSocket message's `type` and `ref`).
 */
export function parseSubscriptionSpec(
  input: unknown,
  options: { pointer?: string; in?: FieldError['in']; ignore?: readonly string[] } = {},
): SpecResult {
  const at = options.pointer ?? '';
  const where = options.in ?? 'body';
  const errors: FieldError[] = [];
  const fail = (pointer: string, detail: string) =>
    errors.push({ pointer: `${at}${pointer}` || '/', detail, in: where });

  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    fail('', 'must be an object with id, topic and optionally filter and from');
    return { ok: false, errors };
  }
  const record = input as Record<string, unknown>;
  for (const key of Object.keys(record))
    if (!KNOWN_FIELDS.has(key) && !options.ignore?.includes(key))
      fail(`/${key}`, 'is not a subscription field (id, topic, filter, from)');

  const { id, topic, filter, from } = record;
  if (typeof id !== 'string' || !SUBSCRIPTION_ID.test(id))
    fail('/id', 'must be 1-128 characters of letters, digits and . _ : * > -');
  if (typeof topic !== 'string') fail('/topic', 'must be a topic pattern string');
  else if (topic.length > MAX_TOPIC_PATTERN_LENGTH)
    fail('/topic', `must be at most ${MAX_TOPIC_PATTERN_LENGTH} characters`);
  else {
    const problem = topicPatternProblem(topic);
    if (problem) fail('/topic', problem);
  }
  if (filter !== undefined) {
    if (JSON.stringify(filter).length > MAX_FILTER_BYTES)
      fail('/filter', `must be at most ${MAX_FILTER_BYTES} bytes of JSON`);
    else
      for (const problem of validatePattern(filter))
        fail(`/filter${problem.pointer}`, problem.detail);
  }
  if (from !== undefined && !(Number.isSafeInteger(from) && (from as number) >= 0))
    fail('/from', 'must be a non-negative integer (a position from an earlier message)');

  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    spec: {
      id: id as string,
      topic: topic as string,
      ...(filter !== undefined ? { filter: filter as Pattern } : {}),
      ...(from !== undefined ? { from: from as number } : {}),
    },
  };
}

/** Parses a list (SSE `subscriptions=` query), reporting duplicate ids too. */
export function parseSubscriptionList(
  input: unknown,
  options: { pointer: string; in: FieldError['in'] },
): { ok: true; specs: SubscriptionSpec[] } | { ok: false; errors: FieldError[] } {
  if (!Array.isArray(input))
    return {
      ok: false,
      errors: [
        {
          pointer: options.pointer,
          detail: 'must be a JSON array of subscriptions',
          in: options.in,
        },
      ],
    };
  const specs: SubscriptionSpec[] = [];
  const errors: FieldError[] = [];
  input.forEach((item, index) => {
    const result = parseSubscriptionSpec(item, {
      pointer: `${options.pointer}/${index}`,
      in: options.in,
    });
    if (result.ok) specs.push(result.spec);
    else errors.push(...result.errors);
  });
  errors.push(...duplicateIdErrors(specs, options));
  return errors.length > 0 ? { ok: false, errors } : { ok: true, specs };
}

export function duplicateIdErrors(
  specs: readonly SubscriptionSpec[],
  options: { pointer: string; in: FieldError['in'] },
): FieldError[] {
  const seen = new Set<string>();
  const errors: FieldError[] = [];
  for (const spec of specs) {
    if (seen.has(spec.id))
      errors.push({
        pointer: options.pointer,
        detail: `subscription id "${spec.id}" is used twice`,
        in: options.in,
      });
    seen.add(spec.id);
  }
  return errors;
}
