import type { EventLeaves } from './event-leaves.ts';
import type { FieldNode } from './field-trie.ts';

const FEW_KEYS = 8;

/** Thrown inside the scanner when a mentioned key repeats in one object (JSON.parse keeps the last). */
const DUPLICATE_KEY = Symbol('duplicate key');

/**
 * Records the leaves of an event given as JSON text, without building the object: only
 * values on the trie's paths are materialised. Gives the same leaves as
 * `flattenObject(JSON.parse(text))` for any text JSON.parse accepts. Objects and arrays
 * no rule looks into are skipped with a structural check only (strings, brackets), so a
 * malformed token inside one (`[1,,2]`, `01`) goes unnoticed; everything else throws a
 * SyntaxError where JSON.parse would. Meant for events that were validated on the way in.
 */
export class JsonLeafScanner {
  #text = '';
  #pos = 0;
  #leaves: EventLeaves | null = null;
  readonly #seen: Int32Array;
  /** Open brackets while skipping a container. */
  #open = new Uint8Array(32);
  #objectSerial = 0;

  constructor(nodeCount: number) {
    this.#seen = new Int32Array(nodeCount);
  }

  /** false when a key some rule mentions repeats within one object: the caller falls back to JSON.parse. */
  scan(text: string, root: FieldNode, leaves: EventLeaves): boolean {
    this.#text = text;
    this.#pos = 0;
    this.#leaves = leaves;
    try {
      this.#skipWhitespace();
      this.#value(root, 0);
      this.#skipWhitespace();
      if (this.#pos !== text.length) this.#fail();
      return true;
    } catch (error) {
      if (error === DUPLICATE_KEY) return false;
      throw error;
    } finally {
      this.#text = '';
      this.#leaves = null;
    }
  }

  #value(node: FieldNode | null, trail: number): void {
    const text = this.#text;
    const c = text.charCodeAt(this.#pos);
    if (node === null && (c === 0x7b || c === 0x5b)) {
      this.#skipContainer();
      return;
    }
    const record = node !== null && node.pathId >= 0;
    switch (c) {
      case 0x7b: // {
        this.#object(node, trail);
        return;
      case 0x5b: // [
        this.#array(node, trail);
        return;
      case 0x22: // "
        if (record) this.#leaves!.add(node.pathId, this.#readString(), trail);
        else this.#skipString();
        return;
      case 0x74: // t
        this.#literal('true');
        if (record) this.#leaves!.add(node.pathId, true, trail);
        return;
      case 0x66: // f
        this.#literal('false');
        if (record) this.#leaves!.add(node.pathId, false, trail);
        return;
      case 0x6e: // n
        this.#literal('null');
        if (record) this.#leaves!.add(node.pathId, null, trail);
        return;
      default: {
        const start = this.#pos;
        this.#skipNumber();
        if (record) this.#leaves!.add(node.pathId, Number(text.slice(start, this.#pos)), trail);
      }
    }
  }

  #object(node: FieldNode | null, trail: number): void {
    const text = this.#text;
    this.#pos++;
    this.#skipWhitespace();
    if (text.charCodeAt(this.#pos) === 0x7d) {
      this.#pos++;
      return;
    }
    const parent = node !== null && node.keys.length > 0 ? node : null;
    let serial = 0;
    if (parent) {
      if (++this.#objectSerial === 0x7fffffff) {
        this.#seen.fill(0);
        this.#objectSerial = 1;
      }
      serial = this.#objectSerial;
    }
    for (;;) {
      if (text.charCodeAt(this.#pos) !== 0x22) this.#fail();
      let child: FieldNode | null = null;
      if (parent) {
        child = this.#key(parent);
        if (child) {
          if (this.#seen[child.id] === serial) throw DUPLICATE_KEY;
          this.#seen[child.id] = serial;
        }
      } else {
        this.#skipString();
      }
      this.#skipWhitespace();
      if (text.charCodeAt(this.#pos) !== 0x3a) this.#fail();
      this.#pos++;
      this.#skipWhitespace();
      this.#value(child, trail);
      this.#skipWhitespace();
      const c = text.charCodeAt(this.#pos);
      if (c === 0x2c) {
        this.#pos++;
        this.#skipWhitespace();
      } else if (c === 0x7d) {
        this.#pos++;
        return;
      } else {
        this.#fail();
      }
    }
  }

  #array(node: FieldNode | null, trail: number): void {
    const text = this.#text;
    this.#pos++;
    this.#skipWhitespace();
    if (text.charCodeAt(this.#pos) === 0x5d) {
      this.#pos++;
      return;
    }
    const leaves = this.#leaves!;
    const arrayId = node !== null ? leaves.newArray() : 0;
    for (;;) {
      this.#value(node, node !== null ? leaves.enter(trail, arrayId) : 0);
      this.#skipWhitespace();
      const c = text.charCodeAt(this.#pos);
      if (c === 0x2c) {
        this.#pos++;
        this.#skipWhitespace();
      } else if (c === 0x5d) {
        this.#pos++;
        return;
      } else {
        this.#fail();
      }
    }
  }

  /** Reads the key at the cursor and returns the trie child it names, if any. */
  #key(node: FieldNode): FieldNode | null {
    const text = this.#text;
    const start = this.#pos + 1;
    let i = start;
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x22) break;
      if (c === 0x5c) return node.byKey.get(this.#readString()) ?? null;
      if (!(c >= 0x20)) this.#fail(i);
      i++;
    }
    this.#pos = i + 1;
    const keys = node.keys;
    if (keys.length <= FEW_KEYS) {
      const length = i - start;
      for (let k = 0; k < keys.length; k++) {
        const key = keys[k] as string;
        if (key.length === length && text.startsWith(key, start))
          return node.children[k] as FieldNode;
      }
      return null;
    }
    return node.byKey.get(text.slice(start, i)) ?? null;
  }

  #readString(): string {
    const text = this.#text;
    const start = this.#pos + 1;
    let i = start;
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        this.#pos = i + 1;
        return text.slice(start, i);
      }
      if (c === 0x5c) break;
      if (!(c >= 0x20)) this.#fail(i);
      i++;
    }
    const end = this.#endOfString(i);
    this.#pos = end + 1;
    return JSON.parse(text.slice(start - 1, end + 1)) as string;
  }

  #skipString(): void {
    this.#pos = this.#endOfString(this.#pos + 1) + 1;
  }

  /** Index of the closing quote of a string whose body starts at `i`; escapes are checked. */
  #endOfString(i: number): number {
    const text = this.#text;
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x22) return i;
      if (c === 0x5c) {
        const e = text.charCodeAt(i + 1);
        if (e === 0x75) {
          for (let h = i + 2; h < i + 6; h++) if (!isHexDigit(text.charCodeAt(h))) this.#fail(h);
          i += 6;
        } else if (
          e === 0x22 ||
          e === 0x5c ||
          e === 0x2f ||
          e === 0x62 ||
          e === 0x66 ||
          e === 0x6e ||
          e === 0x72 ||
          e === 0x74
        ) {
          i += 2;
        } else {
          this.#fail(i + 1);
        }
        continue;
      }
      if (!(c >= 0x20)) this.#fail(i);
      i++;
    }
  }

  /**
   * Skips an object or array no rule looks into, checking its structure only: strings
   * (and their escapes) end, and brackets nest and close in kind. Tokens between them are
   * not checked: this is where the scanner earns its speed over JSON.parse.
   */
  #skipContainer(): void {
    const text = this.#text;
    let i = this.#pos;
    let depth = 0;
    let open = this.#open;
    for (;;) {
      const c = text.charCodeAt(i++);
      if (c === 0x22) {
        i = this.#endOfString(i) + 1;
      } else if (c === 0x7b || c === 0x5b) {
        if (depth === open.length) {
          const bigger = new Uint8Array(open.length * 2);
          bigger.set(open);
          this.#open = open = bigger;
        }
        open[depth++] = c;
      } else if (c === 0x7d || c === 0x5d) {
        if (open[--depth] !== c - 2) this.#fail(i - 1); // "}" and "]" sit two above "{" and "["
        if (depth === 0) break;
      } else if (!(c >= 0)) {
        this.#fail(i - 1); // ran off the end
      }
    }
    this.#pos = i;
  }

  #skipNumber(): void {
    const text = this.#text;
    let i = this.#pos;
    if (text.charCodeAt(i) === 0x2d) i++;
    let c = text.charCodeAt(i);
    if (c === 0x30) i++;
    else if (c >= 0x31 && c <= 0x39) {
      do i++;
      while (isDigit(text.charCodeAt(i)));
    } else this.#fail(i);
    if (text.charCodeAt(i) === 0x2e) {
      i++;
      if (!isDigit(text.charCodeAt(i))) this.#fail(i);
      do i++;
      while (isDigit(text.charCodeAt(i)));
    }
    c = text.charCodeAt(i);
    if (c === 0x65 || c === 0x45) {
      i++;
      c = text.charCodeAt(i);
      if (c === 0x2b || c === 0x2d) i++;
      if (!isDigit(text.charCodeAt(i))) this.#fail(i);
      do i++;
      while (isDigit(text.charCodeAt(i)));
    }
    this.#pos = i;
  }

  #literal(word: string): void {
    if (!this.#text.startsWith(word, this.#pos)) this.#fail();
    this.#pos += word.length;
  }

  #skipWhitespace(): void {
    const text = this.#text;
    let i = this.#pos;
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
    this.#pos = i;
  }

  #fail(at = this.#pos): never {
    const text = this.#text;
    throw new SyntaxError(
      at >= text.length
        ? 'Unexpected end of JSON input'
        : `Unexpected token ${JSON.stringify(text[at])} in JSON at position ${at}`,
    );
  }
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isHexDigit(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}
