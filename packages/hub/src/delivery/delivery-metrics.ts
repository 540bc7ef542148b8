/** The delivery engine's Prometheus metrics. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { DeliveryStore } from './delivery-store.ts';

export type DeliveryMetrics = {
  /** Attempts by target kind and outcome: delivered, retry, dead. */
  attempts: Counter<'kind' | 'outcome'>;
  /** Failed attempts that were scheduled again. */
  retries: Counter<'kind'>;
  /** Deliveries moved to the DLQ, per target (owner, kind, destination) and reason: DLQ growth. */
  deadLettered: Counter<'owner' | 'kind' | 'target' | 'reason'>;
  /** How long one attempt took, from handing it to the target to its answer. */
  attemptSeconds: Histogram<'kind'>;
  /** From the log accepting the event to the target accepting it. */
  lag: Histogram<'kind'>;
};

export function createDeliveryMetrics(registry: Registry, store: DeliveryStore): DeliveryMetrics {
  new Gauge({
    name: 'portico_dlq_depth',
    help: 'Deliveries in the dead-letter queue, per target (owner, kind, destination)',
    labelNames: ['owner', 'kind', 'target'],
    registers: [registry],
    async collect() {
      // A store that cannot answer must not fail the whole scrape (every other metric with
      // it, during the outage they would show): the last values stay.
      const rows = await store.deadCounts().catch(() => undefined);
      if (rows === undefined) return;
      this.reset();
      for (const row of rows)
        this.set({ owner: row.owner, kind: row.kind, target: row.ref }, row.count);
    },
  });
  return {
    attempts: new Counter({
      name: 'portico_delivery_attempts_total',
      help: 'Delivery attempts by target kind and outcome (delivered, retry, dead)',
      labelNames: ['kind', 'outcome'],
      registers: [registry],
    }),
    retries: new Counter({
      name: 'portico_delivery_retries_total',
      help: 'Failed delivery attempts scheduled to be tried again',
      labelNames: ['kind'],
      registers: [registry],
    }),
    deadLettered: new Counter({
      name: 'portico_dlq_entries_total',
      help: 'Deliveries moved to the dead-letter queue, per target (owner, kind, destination) and reason',
      labelNames: ['owner', 'kind', 'target', 'reason'],
      registers: [registry],
    }),
    attemptSeconds: new Histogram({
      name: 'portico_delivery_attempt_seconds',
      help: 'Duration of one delivery attempt, by target kind',
      labelNames: ['kind'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    lag: new Histogram({
      name: 'portico_delivery_lag_seconds',
      help: 'Time from the event log accepting an event to its target accepting it',
      labelNames: ['kind'],
      buckets: [
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 21600,
        86400,
      ],
      registers: [registry],
    }),
  };
}
