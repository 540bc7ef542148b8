/**
 * The state store seam: a small SQL interface that both the embedded SQLite store and
 * PostgreSQL implement. Capabilities own their tables and write portable SQL with `$1`
 * style placeholders (translated for SQLite), so one repository runs on both engines.
 */
export type Row = Record<string, unknown>;

export interface SqlExecutor {
  query<T extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Runs a statement; resolves to the number of rows changed. */
  execute(sql: string, params?: readonly unknown[]): Promise<number>;
}

export interface SqlDatabase extends SqlExecutor {
  readonly dialect: 'sqlite' | 'postgres';
  /** Runs `work` in one transaction: committed if it resolves, rolled back if it throws. */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** Applies the given migrations that have not run yet, in order, each in a transaction. */
  migrate(migrations: readonly Migration[]): Promise<void>;
  ready(): Promise<boolean>;
  close(): Promise<void>;
}

export type Migration = {
  /** Unique and stable, e.g. `rules/001-create`. Applied in the order given. */
  id: string;
  sqlite: string;
  postgres: string;
};
