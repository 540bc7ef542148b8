/**
 * Per-tenant copies of the dictionary in memory, so reads and the gateway's per-request
 * lookups do not hit the store. A copy is trusted for `recheckMs`; after that one cheap
 * revision read says whether another node changed it. Writes on this node drop the copy
 * at once. Bounded: past `maxTenants` the least recently loaded copy is dropped.
 */
import type { DictionaryStore, TenantDictionary } from './dictionary-store.ts';
import type { Api, ApiVersion } from './model.ts';

export type Snapshot = TenantDictionary & {
  /** `api\0version` → the version and its API, for the gateway. */
  index: Map<string, { api: Api; version: ApiVersion }>;
};

type Entry = { snapshot: Promise<Snapshot>; checkedAt: number };

export class DictionaryCache {
  readonly #store: DictionaryStore;
  readonly #recheckMs: number;
  readonly #maxTenants: number;
  readonly #entries = new Map<string, Entry>();

  constructor(store: DictionaryStore, options: { recheckMs?: number; maxTenants?: number } = {}) {
    this.#store = store;
    this.#recheckMs = options.recheckMs ?? 1000;
    this.#maxTenants = options.maxTenants ?? 10_000;
  }

  snapshot(tenant: string): Promise<Snapshot> {
    const now = Date.now();
    const entry = this.#entries.get(tenant);
    if (entry && now - entry.checkedAt < this.#recheckMs) return entry.snapshot;
    if (entry) {
      // Stale: one revision read decides; concurrent callers share it.
      entry.checkedAt = now;
      const previous = entry.snapshot;
      entry.snapshot = previous.then(async (snap) =>
        (await this.#store.revision(tenant)) === snap.revision ? snap : this.#load(tenant),
      );
      entry.snapshot.catch(() => this.#entries.delete(tenant));
      return entry.snapshot;
    }
    const fresh: Entry = { snapshot: this.#load(tenant), checkedAt: now };
    fresh.snapshot.catch(() => this.#entries.delete(tenant));
    this.#entries.set(tenant, fresh);
    if (this.#entries.size > this.#maxTenants)
      this.#entries.delete(this.#entries.keys().next().value!);
    return fresh.snapshot;
  }

  /**
   * Whether this node holds a copy (fresh or due for its revision check). Lets a caller that
   * must not make the cache load one (an anonymous read of a tenant that may not exist) ask
   * the store something cheaper first.
   */
  has(tenant: string): boolean {
    return this.#entries.has(tenant);
  }

  /** Tenants held (loading ones included), at most `maxTenants`: for the metrics gauge. */
  get size(): number {
    return this.#entries.size;
  }

  invalidate(tenant: string): void {
    this.#entries.delete(tenant);
  }

  async #load(tenant: string): Promise<Snapshot> {
    const dictionary = await this.#store.load(tenant);
    const index = new Map<string, { api: Api; version: ApiVersion }>();
    for (const api of dictionary.apis)
      for (const version of api.versions)
        index.set(`${api.name}\0${version.version}`, { api, version });
    return { ...dictionary, index };
  }
}
