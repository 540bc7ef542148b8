import { grow, type EventLeaves } from './event-leaves.ts';
import type { LeafMatcher } from './leaf-matcher.ts';
import { FEW_LEAVES, PathValues } from './leaf-values.ts';
import { anyMatcherHolds, type MatcherSet } from './matcher-set.ts';

export type CompiledCondition = {
  /** Distinct per condition object of one RuleMatcher (they are interned). */
  id: number;
  pathId: number;
  /** true: no leaf may be at the path (consistent with the chosen ones); false: some leaf must match a matcher. */
  absent: boolean;
  matchers: LeafMatcher[];
  /** The matchers indexed, when there are more than a few (see matcher-set.ts). */
  set: MatcherSet | null;
  /**
   * Remembered for one event (`EventLeaves.generation`): whether some leaf on the path
   * holds. Equal conditions of different rules are one object (RuleMatcher interns them),
   * so a thousand candidates sharing a condition that fails on an event's 65k array leaves
   * cost one pass over them, not a thousand.
   */
  checkedIn: number;
  someLeafHolds: boolean;
};

/** A condition's fresh per-event memo fields. */
export const UNCHECKED = { checkedIn: -1, someLeafHolds: false } as const;

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
 * straight path; otherwise one bottom-up pass over the array elements the conditions'
 * leaves lie in decides it.
 *
 * Why one pass suffices (a search over leaf combinations would be exponential in the
 * number of conditions, and the publisher controls the arrays): a field path meets at
 * most one array directly below an element, so the positive conditions with a leaf in one
 * array must all be met by one element of it (pairwise consistency), and conditions in
 * different arrays below one element never constrain each other. An element is
 * *complete* when it meets every positive condition that has a leaf in its array, and
 * has no absent condition's leaf that the choice would keep (directly in it, or in a
 * nested array that no positive condition pins to one element). An array is met when one
 * of its elements is complete; the event, when its top level (trail 0) meets every
 * positive condition.
 */
export class AlternativeVerifier {
  // Scratch, per trail node and per array, grown on demand. The marks hold stamps, so
  // nothing is cleared between verifications: `#run` is one verification, `#run + 1 + c`
  // its condition number c.
  #touched = new Int32Array(64); // per trail: the condition stamp that last walked it
  #held = new Int32Array(64); // per trail: the condition stamp that last found a leaf meeting it there
  #seen = new Int32Array(64); // per trail: #run once it is in #order
  #bad = new Int32Array(64); // per trail: #run when an absent condition's leaf spoils it
  #got = new Int32Array(64); // per trail: positive conditions met in it (valid when #seen)
  #order = new Int32Array(64); // the trail nodes walked, to visit children before parents
  #arrayTouched = new Int32Array(16); // per array: the condition stamp that last counted it
  #arrayRun = new Int32Array(16); // per array: #run once #need is valid
  #need = new Int32Array(16); // per array: positive conditions with a leaf in it
  #met = new Int32Array(16); // per array: #run once one of its elements is complete
  #stamp = 0;
  // Per event (`#generation`): verdicts of the array walk by the ids of the conditions in
  // arrays, and the distinct values of the paths with many leaves.
  #generation = -1;
  readonly #walks = new Map<string, boolean>();
  readonly #values = new Map<number, PathValues>();

  verify(alternative: CompiledAlternative, leaves: EventLeaves): boolean {
    // A lone condition needs no array consistency: proven is proven, arrays or not.
    if (alternative.unproven.length === 0 && alternative.conditions.length === 1) return true;
    if (leaves.trailCount === 1) {
      // No arrays were walked: at most one leaf per path, and every leaf is consistent.
      const conditions = alternative.unproven;
      for (let c = 0; c < conditions.length; c++) {
        const condition = conditions[c] as CompiledCondition;
        if (condition.absent) {
          if (leaves.first(condition.pathId) >= 0) return false;
        } else if (!this.#someLeafHolds(condition, leaves)) {
          return false;
        }
      }
      return true;
    }
    // The walk below is per candidate and reads every leaf of every condition; a condition
    // no leaf meets (remembered per event) turns the candidate down before it. Conditions
    // on a single leaf first: another tenant's rule is turned down by its `tenantid`, not
    // after a pass over this event's 65k array leaves.
    const conditions = alternative.conditions;
    const positives = alternative.positives;
    for (let c = 0; c < positives; c++) {
      const condition = conditions[c] as CompiledCondition;
      const leaf = leaves.first(condition.pathId);
      if (leaf < 0) return false;
      if ((leaves.next[leaf] as number) < 0 && !this.#someLeafHolds(condition, leaves))
        return false;
    }
    for (let c = 0; c < positives; c++)
      if (!this.#someLeafHolds(conditions[c] as CompiledCondition, leaves)) return false;
    // Conditions on one leaf outside any array are consistent with every choice: the
    // positive ones hold (just checked), an absent one spoils the event. The rest decide
    // the walk, and many candidates share them (a thousand rules differing only in
    // `tenantid` or a `type`): its verdict is remembered per event under their ids.
    let inArrays = 0;
    let absentInArrays = false;
    for (let c = 0; c < conditions.length; c++) {
      const leaf = leaves.first((conditions[c] as CompiledCondition).pathId);
      if (leaf < 0) continue;
      const absent = c >= positives;
      if ((leaves.next[leaf] as number) < 0 && leaves.trail[leaf] === 0) {
        if (absent) return false;
        continue;
      }
      inArrays++;
      absentInArrays ||= absent;
    }
    // A lone positive condition in arrays needs no consistency with anything.
    if (inArrays === 0 || (inArrays === 1 && !absentInArrays)) return true;
    let key = '';
    for (let c = 0; c < conditions.length; c++) {
      const condition = conditions[c] as CompiledCondition;
      const leaf = leaves.first(condition.pathId);
      if (leaf >= 0 && ((leaves.next[leaf] as number) >= 0 || leaves.trail[leaf] !== 0))
        key += `${condition.id},`;
    }
    this.#forEvent(leaves);
    let verdict = this.#walks.get(key);
    if (verdict === undefined) {
      verdict = this.#acrossArrays(alternative, leaves);
      this.#walks.set(key, verdict);
    }
    return verdict;
  }

  /** Starts this verifier's per-event memory over when `leaves` hold another event. */
  #forEvent(leaves: EventLeaves): void {
    if (this.#generation === leaves.generation) return;
    this.#generation = leaves.generation;
    this.#walks.clear();
    this.#values.clear();
  }

  /**
   * Does some leaf on the condition's path meet it (ignoring arrays)? Once per event and
   * condition; on a path with many leaves, through the path's distinct values (PathValues),
   * gathered once per event for all the conditions on it.
   */
  #someLeafHolds(condition: CompiledCondition, leaves: EventLeaves): boolean {
    if (condition.checkedIn === leaves.generation) return condition.someLeafHolds;
    let found = false;
    let leaf = leaves.first(condition.pathId);
    for (let tried = 0; leaf >= 0 && tried < FEW_LEAVES; tried++) {
      if (holds(condition, leaves.values[leaf])) {
        found = true;
        break;
      }
      leaf = leaves.next[leaf] as number;
    }
    if (!found && leaf >= 0) {
      this.#forEvent(leaves);
      let values = this.#values.get(condition.pathId);
      if (values === undefined) {
        values = new PathValues(leaves, condition.pathId);
        this.#values.set(condition.pathId, values);
      }
      found = values.someMeets(condition.matchers, condition.set);
    }
    condition.checkedIn = leaves.generation;
    condition.someLeafHolds = found;
    return found;
  }

  #acrossArrays(alternative: CompiledAlternative, leaves: EventLeaves): boolean {
    const conditions = alternative.conditions;
    const positives = alternative.positives;
    this.#reserve(leaves.trailCount, leaves.arrayCount, conditions.length + 1);
    const run = this.#stamp;
    this.#stamp += conditions.length + 1;
    const parent = leaves.trailParents;
    const arrayOf = leaves.trailArrays;
    const touched = this.#touched;
    const held = this.#held;
    const seen = this.#seen;
    const got = this.#got;
    const order = this.#order;
    const arrayTouched = this.#arrayTouched;
    const arrayRun = this.#arrayRun;
    const need = this.#need;
    let walked = 0;
    seen[0] = run;
    got[0] = 0;

    // Each positive condition: count it in every array its leaves lie in, and in the
    // element of each leaf that meets it.
    for (let c = 0; c < positives; c++) {
      const condition = conditions[c] as CompiledCondition;
      const mark = run + 1 + c;
      let met = false;
      for (
        let leaf = leaves.first(condition.pathId);
        leaf >= 0;
        leaf = leaves.next[leaf] as number
      ) {
        let t = leaves.trail[leaf] as number;
        if (holds(condition, leaves.values[leaf])) {
          met = true;
          if (held[t] !== mark) {
            held[t] = mark;
            if (seen[t] !== run) {
              seen[t] = run;
              got[t] = 0;
              order[walked++] = t;
            }
            got[t] = (got[t] as number) + 1;
          }
        }
        while (t !== 0 && touched[t] !== mark) {
          touched[t] = mark;
          if (seen[t] !== run) {
            seen[t] = run;
            got[t] = 0;
            order[walked++] = t;
          }
          const array = arrayOf[t] as number;
          if (arrayTouched[array] !== mark) {
            arrayTouched[array] = mark;
            if (arrayRun[array] !== run) {
              arrayRun[array] = run;
              need[array] = 0;
            }
            need[array] = (need[array] as number) + 1;
          }
          t = parent[t] as number;
        }
      }
      if (!met) return false;
    }

    // Absent conditions: a leaf spoils its element, and, up through arrays that no
    // positive condition pins to one element, the element those lie in.
    const bad = this.#bad;
    for (let c = positives; c < conditions.length; c++) {
      const condition = conditions[c] as CompiledCondition;
      for (
        let leaf = leaves.first(condition.pathId);
        leaf >= 0;
        leaf = leaves.next[leaf] as number
      ) {
        let t = leaves.trail[leaf] as number;
        for (;;) {
          if (bad[t] === run) break;
          bad[t] = run;
          if (t === 0) break;
          const array = arrayOf[t] as number;
          if (arrayRun[array] === run && (need[array] as number) > 0) break;
          t = parent[t] as number;
        }
      }
    }
    if (bad[0] === run) return false;

    // Children before parents: a trail node's parent always has a lower number.
    const walkedNodes = order.subarray(0, walked).sort();
    const met = this.#met;
    for (let i = walked - 1; i >= 0; i--) {
      const t = walkedNodes[i] as number;
      if (bad[t] === run) continue;
      const array = arrayOf[t] as number;
      if (arrayRun[array] !== run || met[array] === run || got[t] !== need[array]) continue;
      met[array] = run;
      const up = parent[t] as number;
      got[up] = (got[up] as number) + (need[array] as number);
    }
    return got[0] === positives;
  }

  #reserve(trails: number, arrays: number, stamps: number): void {
    if (this.#stamp + stamps >= 0x7fffffff) {
      for (const marks of [this.#touched, this.#held, this.#seen, this.#bad]) marks.fill(0);
      for (const marks of [this.#arrayTouched, this.#arrayRun, this.#met]) marks.fill(0);
      this.#stamp = 0;
    }
    this.#stamp++;
    if (trails > this.#touched.length) {
      const size = Math.max(trails, this.#touched.length * 2);
      this.#touched = grow(this.#touched, size);
      this.#held = grow(this.#held, size);
      this.#seen = grow(this.#seen, size);
      this.#bad = grow(this.#bad, size);
      this.#got = grow(this.#got, size);
      this.#order = new Int32Array(size);
    }
    if (arrays > this.#arrayTouched.length) {
      const size = Math.max(arrays, this.#arrayTouched.length * 2);
      this.#arrayTouched = grow(this.#arrayTouched, size);
      this.#arrayRun = grow(this.#arrayRun, size);
      this.#need = grow(this.#need, size);
      this.#met = grow(this.#met, size);
    }
  }
}

function holds(condition: CompiledCondition, value: unknown): boolean {
  return anyMatcherHolds(condition.matchers, condition.set, value);
}
