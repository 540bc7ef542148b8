/**
 * References to other subjects pinned to the versions a schema names: each `$ref` that the
 * compatibility checker would hand to `resolveExternalRef` and that names one of the
 * schema's references becomes `portico-registry:<subject>/versions/<n>` (its fragment
 * kept), the key under which that exact version is resolved.
 *
 * Why: the checker resolves external references by name, with one resolver for both
 * schemas it compares, and takes two equal documents as compatible without looking inside.
 * An old and a new version may both `$ref` "address" and mean different versions of it:
 * keyed by subject and version, each side reads its own, and a changed reference changes
 * the document.
 *
 * The registry pins on registration and in its compatibility checks, the catalog in its
 * breaking-change checks of contracts that name registered schemas.
 */
import { parsePointer, valueAt } from './json-pointer.ts';
import { loadDocument, resolveUri, withoutFragment } from './schema-document.ts';

export type PinTarget = {
  /** The reference's name, as the schema `$ref`s it. */
  readonly name: string;
  /** The referenced version's key (`pinnedKey`). */
  readonly key: string;
  /** The referenced schema when it was loaded: its `$id` names it too. */
  readonly schema?: unknown;
};

export type Reference = {
  readonly name: string;
  readonly subject: string;
  readonly version: number;
};

/** A referenced version as loaded: its schema and its own references. */
export type LoadedVersion = {
  readonly schema: unknown;
  readonly references: readonly Reference[];
};

const SCHEME = 'portico-registry:';

export function pinnedKey(subject: string, version: number): string {
  return `${SCHEME}${encodeURIComponent(subject)}/versions/${version}`;
}

/**
 * What a schema's `$ref`s may name, in precedence order: its own references first (their
 * names are unique), then, depth first, what those reference in turn, each version once.
 * `loaded`: the referenced versions by `pinnedKey`; one not there is still a target
 * (without a schema), so that its `$ref` is pinned and reported as unresolvable.
 */
export function pinTargets(
  references: readonly Reference[],
  loaded: ReadonlyMap<string, LoadedVersion>,
): PinTarget[] {
  const out: PinTarget[] = [];
  const seen = new Set<string>();
  const add = (ref: Reference): string => {
    const key = pinnedKey(ref.subject, ref.version);
    if (seen.has(key)) return key;
    seen.add(key);
    const found = loaded.get(key);
    out.push({ name: ref.name, key, ...(found ? { schema: found.schema } : {}) });
    return key;
  };
  const visit = (refs: readonly Reference[]) => {
    for (const ref of refs) {
      const before = seen.size;
      const key = add(ref);
      if (seen.size > before) visit(loaded.get(key)?.references ?? []);
    }
  };
  for (const ref of references) add(ref);
  for (const ref of references)
    visit(loaded.get(pinnedKey(ref.subject, ref.version))?.references ?? []);
  return out;
}

/** The keywords `refOf` reads, in its order (the first string one is the reference). */
const REF_KEYWORDS = ['$ref', '$recursiveRef', '$dynamicRef'] as const;

/**
 * `schema` with its references to `targets` pinned (a copy; `schema` itself when nothing
 * changes). The first target naming a reference wins (`pinTargets` orders them); a name
 * wins over another reference's `$id`. As the registry's compiler does, a name also
 * matches when resolved against the schema's own `$id`. `documentName`: the name the
 * checker loads the schema under ("" for a schema compared directly), so that relative
 * references resolve against the same base as in the checker.
 */
export function pinReferences(
  schema: unknown,
  targets: readonly PinTarget[],
  documentName = '',
): unknown {
  if (targets.length === 0 || typeof schema !== 'object' || schema === null) return schema;
  const doc = loadDocument(schema, documentName);
  // A schema declaring a resource under the key scheme would have the checker resolve a
  // pinned reference to it, locally: pin nothing, so its references stay unresolvable.
  if ([...doc.resources.keys()].some((uri) => uri.startsWith(SCHEME))) return schema;
  const names = new Map<string, string>();
  const name = (text: string | undefined, key: string) => {
    if (text !== undefined && !names.has(text)) names.set(text, key);
  };
  const ownId = (schema as { $id?: unknown }).$id;
  const root = typeof ownId === 'string' && URL.canParse(ownId) ? ownId : undefined;
  for (const t of targets) name(t.name, t.key);
  for (const t of targets) if (root) name(resolveUri(t.name, root), t.key);
  for (const t of targets) {
    const id = (t.schema as { $id?: unknown } | null | undefined)?.$id;
    if (typeof id === 'string') name(id, t.key);
  }
  let copy: unknown;
  for (const site of doc.references) {
    const holder = site.schema as Record<string, unknown>;
    const keyword = REF_KEYWORDS.find((k) => typeof holder[k] === 'string');
    if (keyword === undefined) continue;
    const ref = holder[keyword] as string;
    const hash = ref.indexOf('#');
    const documentPart = hash < 0 ? ref : ref.slice(0, hash);
    if (documentPart === '') continue;
    const absolute = resolveUri(ref, site.base);
    const resource = absolute === undefined ? undefined : withoutFragment(absolute);
    // Resolved inside the document (an embedded `$id`): not a reference to another subject.
    if (resource !== undefined && doc.resources.has(resource)) continue;
    const key =
      names.get(documentPart) ?? (resource === undefined ? undefined : names.get(resource));
    if (key === undefined) continue;
    copy ??= structuredClone(schema);
    const target = valueAt(copy, parsePointer(site.pointer) ?? []) as Record<string, unknown>;
    target[keyword] = hash < 0 ? key : `${key}${ref.slice(hash)}`;
  }
  return copy ?? schema;
}
