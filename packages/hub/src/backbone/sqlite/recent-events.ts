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
 * Each object is handed out once; a second pull of the same event (another group, a
 * redelivery) gets a fresh parse of the stored text, as a pull always did, so no two
 * consumers share one mutable object.
 */
import type { CloudEventRecord } from '../event-log.ts';

type Recent = { event: CloudEventRecord | undefined; body: string };

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
  const held = new Map<number, Recent>();
  let chars = 0;
  let to = 0;

  const evictOldest = (): void => {
    for (const [position, entry] of held) {
      held.delete(position);
      chars -= entry.body.length;
      return;
    }
  };

  return {
    add(position, event, body) {
      held.set(position, { event, body });
      to = position;
      chars += body.length;
      while (held.size > limits.maxEvents || (chars > limits.maxChars && held.size > 0))
        evictOldest();
    },
    range() {
      for (const from of held.keys()) return { from, to };
      return undefined;
    },
    take(position) {
      const entry = held.get(position);
      if (entry === undefined) return undefined;
      const { event } = entry;
      if (event === undefined) return JSON.parse(entry.body) as CloudEventRecord;
      entry.event = undefined;
      return event;
    },
  };
}
