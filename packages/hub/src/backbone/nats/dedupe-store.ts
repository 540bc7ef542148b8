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
  /** Identity of `tenant` + `source` + `id`: the same value as the message's Nats-Msg-Id. */
  dedupeKey: string;
  /** Identity of `tenant` + `id`, for lookups by event id. */
  eventKey: string;
  position: number;
  partition: number;
};

export type RecordedEvent = { position: number; partition: number };

export interface DedupeStore {
  /** The events recorded for these keys at or after `notBefore` (epoch ms), by key. */
  find(dedupeKeys: readonly string[], notBefore: number): Promise<Map<string, RecordedEvent>>;
  /**
   * Check-and-record, atomically in the store: each record is kept unless its key is
   * already held by a record made at or after `notBefore` (then the earlier one stays).
   * Returns, for every key, the event that holds it now.
   */
  record(
    records: readonly DedupeRecord[],
    now: number,
    notBefore: number,
  ): Promise<Map<string, RecordedEvent>>;
  /** The newest position recorded for an event key. */
  positionOf(eventKey: string): Promise<number | undefined>;
  /** Forgets records of positions below `position` (removed from the stream by retention). */
  forgetBefore(position: number): Promise<number>;
}
