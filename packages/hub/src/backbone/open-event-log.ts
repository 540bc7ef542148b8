/**
 * Opens the event log the config names: the embedded SQLite log in the data dir, or the
 * NATS JetStream log shared by every hub node. On NATS, Portico's dedupe record and
 * id index live in the state store (`db`), so with PostgreSQL every node sees them.
 */
import { join } from 'node:path';
import { ConfigError } from '../config/load-config.ts';
import type { PorticoConfig } from '../config/schema.ts';
import type { SqlDatabase } from '../store/sql-database.ts';
import type { EventLog } from './event-log.ts';
import { MaxEventBytesOverMaxPayloadError, openNatsEventLog } from './nats/nats-event-log.ts';
import { openSqlDedupeStore } from './nats/sql-dedupe-store.ts';
import { openSqliteEventLog } from './sqlite/sqlite-event-log.ts';

export type OpenEventLogOptions = {
  /** Absolute data dir: the SQLite log lives there. */
  dataDir: string;
  /** The state store (holds the NATS log's dedupe record). */
  db: SqlDatabase;
  /** Told about errors that have no caller (the NATS log's live-append listener). */
  onError?: (error: unknown) => void;
};

export async function openEventLog(
  config: Pick<PorticoConfig, 'backbone' | 'events'>,
  options: OpenEventLogOptions,
): Promise<EventLog> {
  const { backbone, events } = config;
  const dedupeWindowMs = events.dedupeWindowSeconds * 1000;
  if (backbone.kind === 'sqlite')
    return openSqliteEventLog({
      path: join(options.dataDir, 'events.db'),
      partitions: events.partitions,
      dedupeWindowMs,
      // The limit ingest enforces holds for every event the hub appends (queue and push
      // copies built by an input transform included).
      maxEventBytes: events.maxEventBytes,
    });
  const { maxAgeSeconds, maxBytes } = events.retention;
  return openNatsEventLog({
    // A comma-separated list of seed servers, as in NATS' own tools.
    servers: backbone.url.split(',').map((url) => url.trim()),
    stream: backbone.stream,
    subjectPrefix: backbone.subjectPrefix,
    partitions: events.partitions,
    dedupeWindowMs,
    // Checked against the server's max_payload at open: a mismatch stops start-up.
    maxEventBytes: events.maxEventBytes,
    dedupe: await openSqlDedupeStore(options.db, { stream: backbone.stream }),
    // Standing limits on the stream: JetStream enforces them between retention runs.
    retention: { maxAgeMs: maxAgeSeconds * 1000, ...(maxBytes ? { maxBytes } : {}) },
    name: `portico-hub-${process.pid}`,
    ...(options.onError ? { onError: options.onError } : {}),
  }).catch((error: unknown) => {
    if (error instanceof MaxEventBytesOverMaxPayloadError)
      throw new ConfigError(
        `events.maxEventBytes is ${error.maxEventBytes} bytes, but the NATS server takes messages of at most ${error.maxPayload} bytes (max_payload) and Portico keeps ${error.headerRoomBytes} of them for headers: set events.maxEventBytes to at most ${error.maxPayload - error.headerRoomBytes}, or raise max_payload in the NATS server's configuration`,
        { cause: error },
      );
    throw error;
  });
}
