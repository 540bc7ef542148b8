import type { EventLeaves } from './event-leaves.ts';
import type { FieldNode } from './field-trie.ts';

/** Above this many keys on a trie node, walk the event object's keys instead of the trie's. */
const FEW_KEYS = 8;

/**
 * Records the leaves of a parsed event that lie on the trie's paths. Arrays are looked
 * through at any depth, each element on its own trail.
 */
export function flattenObject(
  value: unknown,
  node: FieldNode,
  leaves: EventLeaves,
  trail: number,
): void {
  if (typeof value === 'object' && value !== null) {
    if (Array.isArray(value)) {
      const arrayId = leaves.newArray();
      for (let i = 0; i < value.length; i++)
        flattenObject(value[i], node, leaves, leaves.enter(trail, arrayId));
      return;
    }
    const keys = node.keys;
    if (keys.length === 0) return;
    const object = value as Record<string, unknown>;
    if (keys.length <= FEW_KEYS) {
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i] as string;
        const child = object[key];
        if (child === undefined) continue;
        if (node.inherited[i] && !Object.hasOwn(object, key)) continue;
        flattenObject(child, node.children[i] as FieldNode, leaves, trail);
      }
    } else {
      for (const key in object) {
        const childNode = node.byKey.get(key);
        if (childNode && Object.hasOwn(object, key))
          flattenObject(object[key], childNode, leaves, trail);
      }
    }
    return;
  }
  if (node.pathId < 0) return;
  const type = typeof value;
  if (type === 'string' || type === 'number' || type === 'boolean' || value === null) {
    leaves.add(node.pathId, value, trail);
  }
}
