/**
 * Step 4 of a publish, shared by the hub and the CLI: the AsyncAPI document an app's
 * events make must pass @asyncapi/parser (payload schemas included).
 */
import type { FieldError } from '../http/problem.ts';
import type { AsyncApiParser } from './asyncapi-document.ts';
import { buildAsyncApi } from './asyncapi-export.ts';
import type { AppManifest, EventDeclaration } from './manifest-schema.ts';

/** JSON values (objects, arrays, scalars) the AsyncAPI document of one app may have. */
export const MAX_ASYNCAPI_NODES = 5000;

export async function eventsAsyncApiProblems(
  manifest: AppManifest,
  schemaOf: (event: EventDeclaration) => unknown,
  options: { env: string; parser: AsyncApiParser },
): Promise<FieldError[]> {
  const own = buildAsyncApi([{ manifest, schemaOf }], {
    title: manifest.name,
    version: '0',
    env: options.env,
  });
  // The parser's rulesets grow faster than linearly with the document (a 16,000-value
  // enum takes half a minute): bound what one publish may make it chew.
  if (countNodes(own, MAX_ASYNCAPI_NODES) > MAX_ASYNCAPI_NODES)
    return [
      {
        pointer: '/events',
        detail: `the event schemas are too large to check: more than ${MAX_ASYNCAPI_NODES} JSON values in all (split the app, or move large enums out of the payload schemas)`,
      },
    ];
  const parsed = await options.parser.parse(own);
  return parsed.errors.map((e) => ({
    pointer: '/events',
    detail: `the events do not make a valid AsyncAPI document: at ${e.pointer}: ${e.detail}`,
  }));
}

/** Counts JSON values up to just past `limit` (iteratively: the input may be deep). */
function countNodes(root: unknown, limit: number): number {
  const stack: unknown[] = [root];
  let n = 0;
  while (stack.length > 0 && n <= limit) {
    const value = stack.pop();
    n += 1;
    if (typeof value === 'object' && value !== null) stack.push(...Object.values(value));
  }
  return n;
}
