/**
 * Retention: removes the oldest events, by age and then by total payload size, plus
 * `event_keys` rows whose dedupe window has passed and whose event is gone. Events are always removed as a prefix of the
 * log, so `bounds().first` stays the one place the log starts.
 */
import type { DatabaseSync } from 'node:sqlite';
import type { RetentionPolicy } from '../event-log.ts';
import { writeTransaction, type Durability } from './transactions.ts';

export type Retention = (policy: RetentionPolicy, now: number) => { removed: number };

export function createRetention(
  db: DatabaseSync,
  options: {
    dedupeWindowMs: number;
    setDurability: (level: Durability) => void;
  },
): Retention {
  const { dedupeWindowMs, setDurability } = options;
  // Both scans walk rowid order and stop at the first row to keep: they read only the
  // prefix being removed (appended_at / recorded_at grow with position).
  const firstYoungEvent = db.prepare(
    'SELECT position FROM events WHERE appended_at >= ? ORDER BY position LIMIT 1',
  );
  const firstYoungKey = db.prepare(
    'SELECT position FROM event_keys WHERE recorded_at >= ? ORDER BY position LIMIT 1',
  );
  const firstEvent = db.prepare('SELECT min(position) AS first FROM events');
  const oldestFirst = db.prepare('SELECT position, bytes FROM events ORDER BY position');
  const state = db.prepare(
    'SELECT last_position AS last, total_bytes AS total FROM log_state WHERE id = 1',
  );
  const prefixSize = db.prepare(
    'SELECT count(*) AS n, coalesce(sum(bytes), 0) AS bytes FROM events WHERE position <= ?',
  );
  const deleteEvents = db.prepare('DELETE FROM events WHERE position <= ?');
  const deleteKeys = db.prepare('DELETE FROM event_keys WHERE position < ?');
  const deleteLeases = db.prepare('DELETE FROM leases WHERE position <= ?');
  const setTotal = db.prepare('UPDATE log_state SET total_bytes = ? WHERE id = 1');

  /** Removes every event at or below `upTo`; returns how many. */
  const removeThrough = (upTo: number): number => {
    const { n, bytes } = prefixSize.get(upTo) as { n: number; bytes: number };
    if (n === 0) return 0;
    deleteEvents.run(upTo);
    deleteLeases.run(upTo);
    const { total } = state.get() as { total: number };
    setTotal.run(total - bytes);
    return n;
  };

  return (policy, now) => {
    validatePolicy(policy);
    setDurability('NORMAL');
    return writeTransaction(db, () => {
      const { last } = state.get() as { last: number };
      let removed = 0;

      if (policy.maxAgeMs !== undefined) {
        const young = firstYoungEvent.get(now - policy.maxAgeMs) as
          { position: number } | undefined;
        removed += removeThrough(young === undefined ? last : young.position - 1);
      }

      if (policy.maxBytes !== undefined) {
        const { total } = state.get() as { total: number };
        let excess = total - policy.maxBytes;
        if (excess > 0) {
          let upTo = 0;
          for (const row of oldestFirst.iterate() as Iterable<{
            position: number;
            bytes: number;
          }>) {
            upTo = row.position;
            excess -= row.bytes;
            if (excess <= 0) break;
          }
          removed += removeThrough(upTo);
        }
      }

      // A key row stays while its window lasts (dedupe) or its event does (lookup by id).
      const youngKey = firstYoungKey.get(now - dedupeWindowMs) as { position: number } | undefined;
      const { first } = firstEvent.get() as { first: number | null };
      deleteKeys.run(Math.min(youngKey?.position ?? last + 1, first ?? last + 1));
      return { removed };
    });
  };
}

function validatePolicy({ maxAgeMs, maxBytes }: RetentionPolicy): void {
  if (maxAgeMs !== undefined && !(Number.isFinite(maxAgeMs) && maxAgeMs >= 0))
    throw new RangeError(`maxAgeMs must be a non-negative number, got ${maxAgeMs}`);
  if (maxBytes !== undefined && !(Number.isFinite(maxBytes) && maxBytes >= 0))
    throw new RangeError(`maxBytes must be a non-negative number, got ${maxBytes}`);
}
