/**
 * The events this process appended most recently, kept as the objects the callers
 * appended, so a pull of a fresh event (the router pulls every event moments after it is
 * appended) needs neither its body sent back from the writer thread nor a JSON.parse.
 *
 * Positions are held contiguously: everything stored between `range().from` and
 * `range().to` is here (this process is the log's only writer, commits answer in
 * position order, and neither duplicates nor rolled-back batches use a position), so
 * the writer may leave out the bodies of leased rows in that range. An entry evicted
 * between the lease and its answer is read back from the database by the caller.
 *
 * Each object is handed out once and then let go; a second pull of the same event
 * (another group, a redelivery) gets a fresh parse of the stored text, as a pull always
 * did, so no two consumers share one mutable object. The window is short on purpose:
 * objects held longer than a couple of young-generation GCs get promoted, and copying
 * them costs more than the parse saved.
 */
import type { CloudEventRecord } from '../event-log.ts';

export type RecentEvents = {
  add(position: number, event: CloudEventRecord, body: string): void;
  /** The positions held, or undefined when none are. */
  range(): { from: number; to: number } | undefined;
  /** The event at `position`, if held: the appended object the first time, else a parse. */
  take(position: number): CloudEventRecord | undefined;
};

export function createRecentEvents(limits: {
  maxEvents: number;
  /** Upper bound on the UTF-16 length of the bodies held. */
  maxChars: number;
}): RecentEvents {
  // A ring indexed by position: positions arrive contiguous and in order.
  const capacity = limits.maxEvents;
  const events: (CloudEventRecord | undefined)[] = new Array(capacity).fill(undefined);
  const bodies: (string | undefined)[] = new Array(capacity).fill(undefined);
  let from = 0;
  let count = 0;
  let chars = 0;

  const evictOldest = (): void => {
    const slot = from % capacity;
    chars -= bodies[slot]!.length;
    events[slot] = undefined;
    bodies[slot] = undefined;
    from++;
    count--;
  };
  const clear = (): void => {
    while (count > 0) evictOldest();
  };

  return {
    add(position, event, body) {
      // Not the next position (never expected): start over rather than hold a gap.
      if (count > 0 && position !== from + count) clear();
      if (count === 0) from = position;
      if (count === capacity) evictOldest();
      const slot = position % capacity;
      events[slot] = event;
      bodies[slot] = body;
      count++;
      chars += body.length;
      while (chars > limits.maxChars && count > 0) evictOldest();
    },
    range() {
      return count === 0 ? undefined : { from, to: from + count - 1 };
    },
    take(position) {
      if (count === 0 || position < from || position >= from + count) return undefined;
      const slot = position % capacity;
      const event = events[slot];
      if (event === undefined) return JSON.parse(bodies[slot]!) as CloudEventRecord;
      events[slot] = undefined;
      return event;
    },
  };
}
