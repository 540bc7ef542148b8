/**
 * The enabled rules compiled into one RuleMatcher. A rebuild happens aside and is swapped
 * in with one assignment, so matching never waits for it and never sees half a rule set.
 * Rule writes on this node rebuild right away (`reload`); writes on other nodes are
 * noticed through `rules_version` (`refreshIfStale`, at most once per interval).
 */
import type { LogEntry } from '../backbone/event-log.ts';
import { RuleMatcher, validatePattern } from './pattern/index.ts';
import type { RuleStore } from './rule-store.ts';
import { PLATFORM, tenantOf, type Rule } from './rule.ts';
import { effectivePattern } from './validate-rule.ts';
import type { Logger } from '../delivery/dispatcher.ts';

type Compiled = { matcher: RuleMatcher; rules: Map<string, Rule>; version: number };

export class ActiveRules {
  readonly #store: RuleStore;
  readonly #logger: Logger;
  readonly #checkIntervalMs: number;
  readonly #clock: () => number;
  #compiled: Compiled = { matcher: RuleMatcher.build([]), rules: new Map(), version: -1 };
  #lastCheck = -Infinity;
  #reloading: Promise<void> | undefined;
  #again = false;

  constructor(options: {
    store: RuleStore;
    logger: Logger;
    checkIntervalMs?: number;
    clock?: () => number;
  }) {
    this.#store = options.store;
    this.#logger = options.logger;
    this.#checkIntervalMs = options.checkIntervalMs ?? 1000;
    this.#clock = options.clock ?? Date.now;
  }

  get size(): number {
    return this.#compiled.rules.size;
  }

  /** Rebuilds from the store. Concurrent calls share one rebuild, plus one more if asked meanwhile. */
  reload(): Promise<void> {
    if (this.#reloading) {
      this.#again = true;
      return this.#reloading;
    }
    this.#reloading = (async () => {
      try {
        do {
          this.#again = false;
          await this.#rebuild();
        } while (this.#again);
      } finally {
        this.#reloading = undefined;
      }
    })();
    return this.#reloading;
  }

  /** Rebuilds when another node changed the rules (checks at most once per interval). */
  async refreshIfStale(): Promise<void> {
    const now = this.#clock();
    if (now - this.#lastCheck < this.#checkIntervalMs) return;
    this.#lastCheck = now;
    if ((await this.#store.version()) !== this.#compiled.version) await this.reload();
  }

  /**
   * The rules that route this entry. A tenant's rules see only that tenant's events and
   * nothing in the reserved `portico.` topic domain; no rule sees the queue and push
   * copies the hub itself appends (that would loop).
   */
  match(entry: LogEntry): Rule[] {
    const reserved = entry.topic.startsWith('portico.');
    if (reserved && isDeliveryCopy(entry.topic)) return [];
    const { matcher, rules } = this.#compiled;
    const matched: Rule[] = [];
    for (const id of matcher.match(entry.event)) {
      const rule = rules.get(id);
      if (!rule) continue;
      if (rule.owner !== PLATFORM && (reserved || tenantOf(rule.owner) !== entry.event.tenantid))
        continue;
      matched.push(rule);
    }
    return matched;
  }

  async #rebuild(): Promise<void> {
    // Version first: a write landing in between makes the next check rebuild again,
    // never leaves a newer version recorded with older rules.
    const version = await this.#store.version();
    const enabled = await this.#store.listEnabled();
    const usable: Rule[] = [];
    for (const rule of enabled) {
      // Rules were validated on write; one that a later, stricter validator refuses must
      // not stop every other rule from routing.
      const problems = validatePattern(rule.pattern);
      if (problems.length > 0) {
        this.#logger.warn(
          { rule: rule.id, problems },
          'routing: rule skipped, its pattern is no longer valid',
        );
        continue;
      }
      usable.push(rule);
    }
    // Built aside in slices (the event loop, and the router with the old matcher, keep
    // running), then swapped in with one assignment.
    const matcher = await RuleMatcher.buildAsync(
      usable.map((r) => ({ id: r.id, pattern: effectivePattern(r.pattern, tenantOf(r.owner)) })),
    );
    this.#compiled = { matcher, rules: new Map(usable.map((r) => [r.id, r])), version };
  }
}

/** `portico.<env>.queue.<name>` and `portico.<env>.push.<channel>`: what queue and push targets append. */
export function isDeliveryCopy(topic: string): boolean {
  const parts = topic.split('.');
  return parts[0] === 'portico' && (parts[2] === 'queue' || parts[2] === 'push');
}
