/**
 * Group commit for the delivery engine's small writes (inserts, claims, settles with their
 * attempt records, releases). Work submitted in the same tick, or while the previous batch
 * was committing, runs in one transaction: one COMMIT, so one fsync, instead of one per
 * delivery. Each submitter still gets its own result, and only once its batch is
 * committed, so nothing is reported done before it is durable.
 *
 * A work is plain statements (`BatchStatement`), not a callback, so the store may run the
 * whole batch off the event loop (`SqlDatabase.runBatch`: SQLite's writer thread); an
 * engine without it runs the same statements in `transaction()`.
 *
 * A batch that fails as a whole (a deadlock victim on PostgreSQL, one bad statement
 * poisoning the transaction) is run again one work per transaction, so one failing work
 * cannot fail its neighbours; a work must therefore be safe to run again after a rollback
 * (plain SQL is). Works run in the order given by `order` so that two nodes' batches lock
 * the same rows in the same order on PostgreSQL.
 */
import { runUnits } from '../store/batch-statements.ts';
import type { BatchStatement, BatchStatementResult, SqlDatabase } from '../store/sql-database.ts';

export type BatchedWork<T> = {
  /** Sort key within a batch (e.g. the delivery id): a stable lock order. */
  order: string;
  /** Run in order; see BatchStatement for `rows` and `ifChanged`. */
  statements: BatchStatement[];
  /** The submitter's value from its statements' results (runs after the commit). */
  result: (results: BatchStatementResult[]) => T;
};

type Waiting = {
  work: BatchedWork<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
};

/** A batch larger than this is split, so no single transaction holds the store for long. */
const MAX_BATCH = 256;

export class TransactionBatcher {
  readonly #db: SqlDatabase;
  #queue: Waiting[] = [];
  #scheduled = false;
  #committing = false;

  constructor(db: SqlDatabase) {
    this.#db = db;
  }

  run<T>(work: BatchedWork<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      this.#arm();
    });
  }

  /**
   * Flushes one loop turn later, unless a batch is committing (it flushes after). The extra
   * turn lets the work that this turn's results set off (the dispatcher's claims refilling
   * slots that settles freed, queued from its own setImmediate) and the next poll phase's
   * answers join the same commit.
   */
  #arm(): void {
    if (this.#scheduled || this.#committing) return;
    this.#scheduled = true;
    setImmediate(() =>
      setImmediate(() => {
        this.#scheduled = false;
        void this.#flush();
      }),
    );
  }

  async #flush(): Promise<void> {
    if (this.#committing || this.#queue.length === 0) return;
    this.#committing = true;
    const taken = this.#queue.splice(0, MAX_BATCH);
    taken.sort((a, b) => (a.work.order < b.work.order ? -1 : a.work.order > b.work.order ? 1 : 0));
    try {
      let results: BatchStatementResult[][];
      try {
        results = await this.#units(taken.map((w) => w.work.statements));
      } catch (error) {
        if (taken.length === 1) {
          taken[0]!.reject(error);
          return;
        }
        await Promise.all(taken.map((w) => this.#alone(w)));
        return;
      }
      taken.forEach((w, i) => this.#resolve(w, results[i]!));
    } finally {
      this.#committing = false;
      // Whatever queued up while this batch committed goes in the next one, without delay.
      if (this.#queue.length > 0) void this.#flush();
    }
  }

  async #alone(w: Waiting): Promise<void> {
    let results: BatchStatementResult[][];
    try {
      results = await this.#units([w.work.statements]);
    } catch (error) {
      w.reject(error);
      return;
    }
    this.#resolve(w, results[0]!);
  }

  #units(units: BatchStatement[][]): Promise<BatchStatementResult[][]> {
    return this.#db.runBatch
      ? this.#db.runBatch(units)
      : this.#db.transaction((tx) => runUnits(tx, units));
  }

  #resolve(w: Waiting, results: BatchStatementResult[]): void {
    try {
      w.resolve(w.work.result(results));
    } catch (error) {
      w.reject(error);
    }
  }
}
