/**
 * The embedded state store: `SqlDatabase` on node:sqlite (no native addon to build).
 *
 * - WAL journal; a resolved write survives power loss, as with synchronous=FULL, but the
 *   WAL's fsync runs off the event loop (wal-sync.ts: synchronous=NORMAL, then an
 *   fdatasync on libuv's pool before the write is reported done). Foreign keys on, a busy
 *   timeout for other processes holding the write lock. Reads may see a committed write
 *   before its fsync has finished (a power loss then could take back what they saw; a
 *   write that depends on it commits after it, so it is never durable without it).
 * - `$1` placeholders are rewritten to `?1` once per SQL string; the prepared statement
 *   is cached per SQL string (bounded, least recently used dropped first).
 * - Values: see sqlite-values.ts (booleans 1/0, JSON and dates as text, bigints in).
 * - One connection, so transactions are serialised through a FIFO lock: two concurrent
 *   `transaction()` calls never interleave inside one BEGIN, and a plain statement issued
 *   while a transaction is open waits for it. Inside `work`, use the `tx` executor:
 *   calling the database itself from there would wait for its own transaction, so it
 *   throws instead of deadlocking.
 * - node:sqlite is synchronous: a statement blocks the event loop while it runs (and up
 *   to the busy timeout when another process holds the write lock). `runBatch` (the
 *   delivery engine's group commits) runs on a writer thread with a connection of its own
 *   instead (batch-writer.ts), so those statements and their fsync leave the event loop.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { applyMigrations, type MigrationExecutor } from '../migrations.ts';
import { runUnits } from '../batch-statements.ts';
import type {
  BatchStatement,
  BatchStatementResult,
  Migration,
  Row,
  SqlDatabase,
  SqlExecutor,
} from '../sql-database.ts';
import { StoreUnavailableError } from '../store-unavailable-error.ts';
import { translatePlaceholders } from './placeholders.ts';
import { BatchWriter } from './batch-writer.ts';
import { SerialLock } from './serial-lock.ts';
import { toSqliteValue } from './sqlite-values.ts';
import { WalSync } from './wal-sync.ts';

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
  let wal: WalSync | undefined;
  try {
    const mode = db.prepare('PRAGMA journal_mode = WAL').get()?.['journal_mode'];
    const file = db.location();
    // A file in WAL mode: commits skip the fsync and WalSync makes them durable. Anything
    // else (an in-memory database) keeps SQLite's own synchronous commits.
    if (mode === 'wal' && file) wal = new WalSync(file);
    db.exec(`PRAGMA synchronous = ${wal ? 'NORMAL' : 'FULL'}; PRAGMA foreign_keys = ON;`);
  } catch (error) {
    db.close();
    throw error;
  }
  return new SqliteDatabase(db, options, wal);
}

/** Statements that cannot write (plain reads) need no WAL sync after them. */
const READ_ONLY = /^\s*select\b/i;

class SqliteDatabase implements SqlDatabase {
  readonly dialect = 'sqlite' as const;
  readonly #db: DatabaseSync;
  readonly #cache = new Map<string, Prepared>();
  readonly #cacheSize: number;
  readonly #lock: SerialLock;
  readonly #context = new AsyncLocalStorage<TransactionState>();
  readonly #wal: WalSync | undefined;
  readonly #busyTimeoutMs: number;
  #writer: BatchWriter | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(db: DatabaseSync, options: SqliteDatabaseOptions, wal: WalSync | undefined) {
    this.#db = db;
    this.#wal = wal;
    this.#busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    this.#cacheSize = options.statementCacheSize ?? 500;
    this.#lock = new SerialLock(options.maxQueuedCallers ?? 10_000);
  }

  async query<T extends Row = Row>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return this.#outsideTransaction(() => this.#all<T>(sql, params), !READ_ONLY.test(sql));
  }

  async execute(sql: string, params: readonly unknown[] = []): Promise<number> {
    return this.#outsideTransaction(() => this.#run(sql, params), true);
  }

  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.#transaction(work);
  }

  runBatch(units: readonly (readonly BatchStatement[])[]): Promise<BatchStatementResult[][]> {
    if (this.#closed || this.#closing)
      return Promise.reject(new StoreUnavailableError('the SQLite store is closed'));
    // A file in WAL mode: the writer thread's connection sees the same data. An in-memory
    // database exists on this connection only.
    const file = this.#wal ? this.#db.location() : null;
    if (!file) return this.#transaction((tx) => runUnits(tx, units));
    this.#writer ??= new BatchWriter({ path: file, busyTimeoutMs: this.#busyTimeoutMs });
    return this.#writer.run(units);
  }

  migrate(migrations: readonly Migration[]): Promise<void> {
    return applyMigrations(
      { dialect: 'sqlite', transaction: (work) => this.#transaction(work) },
      migrations,
    );
  }

  async ready(): Promise<boolean> {
    if (this.#wal?.failed || this.#writer?.alive === false) return false;
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
      await this.#writer?.close();
      await this.#wal?.close();
      this.#db.close();
      this.#lock.release();
    })();
    return this.#closing;
  }

  async #outsideTransaction<T>(run: () => T, writes: boolean): Promise<T> {
    if (this.#context.getStore()?.active)
      throw new Error(
        'inside transaction(): run statements on its tx executor, not on the database',
      );
    let result: T;
    let synced: Promise<void> | undefined;
    if (this.#lock.idle) {
      result = this.#guard(run);
      if (writes) synced = this.#wal?.sync();
    } else {
      await this.#acquire();
      try {
        result = this.#guard(run);
        // Asked for before the lock is released, so that it covers this statement.
        if (writes) synced = this.#wal?.sync();
      } finally {
        this.#lock.release();
      }
    }
    await synced;
    return result;
  }

  async #transaction<T>(work: (tx: MigrationExecutor) => Promise<T>): Promise<T> {
    if (this.#context.getStore()?.active) throw new Error('transactions do not nest');
    await this.#acquire();
    const state: TransactionState = { active: true };
    let result: T;
    let synced: Promise<void> | undefined;
    try {
      this.#guard(() => this.#db.exec('BEGIN IMMEDIATE'));
      try {
        result = await this.#context.run(state, () => work(this.#executor(state)));
        state.active = false;
        this.#guard(() => this.#db.exec('COMMIT'));
        // The next transaction may start while this one's fsync runs; this one resolves
        // only once its frames are on disk.
        synced = this.#wal?.sync();
      } catch (error) {
        state.active = false;
        if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
        throw error;
      }
    } finally {
      state.active = false;
      this.#lock.release();
    }
    await synced;
    return result;
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
