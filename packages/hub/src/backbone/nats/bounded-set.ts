/** A set that forgets its oldest members beyond `capacity` (memory stays bounded). */
export class BoundedSet<T> {
  readonly #capacity: number;
  readonly #items = new Set<T>();

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  has(item: T): boolean {
    return this.#items.has(item);
  }

  /** Adds `item`; false when it was already there. */
  add(item: T): boolean {
    if (this.#items.has(item)) return false;
    this.#items.add(item);
    if (this.#items.size > this.#capacity) {
      const oldest = this.#items.values().next();
      if (!oldest.done) this.#items.delete(oldest.value);
    }
    return true;
  }
}
