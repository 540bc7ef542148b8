/**
 * Opens the state store the config names: the embedded SQLite file in the data dir, or
 * a PostgreSQL pool shared by every hub node. Capabilities run their own migrations on
 * it when app.ts builds them (so start-up migrates; `portico migrate` does the same).
 */
import { join } from 'node:path';
import type { PorticoConfig } from '../config/schema.ts';
import { openPostgresDatabase } from './postgres/postgres-database.ts';
import type { SqlDatabase } from './sql-database.ts';
import { openSqliteDatabase } from './sqlite/sqlite-database.ts';

export type OpenDatabaseOptions = {
  /** Absolute data dir: the SQLite file lives there. */
  dataDir: string;
  /** Told about errors on idle PostgreSQL connections (the next call reconnects). */
  onError?: (error: Error) => void;
};

export function openDatabase(
  store: PorticoConfig['store'],
  options: OpenDatabaseOptions,
): SqlDatabase {
  if (store.kind === 'postgres')
    return openPostgresDatabase(store.url, {
      poolSize: store.poolSize,
      ...(options.onError ? { onError: options.onError } : {}),
    });
  return openSqliteDatabase(join(options.dataDir, 'state.db'));
}
