/**
 * `$ref` resolution without any network: local pointers and anchors, embedded `$id`
 * resources, and other registered subjects through the caller's resolveExternalRef.
 */

import { parsePointer } from './json-pointer.ts';
import {
  childOf,
  loadDocument,
  type Located,
  resolveUri,
  type SchemaDoc,
  withoutFragment,
} from './schema-document.ts';

export type RefResolution =
  { readonly ok: true; readonly target: Located } | { readonly ok: false; readonly reason: string };

export type RefResolver = (from: Located, ref: string) => RefResolution;

export function createRefResolver(resolveExternalRef?: (ref: string) => unknown): RefResolver {
  // One document per external reference and per check, so that recursion through another
  // subject sees the same objects again and terminates.
  const external = new Map<string, SchemaDoc | string>();

  const loadExternal = (name: string): SchemaDoc | string => {
    const known = external.get(name);
    if (known !== undefined) return known;
    let result: SchemaDoc | string;
    if (!resolveExternalRef) {
      result = `no resolver for external references was given, and remote schemas are never fetched`;
    } else {
      try {
        const schema = resolveExternalRef(name);
        result =
          schema === undefined
            ? `"${name}" is not a known subject, and remote schemas are never fetched`
            : loadDocument(schema, name);
      } catch (error) {
        result = `resolving "${name}" failed: ${error instanceof Error ? error.message : String(error)}`;
      }
    }
    external.set(name, result);
    return result;
  };

  return (from, ref) => {
    const hash = ref.indexOf('#');
    const documentPart = hash < 0 ? ref : ref.slice(0, hash);
    const fragment = hash < 0 ? '' : safeDecode(ref.slice(hash + 1));
    let resource: Located | undefined;
    if (documentPart === '') {
      resource = from.doc.resources.get(from.base) ?? from.doc.root;
    } else {
      const absolute = resolveUri(ref, from.base);
      if (absolute !== undefined) resource = from.doc.resources.get(withoutFragment(absolute));
    }
    if (!resource) {
      const loaded = loadExternal(documentPart);
      if (typeof loaded === 'string') return { ok: false, reason: loaded };
      resource = loaded.root;
    }
    if (fragment === undefined) return { ok: false, reason: `"${ref}" has a malformed fragment` };
    if (fragment === '') return { ok: true, target: resource };
    const segments = parsePointer(fragment);
    const target = segments
      ? childOf(resource, ...segments)
      : resource.doc.anchors.get(`${resource.base}#${fragment}`);
    return target
      ? { ok: true, target }
      : { ok: false, reason: `"${ref}" points at nothing in ${resource.doc.name || 'the schema'}` };
  };
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}
