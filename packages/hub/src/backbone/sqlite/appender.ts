/**
 * The append transaction: writes the batches of one group commit in a single
 * transaction. Each caller's batch sits in its own savepoint, so a batch that fails
 * half-way is rolled back alone and the other callers' batches still commit.
 */
import type { DatabaseSync } from 'node:sqlite';
import type { AppendInput, AppendResult, LogEntry } from '../event-log.ts';
import { partitionFor } from '../partition.ts';
import type { Outcome } from './group-commit.ts';
import type { Durability } from './transactions.ts';

export type AppendCommit = {
  outcomes: Outcome<AppendResult[]>[];
  /** The events actually stored (not duplicates), in position order. */
  entries: LogEntry[];
};

export type Appender = (batches: AppendInput[][]) => AppendCommit;

type DedupeRow = { position: number; partition: number; recorded_at: number };

export function createAppender(
  db: DatabaseSync,
  options: {
    partitions: number;
    dedupeWindowMs: number;
    clock: () => number;
    setDurability: (level: Durability) => void;
  },
): Appender {
  const readState = db.prepare('SELECT last_position, total_bytes FROM log_state WHERE id = 1');
  const writeState = db.prepare(
    'UPDATE log_state SET last_position = ?, total_bytes = ? WHERE id = 1',
  );
  const claimKey = db.prepare(
    'INSERT INTO dedupe (position, dedupe_key, partition, recorded_at) VALUES (?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING',
  );
  const findKey = db.prepare(
    'SELECT position, partition, recorded_at FROM dedupe WHERE dedupe_key = ?',
  );
  const reclaimKey = db.prepare(
    'UPDATE dedupe SET position = ?, partition = ?, recorded_at = ? WHERE dedupe_key = ?',
  );
  const insertEvent = db.prepare(
    'INSERT INTO events (position, partition, tenant, topic, event_id, appended_at, bytes, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const { partitions, dedupeWindowMs, clock, setDurability } = options;

  return (batches) => {
    setDurability('FULL');
    db.exec('BEGIN IMMEDIATE');
    try {
      const state = readState.get() as { last_position: number; total_bytes: number };
      let lastPosition = state.last_position;
      let totalBytes = state.total_bytes;
      const now = clock();
      const outcomes: Outcome<AppendResult[]>[] = [];
      const entries: LogEntry[] = [];

      for (const batch of batches) {
        const positionBefore = lastPosition;
        const bytesBefore = totalBytes;
        const batchEntries: LogEntry[] = [];
        db.exec('SAVEPOINT batch');
        try {
          const results: AppendResult[] = [];
          for (const input of batch) {
            // Serialise first: an unserialisable event fails its batch before any write.
            const body = JSON.stringify(input.event);
            if (typeof body !== 'string')
              throw new TypeError(`event ${input.event.id} is not JSON-serialisable`);
            const partition = partitionFor(input.partitionKey, partitions);
            const position = lastPosition + 1;
            if (claimKey.run(position, input.dedupeKey, partition, now).changes === 0) {
              const original = findKey.get(input.dedupeKey) as DedupeRow;
              if (now - original.recorded_at < dedupeWindowMs) {
                results.push({
                  id: input.event.id,
                  topic: input.topic,
                  partition: original.partition,
                  position: original.position,
                  duplicate: true,
                });
                continue;
              }
              reclaimKey.run(position, partition, now, input.dedupeKey);
            }
            const bytes = Buffer.byteLength(body);
            insertEvent.run(
              position,
              partition,
              input.tenant,
              input.topic,
              input.event.id,
              now,
              bytes,
              body,
            );
            lastPosition = position;
            totalBytes += bytes;
            results.push({
              id: input.event.id,
              topic: input.topic,
              partition,
              position,
              duplicate: false,
            });
            // The caller's own object, not a re-parse: listeners see exactly what was appended.
            batchEntries.push({
              position,
              partition,
              tenant: input.tenant,
              topic: input.topic,
              event: input.event,
              appendedAt: now,
            });
          }
          db.exec('RELEASE batch');
          outcomes.push({ ok: true, value: results });
          entries.push(...batchEntries);
        } catch (error) {
          db.exec('ROLLBACK TO batch');
          db.exec('RELEASE batch');
          lastPosition = positionBefore;
          totalBytes = bytesBefore;
          outcomes.push({ ok: false, error });
        }
      }

      if (entries.length > 0) writeState.run(lastPosition, totalBytes);
      db.exec('COMMIT');
      return { outcomes, entries };
    } catch (error) {
      if (db.isTransaction) db.exec('ROLLBACK');
      throw error;
    }
  };
}
