/**
 * JSON Schema compatibility for the schema registry: a pure library (no I/O). See
 * README.md for the change codes and DECISIONS.md for where Portico differs from its peers.
 */

export { checkBackward, checkCompatibility } from './check-compatibility.ts';
export { CheckBudget } from './run-check.ts';
export {
  pinnedKey,
  pinReferences,
  pinTargets,
  type LoadedVersion,
  type PinTarget,
  type Reference,
} from './pinned-references.ts';
export {
  COMPATIBILITY_LEVELS,
  type CompatibilityLevel,
  type CompatibilityOptions,
  type Incompatibility,
} from './types.ts';
