/**
 * A schema seen as the list of object schemas that all apply to a value: `allOf` is
 * flattened and `$ref` followed, so the rules only ever read plain keywords.
 */

import { asObject, hasOwnAssertions, refOf } from './keywords.ts';
import type { RefResolver } from './ref-resolver.ts';
import { childOf, describeLocation, type Located } from './schema-document.ts';

export type Unresolved = { readonly ref: string; readonly where: string; readonly reason: string };

export type Conjunction = {
  /** Where the value sits in its document, for reports about keywords no part declares. */
  readonly home: Located;
  /** Object schemas with assertions of their own; all of them apply. */
  readonly parts: readonly Located[];
  /** Some part is `false`: no value is valid here. */
  readonly empty: boolean;
  readonly unresolved: readonly Unresolved[];
};

export function conjunctionOf(
  resolve: RefResolver,
  home: Located,
  sources: readonly Located[],
): Conjunction {
  const parts: Located[] = [];
  const unresolved: Unresolved[] = [];
  const seen = new Set<object>(); // a self-referencing allOf/$ref chain ends here
  let empty = false;
  const visit = (location: Located): void => {
    if (location.schema === false) empty = true;
    const schema = asObject(location.schema);
    if (!schema || seen.has(schema)) return;
    seen.add(schema);
    const ref = refOf(schema);
    if (ref !== undefined) {
      const resolution = resolve(location, ref);
      if (resolution.ok) visit(resolution.target);
      else unresolved.push({ ref, where: describeLocation(location), reason: resolution.reason });
      if (location.doc.legacy) return; // draft-07 and older ignore the siblings of $ref
    }
    if (hasOwnAssertions(schema)) parts.push(location);
    const allOf = schema['allOf'];
    if (Array.isArray(allOf)) {
      allOf.forEach((_, i) => {
        const child = childOf(location, 'allOf', i);
        if (child) visit(child);
      });
    }
  };
  sources.forEach(visit);
  return { home, parts, empty, unresolved };
}

/** The conjunction with more schemas applying (already-split parts stay split). */
export function extend(
  resolve: RefResolver,
  base: Conjunction,
  sources: readonly Located[],
): Conjunction {
  const more = conjunctionOf(resolve, base.home, sources);
  return {
    home: base.home,
    parts: [...base.parts, ...more.parts],
    empty: base.empty || more.empty,
    unresolved: [...base.unresolved, ...more.unresolved],
  };
}

/** A real place of the value for reports: its first part (also through a $ref), else home. */
export function placeOf(conjunction: Conjunction): Located {
  return conjunction.parts[0] ?? conjunction.home;
}
