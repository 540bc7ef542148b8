/**
 * The seam between the delivery engine and the things it delivers to. Every target kind
 * (queue, push, webhook, …) implements `DeliveryTarget`; the engine owns attempts,
 * backoff, leases, the DLQ and replay, so a kind only says how one attempt went.
 */
import type { CloudEventRecord } from '../backbone/event-log.ts';

/** One delivery of one event to one (rule, target), as handed to a target for an attempt. */
export type Delivery = {
  /** Stable across every attempt and replay of this (event, rule, target): a receiver's dedupe key. */
  id: string;
  /** 1 on the first attempt. */
  attempt: number;
  /** The event's tenant. */
  tenant: string;
  /** Who owns the rule: `tenant:<id>` or `platform`. */
  owner: string;
  rule: { id: string; name: string };
  target: {
    kind: string;
    /** The destination within the kind: queue name, push channel, webhook endpoint id … */
    ref: string;
    /** Position of the target in the rule's `targets`. */
    index: number;
    /** The target as written in the rule (kind-specific fields included). */
    config: Readonly<Record<string, unknown>>;
  };
  /** The original CloudEvent, never modified. */
  event: CloudEventRecord;
  /** `event` in JSON as stored (`JSON.stringify(event)`), when the engine has it at hand. */
  eventJson?: string;
  /** What to send: the event itself, or the input transform's output when the target has one. */
  payload: unknown;
  transformed: boolean;
  /** Always carried, so a receiver can join its work to the trace of the originating request. */
  correlationId: string;
  partitionKey: string;
};

/**
 * What a target may add to the attempt log about one attempt (all optional). The engine
 * records the rest itself: when, how long, the outcome and the error.
 */
export type AttemptDetail = {
  /** The receiver's status code, e.g. the HTTP status. */
  statusCode?: number;
  /**
   * The start of the receiver's answer, for people debugging an endpoint (the engine keeps
   * at most 1 KiB). Never put credentials or request secrets here.
   */
  response?: string;
};

export type DeliveryResult =
  | { outcome: 'delivered'; detail?: AttemptDetail }
  /** Try again later; `retryAfterMs` (e.g. from a Retry-After header) replaces the backoff delay. */
  | { outcome: 'retry'; error: string; retryAfterMs?: number; detail?: AttemptDetail }
  /** Give up now: straight to the DLQ with `reason` (a short stable code, e.g. `gone`). */
  | { outcome: 'failed'; error: string; reason: string; detail?: AttemptDetail }
  /**
   * Not attempted (e.g. the destination's own rate limit is reached): the delivery is
   * given back untouched, due again in `delayMs`, without spending an attempt and without
   * an attempt record. The kind's maximum age still applies.
   */
  | { outcome: 'deferred'; delayMs: number };

export interface DeliveryTarget {
  /**
   * Makes one attempt. `signal` aborts when the attempt times out or the hub stops; a
   * target that ignores it is abandoned (the engine stops waiting and counts a retry).
   * A thrown error counts as `retry` with the error's message.
   */
  deliver(delivery: Delivery, signal: AbortSignal): Promise<DeliveryResult>;
}
