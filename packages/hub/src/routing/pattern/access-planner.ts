import {
  CIDR,
  EQUALS_IGNORE_CASE,
  EXACT,
  NUMERIC,
  PREFIX,
  PREFIX_IGNORE_CASE,
  SUFFIX,
  SUFFIX_IGNORE_CASE,
  WILDCARD,
  type LeafMatcher,
} from './leaf-matcher.ts';
import type { CompiledAlternative, CompiledCondition } from './verify-alternative.ts';

/** Filed under "any value on this path": the alternative becomes a candidate whenever the field is there. */
export const PRESENT_PENALTY = 1_000_000;

/**
 * Picks the condition an alternative is filed under in the index: the one whose index
 * entries are shared with the fewest other alternatives, so that an event turns up few
 * candidates that then fail verification. A rule on `type` = "incident.created" AND
 * `data.ticket` = "T-123" is filed under the ticket, not under the type thousands of rules
 * share. The same choice, with frequencies counted within one crowded index entry, picks
 * the second condition when that entry is split (see nest-postings.ts).
 */
export class AccessPlanner {
  readonly #frequency = new Map<string, number>();
  /** Per alternative counted: per positive condition, the index keys of its matchers. */
  readonly #keys: string[][][] = [];

  /** Counts alternative number `this.#keys.length`: call for every alternative, in order, before choosing. */
  count(alternative: CompiledAlternative): void {
    const keys: string[][] = [];
    for (let c = 0; c < alternative.positives; c++) {
      const condition = alternative.conditions[c] as CompiledCondition;
      const conditionKeys = condition.matchers.map((m) => indexKey(condition.pathId, m));
      for (const key of conditionKeys)
        this.#frequency.set(key, (this.#frequency.get(key) ?? 0) + 1);
      keys.push(conditionKeys);
    }
    this.#keys.push(keys);
  }

  /** Adds the keys of alternative `index`'s conditions not in `used` to `frequency`. */
  countInto(
    frequency: Map<string, number>,
    alternative: CompiledAlternative,
    index: number,
    used: readonly CompiledCondition[],
  ): void {
    const keys = this.#keys[index] as string[][];
    for (let c = 0; c < alternative.positives; c++) {
      if (used.includes(alternative.conditions[c] as CompiledCondition)) continue;
      for (const key of keys[c] as string[]) frequency.set(key, (frequency.get(key) ?? 0) + 1);
    }
  }

  /**
   * The positive condition of alternative number `index`, not in `used`, with the fewest
   * alternatives sharing its index entries (by `frequency`, all rules by default), or null.
   */
  cheapest(
    alternative: CompiledAlternative,
    index: number,
    used: readonly CompiledCondition[] = [],
    frequency: Map<string, number> = this.#frequency,
  ): { condition: CompiledCondition; cost: number } | null {
    const keys = this.#keys[index] as string[][];
    let best: { condition: CompiledCondition; cost: number } | null = null;
    for (let c = 0; c < alternative.positives; c++) {
      const condition = alternative.conditions[c] as CompiledCondition;
      if (used.includes(condition)) continue;
      const conditionKeys = keys[c] as string[];
      let cost = 0;
      condition.matchers.forEach((m, k) => {
        cost += (frequency.get(conditionKeys[k] as string) ?? 0) + penalty(m);
      });
      if (!best || cost < best.cost) best = { condition, cost };
    }
    return best;
  }
}

/** Two matchers with one key land in one index entry (as PathIndex files them). */
function indexKey(pathId: number, m: LeafMatcher): string {
  switch (m.kind) {
    case EXACT:
      return `${pathId}\0=${typeof m.value}\0${String(m.value)}`;
    case PREFIX:
      return `${pathId}\0p\0${m.text}`;
    case SUFFIX:
      return `${pathId}\0s\0${m.text}`;
    case PREFIX_IGNORE_CASE:
      return `${pathId}\0P\0${m.text}`;
    case SUFFIX_IGNORE_CASE:
      return `${pathId}\0S\0${m.text}`;
    case EQUALS_IGNORE_CASE:
      return `${pathId}\0i\0${m.text}`;
    case CIDR:
      return `${pathId}\0c\0${m.text}`;
    case NUMERIC:
      return m.lo === m.hi ? `${pathId}\0=number\0${m.lo}` : `${pathId}\0range`;
    case WILDCARD: {
      const segments = m.segments;
      const head = segments[0] as string;
      const tail = segments[segments.length - 1] as string;
      if (segments.length === 1) return `${pathId}\0=string\0${head}`;
      if (head !== '' && tail !== '') return `${pathId}\0w\0${head}\0${tail}`;
      if (head !== '') return `${pathId}\0p\0${head}`;
      if (tail !== '') return `${pathId}\0s\0${tail}`;
      return `${pathId}\0present`;
    }
    default:
      return `${pathId}\0present`;
  }
}

/** What an entry of this kind costs beyond the alternatives sharing it: short affixes and ranges catch many values. */
function penalty(m: LeafMatcher): number {
  switch (m.kind) {
    case EXACT:
    case EQUALS_IGNORE_CASE:
      return 0;
    case PREFIX:
    case SUFFIX:
    case PREFIX_IGNORE_CASE:
    case SUFFIX_IGNORE_CASE:
      return m.text.length <= 1 ? 16 : 1;
    case CIDR:
      return 2;
    case NUMERIC:
      return m.lo === m.hi ? 0 : 64;
    case WILDCARD: {
      const segments = m.segments;
      if (segments.length === 1) return 0;
      // Anchored at both ends (two characters at least): about as selective as a prefix.
      if ((segments[0] as string) !== '' && (segments[segments.length - 1] as string) !== '')
        return 2;
      const anchor = (segments[0] as string) || (segments[segments.length - 1] as string);
      if (anchor === '') return PRESENT_PENALTY;
      return anchor.length <= 1 ? 20 : 4;
    }
    default:
      return PRESENT_PENALTY;
  }
}
