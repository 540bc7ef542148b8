/** Mapping between `events` rows and `LogEntry`. */
import type { CloudEventRecord, LogEntry } from '../event-log.ts';

/** Columns to select (optionally qualified by a table alias) for `toLogEntry`. */
export function eventColumns(alias = ''): string {
  const p = alias === '' ? '' : `${alias}.`;
  return `${p}position AS position, ${p}partition AS partition, ${p}tenant AS tenant, ${p}topic AS topic, ${p}appended_at AS appended_at, ${p}body AS body`;
}

export type EventRow = {
  position: number;
  partition: number;
  tenant: string;
  topic: string;
  appended_at: number;
  body: string;
};

export function toLogEntry(row: EventRow): LogEntry {
  return {
    position: row.position,
    partition: row.partition,
    tenant: row.tenant,
    topic: row.topic,
    event: JSON.parse(row.body) as CloudEventRecord,
    appendedAt: row.appended_at,
  };
}
