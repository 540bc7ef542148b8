/**
 * A routed log entry's identity in the delivery table (`event_key`, unique with the rule
 * and the target index): the same for every time the log offers the same entry again
 * (after a crash before the router's ack), so routing it again inserts nothing.
 *
 * It starts with the time the log accepted the entry, so new keys sort after old ones and
 * each insert lands at the right edge of the unique index. A plain digest (what it was
 * until 2026-12) put every insert on a random page of that index: once the index outgrew
 * the page cache, each row cost a page read, and each commit wrote one index page per row
 * (bench/webhooks: the store's writer thread spent most of its time on those commits).
 * The digest of tenant, source and id follows, so two entries accepted in the same
 * millisecond differ, and a log restarted from position 1 cannot collide with old rows.
 */
import { hash } from 'node:crypto';
import type { LogEntry } from '../backbone/event-log.ts';

/** Base-36 digits of epoch milliseconds up to the year 5188: fixed width, so keys sort by time. */
const TIME_DIGITS = 9;

export function deliveryEventKey(entry: LogEntry): string {
  const { event } = entry;
  // One-shot hash (no Hash object per event); the same digest as createHash.
  const digest = hash(
    'sha256',
    JSON.stringify([event.tenantid, event.source, event.id]),
    'base64url',
  );
  const time = Math.floor(entry.appendedAt).toString(36).padStart(TIME_DIGITS, '0');
  // "." never occurs in base64url: a key of this form never equals an older plain digest.
  return `${time}.${digest}`;
}
