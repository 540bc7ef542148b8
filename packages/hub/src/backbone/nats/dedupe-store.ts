/**
 * Portico's own record of appended events, kept beside JetStream. JetStream's
 * `Nats-Msg-Id` dedupe holds ids in server memory for a short window (minutes); this
 * record holds them for Portico's window (24 h by default) and doubles as the index from
 * an event id to its stream sequence, which `getById` needs and JetStream does not keep.
 *
 * Keys are opaque strings made by the event log (hashes that include the tenant), so a
 * store never sees raw tenant ids or CloudEvents ids.
 */
export type DedupeRecord = {
  /** Identity of `tenant` + `source` + `id`: the message's Nats-Msg-Id is made from it. */
  dedupeKey: string;
  /** Identity of `tenant` + `id`, for lookups by event id. */
  eventKey: string;
  position: number;
  partition: number;
  /** When the event was appended (epoch ms, the log's clock): the dedupe window starts here. */
  recordedAt: number;
};

export type RecordedEvent = { position: number; partition: number; recordedAt: number };

export interface DedupeStore {
  /** The records held for these keys, by key, whatever their age (the caller applies the window). */
  find(dedupeKeys: readonly string[]): Promise<Map<string, RecordedEvent>>;
  /**
   * Check-and-record, atomically in the store: each record is kept unless its key is
   * already held by a record made less than `windowMs` before it (then the earlier one
   * stays). Returns, for every key, the event that holds it now.
   */
  record(records: readonly DedupeRecord[], windowMs: number): Promise<Map<string, RecordedEvent>>;
  /** The newest position recorded for an event key. */
  positionOf(eventKey: string): Promise<number | undefined>;
  /** Forgets records of positions below `position` (removed from the stream by retention). */
  forgetBefore(position: number): Promise<number>;
}
