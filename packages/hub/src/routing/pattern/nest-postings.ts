import { PRESENT_PENALTY, type AccessPlanner } from './access-planner.ts';
import { PathIndex } from './path-index.ts';
import type { Posting } from './posting.ts';
import type { CompiledAlternative, CompiledCondition } from './verify-alternative.ts';

/** An entry shared by more alternatives than this is split by a second condition. */
const CROWDED = 8;

/**
 * Splits crowded entries of `index`; `filedUnder` holds, per alternative, the conditions
 * it is filed under, and gains the second condition of each alternative moved. Each alternative of such an entry is refiled, by its
 * cheapest condition not yet used on the way down, into a nested index probed only when
 * the entry is hit: 60 rules on STREET = "MISSION", each with its own lot number, cost an
 * event on Mission Street one lookup of its lot rather than 60 verifications. (This is the
 * two-step walk event-ruler's automaton makes from one field to the next.)
 */
export function nestCrowdedPostings(
  index: PathIndex,
  alternatives: readonly CompiledAlternative[],
  planner: AccessPlanner,
  filedUnder: Map<number, readonly CompiledCondition[]>,
): void {
  for (const posting of index.postings()) nestPosting(posting, alternatives, planner, filedUnder);
}

function nestPosting(
  posting: Posting,
  alternatives: readonly CompiledAlternative[],
  planner: AccessPlanner,
  filedUnder: Map<number, readonly CompiledCondition[]>,
): void {
  const members = posting.alternatives;
  if (members.length <= CROWDED) return;
  const frequency = new Map<string, number>();
  for (const a of members)
    planner.countInto(frequency, alternatives[a]!, a, filedUnder.get(a) ?? []);

  const kept: number[] = [];
  const nested = new Map<number, PathIndex>();
  for (const a of members) {
    const usedHere = filedUnder.get(a) ?? [];
    const choice = planner.cheapest(alternatives[a]!, a, usedHere, frequency);
    // Refiling pays only when the second condition actually divides the entry.
    if (!choice || choice.cost >= PRESENT_PENALTY || choice.cost >= members.length) {
      kept.push(a);
      continue;
    }
    const { pathId, matchers } = choice.condition;
    let sub = nested.get(pathId);
    if (!sub) nested.set(pathId, (sub = new PathIndex()));
    for (const m of matchers) sub.register(m, a);
    filedUnder.set(a, [...usedHere, choice.condition]);
  }
  if (nested.size === 0) return;
  posting.alternatives = kept;
  posting.nested = [...nested].map(([pathId, index]) => ({ pathId, index }));
  for (const { index } of posting.nested) {
    index.finalize();
    nestCrowdedPostings(index, alternatives, planner, filedUnder);
  }
}
