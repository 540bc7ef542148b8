/**
 * Values filed under topic patterns (`*` one segment, `>` one or more trailing segments),
 * found by walking the topic's segments. Matching a topic costs its segment count times the
 * wildcard branches actually present, not the number of patterns stored: this is what lets
 * one live event find its subscribers among thousands without scanning them.
 */
class TrieNode<T> {
  children: Map<string, TrieNode<T>> | undefined;
  star: TrieNode<T> | undefined;
  /** Patterns ending exactly here. */
  here: Set<T> | undefined;
  /** Patterns ending in `>` here: they match one or more further segments. */
  rest: Set<T> | undefined;

  isEmpty(): boolean {
    return !this.children?.size && !this.star && !this.here?.size && !this.rest?.size;
  }
}

export class TopicTrie<T> {
  readonly #root = new TrieNode<T>();
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** Files `value` under a valid pattern (see topicPatternProblem). */
  add(pattern: string, value: T): void {
    let node = this.#root;
    for (const segment of pattern.split('.')) {
      if (segment === '>') {
        (node.rest ??= new Set()).add(value);
        this.#size++;
        return;
      }
      if (segment === '*') node = node.star ??= new TrieNode();
      else {
        node.children ??= new Map();
        let child = node.children.get(segment);
        if (!child) node.children.set(segment, (child = new TrieNode()));
        node = child;
      }
    }
    (node.here ??= new Set()).add(value);
    this.#size++;
  }

  /** Removes `value` from `pattern`, pruning nodes left empty so churn does not leak. */
  remove(pattern: string, value: T): boolean {
    const path: Array<{ node: TrieNode<T>; segment: string }> = [];
    let node: TrieNode<T> | undefined = this.#root;
    let removed = false;
    for (const segment of pattern.split('.')) {
      if (segment === '>') {
        removed = node.rest?.delete(value) ?? false;
        break;
      }
      path.push({ node, segment });
      node = segment === '*' ? node.star : node.children?.get(segment);
      if (!node) return false;
    }
    if (!pattern.endsWith('>')) removed = node.here?.delete(value) ?? false;
    if (!removed) return false;
    this.#size--;
    for (let i = path.length - 1; i >= 0; i--) {
      const { node: parent, segment } = path[i]!;
      const child = segment === '*' ? parent.star : parent.children?.get(segment);
      if (!child?.isEmpty()) break;
      if (segment === '*') parent.star = undefined;
      else parent.children!.delete(segment);
    }
    return true;
  }

  /** Trie nodes held (the root included): lets tests prove that removal prunes. */
  nodeCount(): number {
    const count = (node: TrieNode<T>): number =>
      1 +
      (node.star ? count(node.star) : 0) +
      [...(node.children?.values() ?? [])].reduce((sum, child) => sum + count(child), 0);
    return count(this.#root);
  }

  /** Calls `visit` once per value whose pattern matches `topic`. */
  forEachMatch(topic: string, visit: (value: T) => void): void {
    if (this.#size === 0) return;
    walk(this.#root, topic.split('.'), 0, visit);
  }
}

function walk<T>(
  node: TrieNode<T>,
  segments: string[],
  i: number,
  visit: (value: T) => void,
): void {
  if (node.rest && i < segments.length) for (const value of node.rest) visit(value);
  if (i === segments.length) {
    if (node.here) for (const value of node.here) visit(value);
    return;
  }
  const child = node.children?.get(segments[i]!);
  if (child) walk(child, segments, i + 1, visit);
  if (node.star) walk(node.star, segments, i + 1, visit);
}
