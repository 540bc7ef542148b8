/**
 * The AsyncAPI parser's two structure rules (`asyncapi-document-resolved` and
 * `-unresolved`: the document against the official AsyncAPI JSON Schema), unchanged but
 * for where their compiled validators live.
 *
 * Spectral's `schema` function keeps its ajv instances per linted document, so every
 * parse compiled the whole AsyncAPI 3.0 schema twice (allErrors, ajv-formats,
 * ajv-errors): ~0.5 s of a catalog publish on an idle machine, 2-10 s on a busy one,
 * whatever the size of the document. Here the same function runs with one stable
 * "document inventory" per parser, so each schema is compiled once per parser instance.
 * That is safe only for these rules: their schemas are the spec's, fixed and identified by
 * `$id`; rules that validate the document's own schemas (payloads, examples) keep a fresh
 * cache per document.
 */
import { createRequire } from 'node:module';
import type { Parser } from '@asyncapi/parser';

type Ruleset = NonNullable<NonNullable<ConstructorParameters<typeof Parser>[0]>['ruleset']>;
type RuleFunction = (input: unknown, options: unknown, context: Record<string, unknown>) => unknown;

export const STRUCTURE_RULES = ['asyncapi-document-resolved', 'asyncapi-document-unresolved'];

const require = createRequire(import.meta.url);

/** Overrides for `new Parser({ ruleset })`: the structure rules with a per-parser cache. */
export function cachedStructureRules(): Ruleset {
  // Not in the package's public API (it has no `exports` map): the parser's own rule
  // definitions and function, so the rules behave exactly as the parser ships them.
  const { coreRuleset } = require('@asyncapi/parser/cjs/ruleset/ruleset.js') as {
    coreRuleset: { rules: Record<string, { then: { function: RuleFunction } }> };
  };
  // Spectral's `schema` function keys its ajv instances by this object (a WeakMap).
  const inventory = {};
  const rules: Record<string, unknown> = {};
  for (const name of STRUCTURE_RULES) {
    const shipped = coreRuleset.rules[name];
    if (!shipped)
      throw new Error(`@asyncapi/parser has no rule ${name}: update ${import.meta.url}`);
    const check = shipped.then.function;
    const cached: RuleFunction = (input, options, context) =>
      check(input, options, { ...context, documentInventory: inventory });
    Object.defineProperty(cached, 'name', { value: check.name });
    rules[name] = { ...shipped, then: { ...shipped.then, function: cached } };
  }
  return { rules } as unknown as Ruleset;
}
