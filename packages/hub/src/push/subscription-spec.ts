/**
 * What a client asks for when it subscribes, on either transport: an id it chooses (echoed
 * on every message the subscription matches), a topic pattern or a push channel, an
 * optional EventBridge content filter, and an optional position to replay after. One
 * parser for SSE query strings, the SSE control endpoint and WebSocket messages, so the
 * rules cannot drift.
 *
 * A channel is where routing rules' `push` targets put their copies: the topic
 * `portico.<env>.push.<channel>` (delivery/log-copy-target.ts). `channel: "alerts"` is the
 * same subscription as `topic: "portico.*.push.alerts"`, the form the routing README uses
 * for queues too (the environment segment is a wildcard: a hub's log holds its own env).
 */
import type { FieldError } from '../http/problem.ts';
import { deeperThan, tooDeepDetail } from '../http/json-depth.ts';
import { topicPatternProblem } from '../events/topic.ts';
import { DESTINATION } from '../delivery/log-copy-target.ts';
import { validatePattern, type Pattern } from '../routing/pattern/index.ts';

/** Ids go into JSON, SSE data lines and URL paths; topic patterns are valid ids. */
export const SUBSCRIPTION_ID = /^[A-Za-z0-9._:*>-]{1,128}$/;
export const MAX_TOPIC_PATTERN_LENGTH = 512;
/** A filter is compiled and held per subscription: keep it small. */
export const MAX_FILTER_BYTES = 8 * 1024;

export type SubscriptionSpec = {
  id: string;
  /** The topic pattern; for a channel subscription, the channel's topic pattern. */
  topic: string;
  /** Set when the client subscribed by push channel rather than by topic. */
  channel?: string;
  filter?: Pattern;
  /** Replay events after this position (exclusive) before going live. */
  from?: number;
  /** Instead of `from`: replay the last N matching events of the tenant, then go live. */
  last?: number;
};

/** The most events `last` may ask for (a late-mounting view wants a screenful, not history). */
export const MAX_LAST = 1000;

/** The replay a spec asks the gateway for (its own `from` or `last`). */
export function replayOptions(spec: SubscriptionSpec): { from?: number; last?: number } {
  if (spec.from !== undefined) return { from: spec.from };
  if (spec.last !== undefined) return { last: spec.last };
  return {};
}

export type SpecResult = { ok: true; spec: SubscriptionSpec } | { ok: false; errors: FieldError[] };

const KNOWN_FIELDS = new Set(['id', 'topic', 'channel', 'filter', 'from', 'last']);

/** The topic pattern of a push channel (any environment segment; see the module comment). */
export function channelTopic(channel: string): string {
  return `portico.*.push.${channel}`;
}

/** The subscription id `?channel=` gives a channel on the SSE query string. */
export function channelSubscriptionId(channel: string): string {
  return `channel:${channel}`;
}

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
    fail('', 'must be an object with id, topic (or channel) and optionally filter, from or last');
    return { ok: false, errors };
  }
  const record = input as Record<string, unknown>;
  for (const key of Object.keys(record))
    if (!KNOWN_FIELDS.has(key) && !options.ignore?.includes(key))
      fail(`/${key}`, 'is not a subscription field (id, topic, channel, filter, from, last)');

  const { id, topic, channel, filter, from, last } = record;
  if (typeof id !== 'string' || !SUBSCRIPTION_ID.test(id))
    fail('/id', 'must be 1-128 characters of letters, digits and . _ : * > -');
  if (channel !== undefined) {
    if (topic !== undefined) fail('/channel', 'give either a topic or a channel, not both');
    else if (typeof channel !== 'string' || !DESTINATION.test(channel))
      fail(
        '/channel',
        'must be a push channel name: 1-64 lowercase letters, digits, _ and -, starting with a letter or digit',
      );
  } else if (typeof topic !== 'string')
    fail('/topic', 'must be a topic pattern string (or give a push channel in channel)');
  else if (topic.length > MAX_TOPIC_PATTERN_LENGTH)
    fail('/topic', `must be at most ${MAX_TOPIC_PATTERN_LENGTH} characters`);
  else {
    const problem = topicPatternProblem(topic);
    if (problem) fail('/topic', problem);
  }
  if (filter !== undefined) {
    // Checked first: JSON.stringify of a pathologically deep filter exhausts the stack.
    const tooDeep = deeperThan(filter);
    if (tooDeep !== undefined) fail(`/filter${tooDeep === '/' ? '' : tooDeep}`, tooDeepDetail());
    // Bytes, not characters: a filter of multi-byte text was up to three times the limit.
    else if (Buffer.byteLength(JSON.stringify(filter)) > MAX_FILTER_BYTES)
      fail('/filter', `must be at most ${MAX_FILTER_BYTES} bytes of JSON`);
    else
      for (const problem of validatePattern(filter))
        fail(`/filter${problem.pointer}`, problem.detail);
  }
  if (from !== undefined && !(Number.isSafeInteger(from) && (from as number) >= 0))
    fail('/from', 'must be a non-negative integer (a position from an earlier message)');
  if (last !== undefined) {
    if (from !== undefined) fail('/last', 'give either from or last, not both');
    else if (!(Number.isSafeInteger(last) && (last as number) >= 1 && (last as number) <= MAX_LAST))
      fail('/last', `must be an integer from 1 to ${MAX_LAST} (how many recent events to replay)`);
  }

  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    spec: {
      id: id as string,
      ...(channel !== undefined
        ? { topic: channelTopic(channel as string), channel: channel as string }
        : { topic: topic as string }),
      ...(filter !== undefined ? { filter: filter as Pattern } : {}),
      ...(from !== undefined ? { from: from as number } : {}),
      ...(last !== undefined ? { last: last as number } : {}),
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
