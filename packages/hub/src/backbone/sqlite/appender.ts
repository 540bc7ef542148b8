/**
 * The append transaction: writes the batches of one group commit in a single
 * transaction. Each caller's batch sits in its own savepoint, so a batch that fails
 * half-way is rolled back alone and the other callers' batches still commit.
 */
import type { DatabaseSync } from 'node:sqlite';
import { partitionFor } from '../partition.ts';
import type { Durability } from './transactions.ts';
import {
  encodeError,
  type BatchOutcome,
  type EncodedAppend,
  type EncodedResult,
} from './writer-protocol.ts';

export type Appender = (batches: EncodedAppend[][], now: number) => BatchOutcome[];

type DedupeRow = { position: number; partition: number; recorded_at: number };

export function createAppender(
  db: DatabaseSync,
  options: {
    partitions: number;
    dedupeWindowMs: number;
    setDurability: (level: Durability) => void;
  },
): Appender {
  const readState = db.prepare('SELECT last_position, total_bytes FROM log_state WHERE id = 1');
  const writeState = db.prepare(
    'UPDATE log_state SET last_position = ?, total_bytes = ? WHERE id = 1',
  );
  // The dedupe key is made from the tenant and id (ingest: tenant, source, id), so
  // keying the record by all three dedupes exactly as the key alone would.
  const claimKey = db.prepare(
    'INSERT INTO event_keys (position, tenant, event_id, dedupe_key, partition, recorded_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tenant, event_id, dedupe_key) DO NOTHING',
  );
  const findKey = db.prepare(
    'SELECT position, partition, recorded_at FROM event_keys WHERE tenant = ? AND event_id = ? AND dedupe_key = ?',
  );
  const reclaimKey = db.prepare(
    'UPDATE event_keys SET position = ?, partition = ?, recorded_at = ? WHERE tenant = ? AND event_id = ? AND dedupe_key = ?',
  );
  const insertEvent = db.prepare(
    'INSERT INTO events (position, partition, tenant, topic, event_id, appended_at, bytes, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const { partitions, dedupeWindowMs, setDurability } = options;

  return (batches, now) => {
    setDurability('FULL');
    db.exec('BEGIN IMMEDIATE');
    try {
      const state = readState.get() as { last_position: number; total_bytes: number };
      let lastPosition = state.last_position;
      let totalBytes = state.total_bytes;
      let stored = false;
      const outcomes: BatchOutcome[] = [];

      for (const batch of batches) {
        const positionBefore = lastPosition;
        const bytesBefore = totalBytes;
        db.exec('SAVEPOINT batch');
        try {
          const results: EncodedResult[] = [];
          for (const input of batch) {
            const partition = partitionFor(input.partitionKey, partitions);
            const position = lastPosition + 1;
            const { tenant, eventId, dedupeKey } = input;
            if (claimKey.run(position, tenant, eventId, dedupeKey, partition, now).changes === 0) {
              const original = findKey.get(tenant, eventId, dedupeKey) as DedupeRow;
              if (now - original.recorded_at < dedupeWindowMs) {
                results.push([original.partition, original.position, 1]);
                continue;
              }
              reclaimKey.run(position, partition, now, tenant, eventId, dedupeKey);
            }
            const bytes = Buffer.byteLength(input.body);
            insertEvent.run(
              position,
              partition,
              input.tenant,
              input.topic,
              input.eventId,
              now,
              bytes,
              input.body,
            );
            lastPosition = position;
            totalBytes += bytes;
            results.push([partition, position, 0]);
          }
          db.exec('RELEASE batch');
          outcomes.push({ ok: true, results });
          if (lastPosition !== positionBefore) stored = true;
        } catch (error) {
          db.exec('ROLLBACK TO batch');
          db.exec('RELEASE batch');
          lastPosition = positionBefore;
          totalBytes = bytesBefore;
          outcomes.push({ ok: false, error: encodeError(error) });
        }
      }

      if (stored) writeState.run(lastPosition, totalBytes);
      db.exec('COMMIT');
      return outcomes;
    } catch (error) {
      if (db.isTransaction) db.exec('ROLLBACK');
      throw error;
    }
  };
}
