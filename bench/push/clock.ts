/** One clock for every process on the machine: epoch milliseconds, sub-millisecond resolution. */
export const now = (): number => performance.timeOrigin + performance.now();
