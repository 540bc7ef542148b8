/**
 * Runs batch units (see `BatchStatement`) on a transaction's executor: the meaning of
 * `SqlDatabase.runBatch` for an engine that has no faster way (PostgreSQL, in-memory SQLite).
 */
import type { BatchStatement, BatchStatementResult, SqlExecutor } from './sql-database.ts';

export async function runUnits(
  tx: SqlExecutor,
  units: readonly (readonly BatchStatement[])[],
): Promise<BatchStatementResult[][]> {
  const out: BatchStatementResult[][] = [];
  for (const unit of units) {
    const results: BatchStatementResult[] = [];
    let previous: BatchStatementResult = null;
    for (const s of unit) {
      if (s.ifChanged && !changed(previous)) previous = null;
      else previous = s.rows ? await tx.query(s.sql, s.params) : await tx.execute(s.sql, s.params);
      results.push(previous);
    }
    out.push(results);
  }
  return out;
}

/** Whether a statement's result shows a changed (or returned) row. */
export function changed(result: BatchStatementResult): boolean {
  return Array.isArray(result) ? result.length > 0 : typeof result === 'number' && result > 0;
}
