/** Turns a stored JetStream message back into a `LogEntry`. */
import type { CloudEventRecord, LogEntry } from '../event-log.ts';
import type { SubjectLayout } from './subjects.ts';

export function entryFrom(
  layout: SubjectLayout,
  subject: string,
  data: Uint8Array,
  position: number,
  appendedAt: number,
): LogEntry | undefined {
  const place = layout.parse(subject);
  if (!place) return undefined;
  const event = JSON.parse(
    Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'),
  ) as CloudEventRecord;
  return {
    position,
    partition: place.partition,
    tenant: place.tenant,
    topic: place.topic,
    event,
    appendedAt,
  };
}
