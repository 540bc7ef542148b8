import { PRESENT_PENALTY, type AccessPlanner } from './access-planner.ts';
import { PathIndex, filedAsRange } from './path-index.ts';
import type { Posting } from './posting.ts';
import type { CompiledAlternative, CompiledCondition } from './verify-alternative.ts';

/** An entry shared by more alternatives than this is split by a second condition. */
const CROWDED = 8;

/**
 * For each alternative, the conditions on the way to every index entry it ends up in:
 * reaching the candidate list proves only the conditions common to all of them (an
 * alternative with two values on its access condition sits in two entries, and one of
 * them may be split by a second condition while the other is not).
 */
export type FilingChains = Map<number, (readonly CompiledCondition[])[]>;

export function addChain(
  chains: FilingChains,
  alternative: number,
  chain: readonly CompiledCondition[],
): void {
  const list = chains.get(alternative);
  if (list) list.push(chain);
  else chains.set(alternative, [chain]);
}

/**
 * Splits crowded entries of `index`, whose alternatives got there through the conditions
 * in `used`. Each alternative of such an entry is refiled, by its cheapest condition not
 * yet used on the way down, into a nested index probed only when the entry is hit: 60
 * rules on STREET = "MISSION", each with its own lot number, cost an event on Mission
 * Street one lookup of its lot rather than 60 verifications. (This is the two-step walk
 * event-ruler's automaton makes from one field to the next.) Every entry an alternative
 * finally stays in is recorded in `chains`.
 */
export function nestCrowdedPostings(
  index: PathIndex,
  alternatives: readonly CompiledAlternative[],
  planner: AccessPlanner,
  used: ReadonlyMap<number, readonly CompiledCondition[]>,
  chains: FilingChains,
): void {
  for (const posting of index.postings()) nestPosting(posting, alternatives, planner, used, chains);
}

function nestPosting(
  posting: Posting,
  alternatives: readonly CompiledAlternative[],
  planner: AccessPlanner,
  used: ReadonlyMap<number, readonly CompiledCondition[]>,
  chains: FilingChains,
): void {
  const members = posting.alternatives;
  if (members.length <= CROWDED) {
    for (const a of members) addChain(chains, a, used.get(a) ?? []);
    return;
  }
  const frequency = new Map<string, number>();
  for (const a of members) planner.countInto(frequency, alternatives[a]!, a, used.get(a) ?? []);

  const kept: number[] = [];
  const nested = new Map<number, PathIndex>();
  const usedBelow = new Map<number, readonly CompiledCondition[]>();
  for (const a of members) {
    const usedHere = used.get(a) ?? [];
    const choice = planner.cheapest(alternatives[a]!, a, usedHere, frequency);
    // Refiling pays only when the second condition actually divides the entry.
    if (!choice || choice.cost >= PRESENT_PENALTY || choice.cost >= members.length) {
      kept.push(a);
      addChain(chains, a, usedHere);
      continue;
    }
    const { pathId, matchers } = choice.condition;
    let sub = nested.get(pathId);
    if (!sub) nested.set(pathId, (sub = new PathIndex()));
    for (const m of matchers) sub.register(m, a);
    const chain = [...usedHere, choice.condition];
    usedBelow.set(a, chain);
    // Range entries are not postings: they end the chain here.
    if (matchers.some(filedAsRange)) addChain(chains, a, chain);
  }
  if (nested.size === 0) return;
  posting.alternatives = kept;
  posting.nested = [...nested].map(([pathId, index]) => ({ pathId, index }));
  for (const { index } of posting.nested) {
    index.finalize();
    nestCrowdedPostings(index, alternatives, planner, usedBelow, chains);
  }
}
