/**
 * How JavaScript values are written to SQLite. The same mapping is applied on
 * PostgreSQL (store/postgres/pg-values.ts), so capabilities see one behaviour:
 *
 * | JavaScript            | stored as                                   | read back as        |
 * |-----------------------|---------------------------------------------|---------------------|
 * | null, undefined       | NULL                                        | null                |
 * | boolean               | INTEGER 1 / 0                               | 1 / 0               |
 * | number                | INTEGER or REAL                             | number              |
 * | bigint                | INTEGER (must fit 64 bits)                  | number (*)          |
 * | string                | TEXT                                        | string              |
 * | Uint8Array / Buffer   | BLOB                                        | Uint8Array          |
 * | Date                  | TEXT, ISO 8601 UTC (`toISOString()`)        | string              |
 * | object / array        | TEXT, `JSON.stringify` (callers parse JSON) | string              |
 *
 * (*) node:sqlite throws when reading an integer beyond Number.MAX_SAFE_INTEGER; keep
 * stored integers (epoch ms, positions, counters) inside that range.
 */
import type { SQLInputValue } from 'node:sqlite';

export function toSqliteValue(value: unknown): SQLInputValue {
  switch (typeof value) {
    case 'undefined':
      return null;
    case 'boolean':
      return value ? 1 : 0;
    case 'number':
    case 'bigint':
    case 'string':
      return value;
    case 'object':
      if (value === null) return null;
      if (value instanceof Uint8Array) return value;
      if (value instanceof Date) return value.toISOString();
      return JSON.stringify(value);
    default:
      throw new TypeError(`cannot bind a ${typeof value} as an SQL parameter`);
  }
}
