/**
 * The embedded state store: `SqlDatabase` on node:sqlite (no native addon to build).
 *
 * - WAL journal, synchronous=FULL (a resolved write survives power loss), foreign keys
 *   on, a busy timeout for other processes holding the write lock.
 * - `$1` placeholders are rewritten to `?1` once per SQL string; the prepared statement
 *   is cached per SQL string (bounded, least recently used dropped first).
 * - Values: see sqlite-values.ts (booleans 1/0, JSON and dates as text, bigints in).
 * - One connection, so transactions are serialised through a FIFO lock: two concurrent
 *   `transaction()` calls never interleave inside one BEGIN, and a plain statement issued
 *   while a transaction is open waits for it. Inside `work`, use the `tx` executor:
 *   calling the database itself from there would wait for its own transaction, so it
 *   throws instead of deadlocking.
 * - node:sqlite is synchronous: a statement blocks the event loop while it runs (and up
 *   to the busy timeout when another process holds the write lock).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { applyMigrations, type MigrationExecutor } from '../migrations.ts';
import type { Migration, Row, SqlDatabase, SqlExecutor } from '../sql-database.ts';
import { StoreUnavailableError } from '../store-unavailable-error.ts';
import { translatePlaceholders } from './placeholders.ts';
import { SerialLock } from './serial-lock.ts';
import { toSqliteValue } from './sqlite-values.ts';

export type SqliteDatabaseOptions = {
  /** How long a statement waits for another process's write lock (ms). Default 5000. */
  busyTimeoutMs?: number;
  /** Prepared statements kept (least recently used dropped first). Default 500. */
  statementCacheSize?: number;
  /** Callers allowed to wait for the connection before new ones are refused. Default 10000. */
  maxQueuedCallers?: number;
};

type Prepared = { statement: StatementSync; parameterCount: number };
type TransactionState = { active: boolean };

const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;

export function openSqliteDatabase(path: string, options: SqliteDatabaseOptions = {}): SqlDatabase {
  const db = new DatabaseSync(path, {
    timeout: options.busyTimeoutMs ?? 5000,
    enableForeignKeyConstraints: true,
  });
  try {
    db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;');
  } catch (error) {
    db.close();
    throw error;
  }
  return new SqliteDatabase(db, options);
}

class SqliteDatabase implements SqlDatabase {
  readonly dialect = 'sqlite' as const;
  readonly #db: DatabaseSync;
  readonly #cache = new Map<string, Prepared>();
  readonly #cacheSize: number;
  readonly #lock: SerialLock;
  readonly #context = new AsyncLocalStorage<TransactionState>();
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(db: DatabaseSync, options: SqliteDatabaseOptions) {
    this.#db = db;
    this.#cacheSize = options.statementCacheSize ?? 500;
    this.#lock = new SerialLock(options.maxQueuedCallers ?? 10_000);
  }

  async query<T extends Row = Row>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return this.#outsideTransaction(() => this.#all<T>(sql, params));
  }

  async execute(sql: string, params: readonly unknown[] = []): Promise<number> {
    return this.#outsideTransaction(() => this.#run(sql, params));
  }

  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.#transaction(work);
  }

  migrate(migrations: readonly Migration[]): Promise<void> {
    return applyMigrations(
      { dialect: 'sqlite', transaction: (work) => this.#transaction(work) },
      migrations,
    );
  }

  async ready(): Promise<boolean> {
    try {
      await this.query('select 1');
      return true;
    } catch {
      return false;
    }
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      // Queued callers and open transactions finish first; later ones are refused.
      await this.#lock.acquire();
      this.#closed = true;
      this.#cache.clear();
      this.#db.close();
      this.#lock.release();
    })();
    return this.#closing;
  }

  async #outsideTransaction<T>(run: () => T): Promise<T> {
    if (this.#context.getStore()?.active)
      throw new Error(
        'inside transaction(): run statements on its tx executor, not on the database',
      );
    if (this.#lock.idle) return this.#guard(run);
    await this.#acquire();
    try {
      return this.#guard(run);
    } finally {
      this.#lock.release();
    }
  }

  async #transaction<T>(work: (tx: MigrationExecutor) => Promise<T>): Promise<T> {
    if (this.#context.getStore()?.active) throw new Error('transactions do not nest');
    await this.#acquire();
    const state: TransactionState = { active: true };
    try {
      this.#guard(() => this.#db.exec('BEGIN IMMEDIATE'));
      let result: T;
      try {
        result = await this.#context.run(state, () => work(this.#executor(state)));
        state.active = false;
        this.#guard(() => this.#db.exec('COMMIT'));
      } catch (error) {
        state.active = false;
        if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
        throw error;
      }
      return result;
    } finally {
      state.active = false;
      this.#lock.release();
    }
  }

  #executor(state: TransactionState): MigrationExecutor {
    const check = () => {
      if (!state.active) throw new Error('this transaction has already finished');
    };
    return {
      query: async <T extends Row = Row>(sql: string, params: readonly unknown[] = []) => {
        check();
        return this.#guard(() => this.#all<T>(sql, params));
      },
      execute: async (sql: string, params: readonly unknown[] = []) => {
        check();
        return this.#guard(() => this.#run(sql, params));
      },
      runScript: async (sql: string) => {
        check();
        this.#guard(() => this.#db.exec(sql));
      },
    };
  }

  async #acquire(): Promise<void> {
    if (this.#closed || this.#closing)
      throw new StoreUnavailableError('the SQLite store is closed');
    if (!(await this.#lock.acquire()))
      throw new StoreUnavailableError('too many callers waiting for the SQLite store');
    if (this.#closed) {
      this.#lock.release();
      throw new StoreUnavailableError('the SQLite store is closed');
    }
  }

  #all<T>(sql: string, params: readonly unknown[]): T[] {
    const { statement, parameterCount } = this.#prepare(sql);
    return statement.all(...bind(params, parameterCount)) as T[];
  }

  #run(sql: string, params: readonly unknown[]): number {
    const { statement, parameterCount } = this.#prepare(sql);
    return Number(statement.run(...bind(params, parameterCount)).changes);
  }

  #prepare(sql: string): Prepared {
    const cached = this.#cache.get(sql);
    if (cached) {
      // Refresh its place in the LRU order.
      this.#cache.delete(sql);
      this.#cache.set(sql, cached);
      return cached;
    }
    const translated = translatePlaceholders(sql);
    const prepared = {
      statement: this.#db.prepare(translated.sql),
      parameterCount: translated.parameterCount,
    };
    this.#cache.set(sql, prepared);
    if (this.#cache.size > this.#cacheSize) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
    return prepared;
  }

  /** Runs a synchronous call, turning "closed" and "busy" into StoreUnavailableError. */
  #guard<T>(run: () => T): T {
    if (this.#closed) throw new StoreUnavailableError('the SQLite store is closed');
    try {
      return run();
    } catch (error) {
      const code = (error as { errcode?: number }).errcode;
      if (code !== undefined && ((code & 0xff) === SQLITE_BUSY || (code & 0xff) === SQLITE_LOCKED))
        throw new StoreUnavailableError('the SQLite store is locked by another process', {
          cause: error,
        });
      throw error;
    }
  }
}

function bind(params: readonly unknown[], expected: number) {
  // PostgreSQL rejects a wrong parameter count; SQLite would silently bind NULL.
  if (params.length !== expected)
    throw new RangeError(`the SQL expects ${expected} parameter(s), got ${params.length}`);
  return params.map(toSqliteValue);
}
