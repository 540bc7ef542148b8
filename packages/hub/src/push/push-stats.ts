/**
 * Counters the hot path bumps as plain numbers; push-metrics.ts turns them into Prometheus
 * series at scrape time. A labelled prom-client `inc` per message per socket would cost a
 * hash lookup on every write of a 10k-socket broadcast.
 */
export class PushStats {
  connections = { sse: 0, ws: 0 };
  subscriptions = 0;
  messagesSent = { live: 0, replay: 0 };
  /** Messages not delivered, by reason. */
  readonly dropped = new Map<string, number>();
  /** Connections the hub ended, by reason (client-initiated closes included). */
  readonly disconnects = new Map<string, number>();
  /** Live events a replay could not hold in its buffer (re-read from the log instead). */
  replayBufferOverflows = 0;
  /** Replays are rare next to messages: their sizes go straight to a histogram. */
  observeReplay: (events: number) => void = () => {};
  /** The largest send queue any connection reached, in bytes. */
  queuePeakBytes = 0;

  drop(reason: string): void {
    this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + 1);
  }

  disconnect(reason: string): void {
    this.disconnects.set(reason, (this.disconnects.get(reason) ?? 0) + 1);
  }
}
