/**
 * Embedded `$id` resources that two schemas of a reference tree declare differently, each
 * kept to the schema that declares it: renamed there to a URI of that schema's own
 * (`portico-scope:/<n>/<the $id>`), with the `$ref`s of that schema that reach it renamed
 * too.
 *
 * Why: ajv has one namespace of URIs per instance. Two referenced subjects that both embed
 * `{"$id": "https://example.com/address", …}` and mean different addresses would share one
 * (whichever ajv added last), so the events of one would silently be validated against the
 * other's address. The compatibility checker already resolves each document's embedded
 * resources inside that document; validation now reads them the same way. Declarations
 * that are equal are left alone: either one means the same.
 */
import { jsonEqual } from './compatibility/json-equal.ts';
import { parsePointer, valueAt } from './compatibility/json-pointer.ts';
import {
  loadDocument,
  resolveUri,
  type SchemaDoc,
  withoutFragment,
} from './compatibility/schema-document.ts';

const SCOPE = 'portico-scope:/';

/**
 * `schemas` with their clashing embedded resources scoped (copies; a schema without any is
 * returned as it is). A schema's own top-level `$id` is never renamed: the caller already
 * keeps it only when no other top-level `$id` of the tree is the same.
 */
export function scopeEmbeddedIds(schemas: readonly unknown[]): unknown[] {
  // loadDocument's placeholder bases (`portico:/…`) are distinct per document name, so a
  // relative `$id` under a schema without an absolute one never clashes.
  const docs = schemas.map((schema, i) => loadDocument(schema, String(i)));
  const declared = new Map<string, { doc: number; schema: unknown }[]>();
  docs.forEach((doc, i) => {
    for (const [uri, at] of doc.resources) {
      if (isPlaceholder(uri)) continue;
      const list = declared.get(uri) ?? [];
      list.push({ doc: i, schema: at.schema });
      declared.set(uri, list);
    }
  });
  const scoped = docs.map(() => new Set<string>());
  for (const [uri, list] of declared) {
    const first = list[0]!;
    const clash = list.some((d) => d.doc !== first.doc && !jsonEqual(d.schema, first.schema));
    if (!clash) continue;
    for (const d of list) if (uri !== docs[d.doc]!.root.base) scoped[d.doc]!.add(uri);
  }
  return schemas.map((schema, i) =>
    scoped[i]!.size === 0 ? schema : rename(schema, docs[i]!, scoped[i]!, i),
  );
}

function rename(schema: unknown, doc: SchemaDoc, scoped: ReadonlySet<string>, n: number) {
  const copy = structuredClone(schema);
  const at = (pointer: string) =>
    valueAt(copy, parsePointer(pointer) ?? []) as Record<string, unknown>;
  const uriOf = (absolute: string) => {
    const resource = withoutFragment(absolute);
    const fragment = absolute.slice(resource.length);
    return `${scoped.has(resource) ? `${SCOPE}${n}/${encodeURIComponent(resource)}` : resource}${fragment}`;
  };
  // Every `$ref` written relative to a real base is made absolute first: a renamed
  // resource is no longer the base it was written against. Fragment-only ones stay, as
  // their resource stays one (renamed).
  for (const site of doc.references) {
    const holder = at(site.pointer);
    const ref = holder['$ref'];
    if (typeof ref !== 'string' || ref.startsWith('#')) continue;
    const absolute = resolveUri(ref, site.base);
    if (absolute === undefined) continue;
    // Relative to a placeholder base: no renamed resource around it, it stays as written.
    if (isPlaceholder(site.base) && !scoped.has(withoutFragment(absolute))) continue;
    holder['$ref'] = uriOf(absolute);
  }
  // Embedded resources absolute as well, for the same reason (the root's own stays).
  for (const [uri, located] of doc.resources) {
    if (uri === doc.root.base || isPlaceholder(uri)) continue;
    const holder = at(located.pointer);
    const id = holder['$id'] as string;
    const hash = id.indexOf('#');
    holder['$id'] = uriOf(uri) + (hash < 0 ? '' : id.slice(hash));
  }
  return copy;
}

function isPlaceholder(uri: string): boolean {
  return uri.startsWith('portico:/');
}
