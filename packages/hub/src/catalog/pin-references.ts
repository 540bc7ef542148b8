/**
 * Pins a registered schema's references to other subjects: each `$ref` that the
 * compatibility checker would hand to `resolveExternalRef` and that names one of the
 * schema's registered references becomes `portico-registry:<subject>/versions/<n>` (its
 * fragment kept), the key under which the catalog resolves that exact version.
 *
 * Why: the checker resolves external references by name, with one resolver for both
 * schemas it compares, and takes two equal documents as compatible without looking inside.
 * The old and the new version of a contract may both `$ref` "address" and mean different
 * versions of it: keyed by subject and version, each side reads its own, and a changed
 * reference changes the document.
 */
import {
  loadDocument,
  parsePointer,
  resolveUri,
  valueAt,
  withoutFragment,
} from '../registry/compatibility/index.ts';

export type PinTarget = {
  /** The reference's name, as the schema `$ref`s it. */
  readonly name: string;
  /** The referenced version's key (`pinnedKey`). */
  readonly key: string;
  /** The referenced schema when it was loaded: its `$id` names it too, as in the registry. */
  readonly schema?: unknown;
};

const SCHEME = 'portico-registry:';

export function pinnedKey(subject: string, version: number): string {
  return `${SCHEME}${encodeURIComponent(subject)}/versions/${version}`;
}

/** The keywords `refOf` reads, in its order (the first string one is the reference). */
const REF_KEYWORDS = ['$ref', '$recursiveRef', '$dynamicRef'] as const;

/**
 * `schema` with its references to `targets` pinned (a copy; `schema` itself when nothing
 * changes). `targets` in the registry's loading order; a name listed twice takes the last
 * one, a `$id` the first, as the registry's own check does. `documentName`: the name the
 * checker will load the schema under ("" for a schema compared directly), so that relative
 * references resolve against the same base as in the checker.
 */
export function pinReferences(
  schema: unknown,
  targets: readonly PinTarget[],
  documentName = '',
): unknown {
  if (targets.length === 0 || typeof schema !== 'object' || schema === null) return schema;
  const names = new Map<string, string>();
  for (const t of targets) {
    names.set(t.name, t.key);
    const id = (t.schema as { $id?: unknown } | null | undefined)?.$id;
    if (typeof id === 'string' && !names.has(id)) names.set(id, t.key);
  }
  const doc = loadDocument(schema, documentName);
  // A schema declaring a resource under the key scheme would have the checker resolve a
  // pinned reference to it, locally: pin nothing, so its references stay unresolvable.
  if ([...doc.resources.keys()].some((uri) => uri.startsWith(SCHEME))) return schema;
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
