/**
 * JSON Schema compatibility for the schema registry: a pure library (no I/O). See
 * README.md for the change codes and DECISIONS.md for where Portico differs from its peers.
 */

export { checkBackward, checkCompatibility } from './check-compatibility.ts';
export { CheckBudget } from './run-check.ts';
// How the checker reads `$ref`s, for callers that must agree with it (the catalog pins
// references to other subjects before comparing).
export { parsePointer, valueAt } from './json-pointer.ts';
export { loadDocument, resolveUri, withoutFragment } from './schema-document.ts';
export {
  COMPATIBILITY_LEVELS,
  type CompatibilityLevel,
  type CompatibilityOptions,
  type Incompatibility,
} from './types.ts';
