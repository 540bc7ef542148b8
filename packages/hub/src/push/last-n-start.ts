/**
 * Where a replay of "the last N matching events" starts (the push option `last: N`). The
 * log reads forwards only, so this walks back from its end in windows of positions that
 * double each time: the first window is one read page, which is enough for a busy topic;
 * a quiet topic in a busy log costs a few more reads, each bounded by `pageSize`. Only the
 * newest `n` matching positions are kept, so memory is O(n) however far back it goes.
 */
import type { EventLog, LogEntry } from '../backbone/event-log.ts';

export type LastNQuery = {
  tenant: string;
  /** Lets the log filter by topic when the replay has one subscription. */
  topicPattern: string | undefined;
  /** Whether an entry counts (topic and content filter of the replay's subscriptions). */
  matches(entry: LogEntry): boolean;
  n: number;
  pageSize: number;
  /**
   * True once nobody wants the answer (the connection closed, the subscription was removed):
   * counting back through a large log for a filter that never matches reads all of it, so
   * it must not go on after the client has gone.
   */
  stopped(): boolean;
  /** The newest position to count back from (the log's end when the subscription began). */
  end: number;
};

/** The exclusive start position (`from`) whose replay yields the last `n` matches up to `end`. */
export async function lastNStart(log: EventLog, query: LastNQuery): Promise<number> {
  const { n, pageSize } = query;
  let need = n;
  let hi = query.end;
  let width = pageSize;
  while (hi > 0 && need > 0) {
    const lo = Math.max(0, hi - width);
    const found = await matchingPositions(log, query, lo, hi, need);
    if (query.stopped()) return query.end;
    if (found.length >= need) return found[found.length - need]! - 1;
    need -= found.length;
    hi = lo;
    width *= 2;
  }
  return 0;
}

/** The newest `keep` (or a few more) matching positions in (lo, hi], oldest first. */
async function matchingPositions(
  log: EventLog,
  query: LastNQuery,
  lo: number,
  hi: number,
  keep: number,
): Promise<number[]> {
  let positions: number[] = [];
  let after = lo;
  for (;;) {
    const page = await log.read({
      tenant: query.tenant,
      topicPattern: query.topicPattern,
      after,
      limit: query.pageSize,
    });
    if (query.stopped()) return positions;
    for (const entry of page.entries) {
      if (entry.position > hi) return positions;
      if (query.matches(entry)) positions.push(entry.position);
    }
    if (positions.length > 2 * keep) positions = positions.slice(-keep);
    // A page may stop short of `pageSize` before the log's end (a selective pattern): only
    // `end`, or `next` past the window, says the window is read.
    if (page.end || page.next >= hi) return positions;
    after = page.next;
  }
}
