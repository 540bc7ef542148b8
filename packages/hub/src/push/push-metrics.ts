/**
 * Prometheus series for push, read from PushStats and the gateway at scrape time (see
 * push-stats.ts for why the hot path does not touch prom-client).
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { PushGateway } from './push-gateway.ts';
import type { PushStats } from './push-stats.ts';

export function registerPushMetrics(
  registry: Registry,
  stats: PushStats,
  gateway: PushGateway,
): void {
  const registers = [registry];
  new Gauge({
    name: 'portico_push_connections',
    help: 'Open push connections on this node, by transport',
    labelNames: ['transport'],
    registers,
    collect() {
      this.set({ transport: 'sse' }, stats.connections.sse);
      this.set({ transport: 'ws' }, stats.connections.ws);
    },
  });
  new Gauge({
    name: 'portico_push_subscriptions',
    help: 'Active push subscriptions on this node',
    registers,
    collect() {
      this.set(stats.subscriptions);
    },
  });
  new Gauge({
    name: 'portico_push_content_filters',
    help: 'Distinct compiled content filters (shared by equal subscriptions)',
    registers,
    collect() {
      this.set(gateway.filterCount);
    },
  });
  new Counter({
    name: 'portico_push_messages_sent_total',
    help: 'Event messages written to push connections, live or replayed',
    labelNames: ['kind'],
    registers,
    collect() {
      this.reset();
      this.inc({ kind: 'live' }, stats.messagesSent.live);
      this.inc({ kind: 'replay' }, stats.messagesSent.replay);
    },
  });
  new Counter({
    name: 'portico_push_dropped_messages_total',
    help: 'Messages not delivered, by reason (slow-consumer: the connection was closed instead)',
    labelNames: ['reason'],
    registers,
    collect() {
      this.reset();
      for (const [reason, count] of stats.dropped) this.inc({ reason }, count);
    },
  });
  new Counter({
    name: 'portico_push_disconnects_total',
    help: 'Push connections ended, by reason',
    labelNames: ['reason'],
    registers,
    collect() {
      this.reset();
      for (const [reason, count] of stats.disconnects) this.inc({ reason }, count);
    },
  });
  new Counter({
    name: 'portico_push_replay_buffer_overflows_total',
    help: 'Replays whose live buffer overflowed (they re-read the log instead; nothing is lost)',
    registers,
    collect() {
      this.reset();
      this.inc(stats.replayBufferOverflows);
    },
  });
  new Gauge({
    name: 'portico_push_send_queue_bytes',
    help: 'Bytes queued for sending across all push connections',
    registers,
    collect() {
      this.set(gateway.queuedBytes());
    },
  });
  new Gauge({
    name: 'portico_push_send_queue_peak_bytes',
    help: 'Largest send queue any push connection reached since start (bounded by push.maxQueueBytes)',
    registers,
    collect() {
      this.set(stats.queuePeakBytes);
    },
  });
  const replaySizes = new Histogram({
    name: 'portico_push_replay_events',
    help: 'Events sent per completed replay (resume from a position)',
    buckets: [0, 1, 10, 100, 1_000, 10_000, 100_000],
    registers,
  });
  stats.observeReplay = (events) => replaySizes.observe(events);
}
