/**
 * What publish-time validation needs, kept in memory so that an event costs no store
 * round trip: per (tenant, subject, version) the compiled schema and the validation mode
 * (or "not registered").
 *
 * Freshness: this node's registry writes clear the caches at once (`invalidate`); another
 * node's writes are seen within `refreshMs` (the registry's state version, one small read
 * at most that often, is compared with the last one seen).
 *
 * Compiled validators are cached by schema id separately and never invalidated: an id
 * always means the same schema text and references (ids are never reused), and so the same
 * referenced versions all the way down (a referenced version cannot be removed).
 */
import { BoundedCache } from './bounded-cache.ts';
import type { RegistryStore } from './registry-store.ts';
import type { CompiledSchema } from './schema-compiler.ts';
import type {
  ResolvedSchema,
  SchemaRegistry,
  ValidationMode,
  VersionSpec,
} from './schema-registry.ts';

export type PublishTarget = ResolvedSchema & { mode: ValidationMode };

export type PublishCacheOptions = {
  registry: SchemaRegistry;
  store: RegistryStore;
  /** How stale another node's registry writes may be seen. Default 1000 ms. */
  refreshMs?: number;
  /** Resolutions (tenant × subject × version) kept. Default 10,000. */
  maxEntries?: number;
  /** Compiled validators kept (each an ajv instance, tens of KB). Default 1,000. */
  maxCompiled?: number;
  now?: () => number;
};

export class PublishCache {
  readonly #registry: SchemaRegistry;
  readonly #store: RegistryStore;
  readonly #refreshMs: number;
  readonly #now: () => number;
  readonly #targets: BoundedCache<string, Promise<PublishTarget | undefined>>;
  readonly #compiled: BoundedCache<string, Promise<CompiledSchema>>;
  /** Resolved targets (null: not registered), for `peek`. */
  readonly #settled: BoundedCache<string, PublishTarget | null>;
  #generation = 0;
  #checkedAt = -Infinity;
  #seenVersion: number | undefined;
  #refreshing: Promise<void> | undefined;

  constructor(options: PublishCacheOptions) {
    this.#registry = options.registry;
    this.#store = options.store;
    this.#refreshMs = options.refreshMs ?? 1000;
    this.#now = options.now ?? Date.now;
    this.#targets = new BoundedCache(options.maxEntries ?? 10_000);
    this.#compiled = new BoundedCache(options.maxCompiled ?? 1_000);
    this.#settled = new BoundedCache(options.maxEntries ?? 10_000);
  }

  /** Drops every resolution (after a registry write on this node). */
  invalidate(): void {
    this.#generation++;
    this.#targets.clear();
    this.#settled.clear();
  }

  /** Keeps a validator compiled elsewhere (at registration) for a schema id. */
  prime(tenant: string, id: number, compiled: CompiledSchema): void {
    this.#compiled.set(`${tenant}\u0000${id}`, Promise.resolve(compiled));
  }

  /**
   * The hot path, synchronous: the target when it is already resolved and the cache is
   * fresh; `null` when known to be unregistered; `undefined` when `target` must be asked.
   * Publishing thousands of events a second should not cost a promise per event.
   */
  peek(tenant: string, subject: string, version: VersionSpec): PublishTarget | null | undefined {
    if (this.#now() - this.#checkedAt >= this.#refreshMs) return undefined;
    return this.#settled.peek(`${tenant}\u0000${subject}\u0000${version}`);
  }

  async target(
    tenant: string,
    subject: string,
    version: VersionSpec,
  ): Promise<PublishTarget | undefined> {
    await this.#fresh();
    const key = `${tenant}\u0000${subject}\u0000${version}`;
    return this.#targets.getOrCreate(key, async () => {
      const generation = this.#generation;
      const resolved = await this.#registry.resolve(tenant, subject, version, (id, build) =>
        this.#compiled.getOrCreate(`${tenant}\u0000${id}`, build),
      );
      const target = resolved
        ? { ...resolved, mode: (await this.#registry.config(tenant, subject, true)).validation }
        : undefined;
      // A write since the lookup started may have made this stale: then it is not kept.
      if (generation === this.#generation) this.#settled.set(key, target ?? null);
      return target;
    });
  }

  async #fresh(): Promise<void> {
    if (this.#now() - this.#checkedAt < this.#refreshMs) return;
    this.#refreshing ??= (async () => {
      try {
        const version = await this.#store.stateVersion();
        if (version !== this.#seenVersion) {
          this.#seenVersion = version;
          this.invalidate();
        }
        this.#checkedAt = this.#now();
      } finally {
        this.#refreshing = undefined;
      }
    })();
    await this.#refreshing;
  }
}
