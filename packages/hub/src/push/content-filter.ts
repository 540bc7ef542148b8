/**
 * Content filters: the EventBridge pattern language (the routing matcher) applied to the
 * CloudEvent as stored. Filters are compiled once per distinct pattern and shared by
 * reference count: ten thousand app shells sending the same filter hold one matcher, and
 * the dispatcher evaluates it once per event (see push-gateway.ts).
 */
import type { CloudEventRecord } from '../backbone/event-log.ts';
import { RuleMatcher, type Pattern } from '../routing/pattern/index.ts';

export type ContentFilter = {
  /** Canonical JSON of the pattern: equal patterns share one filter. */
  readonly key: string;
  matches(event: CloudEventRecord): boolean;
};

type Entry = { filter: ContentFilter; refs: number };

export class FilterCache {
  readonly #entries = new Map<string, Entry>();

  get size(): number {
    return this.#entries.size;
  }

  /** The shared filter for `pattern` (already validated). Pair with `release`. */
  acquire(pattern: Pattern): ContentFilter {
    const key = canonicalJson(pattern);
    let entry = this.#entries.get(key);
    if (!entry) {
      const matcher = RuleMatcher.build([{ id: 'filter', pattern }]);
      entry = {
        refs: 0,
        filter: {
          key,
          matches: (event) => matcher.match(event).length > 0,
        },
      };
      this.#entries.set(key, entry);
    }
    entry.refs++;
    return entry.filter;
  }

  release(filter: ContentFilter): void {
    const entry = this.#entries.get(filter.key);
    if (entry && --entry.refs === 0) this.#entries.delete(filter.key);
  }
}

/** JSON with object keys sorted, so `{a,b}` and `{b,a}` share a filter. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    return `{${Object.keys(record)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}
