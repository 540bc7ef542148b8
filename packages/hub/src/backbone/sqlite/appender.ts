/**
 * The append transaction: writes the batches of one group commit in a single
 * transaction. Each caller's batch sits in its own savepoint, so a batch that fails
 * half-way is rolled back alone and the other callers' batches still commit.
 */
import type { DatabaseSync } from 'node:sqlite';
import { partitionFor } from '../partition.ts';
import { placeholders, rowsStatement, ROWS_PER_STATEMENT as CHUNK } from './rows-statement.ts';
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
  // Multi-row INSERTs (rows-statement.ts): one statement call per chunk of events instead
  // of two per event.
  const claimKeys = rowsStatement(
    db,
    'INSERT INTO event_keys (position, tenant, event_id, dedupe_key, partition, recorded_at) VALUES ',
    placeholders(6),
    ' ON CONFLICT (tenant, event_id, dedupe_key) DO NOTHING',
  );
  const insertEvents = rowsStatement(
    db,
    'INSERT INTO events (position, partition, tenant, topic, event_id, appended_at, bytes, body) VALUES ',
    placeholders(8),
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

  /** All batches as one fresh batch, in a savepoint; undefined (and undone) if that fails. */
  const appendTogether = (batches: EncodedAppend[][], lastPosition: number, now: number) => {
    savepoint.run();
    let fresh;
    try {
      fresh = appendFresh(batches.flat(), lastPosition + 1, now);
    } catch {
      fresh = undefined;
    }
    if (fresh === undefined) {
      rollbackTo.run();
      release.run();
      return undefined;
    }
    release.run();
    const outcomes: BatchOutcome[] = [];
    let offset = 0;
    for (const batch of batches) {
      outcomes.push({ ok: true, results: fresh.results.slice(offset, offset + batch.length) });
      offset += batch.length;
    }
    return { outcomes, events: offset, bytes: fresh.bytes };
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

      // Every caller's batch in one go when none holds a duplicate or fails (nearly always):
      // single-event publishes make many one-event batches per commit, and a savepoint and
      // two statements each cost more than their rows. Otherwise undone, and done batch by
      // batch below, which isolates a failing batch and tells duplicates apart.
      const together = batches.length > 1 ? appendTogether(batches, lastPosition, now) : undefined;
      if (together !== undefined) {
        writeState.run(lastPosition + together.events, totalBytes + together.bytes);
        commit.run();
        return together.outcomes;
      }

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
