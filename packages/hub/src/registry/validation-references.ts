/**
 * What validation needs to resolve a schema's references to other subjects: every version
 * in the reference tree under a key of its own (its `$id` when unique in the tree, else
 * `pinnedKey`), each with its `$ref`s pinned to the versions IT names
 * (compatibility/pinned-references.ts), and the root pinned likewise.
 *
 * Why: ajv resolves `$ref`s in one namespace per instance. Registered by name, two
 * schemas of the tree that both say "point" and mean different versions would share one
 * (whichever came first), so an event would be validated against a version the schema
 * does not name, unlike in the compatibility check.
 */
import {
  type LoadedVersion,
  pinnedKey,
  pinReferences,
  pinTargets,
  type Reference,
} from './compatibility/index.ts';
import { scopeEmbeddedIds } from './embedded-ids.ts';

/** A referenced version as loaded: named as a schema of the tree names it. */
export type ReferencedSchema = LoadedVersion & {
  readonly name: string;
  /** `pinnedKey(subject, version)`. */
  readonly key: string;
};

/** A schema's references: its own, and every version of the tree (each once). */
export type ReferenceTree = {
  readonly references: readonly Reference[];
  readonly loaded: readonly ReferencedSchema[];
};

export const NO_REFERENCES: ReferenceTree = Object.freeze({ references: [], loaded: [] });

export type PinnedDocument = {
  /** What ajv knows it by: its `$id` when kept, else `pinnedKey(subject, version)`. */
  readonly key: string;
  /** `$ref`s to other subjects pinned to such keys; `$id` kept only with its key. */
  readonly schema: unknown;
};

export type PinnedTree = {
  readonly root: unknown;
  readonly documents: readonly PinnedDocument[];
  /**
   * The root's reference names (as written, and resolved against its `$id`) → keys, first
   * wins in the root's precedence: ajv also answers them where its URI normalisation
   * matches a `$ref` that pinning compared textually.
   */
  readonly aliases: readonly { name: string; key: string }[];
};

export function pinTree(root: unknown, tree: ReferenceTree): PinnedTree {
  const loaded = new Map<string, ReferencedSchema>(tree.loaded.map((r) => [r.key, r]));
  const ids = new Map<string, number>();
  for (const schema of [root, ...tree.loaded.map((r) => r.schema)]) {
    const id = absoluteId(schema);
    if (id !== undefined) ids.set(id, (ids.get(id) ?? 0) + 1);
  }
  // A version whose absolute `$id` no other schema of the tree has keeps it, and is pinned
  // to it: the `$id` is the base its embedded resources, anchors and remaining relative
  // `$ref`s were written against. A shared one (two versions of one subject, often) would
  // clash in ajv's namespace: then the version goes without, under its pinned key.
  const keyOf = new Map<string, string>();
  for (const r of tree.loaded) {
    const id = absoluteId(r.schema);
    keyOf.set(r.key, id !== undefined && ids.get(id) === 1 ? id : r.key);
  }
  const targets = (references: readonly Reference[]) =>
    pinTargets(references, loaded).map((t) => ({ ...t, key: keyOf.get(t.key) ?? t.key }));
  const documents = tree.loaded.map((r) => {
    const key = keyOf.get(r.key)!;
    const pinned = pinReferences(r.schema, targets(r.references), r.key);
    return { key, schema: key === r.key ? withoutId(pinned) : pinned };
  });
  const own = targets(tree.references);
  const rootId = absoluteId(root);
  const aliases: { name: string; key: string }[] = [];
  // The root's own `$id` is not taken here: a reference of its own named like it stays a
  // clash (422). One of its references' references may be named like it (A v2 → B v1 →
  // A v1): the root's `$ref`s to that name read the root itself, so there is no alias.
  const taken = new Set([...keyOf.values()].map(withoutEmptyFragment));
  const direct = new Set(tree.references.map((r) => keyOf.get(pinnedKey(r.subject, r.version))));
  const alias = (name: string | undefined, key: string) => {
    if (name === undefined || taken.has(withoutEmptyFragment(name))) return;
    if (rootId !== undefined && !direct.has(key) && sameUri(name, rootId)) return;
    taken.add(withoutEmptyFragment(name));
    aliases.push({ name, key });
  };
  // As pinReferences orders them: names as written, then resolved against the root's `$id`.
  const present = own.filter((t) => t.schema !== undefined);
  for (const t of present) alias(t.name, t.key);
  if (rootId !== undefined)
    for (const t of present)
      alias(URL.canParse(t.name, rootId) ? new URL(t.name, rootId).href : undefined, t.key);
  const pinnedRoot = pinReferences(root, own);
  if (documents.length === 0) return { root: pinnedRoot, documents, aliases };
  // Two schemas of the tree embedding one `$id` differently each keep their own (embedded-ids.ts).
  const [scopedRoot, ...scoped] = scopeEmbeddedIds([pinnedRoot, ...documents.map((d) => d.schema)]);
  return {
    root: scopedRoot,
    documents: documents.map((d, i) => ({ key: d.key, schema: scoped[i] })),
    aliases,
  };
}

function sameUri(a: string, b: string): boolean {
  return withoutEmptyFragment(a) === withoutEmptyFragment(b);
}

/** ajv's spelling of a key: `a#` and `a` are one. */
function withoutEmptyFragment(uri: string): string {
  return uri.endsWith('#') ? uri.slice(0, -1) : uri;
}

function absoluteId(schema: unknown): string | undefined {
  const id = (schema as { $id?: unknown } | null)?.$id;
  return typeof id === 'string' && URL.canParse(id) ? id : undefined;
}

function withoutId(schema: unknown): unknown {
  if (typeof schema !== 'object' || schema === null || !('$id' in schema)) return schema;
  const { $id: _ignored, ...rest } = schema as Record<string, unknown>;
  return rest;
}
