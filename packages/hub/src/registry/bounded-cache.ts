/**
 * A least-recently-used map with a fixed capacity, for caches that must not grow the heap
 * without bound (overflow action: the least recently used entry is dropped). Promise values
 * that reject are removed, so a failure is retried rather than remembered.
 */
export class BoundedCache<K, V> {
  readonly #capacity: number;
  readonly #entries = new Map<K, V>();

  constructor(capacity: number) {
    if (!(capacity >= 1)) throw new RangeError('capacity must be at least 1');
    this.#capacity = capacity;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: K): V | undefined {
    const value = this.#entries.get(key);
    if (value === undefined) return undefined;
    // Map keeps insertion order: re-inserting marks the entry as most recently used.
    this.#entries.delete(key);
    this.#entries.set(key, value);
    return value;
  }

  /**
   * Like `get` without marking the entry as recently used: for hot paths where a Map
   * delete + insert per call would cost more than an occasional early eviction.
   */
  peek(key: K): V | undefined {
    return this.#entries.get(key);
  }

  set(key: K, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, value);
    if (this.#entries.size > this.#capacity)
      this.#entries.delete(this.#entries.keys().next().value as K);
  }

  getOrCreate(key: K, create: () => V): V {
    const found = this.get(key);
    if (found !== undefined) return found;
    const value = create();
    this.set(key, value);
    if (value instanceof Promise)
      value.catch(() => {
        if (this.#entries.get(key) === value) this.#entries.delete(key);
      });
    return value;
  }

  delete(key: K): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }
}
