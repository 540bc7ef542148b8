/**
 * Guards for `/graphql`, as runtime (envelop/Yoga) plugins, so a hostile request is a GraphQL
 * error with a 4xx status instead of the runtime's opaque 500.
 *
 * The errors are plain objects, not `GraphQLError`s: under the test runner this module's
 * `graphql` is another copy than the runtime's, whose `instanceof` checks then mask a thrown
 * error as an unexpected 500. A result's errors are only serialised, so plain objects do.
 */

import { deeperThan, tooDeepDetail } from '../../http/json-depth.ts';

/**
 * How deeply `{`, `[` and `(` may nest in a document. graphql-js parses, validates and plans
 * recursively: a few thousand levels exhaust the stack (a RangeError, answered 500). Real
 * documents stay far below (the full introspection query nests about 15 levels).
 */
export const MAX_DOCUMENT_NESTING = 128;

type ErrorResult = { errors: { message: string; extensions: Record<string, unknown> }[] };

function badRequest(message: string): ErrorResult {
  return { errors: [{ message, extensions: { code: 'BAD_REQUEST', http: { status: 400 } } }] };
}

const [OPEN_BRACE, OPEN_BRACKET, OPEN_PAREN] = [0x7b, 0x5b, 0x28];
const [CLOSE_BRACE, CLOSE_BRACKET, CLOSE_PAREN] = [0x7d, 0x5d, 0x29];
const [QUOTE, HASH, BACKSLASH, NEWLINE, RETURN] = [0x22, 0x23, 0x5c, 0x0a, 0x0d];

/**
 * Whether the document nests deeper than `limit`: one pass over its characters (cheaper than
 * lexing; it runs on every request, parsed documents being cached), skipping strings, block
 * strings and comments as the GraphQL lexer does. Malformed text is left to the parser.
 */
export function nestsDeeperThan(source: string, limit: number = MAX_DOCUMENT_NESTING): boolean {
  let depth = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source.charCodeAt(i);
    if (c === OPEN_BRACE || c === OPEN_BRACKET || c === OPEN_PAREN) {
      if (++depth > limit) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET || c === CLOSE_PAREN) depth -= 1;
    else if (c === HASH) i = lineEnd(source, i);
    else if (c === QUOTE) i = stringEnd(source, i);
  }
  return false;
}

function lineEnd(source: string, from: number): number {
  let i = from;
  while (i + 1 < source.length && !isLineBreak(source.charCodeAt(i + 1))) i++;
  return i;
}

function isLineBreak(c: number): boolean {
  return c === NEWLINE || c === RETURN;
}

/** The index of the string's closing quote (or where the lexer would give up on it). */
function stringEnd(source: string, open: number): number {
  if (source.startsWith('"""', open)) {
    // A block string ends at the next `"""` not escaped as `\"""`.
    let i = open + 3;
    for (;;) {
      const close = source.indexOf('"""', i);
      if (close === -1) return source.length;
      if (source.charCodeAt(close - 1) !== BACKSLASH) return close + 2;
      i = close + 3;
    }
  }
  for (let i = open + 1; i < source.length; i++) {
    const c = source.charCodeAt(i);
    if (c === BACKSLASH) i++;
    else if (c === QUOTE || isLineBreak(c)) return i;
  }
  return source.length;
}

type ParamsPayload = {
  params: { query?: unknown; variables?: unknown; extensions?: unknown };
  setResult: (result: ErrorResult) => void;
};
type RequestParsePayload = {
  requestParser?: (request: Request) => unknown;
  setRequestParser: (fn: (request: Request) => unknown) => void;
};

/**
 * Refuses a document nested too deeply before the runtime parses it, and variables or
 * extensions nested too deeply to coerce and send on (this route reads its JSON body raw,
 * past the hub's JSON depth check, http/json-depth.ts): a custom scalar takes any JSON, and
 * one 100 000 levels deep took seconds to fail as an unexpected error.
 */
export function useDocumentLimits(): Record<string, unknown> {
  return {
    onParams({ params, setResult }: ParamsPayload) {
      if (typeof params.query === 'string' && nestsDeeperThan(params.query))
        setResult(badRequest(`the document nests deeper than ${MAX_DOCUMENT_NESTING} levels`));
      else
        for (const name of ['variables', 'extensions'] as const) {
          const pointer = deeperThan(params[name]);
          if (pointer !== undefined) {
            setResult(badRequest(`"${name}" is invalid: ${pointer} ${tooDeepDetail()}`));
            return;
          }
        }
    },
  };
}

/**
 * Yoga reads `variables` and `extensions` of a GET (and of a form POST) with a bare
 * JSON.parse: a malformed one was a 500. Now the 400 a malformed JSON body gets.
 */
export function useRequestParamErrors(): Record<string, unknown> {
  return {
    onRequestParse({ requestParser, setRequestParser }: RequestParsePayload) {
      if (!requestParser) return;
      setRequestParser(async (request) => {
        try {
          return await requestParser(request);
        } catch (error) {
          if (!(error instanceof SyntaxError)) throw error;
          // A Response returned by a request parser is the answer.
          return Response.json(
            badRequest('the "variables" or "extensions" parameter is not valid JSON'),
            { status: 400 },
          );
        }
      });
    },
  };
}

/**
 * How many fields an operation may select, counted with its fragments spread out. Each field
 * costs the runtime validation, planning and execution time on the event loop, and fragments
 * multiply: ten aliases per fragment, each spreading the next, select 10^n fields in n short
 * lines (four such fragments, 1 KB of query, held the hub for about a second; six, minutes).
 * Real operations select hundreds (the full introspection query about 200).
 */
export const MAX_SELECTED_FIELDS = 1000;

/** How deeply selections may nest once fragments are spread out (a hop counts as a level). */
const MAX_SPREAD_DEPTH = 2 * MAX_DOCUMENT_NESTING;

type AstNode = {
  kind: string;
  name?: { value: string };
  selectionSet?: { selections: readonly AstNode[] };
};
type ValidatePayload = {
  params: { documentAST: { definitions: readonly AstNode[] } };
  setResult: (errors: ErrorResult['errors']) => void;
};

class TooLarge extends Error {}

/** A selection set's fields (fragments spread out) and how deep it nests below itself. */
type Size = { fields: number; height: number };

/**
 * The fields the document's operations select, fragments spread out, or a refusal. Each
 * fragment is measured once (memoised), so this is linear in the document; a fragment cycle
 * counts nothing here (validation reports it).
 */
export function selectedFieldsProblem(document: {
  definitions: readonly AstNode[];
}): string | undefined {
  const fragments = new Map<string, AstNode>();
  for (const d of document.definitions)
    if (d.kind === 'FragmentDefinition' && d.name) fragments.set(d.name.value, d);
  const sizes = new Map<string, Size>();
  const spreading = new Set<string>();

  const tooDeep = () =>
    new TooLarge(`selections nest deeper than ${MAX_SPREAD_DEPTH} levels through fragments`);
  // `depth`: selections and fragment hops above `node`, which bounds this recursion too.
  const measure = (node: AstNode, depth: number): Size => {
    if (depth > MAX_SPREAD_DEPTH) throw tooDeep();
    const size = { fields: 0, height: 0 };
    for (const selection of node.selectionSet?.selections ?? []) {
      let inner: Size;
      if (selection.kind === 'FragmentSpread') inner = spread(selection.name!.value, depth);
      else {
        inner = measure(selection, depth + 1);
        inner = { fields: inner.fields, height: inner.height + 1 };
        if (selection.kind === 'Field') size.fields += 1;
      }
      size.fields += inner.fields;
      size.height = Math.max(size.height, inner.height);
      if (depth + size.height > MAX_SPREAD_DEPTH) throw tooDeep();
      if (size.fields > MAX_SELECTED_FIELDS)
        throw new TooLarge(`the operation selects more than ${MAX_SELECTED_FIELDS} fields`);
    }
    return size;
  };
  const spread = (name: string, depth: number): Size => {
    const known = sizes.get(name);
    if (known !== undefined) return known;
    const fragment = fragments.get(name);
    if (!fragment || spreading.has(name)) return { fields: 0, height: 0 };
    spreading.add(name);
    const size = measure(fragment, depth + 1);
    spreading.delete(name);
    sizes.set(name, size);
    return size;
  };

  try {
    for (const d of document.definitions) if (d.kind === 'OperationDefinition') measure(d, 0);
  } catch (error) {
    if (error instanceof TooLarge) return error.message;
    throw error;
  }
  return undefined;
}

/** Refuses, before validation, an operation selecting too many fields (see above). */
export function useOperationLimits(): Record<string, unknown> {
  return {
    onValidate({ params, setResult }: ValidatePayload) {
      const problem = selectedFieldsProblem(params.documentAST);
      if (problem) setResult(badRequest(problem).errors);
    },
  };
}
