/** Compatibility levels: which previous versions to check, and in which direction. */

import { CheckBudget, runCheck } from './run-check.ts';
import {
  COMPATIBILITY_LEVELS,
  type CompatibilityLevel,
  type CompatibilityOptions,
  type Incompatibility,
} from './types.ts';

const NEW = 'the new schema';

/**
 * Data written with the OLD schema can be read with the NEW one: every value valid for
 * `writer` is valid for `reader`. [] means compatible.
 */
export function checkBackward(
  reader: unknown,
  writer: unknown,
  options?: CompatibilityOptions,
): Incompatibility[] {
  return runCheck(
    { reader, writer, readerName: NEW, writerName: 'the old schema', newSide: 'reader' },
    options,
  );
}

/**
 * BACKWARD: the new schema reads data of the previous one; FORWARD: the previous schema
 * reads data of the new one; FULL: both. *_TRANSITIVE: against every previous version
 * (oldest first), otherwise against the latest only. NONE: no check.
 */
export function checkCompatibility(
  level: CompatibilityLevel,
  newSchema: unknown,
  previousVersions: readonly unknown[],
  options?: CompatibilityOptions,
): Incompatibility[] {
  if (!COMPATIBILITY_LEVELS.includes(level)) {
    throw new RangeError(`Unknown compatibility level ${JSON.stringify(level)}`);
  }
  if (level === 'NONE' || previousVersions.length === 0) return [];
  const transitive = level.endsWith('_TRANSITIVE');
  const backward = level.startsWith('BACKWARD') || level.startsWith('FULL');
  const forward = level.startsWith('FORWARD') || level.startsWith('FULL');
  const count = previousVersions.length;
  const targets = transitive
    ? previousVersions.map((schema, i) => ({ schema, i }))
    : [{ schema: previousVersions[count - 1], i: count - 1 }];
  // One budget for every version and direction: a transitive check is one check's work.
  const shared = { ...options, budget: options?.budget ?? new CheckBudget() };
  const out: Incompatibility[] = [];
  for (const { schema, i } of targets) {
    const name = transitive ? `previous version ${i + 1} of ${count}` : 'the latest version';
    if (backward)
      out.push(
        ...runCheck(
          {
            reader: newSchema,
            writer: schema,
            readerName: NEW,
            writerName: name,
            newSide: 'reader',
          },
          shared,
        ),
      );
    if (forward)
      out.push(
        ...runCheck(
          {
            reader: schema,
            writer: newSchema,
            readerName: name,
            writerName: NEW,
            newSide: 'writer',
          },
          shared,
        ),
      );
  }
  return out;
}
