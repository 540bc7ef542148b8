/**
 * A hash table from strings to values, kept in typed arrays, for the index's hot lookups.
 *
 * Why not a `Map`: with many rules the index no longer fits in the CPU caches, and a
 * `Map` lookup chases its table, the entry and the stored key string before it can say
 * a value is absent (the common case). Here an absent value costs one probe into one
 * `Int32Array` (hash and slot side by side, load factor at most one half), and the key
 * string is read only when the hashes agree. Prefixes and suffixes of an event's value
 * are looked up in place (`getRange`), without slicing the value, so probing makes no
 * garbage.
 */
export class StringTable<V> {
  /** Pairs: [hash, 1 + index into keys/values]; a 0 index marks an empty slot. */
  #slots = new Int32Array(16);
  #mask = 7;
  readonly #keys: string[] = [];
  readonly #values: V[] = [];

  get size(): number {
    return this.#keys.length;
  }

  /** The value stored under `key`, created by `create` (and stored) when there is none. */
  upsert(key: string, create: () => V): V {
    const hash = hashRange(key, 0, key.length);
    const found = this.#find(hash, key, 0, key.length);
    if (found >= 0) return this.#values[found] as V;
    const value = create();
    this.#keys.push(key);
    this.#values.push(value);
    if (this.#keys.length * 2 > this.#mask + 1) this.#rehash((this.#mask + 1) * 2);
    else this.#place(hash, this.#keys.length);
    return value;
  }

  get(key: string): V | undefined {
    return this.getRange(key, 0, key.length);
  }

  /** The value stored under `text.slice(from, to)`, without making that string. */
  getRange(text: string, from: number, to: number): V | undefined {
    const found = this.#find(hashRange(text, from, to), text, from, to);
    return found >= 0 ? this.#values[found] : undefined;
  }

  /**
   * The value stored under `pairKey(text[a0, a1), text[b0, b1))`, without making either
   * string (for wildcards filed by head and tail).
   */
  getPair(text: string, a0: number, a1: number, b0: number, b1: number): V | undefined {
    const hash = hashRange(text, b0, b1, mix(hashRange(text, a0, a1), PAIR_SEPARATOR));
    const slots = this.#slots;
    const mask = this.#mask;
    const headLength = a1 - a0;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const slot = slots[2 * i + 1] as number;
      if (slot === 0) return undefined;
      if (slots[2 * i] !== hash) continue;
      const key = this.#keys[slot - 1] as string;
      if (
        key.length === headLength + 1 + (b1 - b0) &&
        key.charCodeAt(headLength) === PAIR_SEPARATOR &&
        text.startsWith(key.slice(0, headLength), a0) &&
        text.startsWith(key.slice(headLength + 1), b0)
      )
        return this.#values[slot - 1];
    }
  }

  keys(): readonly string[] {
    return this.#keys;
  }

  values(): readonly V[] {
    return this.#values;
  }

  #find(hash: number, text: string, from: number, to: number): number {
    const slots = this.#slots;
    const mask = this.#mask;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const slot = slots[2 * i + 1] as number;
      if (slot === 0) return -1;
      if (slots[2 * i] === hash) {
        const key = this.#keys[slot - 1] as string;
        if (key.length === to - from && text.startsWith(key, from)) return slot - 1;
      }
    }
  }

  #place(hash: number, slot: number): void {
    const slots = this.#slots;
    const mask = this.#mask;
    let i = hash & mask;
    while (slots[2 * i + 1] !== 0) i = (i + 1) & mask;
    slots[2 * i] = hash;
    slots[2 * i + 1] = slot;
  }

  #rehash(capacity: number): void {
    this.#slots = new Int32Array(capacity * 2);
    this.#mask = capacity - 1;
    this.#keys.forEach((key, k) => this.#place(hashRange(key, 0, key.length), k + 1));
  }
}

/** A noncharacter between the two parts of a pair key. */
const PAIR_SEPARATOR = 0xffff;

/** Does `pairKey(head, tail)` name this pair alone? Not when either holds the separator. */
export function pairKeyIsUnique(head: string, tail: string): boolean {
  const separator = String.fromCharCode(PAIR_SEPARATOR);
  return !head.includes(separator) && !tail.includes(separator);
}

/**
 * The key `getPair` finds for a head and a tail. A head or tail that holds the separator
 * itself may share its entry with another pair: the index then only offers an extra
 * candidate, which verification turns down.
 */
export function pairKey(head: string, tail: string): string {
  return `${head}${String.fromCharCode(PAIR_SEPARATOR)}${tail}`;
}

/** FNV-1a over the UTF-16 code units of `text[from, to)`, continuing from `seed`. */
function hashRange(text: string, from: number, to: number, seed = 0x811c9dc5 | 0): number {
  let hash = seed;
  for (let i = from; i < to; i++) hash = mix(hash, text.charCodeAt(i));
  return hash;
}

function mix(hash: number, code: number): number {
  return Math.imul(hash ^ code, 0x01000193);
}
