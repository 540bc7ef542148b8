/** Reading the log: pages by position, lookup by CloudEvents id, bounds. */
import type { DatabaseSync } from 'node:sqlite';
import type { LogBounds, LogEntry, ReadOptions, ReadPage } from '../event-log.ts';
import { eventFilter } from './event-filter.ts';
import { eventColumns, toLogEntry, type EventRow } from './event-rows.ts';
import type { ScanWindowOf } from './scan-window.ts';
import type { StatementCache } from './statement-cache.ts';

export type EventReader = {
  /** A page; a selective pattern examines at most one scan window of rows (scan-window.ts). */
  read(options: ReadOptions): ReadPage;
  getById(tenant: string, id: string): LogEntry | undefined;
  bounds(): LogBounds;
  /** The stored text of the event at `position`, if it is still in the log. */
  bodyAt(position: number): string | undefined;
};

export function createEventReader(
  db: DatabaseSync,
  statements: StatementCache,
  scanWindow: ScanWindowOf,
): EventReader {
  // Through the event_keys index (see schema.ts); the newest stored event wins.
  const byId = db.prepare(
    `SELECT ${eventColumns('e')} FROM event_keys k JOIN events e ON e.position = k.position
     WHERE k.tenant = ? AND k.event_id = ? ORDER BY k.position DESC LIMIT 1`,
  );
  const first = db.prepare('SELECT min(position) AS first FROM events');
  const last = db.prepare('SELECT last_position AS last FROM log_state WHERE id = 1');
  const lastRow = () => last.get() as { last: number };
  const body = db.prepare('SELECT body FROM events WHERE position = ?');

  return {
    read({ tenant, topicPattern, after, limit }) {
      if (!Number.isSafeInteger(after) || after < 0)
        throw new RangeError(`after must be a non-negative integer, got ${after}`);
      if (!Number.isSafeInteger(limit) || limit < 0)
        throw new RangeError(`limit must be a non-negative integer, got ${limit}`);
      const filter = eventFilter(tenant, topicPattern);
      if (limit === 0) return { entries: [], next: after, end: false };
      // Everything up to `last` is committed (the counter moves in the append's transaction),
      // so a page that ends there holds every match up to it, whatever commits meanwhile.
      const { last } = lastRow();
      // Without a pattern every row of the tenant is returned, so `limit` bounds the work.
      const window = filter.byTopic
        ? scanWindow(tenant, after, last)
        : { upper: last, more: false };
      // `LIMIT +?`: see consumer-groups.ts (a bare `LIMIT ?` re-prepares on every call).
      const rows = statements(
        `SELECT ${eventColumns()} FROM events WHERE position > ? AND position <= ? AND ${filter.sql} ORDER BY position LIMIT +?`,
      ).all(after, window.upper, ...filter.params, limit) as EventRow[];
      const entries = rows.map(toLogEntry);
      if (entries.length === limit)
        return { entries, next: entries[entries.length - 1]!.position, end: false };
      return { entries, next: Math.max(after, window.upper), end: !window.more };
    },
    getById(tenant, id) {
      const row = byId.get(tenant, id) as EventRow | undefined;
      return row === undefined ? undefined : toLogEntry(row);
    },
    bounds() {
      const firstRow = first.get() as { first: number | null };
      return { first: firstRow.first ?? 0, last: lastRow().last };
    },
    bodyAt(position) {
      return (body.get(position) as { body: string } | undefined)?.body;
    },
  };
}
