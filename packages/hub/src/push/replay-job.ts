/**
 * Replaying the log for subscriptions that asked for `from` (or `Last-Event-ID`), then
 * handing them over to live delivery with no gap and no duplicate at the seam.
 *
 * The subscriptions are in the index before the first read, marked as replaying, so every
 * live event from then on reaches `buffer()` instead of the wire. The job reads pages
 * after its cursor until a page reaches the log's end; everything committed before that read is
 * in it, everything after is in the buffer. Then it sends the buffered events above its
 * cursor (advancing the cursor), still as a replay: events that arrive meanwhile join the
 * buffer. Once the buffer is empty it goes live at once, with no await in between, and sets
 * each subscription's seam to the cursor, so a late notification of an event the replay
 * already sent is dropped.
 *
 * The buffer is bounded (maxQueueBytes, counting what is taken out but not yet sent). On
 * overflow it is emptied, not grown: the log still has those events, so the job just keeps
 * reading from its cursor; it goes live only after a last page read and a sending of the
 * buffer during which the buffer did not overflow. Pages and buffered events are sent as
 * the wire drains (transport.drained), and fill at most a share of the send queue (half;
 * the rest is for live events of other subscriptions and replies): the buffer, up to the
 * limit itself, must not land on a queue already near it.
 */
import type { EventLog, LogBounds, LogEntry } from '../backbone/event-log.ts';
import { EncodedEvent } from './encoded-event.ts';
import { lastNStart } from './last-n-start.ts';
import type { PushConnection } from './push-connection.ts';
import type { PushStats } from './push-stats.ts';
import type { Subscription } from './subscription.ts';

export type ReplayOptions = {
  log: EventLog;
  stats: PushStats;
  /** Events per log read; also the most a replay holds in memory at once. */
  pageSize: number;
  maxBufferBytes: number;
  /**
   * The part of the connection's send queue a replay may fill. The rest is left to live
   * events of the connection's other subscriptions and to replies: a replay that filled the
   * whole queue made a client that reads slower than the hub (any remote one) look slow,
   * and cut it, as soon as those arrived.
   */
  maxQueuedBytes: number;
  /** Reads pause while the connection's queue is above this. */
  resumeBelowBytes: number;
};

type Buffered = { encoded: EncodedEvent; subs: Subscription[] };

/** Where a replay starts: after a position, or N matching events back from the log's end. */
export type ReplayStart = number | { last: number };

export class ReplayJob {
  readonly primary: boolean;
  readonly subs: Set<Subscription>;
  /** The last position the replay has covered (exclusive lower bound of the next read). */
  cursor: number;
  readonly #connection: PushConnection;
  readonly #options: ReplayOptions;
  /** For `last: N`: counted back once the job runs; until then the cursor is 0. */
  readonly #last: number | undefined;
  #buffered: Buffered[] = [];
  #bufferedBytes = 0;
  #overflowed = false;

  constructor(
    connection: PushConnection,
    subs: Iterable<Subscription>,
    start: ReplayStart,
    primary: boolean,
    options: ReplayOptions,
  ) {
    this.#connection = connection;
    this.subs = new Set(subs);
    // With `last`, the cursor stays 0 while counting back, so every live event that arrives
    // meanwhile is buffered; those at or below the start found are dropped at the seam.
    this.cursor = typeof start === 'number' ? start : 0;
    this.#last = typeof start === 'number' ? undefined : start.last;
    this.primary = primary;
    this.#options = options;
    for (const sub of this.subs) sub.replay = this;
  }

  /** A live event for one of this job's subscriptions arrived during the replay. */
  buffer(encoded: EncodedEvent, sub: Subscription): void {
    if (encoded.position <= this.cursor) return; // the replay has it already
    const last = this.#buffered[this.#buffered.length - 1];
    if (last?.encoded === encoded) {
      last.subs.push(sub);
      return;
    }
    this.#bufferedBytes += encoded.approximateBytes;
    if (this.#bufferedBytes > this.#options.maxBufferBytes) {
      this.#buffered = [];
      this.#bufferedBytes = 0;
      this.#overflowed = true;
      this.#options.stats.replayBufferOverflows++;
      return;
    }
    this.#buffered.push({ encoded, subs: [sub] });
  }

  /** The subscription was removed during the replay. */
  remove(sub: Subscription): void {
    this.subs.delete(sub);
    if (sub.replay === this) sub.replay = undefined;
  }

  /** Runs to completion; rejects only if the log fails (the caller closes the connection). */
  async run(): Promise<void> {
    const { log, pageSize, stats } = this.#options;
    const connection = this.#connection;
    let replayed = 0;
    this.#connection.jobs.add(this);
    try {
      const bounds = await log.bounds();
      if (this.#last !== undefined) {
        if (this.#finished()) return;
        this.cursor = await lastNStart(log, {
          tenant: connection.tenant,
          topicPattern: this.subs.size === 1 ? [...this.subs][0]!.topic : undefined,
          matches: (entry) => this.#matchingIds(entry).length > 0,
          n: this.#last,
          pageSize,
          end: bounds.last,
          stopped: () => this.#finished(),
        });
      }
      this.#checkRetention(bounds);
      for (;;) {
        if (this.#finished()) return;
        this.#overflowed = false;
        const page = await log.read({
          tenant: connection.tenant,
          // One subscription: let the log filter by topic. Several: read the tenant's events
          // once and match each subscription here, rather than one read per subscription.
          topicPattern: this.subs.size === 1 ? [...this.subs][0]!.topic : undefined,
          after: this.cursor,
          limit: pageSize,
        });
        if (this.#finished()) return;
        // A page leaves in as few writes as the send queue allows (corked), and waits for
        // the peer whenever the next message would not fit in the queue's limit: a replay
        // must never be what makes a reading client look slow.
        const transport = connection.transport;
        transport.cork();
        try {
          for (const entry of page.entries) {
            let ids = this.#matchingIds(entry);
            if (ids.length > 0) {
              const encoded = new EncodedEvent(entry);
              if (!(await this.#room(encoded, ids))) return;
              ids = this.#matchingIds(entry); // subscriptions may have gone while waiting
              if (ids.length > 0 && !connection.sendReplayed(encoded, ids, this)) return;
              if (ids.length > 0) replayed++;
            }
            this.cursor = entry.position;
          }
          // A page that stopped early: on past the events the log examined without a match,
          // or the next read would examine them again (and again).
          if (!page.end) this.cursor = Math.max(this.cursor, page.next);
        } finally {
          transport.uncork();
        }
        // Only `end` says the log is read to its end: a page may stop short before it.
        if (page.end && !this.#overflowed) {
          // The log is read to its end: the rest came live meanwhile and is in the buffer.
          // The loop's condition is checked right after the last await, so nothing can be
          // buffered between finding the buffer empty and going live.
          while (this.#buffered.length > 0 && !this.#overflowed)
            if (!(await this.#sendBuffered())) return;
          if (!this.#overflowed) break;
          // It overflowed while being sent: read the rest from the log (after the cursor).
        }
        await connection.transport.drained(this.#options.resumeBelowBytes);
        if (this.#finished()) return;
        this.#checkRetention(await log.bounds());
      }
      this.#goLive();
      stats.observeReplay(replayed);
    } finally {
      this.#connection.jobs.delete(this);
      for (const sub of this.subs) if (sub.replay === this) sub.replay = undefined;
      // Also when the replay ended early (its subscriptions removed): ids must not stay withheld.
      if (this.primary) this.#connection.primaryReplayFinished();
    }
  }

  /**
   * Waits until the message fits in the replay's share of the send queue (false if the
   * replay should stop meanwhile). A message alone larger than that waits for an empty
   * queue, which the connection always accepts.
   */
  async #room(encoded: EncodedEvent, ids: readonly string[]): Promise<boolean> {
    const transport = this.#connection.transport;
    const limit = this.#options.maxQueuedBytes;
    // The frame is cached per event and id list, so sizing it costs nothing later; an SSE
    // `id:` line adds at most 21 bytes.
    const bytes = transport.frameEvent(encoded, ids, false).length + 21;
    const queued = transport.queuedBytes();
    if (queued === 0 || queued + bytes <= limit) return true;
    transport.uncork();
    await transport.drained(Math.max(0, Math.min(this.#options.resumeBelowBytes, limit - bytes)));
    transport.cork();
    return !this.#finished();
  }

  #finished(): boolean {
    return this.#connection.closed || this.subs.size === 0;
  }

  #matchingIds(entry: LogEntry): string[] {
    const ids: string[] = [];
    for (const sub of this.subs)
      if (sub.matchesTopic(entry.topic) && (!sub.filter || sub.filter.matches(entry.event)))
        ids.push(sub.id);
    return ids;
  }

  /**
   * Positions older than the log's oldest retained event (or ahead of its newest, e.g. after
   * the log was wiped) cannot be resumed: say so with a `reset`, then continue from the end.
   * Position 0 means "everything still retained" and never resets.
   */
  #checkRetention(bounds: LogBounds): void {
    if (this.cursor === 0) return;
    const ahead = this.cursor > bounds.last;
    const expired = bounds.first === 0 ? this.cursor < bounds.last : this.cursor < bounds.first - 1;
    if (!ahead && !expired) return;
    this.#connection.control('reset', {
      subscriptions: [...this.subs].map((s) => s.id),
      reason: ahead ? 'ahead-of-log' : 'retention',
      requested: this.cursor,
      first: bounds.first,
      resumeFrom: bounds.last,
    });
    this.cursor = bounds.last;
  }

  /**
   * Sends what the buffer holds now, paced like a page (a reading client must not be cut
   * for a backlog the replay made). Events that arrive meanwhile go to a fresh buffer; the
   * caller loops until it is empty. False when the replay should stop.
   */
  async #sendBuffered(): Promise<boolean> {
    const buffered = this.#buffered;
    // #bufferedBytes is not reset: it still counts these until each is sent, so the bound
    // covers both arrays.
    this.#buffered = [];
    const transport = this.#connection.transport;
    transport.cork();
    try {
      for (const { encoded, subs } of buffered) {
        if (encoded.position > this.cursor) {
          let ids = this.#liveIds(subs);
          if (ids.length > 0) {
            if (!(await this.#room(encoded, ids))) return false;
            // An overflow meanwhile dropped the events after this one: re-read from here.
            if (this.#overflowed) return true;
            ids = this.#liveIds(subs); // subscriptions may have gone while waiting
            if (ids.length > 0 && !this.#connection.sendReplayed(encoded, ids, this)) return false;
          }
          this.cursor = encoded.position;
        }
        this.#bufferedBytes -= encoded.approximateBytes;
      }
      return true;
    } finally {
      transport.uncork();
    }
  }

  /** The ids of `subs` (an event's buffered subscriptions) still in this job. */
  #liveIds(subs: readonly Subscription[]): string[] {
    const ids: string[] = [];
    for (const sub of subs) if (this.subs.has(sub)) ids.push(sub.id);
    return ids;
  }

  /** The buffer is empty (run() checked, with no await since): hand over to live delivery. */
  #goLive(): void {
    this.#buffered = [];
    this.#bufferedBytes = 0;
    for (const sub of this.subs) {
      sub.replay = undefined;
      sub.seam = this.cursor;
    }
    this.#connection.control('caught-up', {
      subscriptions: [...this.subs].map((s) => s.id),
      position: this.cursor,
    });
    if (this.primary) this.#connection.primaryReplayFinished();
  }
}
