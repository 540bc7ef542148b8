/**
 * How deeply a JSON value from a client may nest. JSON.parse takes any depth, but
 * JSON.stringify and the hub's recursive walkers (pattern validation, matching, event
 * serialisation) exhaust the stack a few thousand levels down: a 500 on HTTP, and a crashed
 * process when it happened in a WebSocket message handler. Real payloads stay far below.
 * The catalog's manifests use the same check; registry schemas, sent as strings, a lower
 * limit (registry/schema-text.ts).
 */
export const MAX_JSON_DEPTH = 256;

/** The JSON pointer of the first value nested deeper than `limit` levels, if any. Iterative. */
export function deeperThan(root: unknown, limit: number = MAX_JSON_DEPTH): string | undefined {
  return withinDepth(root, limit) ? undefined : firstTooDeep(root, limit);
}

/** The detail every refusal of an over-deep value uses. */
export function tooDeepDetail(limit: number = MAX_JSON_DEPTH): string {
  return `is nested deeper than ${limit} levels`;
}

/**
 * The check every JSON body goes through: no pointer strings (the pointer is worked out
 * only for a value that fails). Recursive, but never deeper than `limit` frames.
 */
function withinDepth(value: unknown, limit: number, depth = 0): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (depth >= limit) return false;
  if (Array.isArray(value)) {
    for (const child of value) if (!withinDepth(child, limit, depth + 1)) return false;
  } else {
    const object = value as Record<string, unknown>;
    for (const key in object) if (!withinDepth(object[key], limit, depth + 1)) return false;
  }
  return true;
}

function firstTooDeep(root: unknown, limit: number): string | undefined {
  const stack: { value: unknown; depth: number; pointer: string }[] = [
    { value: root, depth: 0, pointer: '' },
  ];
  while (stack.length > 0) {
    const { value, depth, pointer } = stack.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= limit) return pointer || '/';
    for (const [key, child] of Object.entries(value))
      if (typeof child === 'object' && child !== null)
        stack.push({
          value: child,
          depth: depth + 1,
          pointer: `${pointer}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`,
        });
  }
  return undefined;
}
