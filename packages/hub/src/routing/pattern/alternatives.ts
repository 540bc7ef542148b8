import { isExistsFalse, isPlainObject } from './validate.ts';

/**
 * A (valid) pattern in disjunctive normal form: a list of alternatives, each a conjunction
 * of conditions on one field path. `$or` branches, and fields mixing `exists: false` with
 * positive matchers, become separate alternatives.
 */
export type RawCondition = {
  path: string[];
  /** true: no value may be at this path (`exists: false`); false: some value must match one of `matchers`. */
  absent: boolean;
  matchers: unknown[];
};

export function expandAlternatives(pattern: Record<string, unknown>): RawCondition[][] {
  if (isConjunction(pattern)) {
    const conditions: RawCondition[] = [];
    collectConjunction(pattern, [], conditions);
    return [conditions];
  }
  return expandAt(pattern, []);
}

/** Most patterns have no `$or` and no mixed field: one alternative, built without copying. */
function isConjunction(object: Record<string, unknown>): boolean {
  for (const key in object) {
    const value = object[key];
    if (key === '$or') return false;
    if (Array.isArray(value)) {
      if (value.some(isExistsFalse) && !value.every(isExistsFalse)) return false;
    } else if (isPlainObject(value) && !isConjunction(value)) {
      return false;
    }
  }
  return true;
}

function collectConjunction(
  object: Record<string, unknown>,
  prefix: string[],
  out: RawCondition[],
): void {
  for (const key of Object.keys(object)) {
    const value = object[key];
    if (Array.isArray(value)) {
      out.push({
        path: [...prefix, key],
        absent: value.every(isExistsFalse),
        matchers: value.every(isExistsFalse) ? [] : value,
      });
    } else if (isPlainObject(value)) {
      collectConjunction(value, [...prefix, key], out);
    }
  }
}

function expandAt(object: Record<string, unknown>, prefix: string[]): RawCondition[][] {
  let alternatives: RawCondition[][] = [[]];
  for (const key of Object.keys(object)) {
    const value = object[key];
    let options: RawCondition[][];
    if (key === '$or' && Array.isArray(value)) {
      options = value.flatMap((branch) => expandAt(branch as Record<string, unknown>, prefix));
    } else if (Array.isArray(value)) {
      const path = [...prefix, key];
      const positive = value.filter((m) => !isExistsFalse(m));
      options = [];
      if (positive.length > 0) options.push([{ path, absent: false, matchers: positive }]);
      if (positive.length < value.length) options.push([{ path, absent: true, matchers: [] }]);
    } else if (isPlainObject(value)) {
      options = expandAt(value, [...prefix, key]);
    } else {
      continue;
    }
    alternatives = alternatives.flatMap((a) => options.map((o) => [...a, ...o]));
  }
  return alternatives;
}
