import type { CheckBudget } from './run-check.ts';

/** One reason why a schema change breaks readers or writers. */
export type Incompatibility = {
  /**
   * Where, as an RFC 6901 JSON pointer into the NEW schema ("" is its root). Inside a
   * schema reached through an external `$ref`, the pointer is prefixed by that reference:
   * `customer-address#/properties/street`. For something that exists only in the old
   * schema (a removed property), it is the place the thing would have had in the new one.
   */
  pointer: string;
  /** What changed: a stable kebab-case code, e.g. "type-narrowed" (see README.md). */
  change: string;
  /** Why it breaks: a sentence naming both schemas. */
  detail: string;
};

export type CompatibilityOptions = {
  /**
   * Portico's deliberate difference from Confluent and Apicurio (see DECISIONS.md):
   * a reader may declare an optional property that the writer's OPEN content model never
   * mentioned (writer has no `properties` entry, no matching `patternProperties`, no
   * `additionalProperties` schema, and does not require it). Strictly, the writer could
   * have sent that name with any value; in practice producers do not send undeclared
   * fields, and refusing this is the most common complaint about both peers.
   * Default: true. Set false for the peers' strict set semantics.
   */
  allowOptionalPropertyInOpenModel?: boolean;
  /**
   * Resolves the document part of a non-local `$ref` (everything before `#`, e.g.
   * "subject-name" for `subject-name#/$defs/X`) to a schema, typically another registered
   * subject. Return undefined when unknown. The checker itself never fetches anything:
   * a reference this function does not resolve is reported as "ref-unresolvable".
   */
  resolveExternalRef?: (ref: string) => unknown;
  /**
   * The work budget to draw from (`new CheckBudget()`), to bound several checks made for
   * one request together. Default: a budget of its own per `checkCompatibility` call.
   */
  budget?: CheckBudget;
};

export const COMPATIBILITY_LEVELS = [
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
  'NONE',
] as const;

export type CompatibilityLevel = (typeof COMPATIBILITY_LEVELS)[number];
