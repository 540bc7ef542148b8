import type { DatabaseSync } from 'node:sqlite';

/**
 * Appends commit with `synchronous = FULL` (an acknowledged event survives power loss);
 * group bookkeeping commits with NORMAL, because losing its last commits only causes a
 * redelivery, and an fsync per ack would cap acks near 1.5k/s. Any later FULL commit
 * syncs the NORMAL frames before it too, since the WAL is one file.
 */
export type Durability = 'FULL' | 'NORMAL';

export function createDurabilitySwitch(db: DatabaseSync): (level: Durability) => void {
  let current: Durability = 'FULL';
  return (level) => {
    if (level === current) return;
    // exec, never a prepared statement: SQLite applies this pragma when it is prepared,
    // so re-running a prepared one may not switch at all (checked: it did not).
    db.exec(`PRAGMA synchronous = ${level}`);
    current = level;
  };
}

/** Runs `work` in a write transaction (BEGIN IMMEDIATE: takes the write lock up front). */
export function writeTransaction<T>(db: DatabaseSync, work: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = work();
    db.exec('COMMIT');
    return result;
  } catch (error) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw error;
  }
}
