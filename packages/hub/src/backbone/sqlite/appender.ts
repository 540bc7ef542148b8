/**
 * The append transaction: writes the batches of one group commit in a single
 * transaction. Each caller's batch sits in its own savepoint, so a batch that fails
 * half-way is rolled back alone and the other callers' batches still commit.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
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
  const savepoint = db.prepare('SAVEPOINT batch');
  const release = db.prepare('RELEASE batch');
  const rollbackTo = db.prepare('ROLLBACK TO batch');
  const begin = db.prepare('BEGIN IMMEDIATE');
  const commit = db.prepare('COMMIT');
  // Multi-row INSERTs: one statement call per chunk of events instead of two per event
  // (each call's binding and stepping cost about as much as a row's B-tree work).
  const claimKeys = rowsStatement(
    db,
    'INSERT INTO event_keys (position, tenant, event_id, dedupe_key, partition, recorded_at) VALUES ',
    6,
    ' ON CONFLICT (tenant, event_id, dedupe_key) DO NOTHING',
  );
  const insertEvents = rowsStatement(
    db,
    'INSERT INTO events (position, partition, tenant, topic, event_id, appended_at, bytes, body) VALUES ',
    8,
    '',
  );

  /**
   * A batch with no duplicates (nearly every batch): claims every key and stores every
   * event in multi-row statements. Returns undefined, having written nothing that the
   * caller's ROLLBACK TO would not undo, when any key is already claimed: the batch is
   * then redone one event at a time, where duplicates are told apart.
   */
  const appendFresh = (batch: EncodedAppend[], first: number, now: number) => {
    const results: EncodedResult[] = [];
    const bytes: number[] = [];
    for (let start = 0; start < batch.length; start += CHUNK) {
      const end = Math.min(start + CHUNK, batch.length);
      const keys: (string | number)[] = [];
      for (let i = start; i < end; i++) {
        const input = batch[i]!;
        const partition = partitionFor(input.partitionKey, partitions);
        results.push([partition, first + i, 0]);
        bytes.push(Buffer.byteLength(input.body));
        keys.push(first + i, input.tenant, input.eventId, input.dedupeKey, partition, now);
      }
      if (claimKeys(end - start).run(...keys).changes !== end - start) return undefined;
      const rows: (string | number)[] = [];
      for (let i = start; i < end; i++) {
        const input = batch[i]!;
        rows.push(
          first + i,
          results[i]![0],
          input.tenant,
          input.topic,
          input.eventId,
          now,
          bytes[i]!,
          input.body,
        );
      }
      insertEvents(end - start).run(...rows);
    }
    let total = 0;
    for (const b of bytes) total += b;
    return { results, bytes: total };
  };

  return (batches, now) => {
    setDurability('FULL');
    begin.run();
    try {
      const state = readState.get() as { last_position: number; total_bytes: number };
      let lastPosition = state.last_position;
      let totalBytes = state.total_bytes;
      let stored = false;
      const outcomes: BatchOutcome[] = [];

      for (const batch of batches) {
        const positionBefore = lastPosition;
        const bytesBefore = totalBytes;
        savepoint.run();
        try {
          const fresh = appendFresh(batch, lastPosition + 1, now);
          if (fresh !== undefined) {
            release.run();
            lastPosition += batch.length;
            totalBytes += fresh.bytes;
            outcomes.push({ ok: true, results: fresh.results });
            if (batch.length > 0) stored = true;
            continue;
          }
          rollbackTo.run();
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
          release.run();
          outcomes.push({ ok: true, results });
          if (lastPosition !== positionBefore) stored = true;
        } catch (error) {
          rollbackTo.run();
          release.run();
          lastPosition = positionBefore;
          totalBytes = bytesBefore;
          outcomes.push({ ok: false, error: encodeError(error) });
        }
      }

      if (stored) writeState.run(lastPosition, totalBytes);
      commit.run();
      return outcomes;
    } catch (error) {
      if (db.isTransaction) db.exec('ROLLBACK');
      throw error;
    }
  };
}

/** Events per multi-row statement: 8 columns x 64 rows stays far below SQLite's 32766 variables. */
const CHUNK = 64;

/** `prefix (?, ...), (?, ...) suffix` for n rows, prepared once per row count. */
function rowsStatement(
  db: DatabaseSync,
  prefix: string,
  columns: number,
  suffix: string,
): (rows: number) => StatementSync {
  const byCount = new Map<number, StatementSync>();
  const row = `(${Array.from({ length: columns }, () => '?').join(', ')})`;
  return (rows) => {
    let statement = byCount.get(rows);
    if (statement === undefined) {
      statement = db.prepare(prefix + Array.from({ length: rows }, () => row).join(', ') + suffix);
      byCount.set(rows, statement);
    }
    return statement;
  };
}
