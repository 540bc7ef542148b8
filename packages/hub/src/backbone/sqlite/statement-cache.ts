/**
 * Prepared statements for SQL built at run time (filters). Only the shape of the SQL
 * varies (values are bound), so the cache holds a handful of entries per connection.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';

export type StatementCache = (sql: string) => StatementSync;

export function createStatementCache(db: DatabaseSync): StatementCache {
  const statements = new Map<string, StatementSync>();
  return (sql) => {
    let statement = statements.get(sql);
    if (statement === undefined) {
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
}
