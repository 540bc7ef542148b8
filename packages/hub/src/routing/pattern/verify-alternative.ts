import type { EventLeaves } from './event-leaves.ts';
import { testLeaf, type LeafMatcher } from './leaf-matcher.ts';

export type CompiledCondition = {
  pathId: number;
  /** true: no leaf may be at the path (consistent with the chosen ones); false: some leaf must match a matcher. */
  absent: boolean;
  matchers: LeafMatcher[];
};

/** One conjunction of a rule; positive conditions come first. */
export type CompiledAlternative = {
  conditions: CompiledCondition[];
  positives: number;
  rule: number;
  /**
   * The conditions that being a candidate does not already prove. An alternative is filed
   * in one place: under one condition, and maybe nested under a second; when those entries
   * hold exactly the matching values, reaching the candidate list proves them (for events
   * without arrays, where array consistency cannot fail).
   */
  unproven: CompiledCondition[];
};

/**
 * Checks one candidate alternative against an event's leaves: a leaf for every positive
 * condition, all pairwise array-consistent, and no leaf on an absent condition's path
 * that is consistent with them. Events with no arrays on the mentioned paths take a
 * straight path; otherwise a small backtracking search picks the leaves.
 */
export class AlternativeVerifier {
  readonly #chosen: Int32Array;

  constructor(maxConditions: number) {
    this.#chosen = new Int32Array(Math.max(1, maxConditions));
  }

  verify(alternative: CompiledAlternative, leaves: EventLeaves): boolean {
    // A lone condition needs no array consistency: proven is proven, arrays or not.
    if (alternative.unproven.length === 0 && alternative.conditions.length === 1) return true;
    if (leaves.trailCount === 1) {
      // No arrays were walked: at most one leaf per path, and every leaf is consistent.
      const conditions = alternative.unproven;
      for (let c = 0; c < conditions.length; c++) {
        const condition = conditions[c] as CompiledCondition;
        const leaf = leaves.first(condition.pathId);
        if (condition.absent) {
          if (leaf >= 0) return false;
        } else if (leaf < 0 || !holds(condition, leaves.values[leaf])) {
          return false;
        }
      }
      return true;
    }
    return this.#search(alternative, 0, leaves);
  }

  #search(alternative: CompiledAlternative, depth: number, leaves: EventLeaves): boolean {
    const conditions = alternative.conditions;
    const chosen = this.#chosen;
    if (depth === alternative.positives) {
      for (let c = depth; c < conditions.length; c++) {
        const condition = conditions[c] as CompiledCondition;
        for (
          let leaf = leaves.first(condition.pathId);
          leaf >= 0;
          leaf = leaves.next[leaf] as number
        ) {
          if (this.#consistentWithChosen(leaves.trail[leaf] as number, depth, leaves)) return false;
        }
      }
      return true;
    }
    const condition = conditions[depth] as CompiledCondition;
    // Two leaves on one path always differ in some array element, so a second condition
    // on an already chosen path can only be met by that same leaf.
    for (let c = 0; c < depth; c++) {
      if ((conditions[c] as CompiledCondition).pathId === condition.pathId) {
        const leaf = chosen[c] as number;
        if (!holds(condition, leaves.values[leaf])) return false;
        chosen[depth] = leaf;
        return this.#search(alternative, depth + 1, leaves);
      }
    }
    for (let leaf = leaves.first(condition.pathId); leaf >= 0; leaf = leaves.next[leaf] as number) {
      if (!holds(condition, leaves.values[leaf])) continue;
      if (!this.#consistentWithChosen(leaves.trail[leaf] as number, depth, leaves)) continue;
      chosen[depth] = leaf;
      if (this.#search(alternative, depth + 1, leaves)) return true;
    }
    return false;
  }

  #consistentWithChosen(trail: number, count: number, leaves: EventLeaves): boolean {
    for (let c = 0; c < count; c++) {
      if (!leaves.consistent(trail, leaves.trail[this.#chosen[c] as number] as number))
        return false;
    }
    return true;
  }
}

function holds(condition: CompiledCondition, value: unknown): boolean {
  const matchers = condition.matchers;
  for (let m = 0; m < matchers.length; m++)
    if (testLeaf(matchers[m] as LeafMatcher, value)) return true;
  return false;
}
