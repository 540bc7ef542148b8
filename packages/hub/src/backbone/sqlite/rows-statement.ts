/**
 * Multi-row statements: `prefix (?, ...), (?, ...) suffix` for n rows, prepared once per
 * row count. One statement call per chunk of rows instead of one per row: each call's
 * binding and stepping cost about as much as a row's B-tree work.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';

/** Rows per statement: 8 columns x 64 rows stays far below SQLite's 32766 variables. */
export const ROWS_PER_STATEMENT = 64;

export function rowsStatement(
  db: DatabaseSync,
  prefix: string,
  row: string,
  suffix: string,
): (rows: number) => StatementSync {
  const byCount = new Map<number, StatementSync>();
  return (rows) => {
    let statement = byCount.get(rows);
    if (statement === undefined) {
      statement = db.prepare(prefix + Array.from({ length: rows }, () => row).join(', ') + suffix);
      byCount.set(rows, statement);
    }
    return statement;
  };
}

/** `(?, ?, ...)` with `columns` placeholders. */
export function placeholders(columns: number): string {
  return `(${Array.from({ length: columns }, () => '?').join(', ')})`;
}
