/**
 * The SQLite store's batch writer thread (see batch-writer.ts): a connection of its own to
 * the same file, running `runBatch` calls, each in one transaction with synchronous=FULL.
 * `node:sqlite` is synchronous, so the statements, the commit and its fsync block this
 * thread instead of the event loop. Requests are run one after another, in arrival order.
 * (The engine sends one batch at a time: two in flight, the next one's statements running
 * during the previous one's fsync, measured worse: more and smaller commits, more CPU.)
 */
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { workerData, type MessagePort } from 'node:worker_threads';
import { changed } from '../batch-statements.ts';
import type { BatchStatement, BatchStatementResult, Row } from '../sql-database.ts';
import { translatePlaceholders } from './placeholders.ts';
import { toSqliteValue } from './sqlite-values.ts';

export type BatchThreadData = { port: MessagePort; path: string; busyTimeoutMs: number };

export type BatchRequest =
  { id: number; units: readonly (readonly BatchStatement[])[] } | { id: number; close: true };

export type EncodedError = { name: string; message: string; errcode?: number; code?: string };

export type BatchReply =
  | { id: number; ok: true; results: BatchStatementResult[][] }
  | { id: number; ok: false; error: EncodedError };

const { port, path, busyTimeoutMs } = workerData as BatchThreadData;

const db = new DatabaseSync(path, { timeout: busyTimeoutMs, enableForeignKeyConstraints: true });
// The main connection set WAL mode on the file; a commit here is durable when it returns.
db.exec('PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;');

type Prepared = { statement: StatementSync; parameterCount: number };
const cache = new Map<string, Prepared>();
const CACHE_SIZE = 200;

function prepare(sql: string): Prepared {
  let prepared = cache.get(sql);
  if (prepared) return prepared;
  const translated = translatePlaceholders(sql);
  prepared = { statement: db.prepare(translated.sql), parameterCount: translated.parameterCount };
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(sql, prepared);
  return prepared;
}

function runStatement(s: BatchStatement): BatchStatementResult {
  const { statement, parameterCount } = prepare(s.sql);
  if (s.params.length !== parameterCount)
    throw new RangeError(`the SQL expects ${parameterCount} parameter(s), got ${s.params.length}`);
  const bound = s.params.map(toSqliteValue);
  return s.rows ? (statement.all(...bound) as Row[]) : Number(statement.run(...bound).changes);
}

function runBatch(units: readonly (readonly BatchStatement[])[]): BatchStatementResult[][] {
  db.exec('BEGIN IMMEDIATE');
  try {
    const out = units.map((unit) => {
      let previous: BatchStatementResult = null;
      return unit.map(
        (s) => (previous = s.ifChanged && !changed(previous) ? null : runStatement(s)),
      );
    });
    db.exec('COMMIT');
    return out;
  } catch (error) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw error;
  }
}

function encode(error: unknown): EncodedError {
  const e = error as { name?: string; message?: string; errcode?: number; code?: string };
  return {
    name: e?.name ?? 'Error',
    message: e?.message ?? String(error),
    ...(typeof e?.errcode === 'number' ? { errcode: e.errcode } : {}),
    ...(typeof e?.code === 'string' ? { code: e.code } : {}),
  };
}

port.on('message', (request: BatchRequest) => {
  const reply = (message: BatchReply) => port.postMessage(message);
  if ('close' in request) {
    cache.clear();
    db.close();
    // The main thread terminates this thread once it has the answer.
    reply({ id: request.id, ok: true, results: [] });
    return;
  }
  try {
    reply({ id: request.id, ok: true, results: runBatch(request.units) });
  } catch (error) {
    reply({ id: request.id, ok: false, error: encode(error) });
  }
});
