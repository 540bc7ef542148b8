/**
 * Values to and from PostgreSQL, chosen so that a capability sees what the SQLite store
 * gives it (see store/sqlite/sqlite-values.ts for the table):
 *
 * - in: booleans as 1 / 0 (PostgreSQL reads the text '1'/'0' as a boolean too, so both
 *   `boolean` and `integer` columns work); Dates as ISO 8601 UTC text; objects and arrays
 *   as JSON text (pg would turn arrays into PostgreSQL array literals); other
 *   Uint8Arrays as Buffers.
 * - out: `bigint` (int8, e.g. `count(*)`) as a number (a BigInt beyond 2^53, where
 *   SQLite would throw); `boolean` as 1 / 0; `json`/`jsonb` as their text; `date`,
 *   `timestamp`, `timestamptz` as the server's text. Everything else as pg parses it.
 *
 * The parsers are given to the pool (not set on pg's global type registry), so no other
 * pg user in the process is affected.
 */
import pg from 'pg';
import type { CustomTypesConfig } from 'pg';

export function toPgValue(value: unknown): unknown {
  switch (typeof value) {
    case 'undefined':
      return null;
    case 'boolean':
      return value ? 1 : 0;
    case 'bigint':
      return value.toString();
    case 'object':
      if (value === null || Buffer.isBuffer(value)) return value;
      if (value instanceof Uint8Array)
        return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      if (value instanceof Date) return value.toISOString();
      return JSON.stringify(value);
    case 'function':
    case 'symbol':
      throw new TypeError(`cannot bind a ${typeof value} as an SQL parameter`);
    default:
      return value;
  }
}

const OID = {
  bool: 16,
  int8: 20,
  json: 114,
  date: 1082,
  timestamp: 1114,
  timestamptz: 1184,
  jsonb: 3802,
} as const;

const asText = (text: string) => text;

function parseInt8(text: string): number | bigint {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
}

const textParsers = new Map<number, (text: string) => unknown>([
  [OID.bool, (text) => (text === 't' ? 1 : 0)],
  [OID.int8, parseInt8],
  [OID.json, asText],
  [OID.jsonb, asText],
  [OID.date, asText],
  [OID.timestamp, asText],
  [OID.timestamptz, asText],
]);

export const portableTypes: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (format !== 'binary') {
      const parser = textParsers.get(oid);
      if (parser) return parser;
    }
    return format === undefined ? pg.types.getTypeParser(oid) : pg.types.getTypeParser(oid, format);
  }) as CustomTypesConfig['getTypeParser'],
};
