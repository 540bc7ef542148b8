/** Which end of a value an AffixTrie's keys are anchored at. */
export type Anchor = 'prefix' | 'suffix';

/** A node of the trie, and what `collect` reports: a key of `length` characters and its value. */
export class AffixNode<V> {
  /** Characters of the key up to here (from the anchored end). */
  readonly length: number;
  /**
   * A key passing through this node, read from the anchored end (reversed for suffixes):
   * its characters [parent's length, length) are the label of the edge to this node.
   */
  readonly witness: string;
  value: V | null = null;
  /** The first character of each child's edge, ascending, for a binary search. */
  readonly firsts: number[] = [];
  readonly children: AffixNode<V>[] = [];

  constructor(length: number, witness: string) {
    this.length = length;
    this.witness = witness;
  }
}

/**
 * A compressed trie over prefixes (or over reversed suffixes): given a value, it reports
 * every key that is a prefix (suffix) of it by one walk from the anchored end, reading
 * each character of the value at most once and stopping at the first character no key
 * continues with. The cost follows the value's length (and the keys it holds), never the
 * number of distinct key lengths: looking every length up in a hash table instead hashes
 * the value once per length, which crafted rules with thousands of lengths turned into
 * seconds per event. No hashing also means no hash collisions for rules to aim at.
 */
export class AffixTrie<V> {
  readonly #root: AffixNode<V>;
  readonly #anchor: Anchor;

  private constructor(root: AffixNode<V>, anchor: Anchor) {
    this.#root = root;
    this.#anchor = anchor;
  }

  /** Builds the trie over `entries` (key → value; keys are distinct). */
  static build<V>(entries: Iterable<readonly [string, V]>, anchor: Anchor): AffixTrie<V> {
    const keyed: [string, V][] = [];
    for (const [key, value] of entries)
      keyed.push([anchor === 'prefix' ? key : reverse(key), value]);
    // Code-unit order (what `<` compares): a key comes before every key it is a prefix of.
    keyed.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));

    const root = new AffixNode<V>(0, '');
    // The path from the root to the previous key's node.
    const path: AffixNode<V>[] = [root];
    let previous = '';
    for (const [key, value] of keyed) {
      const common = commonPrefixLength(previous, key);
      let below: AffixNode<V> | null = null;
      while ((path[path.length - 1] as AffixNode<V>).length > common) below = path.pop() ?? null;
      let top = path[path.length - 1] as AffixNode<V>;
      if (top.length < common && below !== null) {
        // The previous key's edge runs past the shared part: split it there.
        const middle = new AffixNode<V>(common, key);
        middle.firsts.push(below.witness.charCodeAt(common));
        middle.children.push(below);
        top.children[top.children.length - 1] = middle;
        path.push(middle);
        top = middle;
      }
      if (top.length === key.length) {
        top.value = value;
      } else {
        const leaf = new AffixNode<V>(key.length, key);
        leaf.value = value;
        top.firsts.push(key.charCodeAt(top.length));
        top.children.push(leaf);
        path.push(leaf);
      }
      previous = key;
    }
    return new AffixTrie(root, anchor);
  }

  /**
   * Writes to `found` the node of every key that is a prefix (for a suffix trie: a suffix)
   * of `text[from, to)`, shortest first, and returns how many. `found` is the caller's
   * scratch array, so a probe makes no garbage.
   */
  collect(text: string, from: number, to: number, found: AffixNode<V>[]): number {
    let count = 0;
    let node = this.#root;
    if (node.value !== null) found[count++] = node;
    const n = to - from;
    // Character i from the anchored end is text[base + step * i].
    const forward = this.#anchor === 'prefix';
    const base = forward ? from : to - 1;
    const step = forward ? 1 : -1;
    let done = 0;
    while (done < n) {
      const child = childOf(node, text.charCodeAt(base + step * done));
      if (child === null) break;
      const end = child.length;
      if (end > n) break;
      const witness = child.witness;
      // The first character of the edge matched in childOf.
      for (let i = done + 1; i < end; i++)
        if (witness.charCodeAt(i) !== text.charCodeAt(base + step * i)) return count;
      if (child.value !== null) found[count++] = child;
      node = child;
      done = end;
    }
    return count;
  }
}

function childOf<V>(node: AffixNode<V>, code: number): AffixNode<V> | null {
  const firsts = node.firsts;
  let lo = 0;
  let hi = firsts.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const first = firsts[mid] as number;
    if (first === code) return node.children[mid] as AffixNode<V>;
    if (first < code) lo = mid + 1;
    else hi = mid - 1;
  }
  return null;
}

function commonPrefixLength(a: string, b: string): number {
  const limit = Math.min(a.length, b.length);
  let i = 0;
  while (i < limit && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

/** By UTF-16 code units, as the walk reads them (a surrogate pair is reversed too: fine, both sides are). */
function reverse(text: string): string {
  const codes = new Array<string>(text.length);
  for (let i = 0; i < text.length; i++) codes[text.length - 1 - i] = text[i] as string;
  return codes.join('');
}
