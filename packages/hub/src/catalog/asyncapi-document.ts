/**
 * AsyncAPI documents through @asyncapi/parser (validation with its official rulesets,
 * `$ref` resolution, and the model `asyncapi-diff.ts` walks). The parser is loaded on
 * first use: it is large, and most hub processes and CLI commands never need it.
 *
 * The hub only parses documents it generated itself (no external references). The CLI
 * parses the user's own files with the parser's default resolvers (relative files).
 */
import type { AsyncAPIDocumentInterface, Parser } from '@asyncapi/parser';
import type { FieldError } from '../http/problem.ts';
import { cachedStructureRules } from './asyncapi-structure-rules.ts';
import { escapePointer } from './openapi-document.ts';

export type ParsedAsyncApi =
  | { document: AsyncAPIDocumentInterface; errors: [] }
  | { document: undefined; errors: FieldError[] };

const MAX_ERRORS = 30;

export class AsyncApiParser {
  #parser: Promise<Parser> | undefined;

  /** Parses and validates; `source` (a file path) anchors relative `$ref`s. */
  async parse(input: string | object, source?: string): Promise<ParsedAsyncApi> {
    this.#parser ??= import('@asyncapi/parser').then(
      ({ Parser }) => new Parser({ ruleset: cachedStructureRules() }),
    );
    const parser = await this.#parser;
    const { document, diagnostics } = await parser.parse(input as never, source ? { source } : {});
    // Severity 0 is an error; the others are style hints (e.g. "a newer AsyncAPI exists").
    const errors = diagnostics
      .filter((d) => d.severity === 0)
      .slice(0, MAX_ERRORS)
      .map((d) => ({
        pointer:
          d.path.length > 0 ? `/${d.path.map((p) => escapePointer(String(p))).join('/')}` : '/',
        detail: d.message,
      }));
    if (!document || errors.length > 0)
      return {
        document: undefined,
        errors:
          errors.length > 0 ? errors : [{ pointer: '/', detail: 'is not an AsyncAPI document' }],
      };
    return { document, errors: [] };
  }
}
