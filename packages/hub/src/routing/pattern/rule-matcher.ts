import { AccessPlanner } from './access-planner.ts';
import { expandAlternatives } from './alternatives.ts';
import { CandidateSet } from './candidate-set.ts';
import { EventLeaves } from './event-leaves.ts';
import { FieldTrie } from './field-trie.ts';
import { flattenObject } from './flatten-object.ts';
import { JsonLeafScanner } from './flatten-json.ts';
import { BUT_VALUES, EXISTS, WILDCARD, compileMatcher, type LeafMatcher } from './leaf-matcher.ts';
import { indexMatchers } from './matcher-set.ts';
import { addChain, nestCrowdedPostings, type FilingChains } from './nest-postings.ts';
import { PathIndex, filedAsRange } from './path-index.ts';
import { pairKeyIsUnique } from './string-table.ts';
import { InvalidPatternError, type Pattern } from './types.ts';
import { validatePattern } from './validate.ts';
import {
  AlternativeVerifier,
  UNCHECKED,
  type CompiledAlternative,
  type CompiledCondition,
} from './verify-alternative.ts';

/**
 * Many rules compiled into one index. Matching an event:
 * 1. flatten it once, following only the field paths some rule mentions;
 * 2. look every leaf up in its path's index (hash maps, prefix/suffix buckets, an
 *    interval tree): each hit names an alternative (a conjunction from a rule's `$or`
 *    expansion) filed under that value, and each alternative is filed under one
 *    condition only, its most selective;
 * 3. verify each candidate alternative against the leaves (all its conditions, array
 *    consistency, `exists: false`), and report each matching rule once.
 * The work per event follows the event's leaves and the candidates they hit, not the
 * number of rules. Immutable once built: to change rules, build another and swap.
 */
export class RuleMatcher<Id extends string = string> {
  /** Number of distinct rule ids. */
  readonly size: number;

  readonly #ids: Id[];
  readonly #trie: FieldTrie;
  readonly #indexes: (PathIndex | undefined)[];
  readonly #alternatives: CompiledAlternative[];
  /** Alternatives with nothing to file under (only `exists: false`): checked on every event. */
  readonly #unfiled: number[];
  // Scratch state reused by every match (matching is synchronous, so never shared mid-flight).
  readonly #leaves: EventLeaves;
  readonly #candidates: CandidateSet;
  readonly #verifier: AlternativeVerifier;
  readonly #scanner: JsonLeafScanner;
  readonly #ruleStamps: Int32Array;
  #epoch = 0;

  private constructor(
    ids: Id[],
    trie: FieldTrie,
    indexes: (PathIndex | undefined)[],
    alternatives: CompiledAlternative[],
    unfiled: number[],
  ) {
    this.size = ids.length;
    this.#ids = ids;
    this.#trie = trie;
    this.#indexes = indexes;
    this.#alternatives = alternatives;
    this.#unfiled = unfiled;
    this.#leaves = new EventLeaves(trie.pathCount);
    this.#candidates = new CandidateSet(alternatives.length);
    this.#verifier = new AlternativeVerifier();
    this.#scanner = new JsonLeafScanner(trie.nodeCount);
    this.#ruleStamps = new Int32Array(ids.length);
  }

  /**
   * Compiles the rules. Throws InvalidPatternError (with the rule id and the problems) on
   * the first invalid pattern. Several rules with one id act as one rule whose patterns are
   * alternatives.
   */
  static build<Id extends string>(rules: Iterable<{ id: Id; pattern: Pattern }>): RuleMatcher<Id> {
    const steps = RuleMatcher.#compile(rules);
    for (;;) {
      const step = steps.next();
      if (step.done) return step.value;
    }
  }

  /**
   * As `build`, but gives the event loop back every `sliceMs` of work: with 100k rules a
   * build takes about a second, and done in one go it would hold up every request and
   * the router of this node meanwhile (the old matcher keeps answering until the swap).
   */
  static async buildAsync<Id extends string>(
    rules: Iterable<{ id: Id; pattern: Pattern }>,
    sliceMs = 10,
  ): Promise<RuleMatcher<Id>> {
    const steps = RuleMatcher.#compile(rules);
    let sliceStart = performance.now();
    for (;;) {
      const step = steps.next();
      if (step.done) return step.value;
      if (performance.now() - sliceStart >= sliceMs) {
        await new Promise((resolve) => setImmediate(resolve));
        sliceStart = performance.now();
      }
    }
  }

  /** The build, as a generator that pauses every few hundred rules or index entries. */
  static *#compile<Id extends string>(
    rules: Iterable<{ id: Id; pattern: Pattern }>,
  ): Generator<void, RuleMatcher<Id>, void> {
    const ids: Id[] = [];
    const ruleIndex = new Map<Id, number>();
    const trie = new FieldTrie();
    const alternatives: CompiledAlternative[] = [];
    const planner = new AccessPlanner();
    // Equal conditions (path, kind, matchers) become one object, so that what verification
    // learns about one during an event serves every alternative holding it.
    const interned = new Map<string, CompiledCondition>();

    for (const { id, pattern } of rules) {
      const problems = validatePattern(pattern);
      if (problems.length > 0) throw new InvalidPatternError(id, problems);
      let rule = ruleIndex.get(id);
      if (rule === undefined) {
        rule = ids.length;
        ruleIndex.set(id, rule);
        ids.push(id);
      }
      for (const raw of expandAlternatives(pattern)) {
        const conditions: CompiledCondition[] = [];
        let positives = 0;
        for (const c of raw) {
          const pathId = trie.intern(c.path);
          const key = `${pathId}\0${c.absent}\0${JSON.stringify(c.matchers)}`;
          let compiled = interned.get(key);
          if (compiled === undefined) {
            const matchers = c.matchers.map(compileMatcher);
            compiled = {
              id: interned.size,
              pathId,
              absent: c.absent,
              matchers,
              set: indexMatchers(matchers),
              ...UNCHECKED,
            };
            interned.set(key, compiled);
          }
          if (c.absent) conditions.push(compiled);
          else conditions.splice(positives++, 0, compiled);
        }
        const alternative: CompiledAlternative = {
          conditions,
          positives,
          rule,
          unproven: conditions,
        };
        planner.count(alternative);
        alternatives.push(alternative);
      }
      if (ids.length % STEP === 0) yield;
    }

    const indexes: (PathIndex | undefined)[] = new Array(trie.pathCount).fill(undefined);
    const unfiled: number[] = [];
    const filedUnder = new Map<number, readonly CompiledCondition[]>();
    const chains: FilingChains = new Map();
    for (let a = 0; a < alternatives.length; a++) {
      const alternative = alternatives[a] as CompiledAlternative;
      const access = planner.cheapest(alternative, a)?.condition;
      if (!access) {
        unfiled.push(a);
      } else {
        const index = (indexes[access.pathId] ??= new PathIndex());
        for (const m of access.matchers) index.register(m, a);
        filedUnder.set(a, [access]);
        // Range entries are not postings, so nesting never sees them: they end a chain here.
        if (access.matchers.some(filedAsRange)) addChain(chains, a, [access]);
      }
      if (a % STEP === 0) yield;
    }
    for (const index of indexes) {
      if (!index) continue;
      index.finalize();
      yield;
      nestCrowdedPostings(index, alternatives, planner, filedUnder, chains);
      yield;
    }
    // Being a candidate proves the conditions on the way to every entry the alternative
    // sits in, when those entries hold exactly the matching values.
    let done = 0;
    for (const [a, list] of chains) {
      const alternative = alternatives[a] as CompiledAlternative;
      const proven = (list[0] as readonly CompiledCondition[]).filter(
        (c) => c.matchers.every(isFiledExactly) && list.every((chain) => chain.includes(c)),
      );
      alternative.unproven = alternative.conditions.filter((c) => !proven.includes(c));
      if (++done % STEP === 0) yield;
    }
    return new RuleMatcher(ids, trie, indexes, alternatives, unfiled);
  }

  /** Ids of the rules matching the event (the whole CloudEvent as a JSON object), each once. */
  match(event: unknown): Id[] {
    const leaves = this.#leaves;
    leaves.reset();
    flattenObject(event, this.#trie.root, leaves, 0);
    return this.#collect();
  }

  /**
   * As `match(JSON.parse(json))`, but reads only the fields rules mention and builds no
   * objects for the rest. Throws a SyntaxError on malformed JSON, except that objects and
   * arrays no rule looks into get a structural check only (see flatten-json.ts): use it on
   * events already validated, as the backbone's are.
   */
  matchJson(json: string): Id[] {
    const leaves = this.#leaves;
    leaves.reset();
    if (!this.#scanner.scan(json, this.#trie.root, leaves)) return this.match(JSON.parse(json));
    return this.#collect();
  }

  #collect(): Id[] {
    const leaves = this.#leaves;
    const candidates = this.#candidates;
    candidates.reset(leaves);
    const indexes = this.#indexes;
    for (let i = 0; i < leaves.count; i++) {
      const index = indexes[leaves.path[i] as number];
      if (index !== undefined) index.probe(leaves.values[i], candidates);
    }
    const unfiled = this.#unfiled;
    for (let i = 0; i < unfiled.length; i++) candidates.add(unfiled[i] as number);

    const matched: Id[] = [];
    if (candidates.count === 0) return matched;
    if (++this.#epoch === 0x7fffffff) {
      this.#ruleStamps.fill(0);
      this.#epoch = 1;
    }
    const epoch = this.#epoch;
    const stamps = this.#ruleStamps;
    for (let c = 0; c < candidates.count; c++) {
      const alternative = this.#alternatives[candidates.items[c] as number] as CompiledAlternative;
      if (stamps[alternative.rule] === epoch) continue;
      if (this.#verifier.verify(alternative, leaves)) {
        stamps[alternative.rule] = epoch;
        matched.push(this.#ids[alternative.rule] as Id);
      }
    }
    return matched;
  }
}

/** Rules (or alternatives) compiled between two checks of the time slice. */
const STEP = 256;

/**
 * Does PathIndex file this matcher where only matching values hit it? Not so for
 * anything-but (filed as "any value") and wildcards with two stars or more (filed by their
 * literal head and tail; the middle still needs a search). `exists: true` is filed as "any
 * value", which is exactly its meaning. A wildcard with one star is filed exactly: `H*`
 * as a prefix, `*T` as a suffix, `H*T` by head and tail at non-overlapping ends (unless a
 * head or tail holds the pair key's separator and may share its entry), so a hit proves
 * it and a 256 KiB value is not read again per candidate. Only a lone `*` is not: it is
 * filed as "any value", numbers included.
 */
function isFiledExactly(m: LeafMatcher): boolean {
  if (m.kind === WILDCARD) {
    const segments = m.segments;
    if (segments.length === 1) return true;
    if (segments.length > 2) return false;
    const head = segments[0] as string;
    const tail = segments[1] as string;
    return (head !== '' || tail !== '') && pairKeyIsUnique(head, tail);
  }
  return m.kind === EXISTS || m.kind < BUT_VALUES;
}
