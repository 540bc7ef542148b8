/**
 * The field paths that some rule mentions, as a trie of object keys. Flattening an event
 * follows this trie only, so fields no rule mentions (a GeoJSON polygon's coordinates,
 * say) are never visited.
 */
export class FieldNode {
  readonly id: number;
  /** ≥ 0 when a condition sits on this exact path: its leaves are recorded under this id. */
  pathId = -1;
  readonly keys: string[] = [];
  readonly children: FieldNode[] = [];
  /** Keys that also name an Object.prototype member need an own-property check. */
  readonly inherited: boolean[] = [];
  readonly byKey = new Map<string, FieldNode>();

  constructor(id: number) {
    this.id = id;
  }
}

export class FieldTrie {
  readonly root = new FieldNode(0);
  #nodeCount = 1;
  #pathCount = 0;

  get nodeCount(): number {
    return this.#nodeCount;
  }

  get pathCount(): number {
    return this.#pathCount;
  }

  /** The path id of `path`, allocating nodes and an id on first sight. */
  intern(path: readonly string[]): number {
    let node = this.root;
    for (const key of path) {
      let child = node.byKey.get(key);
      if (!child) {
        child = new FieldNode(this.#nodeCount++);
        node.byKey.set(key, child);
        node.keys.push(key);
        node.children.push(child);
        node.inherited.push(key in Object.prototype);
      }
      node = child;
    }
    if (node.pathId < 0) node.pathId = this.#pathCount++;
    return node.pathId;
  }
}
