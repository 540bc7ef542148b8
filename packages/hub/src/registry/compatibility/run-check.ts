/** One directional check between two whole schemas, with its own state. */

import {
  capitalize,
  type CheckContext,
  CheckTooComplex,
  COMPARISON_STEPS,
  unresolvedReference,
} from './check-context.ts';
import { compareSchemas } from './compare-schemas.ts';
import { conjunctionOf } from './conjunction.ts';
import { jsonEqual } from './json-equal.ts';
import { asObject, refOf } from './keywords.ts';
import { createRefResolver } from './ref-resolver.ts';
import { describeLocation, loadDocument, type SchemaDoc } from './schema-document.ts';
import type { CompatibilityOptions, Incompatibility } from './types.ts';
import { uniqueIncompatibilities } from './unique-incompatibilities.ts';

/**
 * Steps of work one check may do (`spend`): 50,000 comparisons at most, twice what the
 * largest schema the registry takes (512 KiB) needs when every subschema differs, and
 * about a second of the event loop at worst. 200,000 comparisons without counting the
 * work inside them let a 100 KB union of unions, or one comparison of thousands of
 * `allOf` parts or patternProperties, hold the event loop for 5 to 15 seconds.
 */
const STEP_BUDGET = 1_000_000;

/**
 * The work several checks may do together: one per request, so that a transitive level
 * over many versions, or a contract with many schemas, is bounded as one check is.
 */
export class CheckBudget {
  remaining: number;
  constructor(steps: number = STEP_BUDGET) {
    this.remaining = steps;
  }
}

export type Roles = {
  readonly reader: unknown;
  readonly writer: unknown;
  readonly readerName: string;
  readonly writerName: string;
  /** Which of the two is the schema being registered: pointers point into it. */
  readonly newSide: 'reader' | 'writer';
};

export function runCheck(roles: Roles, options: CompatibilityOptions = {}): Incompatibility[] {
  for (const [schema, name] of [
    [roles.reader, roles.readerName],
    [roles.writer, roles.writerName],
  ] as const) {
    if (typeof schema !== 'boolean' && !asObject(schema)) {
      return [
        {
          pointer: '',
          change: 'invalid-schema',
          detail: `${capitalize(name)} is not a JSON Schema (an object or a boolean)`,
        },
      ];
    }
  }
  if (jsonEqual(roles.reader, roles.writer)) return [];
  const budget = options.budget ?? new CheckBudget();
  const context: CheckContext = {
    allowOptionalPropertyInOpenModel: options.allowOptionalPropertyInOpenModel ?? true,
    resolve: createRefResolver(options.resolveExternalRef),
    readerName: roles.readerName,
    writerName: roles.writerName,
    newSide: roles.newSide,
    state: {
      inProgress: new Set(),
      done: new Map(),
      ids: new WeakMap(),
      lastId: 0,
      patterns: new Map(),
      budget,
      depth: 0,
    },
    compare: compareSchemas,
  };
  const readerDoc = loadDocument(roles.reader, '');
  const writerDoc = loadDocument(roles.writer, '');
  const newDoc = roles.newSide === 'reader' ? readerDoc : writerDoc;
  const newName = roles.newSide === 'reader' ? roles.readerName : roles.writerName;
  try {
    const writer = conjunctionOf(context.resolve, writerDoc.root, [writerDoc.root]);
    return uniqueIncompatibilities([
      danglingReferences(context, newDoc, newName),
      compareSchemas(context, writer, readerDoc.root),
    ]);
  } catch (error) {
    if (!(error instanceof CheckTooComplex)) throw error;
    const detail = `The schemas are too large or too deeply nested to compare (over ${STEP_BUDGET / COMPARISON_STEPS} comparisons' worth of work, or nesting deeper than the limit)`;
    return [{ pointer: '', change: 'check-too-complex', detail }];
  }
}

/**
 * Every reference of the new schema that cannot be followed, wherever it is: a schema
 * whose parts are unknown (a remote URL, a missing subject) cannot be registered safely,
 * even where the walk would not look (a tolerated new optional property, say).
 */
function danglingReferences(
  context: CheckContext,
  doc: SchemaDoc,
  name: string,
): Incompatibility[] {
  return doc.references.flatMap((site) => {
    const schema = asObject(site.schema) ?? {};
    const ref = refOf(schema);
    if (ref === undefined) return [];
    const resolution = context.resolve(site, ref);
    if (resolution.ok) return [];
    return [
      unresolvedReference(name, { ref, where: describeLocation(site), reason: resolution.reason }),
    ];
  });
}
