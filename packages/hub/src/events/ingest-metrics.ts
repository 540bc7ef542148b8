import { Counter, Histogram, type Registry } from 'prom-client';

export type IngestMetrics = {
  ingested: Counter<'mode'>;
  duplicated: Counter;
  rejected: Counter<'reason'>;
  appendLatency: Histogram;
  checkWarnings: Counter<'check'>;
};

export function createIngestMetrics(registry: Registry): IngestMetrics {
  return {
    ingested: new Counter({
      name: 'portico_events_ingested_total',
      help: 'Events accepted and stored, by CloudEvents mode',
      labelNames: ['mode'],
      registers: [registry],
    }),
    duplicated: new Counter({
      name: 'portico_events_duplicated_total',
      help: 'Events acknowledged as duplicates (same source+id within the window)',
      registers: [registry],
    }),
    rejected: new Counter({
      name: 'portico_events_rejected_total',
      help: 'Events rejected, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
    appendLatency: new Histogram({
      name: 'portico_event_append_seconds',
      help: 'Time to make a publish request durable in the event log',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    checkWarnings: new Counter({
      name: 'portico_publish_check_warnings_total',
      help: 'Events accepted with a warning from a publish-time check (e.g. schema validation in warn mode), by check',
      labelNames: ['check'],
      registers: [registry],
    }),
  };
}
