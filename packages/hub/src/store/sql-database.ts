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

/**
 * One statement of a batch unit (see `SqlDatabase.runBatch`): plain data, no callback, so
 * an engine may run it on another thread.
 */
export type BatchStatement = {
  sql: string;
  params: readonly unknown[];
  /** Resolve to the rows (e.g. of a `returning`); otherwise to the number of rows changed. */
  rows?: boolean;
  /** Run only if the unit's previous statement changed (or returned) a row; else its result is null. */
  ifChanged?: boolean;
};

export type BatchStatementResult = number | Row[] | null;

export interface SqlDatabase extends SqlExecutor {
  readonly dialect: 'sqlite' | 'postgres';
  /** Runs `work` in one transaction: committed if it resolves, rolled back if it throws. */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /**
   * Optional: runs units of statements, in order, all in one transaction, off the event
   * loop where the engine can (SQLite: a writer thread with a connection of its own).
   * Resolves once committed and durable, to each unit's statement results; one failing
   * statement rolls back and rejects the whole call. Without it, use `runUnits` in
   * `transaction()` (batch-statements.ts), which has the same meaning.
   */
  runBatch?(units: readonly (readonly BatchStatement[])[]): Promise<BatchStatementResult[][]>;
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
