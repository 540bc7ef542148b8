/**
 * OpenAPI 3.x documents through @apidevtools/swagger-parser: structural validation
 * against the official OpenAPI 3.0/3.1 schemas plus `$ref` checks.
 *
 * In the hub, every `$ref` must be local (`#/…`): file and HTTP resolution are switched
 * off, so a manifest can neither read the hub's disk nor make it fetch a URL (SSRF). The
 * CLI reads a document from disk with `bundleOpenApiFile`, which pulls the files it
 * references into the one document (`$ref`s to URLs are refused there too, so a check
 * gives the same answer on every machine).
 */
import type SwaggerParser from '@apidevtools/swagger-parser';
import type { FieldError } from '../http/problem.ts';
import { OpenApiSchemaCheck } from './openapi-schema-check.ts';

export type OpenApiDocument = Record<string, unknown> & {
  openapi: string;
  paths?: Record<string, unknown>;
  components?: Record<string, unknown>;
};

type ParserError = Error & {
  details?: { instancePath?: string; message?: string; params?: Record<string, unknown> }[];
};

const MAX_ERRORS = 30;

// Loaded on first use: the parser and its dependencies cost hundreds of milliseconds of
// start-up, which every hub (and every test hub) would pay without ever publishing an app.
let parser: Promise<typeof SwaggerParser> | undefined;
const swaggerParser = () =>
  (parser ??= import('@apidevtools/swagger-parser').then((m) => m.default));

/**
 * Problems of an inline OpenAPI 3.x document, with pointers prefixed by `at`. [] = valid.
 * `schemas`: compiled schema validators to reuse (a long-lived caller keeps one; without
 * it they are compiled for this call).
 */
export async function openApiProblems(
  doc: unknown,
  at: string,
  schemas: OpenApiSchemaCheck = new OpenApiSchemaCheck(),
): Promise<FieldError[]> {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    return [{ pointer: at, detail: 'must be an OpenAPI document (a JSON object)' }];
  const version = (doc as { openapi?: unknown }).openapi;
  if (typeof version !== 'string' || !/^3\.[01]\.\d+$/.test(version))
    return [
      {
        pointer: `${at}/openapi`,
        detail:
          'must be an OpenAPI 3.0.x or 3.1.x document ("openapi": "3.1.0"); Swagger 2.0 is not accepted',
      },
    ];
  const SwaggerParser = await swaggerParser();
  const resolve = { file: false, http: false, external: false };
  try {
    // `SwaggerParser.validate`'s steps with the schema step's validators reused: dereference
    // (leaving circular references), then the official schema. Its remaining steps do
    // nothing more for 3.x (a second, full dereference of refs already resolved here, and
    // spec checks that swagger-parser 13 runs for Swagger 2.0 only). The parser
    // dereferences in place: a copy.
    const partial = new SwaggerParser();
    await partial.dereference(
      structuredClone(doc) as never,
      { resolve, dereference: { circular: 'ignore' } } as never,
    );
    schemas.check(partial.api as OpenApiDocument);
    return unresolvableRefs(doc, at);
  } catch (error) {
    return parserProblems(error as ParserError, at);
  }
}

/**
 * Reads an OpenAPI file (JSON or YAML) and the files its `$ref`s point to into one
 * document whose references are all local. Throws with the parser's message.
 */
export async function bundleOpenApiFile(path: string): Promise<OpenApiDocument> {
  return (await (
    await swaggerParser()
  ).bundle(path, {
    resolve: { http: false },
  } as never)) as unknown as OpenApiDocument;
}

/** swagger-parser's error as problems (exported for the equivalence test of the schema step). */
export function parserProblems(error: ParserError, at: string): FieldError[] {
  if (Array.isArray(error.details) && error.details.length > 0)
    return error.details.slice(0, MAX_ERRORS).map((d) => {
      const missing = d.params?.missingProperty;
      return {
        pointer: `${at}${d.instancePath ?? ''}${typeof missing === 'string' ? `/${missing}` : ''}`,
        detail: d.message ?? 'is invalid',
      };
    });
  // $ref problems and the like come as one message; keep it short and path-free.
  const message = error.message.split('\n')[0]!.replace(/"\/[^"]*?([^/"]+)"/g, '"$1"');
  return [{ pointer: at, detail: `is not a valid OpenAPI document: ${message}` }];
}

/** With external resolution off, a non-local `$ref` is left alone by the parser: refuse it. */
function unresolvableRefs(doc: object, at: string): FieldError[] {
  const out: FieldError[] = [];
  const walk = (value: unknown, pointer: string) => {
    if (out.length >= MAX_ERRORS || typeof value !== 'object' || value === null) return;
    if (Array.isArray(value)) return value.forEach((v, i) => walk(v, `${pointer}/${i}`));
    for (const [key, child] of Object.entries(value)) {
      if (key === '$ref' && typeof child === 'string' && !child.startsWith('#'))
        out.push({
          pointer: `${pointer}/$ref`,
          detail: `"${child.slice(0, 200)}" is not a local reference: the hub never reads files or URLs; \`portico app publish\` bundles files into the document`,
        });
      else walk(child, `${pointer}/${escapePointer(key)}`);
    }
  };
  walk(doc, at);
  return out;
}

export function escapePointer(token: string): string {
  return token.replaceAll('~', '~0').replaceAll('/', '~1');
}
