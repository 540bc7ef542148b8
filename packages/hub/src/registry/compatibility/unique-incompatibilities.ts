import type { Incompatibility } from './types.ts';

/** The incompatibilities of several lists, each reported once, in order of appearance. */
export function uniqueIncompatibilities(
  lists: readonly (readonly Incompatibility[])[],
): Incompatibility[] {
  const seen = new Set<string>();
  const out: Incompatibility[] = [];
  for (const list of lists) {
    for (const item of list) {
      const key = `${item.pointer}\u0000${item.change}\u0000${item.detail}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(item);
    }
  }
  return out;
}
