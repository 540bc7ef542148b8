/**
 * The scale-out state store: `SqlDatabase` on a `pg` connection pool.
 *
 * - Statements take a pooled connection each; `transaction` holds one connection for
 *   BEGIN … COMMIT (ROLLBACK when `work` throws), so concurrent transactions are isolated
 *   by PostgreSQL (READ COMMITTED).
 * - Values are mapped as on SQLite (pg-values.ts), so capabilities see one behaviour.
 * - An unreachable or restarting server is a `StoreUnavailableError`, never a crash: the
 *   pool's and the held connections' 'error' events are handled, a broken connection is
 *   destroyed rather than returned to the pool, and the next call connects afresh.
 */
import pg from 'pg';
import type { PoolClient } from 'pg';
import { applyMigrations, type MigrationExecutor } from '../migrations.ts';
import type { Migration, Row, SqlDatabase, SqlExecutor } from '../sql-database.ts';
import { StoreUnavailableError } from '../store-unavailable-error.ts';
import { isConnectionError } from './connection-errors.ts';
import { portableTypes, toPgValue } from './pg-values.ts';

export type PostgresDatabaseOptions = {
  /** Connections in the pool. Default 10. */
  poolSize?: number;
  /** Give up connecting after this long (ms). Default 5000. */
  connectTimeoutMs?: number;
  /** How long `ready()` waits for `select 1` (ms). Default 2000. */
  readyTimeoutMs?: number;
  /** Told about errors on idle connections (they are otherwise handled silently). */
  onError?: (error: Error) => void;
};

export function openPostgresDatabase(
  url: string,
  options: PostgresDatabaseOptions = {},
): SqlDatabase {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    idleTimeoutMillis: 30_000,
    types: portableTypes,
  });
  // An idle connection dropped by the server would otherwise be an unhandled 'error'
  // event, which ends the process.
  pool.on('error', (error) => options.onError?.(error));
  return new PostgresDatabase(pool, options.readyTimeoutMs ?? 2000);
}

class PostgresDatabase implements SqlDatabase {
  readonly dialect = 'postgres' as const;
  readonly #pool: pg.Pool;
  readonly #readyTimeoutMs: number;
  #closing: Promise<void> | undefined;

  constructor(pool: pg.Pool, readyTimeoutMs: number) {
    this.#pool = pool;
    this.#readyTimeoutMs = readyTimeoutMs;
  }

  async query<T extends Row = Row>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    this.#checkOpen();
    try {
      const result = await this.#pool.query(sql, params.map(toPgValue));
      return result.rows as T[];
    } catch (error) {
      throw unavailableOr(error);
    }
  }

  async execute(sql: string, params: readonly unknown[] = []): Promise<number> {
    this.#checkOpen();
    try {
      const result = await this.#pool.query(sql, params.map(toPgValue));
      return result.rowCount ?? 0;
    } catch (error) {
      throw unavailableOr(error);
    }
  }

  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.#transaction(work);
  }

  migrate(migrations: readonly Migration[]): Promise<void> {
    return applyMigrations(
      { dialect: 'postgres', transaction: (work) => this.#transaction(work) },
      migrations,
    );
  }

  async ready(): Promise<boolean> {
    if (this.#closing) return false;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), this.#readyTimeoutMs);
    });
    const probe = this.#pool.query('select 1').then(
      () => true,
      () => false,
    );
    try {
      return await Promise.race([probe, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): Promise<void> {
    this.#closing ??= this.#pool.end().catch(() => undefined);
    return this.#closing;
  }

  async #transaction<T>(work: (tx: MigrationExecutor) => Promise<T>): Promise<T> {
    this.#checkOpen();
    let client: PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      throw unavailableOr(error);
    }
    // While we hold the connection the pool does not listen to it: a server-side
    // disconnect between statements must not become an unhandled 'error' event.
    let broken: Error | undefined;
    const onError = (error: Error) => {
      broken = error;
    };
    client.on('error', onError);
    let active = true;
    const run = async (sql: string, params: readonly unknown[]) => {
      if (!active) throw new Error('this transaction has already finished');
      try {
        return await client.query(sql, params.map(toPgValue));
      } catch (error) {
        throw unavailableOr(error);
      }
    };
    const tx: MigrationExecutor = {
      query: async <R extends Row = Row>(sql: string, params: readonly unknown[] = []) =>
        (await run(sql, params)).rows as R[],
      execute: async (sql: string, params: readonly unknown[] = []) =>
        (await run(sql, params)).rowCount ?? 0,
      // No parameters: pg sends it with the simple protocol, which accepts several statements.
      runScript: async (sql: string) => {
        await run(sql, []);
      },
    };
    try {
      await run('BEGIN', []);
      const result = await work(tx);
      await run('COMMIT', []);
      active = false;
      return result;
    } catch (error) {
      active = false;
      await client.query('ROLLBACK').catch((rollbackError: Error) => {
        broken ??= rollbackError;
      });
      throw unavailableOr(error);
    } finally {
      active = false;
      client.off('error', onError);
      client.release(broken ?? (isBroken(client) ? true : undefined));
    }
  }

  #checkOpen(): void {
    if (this.#closing) throw new StoreUnavailableError('the PostgreSQL store is closed');
  }
}

function unavailableOr(error: unknown): unknown {
  if (error instanceof StoreUnavailableError || !isConnectionError(error)) return error;
  return new StoreUnavailableError(`PostgreSQL is unavailable: ${(error as Error).message}`, {
    cause: error,
  });
}

/** pg marks a client whose socket failed; such a client must not go back to the pool. */
function isBroken(client: PoolClient): boolean {
  return (client as unknown as { _ending?: boolean; _queryable?: boolean })._queryable === false;
}
