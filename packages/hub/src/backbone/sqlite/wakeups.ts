/**
 * Where long-polling pulls sleep: each waits until something may have become available
 * (an append, a nack, a deleted group, close) or its own timer fires, then looks again.
 * No polling loop: with nothing happening, a pull sleeps until its deadline.
 */
export type Wakeups = {
  /** Resolves on the next `wakeAll()` or after `ms`, whichever comes first. */
  sleep(ms: number): Promise<void>;
  wakeAll(): void;
};

export function createWakeups(): Wakeups {
  const sleepers = new Set<() => void>();
  return {
    sleep(ms) {
      return new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          sleepers.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, Math.max(1, Math.ceil(ms)));
        sleepers.add(wake);
      });
    },
    wakeAll() {
      for (const wake of [...sleepers]) wake();
    },
  };
}
