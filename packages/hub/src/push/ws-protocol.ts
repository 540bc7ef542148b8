/**
 * The WebSocket protocol's client messages (JSON text frames). Each may carry a `ref`
 * (string or number, at most 64 chars) that the hub echoes on its reply, so a client can
 * match acknowledgements and errors to requests.
 *
 *   {"type":"subscribe","id":"inc","topic":"incident.*.ticket.created","filter":{…},"from":41}
 *   {"type":"subscribe","id":"alerts","channel":"alerts"}     (a routing rule's push channel)
 *   {"type":"unsubscribe","id":"inc"}
 *   {"type":"refresh","token":"<new access token>"}
 *   {"type":"ping"}
 */
import type { FieldError } from '../http/problem.ts';
import {
  parseSubscriptionSpec,
  SUBSCRIPTION_ID,
  type SubscriptionSpec,
} from './subscription-spec.ts';

export type Ref = string | number;

export type ClientMessage =
  | { type: 'subscribe'; ref?: Ref; spec: SubscriptionSpec }
  | { type: 'unsubscribe'; ref?: Ref; id: string }
  | { type: 'refresh'; ref?: Ref; token: string }
  | { type: 'ping'; ref?: Ref };

export type ProtocolError = {
  code: 'invalid';
  detail: string;
  errors?: FieldError[];
  ref?: Ref;
  id?: string;
};

export type ParseResult =
  { ok: true; message: ClientMessage } | { ok: false; error: ProtocolError };

const MAX_TOKEN_LENGTH = 16 * 1024;
/**
 * Field errors listed in one `error` reply. A message of thousands of unknown fields would
 * otherwise be answered by a reply many times its size.
 */
const MAX_ERRORS = 20;

export function parseClientMessage(text: string): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return invalid('the message is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return invalid('a message is a JSON object with a "type"');
  const record = value as Record<string, unknown>;
  const ref = record.ref;
  // A number too large for a double (1e999) parses as Infinity, which would be echoed as
  // null: refused like any other ref the client could not match its reply with.
  if (ref !== undefined && !(Number.isFinite(ref) || (typeof ref === 'string' && ref.length <= 64)))
    return invalid('"ref" must be a number or a string of at most 64 characters');
  const withRef = <T extends object>(message: T) =>
    (ref === undefined ? message : { ...message, ref }) as T & { ref?: Ref };
  const fail = (detail: string, errors?: FieldError[], id?: unknown) =>
    invalid(detail, {
      ...(errors ? { errors: errors.slice(0, MAX_ERRORS) } : {}),
      ...(ref !== undefined ? { ref: ref as Ref } : {}),
      ...(typeof id === 'string' ? { id } : {}),
    });

  switch (record.type) {
    case 'subscribe': {
      const result = parseSubscriptionSpec(record, { ignore: ['type', 'ref'] });
      if (!result.ok) return fail('the subscription is invalid', result.errors, record.id);
      return { ok: true, message: withRef({ type: 'subscribe', spec: result.spec }) };
    }
    case 'unsubscribe':
      if (typeof record.id !== 'string' || !SUBSCRIPTION_ID.test(record.id))
        return fail('"id" must name one of this connection\'s subscriptions', [
          { pointer: '/id', detail: 'must be a subscription id' },
        ]);
      return { ok: true, message: withRef({ type: 'unsubscribe', id: record.id }) };
    case 'refresh':
      if (
        typeof record.token !== 'string' ||
        record.token.length === 0 ||
        record.token.length > MAX_TOKEN_LENGTH
      )
        return fail('"token" must be the new access token', [
          { pointer: '/token', detail: 'must be a non-empty string' },
        ]);
      return { ok: true, message: withRef({ type: 'refresh', token: record.token }) };
    case 'ping':
      return { ok: true, message: withRef({ type: 'ping' }) };
    default:
      return fail('"type" must be one of subscribe, unsubscribe, refresh, ping', [
        { pointer: '/type', detail: 'is not a known message type' },
      ]);
  }
}

function invalid(detail: string, extra: Omit<ProtocolError, 'code' | 'detail'> = {}): ParseResult {
  return { ok: false, error: { code: 'invalid', detail, ...extra } };
}
