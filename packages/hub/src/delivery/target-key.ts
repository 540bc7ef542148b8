/** The isolation unit of the delivery engine: one destination of one owner. */
export function targetKey(owner: string, kind: string, ref: string): string {
  return JSON.stringify([owner, kind, ref]);
}
