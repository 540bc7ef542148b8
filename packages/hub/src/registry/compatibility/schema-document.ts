/**
 * A schema document and places in it. A `Located` schema knows its document (to resolve
 * `$ref`), its JSON pointer (to report where a change is) and its base URI (for `$id`).
 */

import { appendPointer, type PointerSegment, valueAt } from './json-pointer.ts';
import { asObject, refOf, stringAt, SUBSCHEMA_KEYWORDS } from './keywords.ts';

export type SchemaDoc = {
  /** "" for a schema under check; the reference for a schema fetched by resolveExternalRef. */
  readonly name: string;
  /** Draft-04 to draft-07: `$ref` replaces its sibling keywords. */
  readonly legacy: boolean;
  readonly root: Located;
  /** Absolute `$id` (without fragment) → the schema that declares it. */
  readonly resources: ReadonlyMap<string, Located>;
  /** Absolute base + "#" + anchor name → the schema that declares the anchor. */
  readonly anchors: ReadonlyMap<string, Located>;
  /** Every schema in the document that holds a `$ref` (or a dynamic form of it). */
  readonly references: readonly Located[];
};

export type Located = {
  readonly schema: unknown;
  readonly doc: SchemaDoc;
  readonly pointer: string;
  readonly base: string;
  /** Keywords of this schema the walker has already applied (a split writer union). */
  readonly consumed?: readonly string[];
};

const LEGACY_DRAFT = /draft-0[0-7]\b/;

export function loadDocument(root: unknown, name: string): SchemaDoc {
  const resources = new Map<string, Located>();
  const anchors = new Map<string, Located>();
  const references: Located[] = [];
  const $schema = asObject(root)?.['$schema'];
  // Built in two steps: the root location must point back at its document.
  const doc = {
    name,
    legacy: typeof $schema === 'string' && LEGACY_DRAFT.test($schema),
    resources: resources as ReadonlyMap<string, Located>,
    anchors: anchors as ReadonlyMap<string, Located>,
    references: references as readonly Located[],
  } as { -readonly [K in keyof SchemaDoc]: SchemaDoc[K] };
  // Non-fetchable placeholder bases, so relative `$id`s and `$ref`s resolve without a network.
  const defaultBase = name === '' ? 'portico:/schema' : `portico:/ref/${encodeURIComponent(name)}`;
  doc.root = locate(doc, root, '', defaultBase);
  resources.set(doc.root.base, doc.root);
  scan(doc.root, { resources, anchors, references }, new Set());
  return doc;
}

/** The schema at `segments` below `parent`, or undefined when there is none. */
export function childOf(parent: Located, ...segments: PointerSegment[]): Located | undefined {
  const schema = valueAt(parent.schema, segments);
  if (schema === undefined) return undefined;
  return locateChild(parent, schema, segments);
}

/** Like childOf, for a place that may hold nothing: the result then accepts everything. */
export function placeAt(parent: Located, ...segments: PointerSegment[]): Located {
  return childOf(parent, ...segments) ?? locateChild(parent, true, segments);
}

export function describeLocation(location: Located, ...segments: PointerSegment[]): string {
  const pointer = appendPointer(location.pointer, segments);
  return location.doc.name === '' ? pointer : `${location.doc.name}#${pointer}`;
}

function locateChild(parent: Located, schema: unknown, segments: PointerSegment[]): Located {
  // Only the last step can carry a new `$id`: intermediate steps are keyword containers.
  return locate(parent.doc, schema, appendPointer(parent.pointer, segments), parent.base);
}

function locate(doc: SchemaDoc, schema: unknown, pointer: string, parentBase: string): Located {
  const id = asObject(schema) && stringAt(asObject(schema)!, '$id');
  let base = parentBase;
  if (id !== undefined && !id.startsWith('#'))
    base = withoutFragment(resolveUri(id, parentBase) ?? parentBase);
  return { schema, doc, pointer, base };
}

export function resolveUri(reference: string, base: string): string | undefined {
  try {
    return new URL(reference, base).href;
  } catch {
    return undefined;
  }
}

export function withoutFragment(uri: string): string {
  const hash = uri.indexOf('#');
  return hash < 0 ? uri : uri.slice(0, hash);
}

type Index = {
  readonly resources: Map<string, Located>;
  readonly anchors: Map<string, Located>;
  readonly references: Located[];
};

function scan(location: Located, index: Index, seen: Set<object>): void {
  const { resources, anchors } = index;
  const schema = asObject(location.schema);
  if (!schema || seen.has(schema)) return; // seen: guards against shared or cyclic JS objects
  seen.add(schema);
  if (refOf(schema) !== undefined) index.references.push(location);
  const id = stringAt(schema, '$id');
  if (id !== undefined) {
    const absolute = resolveUri(id, location.base);
    const fragment = absolute?.split('#')[1];
    if (!id.startsWith('#')) resources.set(location.base, location);
    // Draft-07 names anchors with a fragment-only `$id` ("#Address").
    if (fragment) anchors.set(`${location.base}#${fragment}`, location);
  }
  for (const keyword of ['$anchor', '$dynamicAnchor']) {
    const anchor = stringAt(schema, keyword);
    if (anchor !== undefined) anchors.set(`${location.base}#${anchor}`, location);
  }
  const visit = (...segments: PointerSegment[]) => {
    const child = childOf(location, ...segments);
    if (child) scan(child, index, seen);
  };
  for (const keyword of SUBSCHEMA_KEYWORDS.single) {
    if (!Array.isArray(schema[keyword])) visit(keyword);
  }
  for (const keyword of SUBSCHEMA_KEYWORDS.list) {
    const list = schema[keyword];
    if (Array.isArray(list)) list.forEach((_, i) => visit(keyword, i));
  }
  for (const keyword of SUBSCHEMA_KEYWORDS.map) {
    const map = asObject(schema[keyword]);
    if (map) for (const key of Object.keys(map)) visit(keyword, key);
  }
}
