/**
 * Messages between the event log (main thread) and its writer thread (log-writer-thread.ts).
 * Every write runs on the writer thread, so a commit's fsync never blocks request handling;
 * the main thread keeps a read-only connection for reads. Times come from the main
 * thread (`now`), so an injected clock keeps working.
 */
import { ConsumerGroupLimitError } from '../consumer-group-limit.ts';
import { ConsumerGroupNotFoundError } from '../consumer-group-not-found.ts';
import type { ConsumerGroupSpec, EnsureGroupLimits, RetentionPolicy } from '../event-log.ts';
import type { PositionRange } from './consumer-groups.ts';
import type { EventRow } from './event-rows.ts';

/**
 * One event ready to store: the CloudEvent already serialised on the main thread, so the
 * writer gets one string instead of an object graph to clone.
 */
export type EncodedAppend = {
  tenant: string;
  topic: string;
  partitionKey: string;
  dedupeKey: string;
  eventId: string;
  body: string;
};

export type Settlement = { group: string; token: string; kind: 'ack' | 'term' };

export type WriterRequest =
  | { op: 'append'; batches: EncodedAppend[][]; now: number }
  | { op: 'settle'; settlements: Settlement[] }
  | {
      op: 'lease';
      group: string;
      consumer: string;
      max: number;
      now: number;
      /** Positions whose events the main thread holds (recent-events.ts): no body needed. */
      omitBodies?: PositionRange;
    }
  | { op: 'nack'; group: string; token: string; delayMs: number; now: number }
  | { op: 'ensureGroup'; spec: ConsumerGroupSpec; limits?: EnsureGroupLimits }
  | { op: 'deleteGroup'; name: string }
  | { op: 'retention'; policy: RetentionPolicy; now: number }
  | { op: 'close' };

/** [partition, position, duplicate (1/0)] per event of a batch. */
export type EncodedResult = [number, number, number];

export type BatchOutcome =
  { ok: true; results: EncodedResult[] } | { ok: false; error: EncodedError };

/** What each request answers with. */
export type WriterValue = {
  append: {
    outcomes: BatchOutcome[];
    /** The appended events' recorded time. */
    now: number;
    /** Sequence number of the transaction: requests committed together share it. */
    commit: number;
  };
  settle: ({ ok: true; value: boolean } | { ok: false; error: EncodedError })[];
  lease: LeasedRow[];
  nack: boolean;
  ensureGroup: undefined;
  deleteGroup: boolean;
  retention: { removed: number };
  close: undefined;
};

export type LeasedRow = EventRow & { token: string; deliveryCount: number };

export type WriterEnvelope = { id: number; request: WriterRequest };
export type WriterReply =
  { id: number; ok: true; value: unknown } | { id: number; ok: false; error: EncodedError };

/** Errors cross the thread boundary as data; their class is rebuilt from `name`. */
export type EncodedError = {
  name: string;
  message: string;
  group?: string;
  tenant?: string;
  limit?: number;
};

export function encodeError(error: unknown): EncodedError {
  if (error instanceof ConsumerGroupNotFoundError)
    return { name: error.name, message: error.message, group: error.group };
  if (error instanceof ConsumerGroupLimitError)
    return { name: error.name, message: error.message, tenant: error.tenant, limit: error.limit };
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: 'Error', message: String(error) };
}

export function decodeError(encoded: EncodedError): Error {
  if (encoded.name === 'ConsumerGroupNotFoundError' && encoded.group !== undefined)
    return new ConsumerGroupNotFoundError(encoded.group);
  if (
    encoded.name === 'ConsumerGroupLimitError' &&
    encoded.tenant !== undefined &&
    encoded.limit !== undefined
  )
    return new ConsumerGroupLimitError(encoded.tenant, encoded.limit);
  const Kind =
    encoded.name === 'TypeError' ? TypeError : encoded.name === 'RangeError' ? RangeError : Error;
  const error = new Kind(encoded.message);
  if (Kind === Error && encoded.name !== 'Error') error.name = encoded.name;
  return error;
}
