/**
 * How far one read or one lag count may look on the main thread. A topic pattern is
 * decided row by row (event-filter.ts), so a pattern that matches little made `LIMIT n`
 * examine a tenant's whole backlog in one synchronous call (~1.2 µs a row: 240 ms of event
 * loop for 200k events, seconds for millions, and any tenant can ask). A window caps it:
 * the next `rows` rows of the tenant after a position, found on the (tenant, position)
 * index alone (no event row is read), are all the filter sees.
 */
import type { StatementCache } from './statement-cache.ts';

/**
 * 10,000 rows: at most ~12 ms on the event loop for the costliest pattern, about what
 * parsing and sending a full page of 1,000 events costs anyway, and a lag count that
 * stays exact for any backlog under 10,000 events (the bound the embedded log documented).
 */
export const DEFAULT_SCAN_ROWS = 10_000;

export type ScanWindow = {
  /** Inclusive upper position of the window. */
  upper: number;
  /** True when the tenant has rows after `upper`, up to the `last` asked about. */
  more: boolean;
};

/** The window of the next `rows` rows of `tenant` (every tenant when undefined) in (after, last]. */
export type ScanWindowOf = (tenant: string | undefined, after: number, last: number) => ScanWindow;

export function createScanWindow(statements: StatementCache, rows: number): ScanWindowOf {
  if (!Number.isSafeInteger(rows) || rows < 1)
    throw new RangeError(`scan rows must be a positive integer, got ${rows}`);
  // The offset is this log's constant, so it is part of the SQL text: one plan, no binding.
  const nth = (byTenant: boolean) =>
    statements(
      `SELECT position FROM events WHERE ${byTenant ? 'tenant = ? AND ' : ''}position > ? AND position <= ? ORDER BY position LIMIT 1 OFFSET ${rows - 1}`,
    );
  return (tenant, after, last) => {
    const row = (
      tenant === undefined ? nth(false).get(after, last) : nth(true).get(tenant, after, last)
    ) as { position: number } | undefined;
    if (row === undefined) return { upper: last, more: false };
    return { upper: row.position, more: row.position < last };
  };
}
