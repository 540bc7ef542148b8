import type { FastifyReply, FastifyRequest } from 'fastify';
import { problems } from './problem.ts';

/**
 * Refuses non-finite numbers in a validated request: a 400 like any schema error.
 *
 * Why: Ajv's type coercion (on for query strings, paths and bodies) turns the strings
 * "Infinity" and "-Infinity" into numbers that pass `type: integer`, and `minimum` and
 * `maximum` only test finite numbers, so `?limit=Infinity` or `{"ackWaitSeconds":
 * "-Infinity"}` reached the stores (a 500, or a value stored that no response could
 * serialize). `1e999` in a JSON body parses to Infinity too. No JSON value is non-finite,
 * so nothing valid is refused.
 */
const PARTS = [
  ['query', 'query'],
  ['params', 'path'],
  ['body', 'body'],
] as const;

export function rejectNonFiniteNumbers(
  request: FastifyRequest,
  _reply: FastifyReply,
  done: (error?: Error) => void,
): void {
  for (const [part, location] of PARTS) {
    const pointer = nonFinitePointer(request[part]);
    if (pointer === undefined) continue;
    const detail = 'must be a finite number';
    done(
      problems.validation(`${location} is invalid: ${pointer} ${detail}`, [
        { pointer, detail, in: location },
      ]),
    );
    return;
  }
  done();
}

/** The JSON pointer to the first non-finite number in parsed JSON, if any. */
export function nonFinitePointer(value: unknown): string | undefined {
  return allFinite(value) ? undefined : firstNonFinite(value);
}

/**
 * The check every validated request goes through: no pointer strings (they are worked out
 * only for a value that fails). Iterative: a deeply nested body must not overflow the stack.
 */
function allFinite(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const node = stack.pop();
    if (typeof node === 'number') {
      if (!Number.isFinite(node)) return false;
    } else if (Array.isArray(node)) {
      for (const child of node) stack.push(child);
    } else if (isPlainObject(node)) {
      for (const key in node) stack.push(node[key]);
    }
  }
  return true;
}

function firstNonFinite(value: unknown): string | undefined {
  const stack: [unknown, string][] = [[value, '']];
  while (stack.length > 0) {
    const [node, pointer] = stack.pop()!;
    if (typeof node === 'number') {
      if (!Number.isFinite(node)) return pointer || '/';
    } else if (Array.isArray(node)) {
      for (let i = node.length - 1; i >= 0; i--) stack.push([node[i], `${pointer}/${i}`]);
    } else if (isPlainObject(node)) {
      for (const [key, child] of Object.entries(node).reverse())
        stack.push([child, `${pointer}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`]);
    }
  }
  return undefined;
}

// Parsed JSON, query strings and path parameters only: a raw body (a Buffer, a stream) is
// not walked. The query string parser's objects have a prototype whose prototype is null.
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const prototype = Object.getPrototypeOf(value);
  return (
    prototype === Object.prototype ||
    prototype === null ||
    Object.getPrototypeOf(prototype) === null
  );
}
