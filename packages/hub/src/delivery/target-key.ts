/** The isolation unit of the delivery engine: one destination of one owner. */
export function targetKey(owner: string, kind: string, ref: string): string {
  return JSON.stringify([owner, kind, ref]);
}

/** The parts of a target key (owner, kind, destination). */
export function parseTargetKey(key: string): { owner: string; kind: string; ref: string } {
  const [owner, kind, ref] = JSON.parse(key) as [string, string, string];
  return { owner, kind, ref };
}
