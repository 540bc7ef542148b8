/** RFC 6901 JSON pointers: building them and walking a JSON value with them. */

export type PointerSegment = string | number;

export function appendPointer(pointer: string, segments: readonly PointerSegment[]): string {
  let out = pointer;
  for (const segment of segments) {
    const text = String(segment);
    // Most segments need no escaping: skip the two replacements for them.
    out += '/' + (/[~/]/.test(text) ? text.replaceAll('~', '~0').replaceAll('/', '~1') : text);
  }
  return out;
}

/** Splits a pointer ("/a/b~1c") into unescaped segments; undefined if it is not a pointer. */
export function parsePointer(pointer: string): string[] | undefined {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) return undefined;
  return pointer
    .slice(1)
    .split('/')
    .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'));
}

/** The value at `segments` under `value`, or undefined when a step is missing. */
export function valueAt(value: unknown, segments: readonly PointerSegment[]): unknown {
  let current = value;
  for (const segment of segments) {
    if (Array.isArray(current)) {
      const index = typeof segment === 'number' ? segment : Number(segment);
      if (!Number.isInteger(index) || String(index) !== String(segment)) return undefined;
      current = current[index];
    } else if (typeof current === 'object' && current !== null) {
      const key = String(segment);
      if (!Object.hasOwn(current, key)) return undefined;
      current = (current as Record<string, unknown>)[key];
    } else {
      return undefined;
    }
  }
  return current;
}
