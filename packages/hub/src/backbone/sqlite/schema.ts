/**
 * Opening the log's SQLite database: connection settings and the table layout.
 *
 * - `log_state` holds the position counter (so positions are never reused, even after
 *   retention empties the log) and the running payload total (so size retention does
 *   not have to sum the table).
 * - `events`: one row per event; `position` is the rowid; the CloudEvent is JSON text.
 * - `event_keys`: one row per stored event (tenant, CloudEvents id, dedupe key), keyed
 *   by its position so expiry deletes a prefix instead of scanning. The one index on
 *   (tenant, event_id, dedupe_key) serves both dedupe and lookup by id: an index keyed by
 *   a random id costs about a third of an append, so there is one such index, not two.
 *   A row outlives its event while the dedupe window lasts, and its window while its
 *   event lasts (retention.ts). Keys may hold NULs (ingest separates parts with them):
 *   SQLite stores, compares and indexes them whole; they are never read back.
 * - `consumer_groups` and `leases`: group specs with their cursor, and in-flight
 *   deliveries. Acked or terminated deliveries are deleted (nothing grows per event).
 */
import { DatabaseSync } from 'node:sqlite';

const SCHEMA_VERSION = 2;

const DDL = `
CREATE TABLE IF NOT EXISTS log_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  last_position INTEGER NOT NULL,
  total_bytes INTEGER NOT NULL
);
INSERT OR IGNORE INTO log_state (id, last_position, total_bytes) VALUES (1, 0, 0);

CREATE TABLE IF NOT EXISTS events (
  position INTEGER PRIMARY KEY,
  partition INTEGER NOT NULL,
  tenant TEXT NOT NULL,
  topic TEXT NOT NULL,
  event_id TEXT NOT NULL,
  appended_at INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_tenant ON events (tenant, position);

CREATE TABLE IF NOT EXISTS event_keys (
  position INTEGER PRIMARY KEY,
  tenant TEXT NOT NULL,
  event_id TEXT NOT NULL,
  -- NULL only for rows migrated from schema 1 whose dedupe record had expired.
  dedupe_key TEXT,
  partition INTEGER NOT NULL,
  recorded_at INTEGER NOT NULL,
  UNIQUE (tenant, event_id, dedupe_key)
);

CREATE TABLE IF NOT EXISTS consumer_groups (
  name TEXT PRIMARY KEY,
  tenant TEXT,
  topic_pattern TEXT,
  ack_wait_ms INTEGER NOT NULL,
  max_deliver INTEGER NOT NULL,
  start_at TEXT NOT NULL,
  cursor INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS leases (
  group_name TEXT NOT NULL,
  position INTEGER NOT NULL,
  consumer TEXT NOT NULL,
  token TEXT NOT NULL,
  due_at INTEGER NOT NULL,
  delivery_count INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('leased', 'delayed')),
  PRIMARY KEY (group_name, position)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS leases_by_due ON leases (group_name, due_at);
`;

/**
 * Schema 1 had `dedupe (position, dedupe_key UNIQUE, partition, recorded_at)` and an
 * `events_by_event_id` index. Every retained event gets its `event_keys` row (with its
 * dedupe key when the record was still there); dedupe records whose events retention had
 * already removed cannot be carried over (schema 1 did not keep their tenant and id), so
 * such an event, sent again inside its window, is stored again once.
 */
const MIGRATE_FROM_1_BEFORE = `DROP INDEX IF EXISTS events_by_event_id;`;
const MIGRATE_FROM_1_AFTER = `
INSERT INTO event_keys (position, tenant, event_id, dedupe_key, partition, recorded_at)
  SELECT e.position, e.tenant, e.event_id, d.dedupe_key, e.partition, coalesce(d.recorded_at, e.appended_at)
  FROM events e LEFT JOIN dedupe d ON d.position = e.position;
DROP TABLE dedupe;
`;

export function openLogDatabase(path: string): DatabaseSync {
  const db = new DatabaseSync(path, { timeout: 5_000 });
  try {
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = FULL');
    // SQLite's default page cache (2 MB), on purpose: every commit walks the cache's hash
    // table at its end (pcache1TruncateUnsafe), so its cost grows with the cache. 64 MB made
    // each append or lease commit ~100 µs dearer (13-event commits: 25 -> 21 µs CPU per event
    // with 2 MB, measured); the hot pages (right edges of the B-trees) fit in 2 MB, and with
    // random event ids a bigger cache did not help either (~40 µs per event either way).
    db.exec('PRAGMA cache_size = -2000');
    // Checkpoints every 4,000 WAL pages (16 MB) instead of 1,000: a hot page (a B-tree's right
    // edge, an interior page) is copied into the database once per checkpoint however often it
    // changed, and each checkpoint syncs the database file. 800-event commits: 6.2 -> 5.6-5.8
    // µs CPU per event (scratch append loop); 16,000 was slower for small commits.
    db.exec('PRAGMA wal_autocheckpoint = 4000');
    // Savepoints (one per caller's batch) and multi-row INSERTs keep statement journals:
    // in memory, not in a temporary file written for every append. Durability is the WAL's.
    db.exec('PRAGMA temp_store = MEMORY');
    const version = Number(db.prepare('PRAGMA user_version').get()?.['user_version'] ?? 0);
    if (version > SCHEMA_VERSION)
      throw new Error(
        `event log ${path} has schema version ${version}; this Portico knows up to ${SCHEMA_VERSION}`,
      );
    db.exec('BEGIN IMMEDIATE');
    if (version === 1) db.exec(MIGRATE_FROM_1_BEFORE);
    db.exec(DDL);
    if (version === 1) db.exec(MIGRATE_FROM_1_AFTER);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    db.exec('COMMIT');
    return db;
  } catch (error) {
    if (db.isOpen && db.isTransaction) db.exec('ROLLBACK');
    if (db.isOpen) db.close();
    throw error;
  }
}
