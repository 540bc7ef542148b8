import type { PathIndex } from './path-index.ts';

/**
 * The alternatives filed under one index entry (one exact value, one prefix, ...). An
 * entry many alternatives share is split by a second condition of each (nest-postings.ts):
 * those alternatives move into nested indexes, probed only when the entry is hit.
 */
export class Posting {
  alternatives: number[] = [];
  nested: NestedIndex[] | null = null;
}

/** A nested index over the leaves of one path. */
export type NestedIndex = { pathId: number; index: PathIndex };
