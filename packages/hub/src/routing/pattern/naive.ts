import ipaddr from 'ipaddr.js';
import type { Pattern } from './types.ts';
import { isExistsFalse, isPlainObject } from './validate.ts';
import { indexOfSegment } from './wildcard.ts';

/**
 * The reference interpreter: walks one (valid) pattern over one event, the way a person
 * would write it by hand. It is the benchmark's peer and the tests' oracle for
 * RuleMatcher, so it shares none of the matcher's compiled machinery.
 *
 * Semantics (EventBridge / event-ruler):
 * - a leaf is a string, number, boolean or null; objects and arrays are not leaves;
 * - an array in the event is looked through: a field matches if any element matches, and
 *   all the conditions below one array must hold within the same element (array
 *   consistency). Conditions that only ask for absence pin nothing, so below an array
 *   they must hold for every element ("no element has the field");
 * - `anything-but` and every positive matcher need a value; `exists: false` matches only
 *   when no leaf is there.
 */
export function naiveMatch(pattern: Pattern, event: unknown): boolean {
  if (!needsExpansion(pattern)) return matchNode(pattern, event);
  for (const alternative of expand(pattern)) {
    if (matchNode(alternative, event)) return true;
  }
  return false;
}

/** Conditions on the node's own path, after `$or` expansion merged two lists onto one field. */
const HERE = Symbol('conditions on this very path');
type Node = { [key: string]: unknown; [HERE]?: unknown[][] };

function matchNode(node: Node, value: unknown): boolean {
  if (Array.isArray(value)) {
    if (hasPositive(node)) {
      for (const element of value) if (matchNode(node, element)) return true;
      return false;
    }
    for (const element of value) if (!matchNode(node, element)) return false;
    return true;
  }
  const here = node[HERE];
  if (here) {
    for (const list of here) {
      const ok = isAbsenceList(list)
        ? !isLeaf(value)
        : isLeaf(value) && list.some((m) => testMatcher(m, value));
      if (!ok) return false;
    }
  }
  for (const key of Object.keys(node)) {
    const condition = node[key];
    const child = isPlainObject(value) && Object.hasOwn(value, key) ? value[key] : undefined;
    const ok = Array.isArray(condition)
      ? matchList(condition, child)
      : matchNode(condition as Node, child);
    if (!ok) return false;
  }
  return true;
}

function matchList(list: unknown[], value: unknown): boolean {
  if (isAbsenceList(list)) return !hasLeaf(value);
  return anyLeafMatches(list, value);
}

function anyLeafMatches(list: unknown[], value: unknown): boolean {
  if (Array.isArray(value)) {
    for (const element of value) if (anyLeafMatches(list, element)) return true;
    return false;
  }
  if (!isLeaf(value)) return false;
  for (const matcher of list) if (testMatcher(matcher, value)) return true;
  return false;
}

function hasLeaf(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(hasLeaf);
  return isLeaf(value);
}

function isLeaf(value: unknown): boolean {
  return (
    typeof value === 'string' ||
    typeof value === 'number' ||
    typeof value === 'boolean' ||
    value === null
  );
}

function isAbsenceList(list: unknown[]): boolean {
  return list.every(isExistsFalse);
}

function hasPositive(node: Node): boolean {
  const here = node[HERE];
  if (here && here.some((list) => !isAbsenceList(list))) return true;
  for (const key of Object.keys(node)) {
    const condition = node[key];
    if (Array.isArray(condition) ? !isAbsenceList(condition) : hasPositive(condition as Node))
      return true;
  }
  return false;
}

function testMatcher(matcher: unknown, value: unknown): boolean {
  if (!isPlainObject(matcher)) return matcher === value;
  const name = Object.keys(matcher)[0];
  const operand = matcher[name as string];
  switch (name) {
    case 'prefix':
      if (typeof value !== 'string') return false;
      return typeof operand === 'string'
        ? value.startsWith(operand)
        : lower(value).startsWith(lower(ignoreCaseOperand(operand)));
    case 'suffix':
      if (typeof value !== 'string') return false;
      return typeof operand === 'string'
        ? value.endsWith(operand)
        : lower(value).endsWith(lower(ignoreCaseOperand(operand)));
    case 'equals-ignore-case':
      return typeof value === 'string' && lower(value) === lower(operand as string);
    case 'wildcard':
      return typeof value === 'string' && wildcardMatches(operand as string, value);
    case 'anything-but':
      return !isExcluded(operand, value);
    case 'numeric':
      return typeof value === 'number' && numericHolds(operand as unknown[], value);
    case 'cidr':
      return typeof value === 'string' && cidrContains(operand as string, value);
    case 'exists':
      return operand === true;
    default:
      return false;
  }
}

function isExcluded(operand: unknown, value: unknown): boolean {
  if (Array.isArray(operand)) return operand.some((excluded) => excluded === value);
  if (!isPlainObject(operand)) return operand === value;
  if (typeof value !== 'string') return false;
  const name = Object.keys(operand)[0];
  const inner = operand[name as string];
  const list = (Array.isArray(inner) ? inner : [inner]) as string[];
  switch (name) {
    case 'prefix':
      return value.startsWith(inner as string);
    case 'suffix':
      return value.endsWith(inner as string);
    case 'equals-ignore-case':
      return list.some((text) => lower(text) === lower(value));
    case 'wildcard':
      return list.some((text) => wildcardMatches(text, value));
    default:
      return false;
  }
}

function numericHolds(operations: unknown[], value: number): boolean {
  for (let i = 0; i < operations.length; i += 2) {
    const bound = operations[i + 1] as number;
    switch (operations[i]) {
      case '=':
        if (!(value === bound)) return false;
        break;
      case '<':
        if (!(value < bound)) return false;
        break;
      case '<=':
        if (!(value <= bound)) return false;
        break;
      case '>':
        if (!(value > bound)) return false;
        break;
      case '>=':
        if (!(value >= bound)) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

function cidrContains(block: string, text: string): boolean {
  let address: ipaddr.IPv4 | ipaddr.IPv6;
  // The cheap shape checks only spare ipaddr.js from throwing on every non-address.
  if (/^[0-9.]+$/.test(text) && ipaddr.IPv4.isValidFourPartDecimal(text))
    address = ipaddr.IPv4.parse(text);
  else if (text.includes(':') && ipaddr.IPv6.isValid(text)) address = ipaddr.IPv6.parse(text);
  else return false;
  const range: [ipaddr.IPv4 | ipaddr.IPv6, number] = block.includes('/')
    ? ipaddr.parseCIDR(block)
    : [ipaddr.parse(block), block.includes(':') ? 128 : 32];
  return address.kind() === range[0].kind() && address.match(range);
}

/**
 * Splits the wildcard at its unescaped stars and finds the literal pieces from left to
 * right (leftmost is exact when `*` is the only operator). Not a RegExp: a backtracking
 * engine takes time exponential in the number of stars (`*a*a*a*b` against "aaaa…").
 * The search itself is the one string primitive shared with the compiled matcher (a
 * linear one for long pieces, see wildcard.ts).
 */
function wildcardMatches(wildcard: string, text: string): boolean {
  const pieces = [''];
  for (let i = 0; i < wildcard.length; i++) {
    const ch = wildcard[i] as string;
    if (ch === '*') pieces.push('');
    else pieces[pieces.length - 1] += ch === '\\' ? (wildcard[++i] as string) : ch;
  }
  const first = pieces[0] as string;
  if (pieces.length === 1) return text === first;
  const last = pieces[pieces.length - 1] as string;
  if (text.length < first.length + last.length) return false;
  if (!text.startsWith(first) || !text.endsWith(last)) return false;
  let from = first.length;
  for (const piece of pieces.slice(1, -1)) {
    const at = indexOfSegment(text, piece, from);
    if (at < 0 || at + piece.length > text.length - last.length) return false;
    from = at + piece.length;
  }
  return true;
}

function ignoreCaseOperand(operand: unknown): string {
  return (operand as Record<string, string>)['equals-ignore-case'] as string;
}

function lower(text: string): string {
  return text.toLowerCase();
}

/** `$or`, and fields mixing `exists: false` with positive matchers, need expansion. */
function needsExpansion(node: Record<string, unknown>): boolean {
  for (const key of Object.keys(node)) {
    const value = node[key];
    if (key === '$or') return true;
    if (Array.isArray(value)) {
      if (value.some(isExistsFalse) && !value.every(isExistsFalse)) return true;
    } else if (isPlainObject(value) && needsExpansion(value)) {
      return true;
    }
  }
  return false;
}

function expand(object: Record<string, unknown>): Node[] {
  let alternatives: Node[] = [{}];
  for (const key of Object.keys(object)) {
    const value = object[key];
    let options: Node[];
    if (key === '$or') {
      options = (value as Record<string, unknown>[]).flatMap(expand);
    } else if (Array.isArray(value)) {
      const positive = value.filter((m) => !isExistsFalse(m));
      options = [];
      if (positive.length > 0) options.push({ [key]: positive });
      if (positive.length < value.length) options.push({ [key]: [{ exists: false }] });
    } else {
      options = expand(value as Record<string, unknown>).map((sub) => ({ [key]: sub }));
    }
    alternatives = alternatives.flatMap((a) => options.map((o) => merge(a, o)));
  }
  return alternatives;
}

function merge(a: Node, b: Node): Node {
  const result: Node = { ...a };
  const here = [...(a[HERE] ?? []), ...(b[HERE] ?? [])];
  if (here.length > 0) result[HERE] = here;
  for (const key of Object.keys(b)) {
    result[key] = Object.hasOwn(result, key) ? merge(asNode(result[key]), asNode(b[key])) : b[key];
  }
  return result;
}

function asNode(condition: unknown): Node {
  return Array.isArray(condition) ? { [HERE]: [condition] } : (condition as Node);
}
