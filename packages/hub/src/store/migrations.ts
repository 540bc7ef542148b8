/**
 * Versioned migrations, shared by both SQL engines. Applied ids are kept in
 * `portico_migrations(id, applied_at)`; each missing migration runs in its own
 * transaction together with the row that records it, so a failure leaves no half-applied
 * migration and the next start resumes at that one.
 *
 * Several hub nodes may start at once against one PostgreSQL: every migration
 * transaction first takes a transaction-scoped advisory lock and re-checks the table
 * under it, so each migration is applied exactly once. On SQLite the write transaction
 * (BEGIN IMMEDIATE) is itself the lock.
 */
import type { Migration, SqlExecutor } from './sql-database.ts';
import { StoreUnavailableError } from './store-unavailable-error.ts';

/** A transaction's executor that can also run a multi-statement script (a migration's DDL). */
export type MigrationExecutor = SqlExecutor & { runScript(sql: string): Promise<void> };

export type MigrationTarget = {
  readonly dialect: 'sqlite' | 'postgres';
  transaction<T>(work: (tx: MigrationExecutor) => Promise<T>): Promise<T>;
};

/** Arbitrary but fixed: every Portico node must use the same key (ASCII "PORTICO\0"). */
const ADVISORY_LOCK_KEY = '5787212064040796928';

const CREATE_TABLE =
  'create table if not exists portico_migrations (id text primary key, applied_at bigint not null)';

export async function applyMigrations(
  target: MigrationTarget,
  migrations: readonly Migration[],
): Promise<void> {
  const ids = new Set<string>();
  for (const m of migrations) {
    if (ids.has(m.id)) throw new Error(`migration id "${m.id}" is listed twice`);
    ids.add(m.id);
  }

  const applied = await target.transaction(async (tx) => {
    await lock(target, tx);
    await tx.runScript(CREATE_TABLE);
    const rows = await tx.query<{ id: string }>('select id from portico_migrations');
    return new Set(rows.map((r) => r.id));
  });

  for (const migration of migrations) {
    if (applied.has(migration.id)) continue;
    await target.transaction(async (tx) => {
      await lock(target, tx);
      // Another node may have applied it since we looked.
      const done = await tx.query('select 1 from portico_migrations where id = $1', [migration.id]);
      if (done.length > 0) return;
      try {
        await tx.runScript(migration[target.dialect]);
      } catch (error) {
        if (error instanceof StoreUnavailableError) throw error;
        throw new Error(`migration "${migration.id}" failed: ${(error as Error).message}`, {
          cause: error,
        });
      }
      await tx.execute('insert into portico_migrations (id, applied_at) values ($1, $2)', [
        migration.id,
        Date.now(),
      ]);
    });
  }
}

async function lock(target: MigrationTarget, tx: MigrationExecutor): Promise<void> {
  if (target.dialect === 'postgres')
    await tx.query(`select pg_advisory_xact_lock(${ADVISORY_LOCK_KEY})`);
}
