/**
 * Requests per key per UTC day, counted in this node's memory (one node's share: a cluster
 * of N nodes lets up to N × the quota through). Yesterday's counters are dropped at the
 * first request of a new day, so memory holds one day of keys.
 */
export class DailyQuota {
  readonly #counts = new Map<string, number>();
  #day = '';
  readonly #clock: () => number;

  constructor(clock: () => number = Date.now) {
    this.#clock = clock;
  }

  /** Counts one request; undefined when allowed, else the seconds until the next UTC day. */
  take(key: string, limit: number): number | undefined {
    const now = this.#clock();
    const day = new Date(now).toISOString().slice(0, 10);
    if (day !== this.#day) {
      this.#counts.clear();
      this.#day = day;
    }
    const used = this.#counts.get(key) ?? 0;
    if (used >= limit) return Math.ceil((Date.parse(`${day}T00:00:00Z`) + 86_400_000 - now) / 1000);
    this.#counts.set(key, used + 1);
    return undefined;
  }
}
