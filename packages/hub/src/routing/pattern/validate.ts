import type { PatternProblem } from './types.ts';
import { parseWildcard } from './wildcard.ts';
import { cidrBits } from './ip-bits.ts';

/**
 * Checks a pattern against the EventBridge pattern grammar and reports every problem with
 * a JSON pointer into the pattern and what was expected there. `[]` means valid.
 */

/** `$or` and fields that mix `exists: false` with other matchers multiply into alternatives. */
export const MAX_ALTERNATIVES = 1024;

export const MATCHER_NAMES = [
  'prefix',
  'suffix',
  'equals-ignore-case',
  'wildcard',
  'anything-but',
  'numeric',
  'cidr',
  'exists',
] as const;

const NUMERIC_OPERATORS = ['=', '<', '<=', '>', '>='];
const ANYTHING_BUT_KEYS = ['prefix', 'suffix', 'equals-ignore-case', 'wildcard'];

export function validatePattern(pattern: unknown): PatternProblem[] {
  const problems: PatternProblem[] = [];
  if (!isPlainObject(pattern)) {
    problems.push({
      pointer: '',
      detail: `expected a JSON object (the event pattern), got ${describe(pattern)}`,
    });
    return problems;
  }
  checkFields(pattern, '', problems);
  if (problems.length === 0) {
    const count = countAlternatives(pattern);
    if (count > MAX_ALTERNATIVES) {
      problems.push({
        pointer: '',
        detail: `the pattern expands into ${count >= 1e9 ? 'over a billion' : count} alternatives ($or combinations and fields mixing "exists": false with other matchers); at most ${MAX_ALTERNATIVES} are allowed`,
      });
    }
  }
  return problems;
}

export function pointerSegment(key: string | number): string {
  const text = String(key);
  if (!text.includes('~') && !text.includes('/')) return '/' + text;
  return '/' + text.replace(/~/g, '~0').replace(/\//g, '~1');
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Is this matcher `{"exists": false}`? (It is the only matcher that matches a missing field.) */
export function isExistsFalse(matcher: unknown): boolean {
  return isPlainObject(matcher) && matcher['exists'] === false && Object.keys(matcher).length === 1;
}

function checkFields(
  object: Record<string, unknown>,
  pointer: string,
  problems: PatternProblem[],
): void {
  const keys = Object.keys(object);
  if (keys.length === 0) {
    problems.push({ pointer, detail: 'expected at least one field' });
    return;
  }
  for (const key of keys) {
    const value = object[key];
    const at = pointer + pointerSegment(key);
    if (key === '$or') {
      checkOr(value, at, problems);
    } else if (Array.isArray(value)) {
      checkValueList(value, at, problems);
    } else if (isPlainObject(value)) {
      checkFields(value, at, problems);
    } else {
      problems.push({
        pointer: at,
        detail: `expected an array of values or matchers (values in a pattern are always arrays) or an object of nested fields, got ${describe(value)}`,
      });
    }
  }
}

function checkOr(value: unknown, pointer: string, problems: PatternProblem[]): void {
  if (!Array.isArray(value) || value.length < 2) {
    problems.push({
      pointer,
      detail: `expected an array of at least two pattern objects, got ${describe(value)}`,
    });
    return;
  }
  value.forEach((branch, i) => {
    if (!isPlainObject(branch)) {
      problems.push({
        pointer: pointer + pointerSegment(i),
        detail: `expected a pattern object, got ${describe(branch)}`,
      });
    } else {
      checkFields(branch, pointer + pointerSegment(i), problems);
    }
  });
}

function checkValueList(list: unknown[], pointer: string, problems: PatternProblem[]): void {
  if (list.length === 0) {
    problems.push({ pointer, detail: 'expected a non-empty array of values or matchers' });
    return;
  }
  list.forEach((item, i) => checkValue(item, pointer + pointerSegment(i), problems));
}

function checkValue(item: unknown, pointer: string, problems: PatternProblem[]): void {
  if (typeof item === 'string' || typeof item === 'boolean' || item === null) return;
  if (typeof item === 'number') {
    if (!Number.isFinite(item)) problems.push({ pointer, detail: 'expected a finite number' });
    return;
  }
  if (Array.isArray(item)) {
    problems.push({ pointer, detail: 'expected a value or a matcher object, not a nested array' });
    return;
  }
  if (!isPlainObject(item)) {
    problems.push({
      pointer,
      detail: `expected a value or a matcher object, got ${describe(item)}`,
    });
    return;
  }
  const keys = Object.keys(item);
  if (keys.length !== 1) {
    problems.push({
      pointer,
      detail: `expected a matcher object with exactly one key such as {"prefix": "..."}, got ${keys.length} keys`,
    });
    return;
  }
  const name = keys[0] as string;
  const operand = item[name];
  const at = pointer + pointerSegment(name);
  switch (name) {
    case 'prefix':
    case 'suffix':
      checkAffix(operand, at, problems);
      return;
    case 'equals-ignore-case':
      if (typeof operand !== 'string')
        problems.push({ pointer: at, detail: `expected a string, got ${describe(operand)}` });
      return;
    case 'wildcard':
      checkWildcard(operand, at, problems);
      return;
    case 'anything-but':
      checkAnythingBut(operand, at, problems);
      return;
    case 'numeric':
      checkNumeric(operand, at, problems);
      return;
    case 'cidr':
      if (typeof operand !== 'string' || cidrBits(operand) === undefined) {
        problems.push({
          pointer: at,
          detail: `expected an IPv4 or IPv6 CIDR block like "10.0.0.0/24" or "2001:db8::/32", got ${describe(operand)}`,
        });
      }
      return;
    case 'exists':
      if (typeof operand !== 'boolean')
        problems.push({ pointer: at, detail: `expected true or false, got ${describe(operand)}` });
      return;
    default:
      problems.push({
        pointer: at,
        detail: `unknown matcher ${JSON.stringify(name)}; expected one of ${MATCHER_NAMES.join(', ')}`,
      });
  }
}

function checkAffix(operand: unknown, pointer: string, problems: PatternProblem[]): void {
  if (typeof operand === 'string') return;
  if (isPlainObject(operand)) {
    const keys = Object.keys(operand);
    if (keys.length === 1 && keys[0] === 'equals-ignore-case') {
      const inner = operand['equals-ignore-case'];
      if (typeof inner !== 'string') {
        problems.push({
          pointer: pointer + '/equals-ignore-case',
          detail: `expected a string, got ${describe(inner)}`,
        });
      }
      return;
    }
  }
  problems.push({
    pointer,
    detail: `expected a string or {"equals-ignore-case": "..."}, got ${describe(operand)}`,
  });
}

function checkWildcard(operand: unknown, pointer: string, problems: PatternProblem[]): void {
  if (typeof operand !== 'string') {
    problems.push({
      pointer,
      detail: `expected a wildcard string like "dir/*.png", got ${describe(operand)}`,
    });
    return;
  }
  const parsed = parseWildcard(operand);
  if (!parsed.ok) problems.push({ pointer, detail: parsed.problem });
}

function checkAnythingBut(operand: unknown, pointer: string, problems: PatternProblem[]): void {
  if (typeof operand === 'string') return;
  if (typeof operand === 'number') {
    if (!Number.isFinite(operand)) problems.push({ pointer, detail: 'expected a finite number' });
    return;
  }
  if (Array.isArray(operand)) {
    if (operand.length === 0) {
      problems.push({ pointer, detail: 'expected a non-empty array of strings or of numbers' });
      return;
    }
    let strings = 0;
    let numbers = 0;
    operand.forEach((v, i) => {
      if (typeof v === 'string') strings++;
      else if (typeof v === 'number' && Number.isFinite(v)) numbers++;
      else {
        problems.push({
          pointer: pointer + pointerSegment(i),
          detail: `expected a string or a number (anything-but lists hold only strings or only numbers), got ${describe(v)}`,
        });
      }
    });
    if (strings > 0 && numbers > 0) {
      problems.push({ pointer, detail: 'expected only strings or only numbers, not a mix' });
    }
    return;
  }
  if (isPlainObject(operand)) {
    const keys = Object.keys(operand);
    if (keys.length !== 1) {
      problems.push({
        pointer,
        detail: `expected an object with exactly one of ${ANYTHING_BUT_KEYS.join(', ')}, got ${keys.length} keys`,
      });
      return;
    }
    const name = keys[0] as string;
    const inner = operand[name];
    const at = pointer + pointerSegment(name);
    if (name === 'prefix' || name === 'suffix') {
      if (typeof inner !== 'string' || inner === '') {
        problems.push({
          pointer: at,
          detail: `expected a non-empty string, got ${describe(inner)}`,
        });
      }
    } else if (name === 'equals-ignore-case' || name === 'wildcard') {
      const list = Array.isArray(inner) ? inner : [inner];
      if (list.length === 0) {
        problems.push({ pointer: at, detail: 'expected a string or a non-empty array of strings' });
      }
      list.forEach((v, i) => {
        const itemAt = Array.isArray(inner) ? at + pointerSegment(i) : at;
        if (typeof v !== 'string') {
          problems.push({ pointer: itemAt, detail: `expected a string, got ${describe(v)}` });
        } else if (name === 'wildcard') {
          checkWildcard(v, itemAt, problems);
        }
      });
    } else {
      problems.push({
        pointer: at,
        detail: `unknown anything-but matcher ${JSON.stringify(name)}; expected one of ${ANYTHING_BUT_KEYS.join(', ')}`,
      });
    }
    return;
  }
  problems.push({
    pointer,
    detail: `expected a string, a number, a non-empty array of strings or of numbers, or an object with one of ${ANYTHING_BUT_KEYS.join(', ')}; got ${describe(operand)}`,
  });
}

function checkNumeric(operand: unknown, pointer: string, problems: PatternProblem[]): void {
  const shape = 'expected an array of operator/number pairs like [">", 0] or [">", 0, "<=", 5]';
  if (!Array.isArray(operand) || (operand.length !== 2 && operand.length !== 4)) {
    problems.push({ pointer, detail: `${shape}, got ${describe(operand)}` });
    return;
  }
  let ok = true;
  for (let i = 0; i < operand.length; i += 2) {
    const op = operand[i];
    const value = operand[i + 1];
    if (typeof op !== 'string' || !NUMERIC_OPERATORS.includes(op)) {
      problems.push({
        pointer: pointer + pointerSegment(i),
        detail: `unknown operator ${typeof op === 'string' ? JSON.stringify(op) : describe(op)}; expected one of "=", "<", "<=", ">", ">="`,
      });
      ok = false;
    }
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      problems.push({
        pointer: pointer + pointerSegment(i + 1),
        detail: `expected a number, got ${describe(value)}`,
      });
      ok = false;
    }
  }
  if (!ok || operand.length === 2) return;
  const [op1, n1, op2, n2] = operand as [string, number, string, number];
  if (op1 === '=' || op2 === '=') {
    problems.push({ pointer, detail: '"=" cannot be combined with another operator' });
    return;
  }
  const isLower = (op: string) => op === '>' || op === '>=';
  if (isLower(op1) === isLower(op2)) {
    problems.push({
      pointer,
      detail: 'expected one lower bound (">" or ">=") and one upper bound ("<" or "<=")',
    });
    return;
  }
  const [loOp, lo, hiOp, hi] = isLower(op1) ? [op1, n1, op2, n2] : [op2, n2, op1, n1];
  if (lo > hi || (lo === hi && (loOp === '>' || hiOp === '<'))) {
    problems.push({
      pointer,
      detail: `the range is empty: no number is ${loOp} ${lo} and ${hiOp} ${hi}`,
    });
  }
}

/** How many conjunctive alternatives the pattern expands into (capped at 1e9). */
export function countAlternatives(object: Record<string, unknown>): number {
  let total = 1;
  for (const [key, value] of Object.entries(object)) {
    let factor = 1;
    if (key === '$or' && Array.isArray(value)) {
      factor = 0;
      for (const branch of value) if (isPlainObject(branch)) factor += countAlternatives(branch);
    } else if (Array.isArray(value)) {
      const absent = value.some(isExistsFalse);
      const positive = value.some((m) => !isExistsFalse(m));
      factor = absent && positive ? 2 : 1;
    } else if (isPlainObject(value)) {
      factor = countAlternatives(value);
    }
    total = Math.min(total * factor, 1e9);
  }
  return total;
}

export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value))
    return value.length === 0 ? 'an empty array' : `an array ${clip(safeJson(value))}`;
  if (value === null) return 'null';
  if (typeof value === 'object') return `an object ${clip(safeJson(value))}`;
  if (typeof value === 'string') return `the string ${clip(JSON.stringify(value))}`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return `a ${typeof value}`;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function clip(text: string): string {
  return text.length > 60 ? text.slice(0, 57) + '...' : text;
}
