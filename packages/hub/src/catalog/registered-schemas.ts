/**
 * Registered schemas as the catalog compares them: a subject version with the versions it
 * references (`references: [{name, subject, version}]`), loaded transitively as the
 * registry loads them (at most 200 per schema), each pinned (as the registry pins them:
 * registry/compatibility/pinned-references.ts) so that
 * the old and the new contract each read their own referenced versions. One instance per
 * request and tenant: what it loaded is what `resolve` answers, nothing else.
 */
import {
  pinnedKey,
  pinReferences,
  pinTargets,
  type LoadedVersion,
  type Reference,
} from '../registry/compatibility/index.ts';

/** A subject version a schema `$ref`s by name (one of the registry's `references`). */
export type SchemaReference = Reference;

/** A registered schema, parsed, with the subject versions it references. */
export type RegisteredSchema = LoadedVersion;

/**
 * A registered schema by subject and version with its references; undefined when the
 * tenant has no such subject or version. Supplied by the schema registry
 * (registry-lookup.ts).
 */
export type SchemaLookup = (
  tenant: string,
  subject: string,
  version: number | 'latest',
) => Promise<RegisteredSchema | undefined>;

export type LoadedSchema = {
  /** As registered (what the AsyncAPI export and the event contracts show). */
  readonly schema: unknown;
  /** With its references pinned: what the comparisons read, with `resolve`. */
  readonly compared: unknown;
};

/** The registry's own bound on the schemas one schema references, transitively. */
export const MAX_REFERENCED_SCHEMAS = 200;

type Fetched = { readonly key: string; readonly found: RegisteredSchema | undefined };

export class RegisteredSchemas {
  readonly #tenant: string;
  readonly #lookup: SchemaLookup;
  /** Referenced versions fetched (or being fetched) in this request, by key. */
  readonly #fetched = new Map<string, Promise<Fetched>>();
  /** Referenced versions found, by key. */
  readonly #found = new Map<string, LoadedVersion>();
  /** Documents the checker may open, by key. */
  readonly #pinned = new Map<string, unknown>();
  /** Why a key named by a pinned reference has no document. */
  readonly #missing = new Map<string, string>();

  constructor(tenant: string, lookup: SchemaLookup) {
    this.#tenant = tenant;
    this.#lookup = lookup;
  }

  /** A subject version with its references loaded; undefined when the tenant has none. */
  async load(subject: string, version: number | 'latest'): Promise<LoadedSchema | undefined> {
    const root = await this.#lookup(this.#tenant, subject, version);
    if (root === undefined) return undefined;
    const closure = await this.#fetchClosure(root.references);
    for (const key of closure) {
      const found = this.#found.get(key);
      if (found === undefined || this.#pinned.has(key)) continue;
      this.#pinned.set(
        key,
        pinReferences(found.schema, pinTargets(found.references, this.#found), key),
      );
      this.#missing.delete(key);
    }
    return {
      schema: root.schema,
      compared: pinReferences(root.schema, pinTargets(root.references, this.#found)),
    };
  }

  /**
   * `resolveExternalRef` for the checker: a pinned key loaded in this request. A key that
   * could not be loaded throws its reason (the checker reports it as `ref-unresolvable`).
   */
  readonly resolve = (key: string): unknown => {
    const pinned = this.#pinned.get(key);
    if (pinned !== undefined) return pinned;
    const reason = this.#missing.get(key);
    if (reason !== undefined) throw new Error(reason);
    return undefined;
  };

  /**
   * Fetches what `references` reach, breadth first, each version once per request and at
   * most MAX_REFERENCED_SCHEMAS of them for one schema: the keys reached, in no set order.
   */
  async #fetchClosure(references: readonly SchemaReference[]): Promise<Set<string>> {
    const reached = new Set<string>();
    let level = references;
    while (level.length > 0) {
      const next: Promise<Fetched>[] = [];
      for (const ref of level) {
        const key = pinnedKey(ref.subject, ref.version);
        if (reached.has(key)) continue;
        if (reached.size >= MAX_REFERENCED_SCHEMAS) {
          if (!this.#pinned.has(key))
            this.#missing.set(
              key,
              `not loaded: the schema references more than ${MAX_REFERENCED_SCHEMAS} schemas`,
            );
          continue;
        }
        reached.add(key);
        next.push(this.#fetch(key, ref));
      }
      level = (await Promise.all(next)).flatMap((f) => f.found?.references ?? []);
    }
    return reached;
  }

  #fetch(key: string, ref: SchemaReference): Promise<Fetched> {
    let pending = this.#fetched.get(key);
    if (!pending) {
      pending = this.#lookup(this.#tenant, ref.subject, ref.version).then((found) => {
        if (found !== undefined) this.#found.set(key, found);
        else
          this.#missing.set(
            key,
            `version ${ref.version} of subject "${ref.subject}" is not registered for this tenant`,
          );
        return { key, found };
      });
      this.#fetched.set(key, pending);
    }
    return pending;
  }
}
