/**
 * A FIFO mutex for one SQLite connection. node:sqlite runs each statement synchronously
 * but a transaction spans awaits, so without this two transactions (or a transaction and
 * a plain statement) would interleave inside one BEGIN. The wait queue is bounded: when
 * it is full, `acquire` rejects instead of letting callers pile up without limit.
 */
export class SerialLock {
  readonly #maxWaiters: number;
  #held = false;
  readonly #waiters: Array<() => void> = [];

  constructor(maxWaiters: number) {
    this.#maxWaiters = maxWaiters;
  }

  /** Free now and nobody queued: the caller may run synchronously without acquiring. */
  get idle(): boolean {
    return !this.#held && this.#waiters.length === 0;
  }

  /** Resolves once the caller holds the lock; resolves to false when the queue is full. */
  acquire(): Promise<boolean> {
    if (this.idle) {
      this.#held = true;
      return Promise.resolve(true);
    }
    if (this.#waiters.length >= this.#maxWaiters) return Promise.resolve(false);
    return new Promise((resolve) => this.#waiters.push(() => resolve(true)));
  }

  release(): void {
    const next = this.#waiters.shift();
    if (next) next();
    else this.#held = false;
  }
}
