/**
 * Group commit for the delivery engine's small writes (claims, settles with their attempt
 * records, releases). Work submitted in the same tick, or while the previous batch was
 * committing, runs in one transaction: one COMMIT, so one fsync on SQLite with
 * synchronous=FULL, instead of one per delivery. Each submitter still gets its own result,
 * and only once its batch is committed, so nothing is reported done before it is durable.
 *
 * A batch that fails as a whole (a deadlock victim on PostgreSQL, one bad statement
 * poisoning the transaction) is run again one work per transaction, so one failing work
 * cannot fail its neighbours; a work must therefore be safe to run again after a rollback
 * (plain SQL is). Works run in the order given by `order` so that two nodes' batches lock
 * the same rows in the same order on PostgreSQL.
 */
import type { SqlDatabase, SqlExecutor } from '../store/sql-database.ts';

export type BatchedWork<T> = {
  /** Sort key within a batch (e.g. the delivery id): a stable lock order. */
  order: string;
  run: (tx: SqlExecutor) => Promise<T>;
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
      let results: unknown[];
      try {
        results = await this.#db.transaction(async (tx) => {
          const out: unknown[] = [];
          for (const w of taken) out.push(await w.work.run(tx));
          return out;
        });
      } catch (error) {
        if (taken.length === 1) {
          taken[0]!.reject(error);
          return;
        }
        await Promise.all(taken.map((w) => this.#alone(w)));
        return;
      }
      taken.forEach((w, i) => w.resolve(results[i]));
    } finally {
      this.#committing = false;
      // Whatever queued up while this batch committed goes in the next one, without delay.
      if (this.#queue.length > 0) void this.#flush();
    }
  }

  async #alone(w: Waiting): Promise<void> {
    try {
      w.resolve(await this.#db.transaction((tx) => w.work.run(tx)));
    } catch (error) {
      w.reject(error);
    }
  }
}
