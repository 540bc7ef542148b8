/**
 * The leaves of one event on the paths rules mention, kept in reusable typed arrays.
 *
 * Each leaf remembers its "trail": which element of which array it was found in, for
 * every array on the way down. Trails form a tree (node 0 = not inside any array); two
 * leaves are array-consistent unless their trails pass through the same array at
 * different elements.
 */
export class EventLeaves {
  count = 0;
  path = new Int32Array(64);
  trail = new Int32Array(64);
  /** Next leaf on the same path (a per-path linked list), or -1. */
  next = new Int32Array(64);
  values: unknown[] = [];
  /**
   * Which event these are: a new number on every reset, never reused (a double counts to
   * 2^53), so a verdict remembered under it belongs to this event alone.
   */
  generation = 0;

  readonly #head: Int32Array;
  readonly #headStamp: Int32Array;
  #stamp = 0;

  /** Trail nodes: parent trail, the array they step into, and how many arrays deep they are. */
  trailCount = 1;
  #trailParent = new Int32Array(64);
  #trailArray = new Int32Array(64);
  #trailDepth = new Int32Array(64);
  #arrayCount = 0;

  constructor(pathCount: number) {
    this.#head = new Int32Array(pathCount);
    this.#headStamp = new Int32Array(pathCount);
  }

  reset(): void {
    this.generation++;
    this.count = 0;
    this.trailCount = 1;
    this.#arrayCount = 0;
    if (++this.#stamp === 0x7fffffff) {
      this.#headStamp.fill(0);
      this.#stamp = 1;
    }
  }

  add(pathId: number, value: unknown, trail: number): void {
    const i = this.count;
    if (i === this.path.length) this.#growLeaves();
    this.path[i] = pathId;
    this.trail[i] = trail;
    this.values[i] = value;
    this.next[i] = this.first(pathId);
    this.#head[pathId] = i;
    this.#headStamp[pathId] = this.#stamp;
    this.count = i + 1;
  }

  /** The most recent leaf on `pathId`, or -1 when the event has none there. */
  first(pathId: number): number {
    return this.#headStamp[pathId] === this.#stamp ? (this.#head[pathId] as number) : -1;
  }

  /** How many arrays were walked (array ids are 0 … arrayCount - 1). */
  get arrayCount(): number {
    return this.#arrayCount;
  }

  /** Per trail node: the trail it was entered from. A node's parent always has a lower number. */
  get trailParents(): Int32Array {
    return this.#trailParent;
  }

  /** Per trail node (but 0): the array it is an element of. */
  get trailArrays(): Int32Array {
    return this.#trailArray;
  }

  newArray(): number {
    return this.#arrayCount++;
  }

  /** A trail for one element of array `arrayId`, found while on trail `parent`. */
  enter(parent: number, arrayId: number): number {
    const t = this.trailCount;
    if (t === this.#trailParent.length) this.#growTrails();
    this.#trailParent[t] = parent;
    this.#trailArray[t] = arrayId;
    this.#trailDepth[t] = (this.#trailDepth[parent] as number) + 1;
    this.trailCount = t + 1;
    return t;
  }

  /** Can leaves on trails `a` and `b` belong to one match? Not if they took different elements of one array. */
  consistent(a: number, b: number): boolean {
    const parent = this.#trailParent;
    const depth = this.#trailDepth;
    const array = this.#trailArray;
    while (a !== b) {
      const da = depth[a] as number;
      const db = depth[b] as number;
      if (da > db) a = parent[a] as number;
      else if (db > da) b = parent[b] as number;
      else {
        // An array sits at one depth on every trail through it.
        if (array[a] === array[b]) return false;
        a = parent[a] as number;
        b = parent[b] as number;
      }
    }
    return true;
  }

  #growLeaves(): void {
    const size = this.path.length * 2;
    this.path = grow(this.path, size);
    this.trail = grow(this.trail, size);
    this.next = grow(this.next, size);
  }

  #growTrails(): void {
    const size = this.#trailParent.length * 2;
    this.#trailParent = grow(this.#trailParent, size);
    this.#trailArray = grow(this.#trailArray, size);
    this.#trailDepth = grow(this.#trailDepth, size);
  }
}

/** A copy of `array` with room for `size` values (scratch arrays that grow on demand). */
export function grow(array: Int32Array, size: number): Int32Array<ArrayBuffer> {
  const bigger = new Int32Array(size);
  bigger.set(array);
  return bigger;
}
