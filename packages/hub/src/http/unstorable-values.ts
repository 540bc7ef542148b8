import type { FastifyReply, FastifyRequest } from 'fastify';
import { problems } from './problem.ts';

/**
 * Values no store can keep as sent, refused in validated requests with a 400 like any schema
 * error (and, for non-finite numbers, in events: events/http-binding.ts).
 *
 * - Non-finite numbers. Ajv's type coercion (on for query strings and paths, see
 *   validator-compiler.ts) turns the strings "Infinity" and "-Infinity" into numbers that
 *   pass `type: integer`, and `minimum` and `maximum` only test finite numbers, so
 *   `?limit=Infinity` reached the stores (a 500, or a value stored that no response could
 *   serialize). `1e999` in JSON parses to Infinity: a field typed as a number refuses it,
 *   untyped ones (patterns, filters) are walked here. No JSON value is non-finite, so nothing
 *   valid is refused.
 * - U+0000 in a string or key. PostgreSQL text cannot hold it ("invalid byte sequence for
 *   encoding UTF8: 0x00"), so in cluster mode a NUL in a name, URL, path or query
 *   parameter was a 500 where SQLite stored it. Refused on both engines, so they answer
 *   alike. (Inside an event's data it is stored as JSON, escaped: events are not checked
 *   for it here.)
 */
export type Unstorable = { pointer: string; detail: string };

const NON_FINITE = 'must be a finite number';
const NUL = 'must not contain the NUL character (U+0000)';

const PARTS = [
  ['query', 'query'],
  ['params', 'path'],
  ['body', 'body'],
] as const;

/** A preHandler for routes that validate input (http/server.ts adds it). */
export function rejectUnstorableValues(
  request: FastifyRequest,
  _reply: FastifyReply,
  done: (error?: Error) => void,
): void {
  for (const [part, location] of PARTS) {
    const found = firstUnstorable(request[part], { nul: true });
    if (found === undefined) continue;
    const { pointer, detail } = found;
    done(
      problems.validation(`${location} is invalid: ${pointer} ${detail}`, [
        { pointer, detail, in: location },
      ]),
    );
    return;
  }
  done();
}

/**
 * The first non-finite number (and, with `nul`, the first string or key holding U+0000) in
 * parsed JSON, a query string or path parameters, with its JSON pointer; a raw body (a
 * Buffer, a stream) is not walked.
 */
export function firstUnstorable(value: unknown, options: { nul: boolean }): Unstorable | undefined {
  return allStorable(value, options.nul) ? undefined : locate(value, options.nul);
}

/**
 * The check every validated request goes through: no pointer strings (they are worked out
 * only for a value that fails). Iterative: a deeply nested body must not overflow the stack.
 */
function allStorable(value: unknown, nul: boolean): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const node = stack.pop();
    if (typeof node === 'number') {
      if (!Number.isFinite(node)) return false;
    } else if (typeof node === 'string') {
      if (nul && node.includes('\0')) return false;
    } else if (Array.isArray(node)) {
      for (const child of node) stack.push(child);
    } else if (isPlainObject(node)) {
      for (const key in node) {
        if (nul && key.includes('\0')) return false;
        stack.push(node[key]);
      }
    }
  }
  return true;
}

function locate(value: unknown, nul: boolean): Unstorable | undefined {
  const stack: [unknown, string][] = [[value, '']];
  while (stack.length > 0) {
    const [node, pointer] = stack.pop()!;
    if (typeof node === 'number') {
      if (!Number.isFinite(node)) return { pointer: pointer || '/', detail: NON_FINITE };
    } else if (typeof node === 'string') {
      if (nul && node.includes('\0')) return { pointer: pointer || '/', detail: NUL };
    } else if (Array.isArray(node)) {
      for (let i = node.length - 1; i >= 0; i--) stack.push([node[i], `${pointer}/${i}`]);
    } else if (isPlainObject(node)) {
      for (const [key, child] of Object.entries(node).reverse()) {
        const at = `${pointer}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;
        if (nul && key.includes('\0')) return { pointer: at, detail: NUL };
        stack.push([child, at]);
      }
    }
  }
  return undefined;
}

// Parsed JSON, query strings and path parameters only. The query string parser's objects
// have a prototype whose prototype is null.
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const prototype = Object.getPrototypeOf(value);
  return (
    prototype === Object.prototype ||
    prototype === null ||
    Object.getPrototypeOf(prototype) === null
  );
}
