/**
 * Schema changes through the registry's JSON Schema checker, in the direction that
 * matters for the data:
 *
 * - `writes`: the contract's owner produces the data (events it publishes, API
 *   responses). Readers that still hold the old schema must read the new data: FORWARD
 *   (every value valid for the new schema is valid for the old one).
 * - `reads`: the owner consumes the data (events it consumes, request bodies and
 *   parameters of its API). What existing writers send must still be accepted: BACKWARD.
 * - `both`: FULL, when the direction is unknown (a bare JSON Schema file defaults to its
 *   own `--level`, see contract-check.ts).
 */
import {
  checkCompatibility,
  type CompatibilityLevel,
  type CompatibilityOptions,
} from '../registry/compatibility/index.ts';
import type { ContractChange } from './contract-change.ts';

export type DataDirection = 'writes' | 'reads' | 'both';

const LEVEL: Record<DataDirection, CompatibilityLevel> = {
  writes: 'FORWARD',
  reads: 'BACKWARD',
  both: 'FULL',
};

/**
 * The checker could not decide these: a `$ref` it could not follow. Where the caller
 * resolves references (`resolveExternalRef`: the hub, which loads every registered subject
 * version a schema references), what is still unresolvable is a reference nobody can read
 * (a version the registry lacks, a URL, a name the schema never registered), so the change
 * is not known to be safe: breaking (`?force=true` still publishes), as `check-too-complex`
 * is and as the registry refuses such a schema; otherwise a publisher could hide a breaking
 * change behind it. Offline (the CLI, no resolver: it cannot read the registry), a warning.
 */
const UNDECIDED = new Set(['ref-unresolvable']);

export function schemaChanges(
  previous: unknown,
  next: unknown,
  how: DataDirection | CompatibilityLevel,
  location: string,
  options?: CompatibilityOptions,
): ContractChange[] {
  const level = how in LEVEL ? LEVEL[how as DataDirection] : (how as CompatibilityLevel);
  const undecided = options?.resolveExternalRef ? 'breaking' : 'warning';
  try {
    return checkCompatibility(level, next, [previous], options).map((i) => ({
      severity: UNDECIDED.has(i.change) ? undecided : 'breaking',
      code: i.change,
      location,
      pointer: i.pointer,
      detail: i.detail,
    }));
  } catch (error) {
    return [
      {
        severity: 'warning',
        code: 'schema-not-compared',
        location,
        detail: `the schemas could not be compared: ${(error as Error).message}`,
      },
    ];
  }
}
