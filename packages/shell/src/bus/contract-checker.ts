/**
 * Development-only: checks bus events against the catalog's contracts. The bus imports this
 * module dynamically when `dev` is true, so the JSON Schema validator never ships in the
 * production bundle.
 */
import { Validator, type OutputUnit, type Schema, type SchemaDraft } from '@cfworker/json-schema';
import type { BusEvent, ContractViolation } from '../types.ts';
import type { EventContracts } from './contracts.ts';

export type ContractChecker = {
  /** The violation `event` commits, or undefined when it keeps its contract. */
  check(event: BusEvent): ContractViolation | undefined;
};

type Problem = ContractViolation['errors'][number];

export function createContractChecker(contracts: EventContracts): ContractChecker {
  const validators = new Map<string, Validator | Problem>();

  const validatorFor = (type: string, schema: object): Validator | Problem => {
    let entry = validators.get(type);
    if (!entry) {
      try {
        // shortCircuit false: report every failing pointer, not just the first.
        entry = new Validator(schema as Schema, draftOf(schema), false);
      } catch (error) {
        entry = { pointer: '', detail: `the catalog's schema cannot be used: ${String(error)}` };
      }
      validators.set(type, entry);
    }
    return entry;
  };

  return {
    check(event) {
      const contract = Object.hasOwn(contracts, event.type) ? contracts[event.type] : undefined;
      if (!contract)
        return violation(event, [
          { pointer: '', detail: `${event.type} is not an event type of the catalog` },
        ]);
      const errors: Problem[] = [];
      // The catalog's word, checked: a publishers that is not a list (a string would match
      // substrings with includes) names no publisher.
      const publishers = Array.isArray(contract.publishers)
        ? contract.publishers.filter((name): name is string => typeof name === 'string')
        : [];
      if (event.from !== undefined && !publishers.includes(event.from))
        errors.push({
          pointer: '',
          detail: `"${event.from}" is not a catalog publisher of ${event.type} (publishers: ${
            publishers.length ? publishers.join(', ') : 'none'
          })`,
        });
      if (contract.schema) {
        const validator = validatorFor(event.type, contract.schema);
        if (!(validator instanceof Validator)) errors.push(validator);
        else {
          try {
            const result = validator.validate(event.data);
            if (!result.valid) errors.push(...leafProblems(result.errors));
          } catch (error) {
            errors.push({
              pointer: '',
              detail: `the catalog's schema cannot be used: ${String(error)}`,
            });
          }
        }
      }
      return errors.length ? violation(event, errors) : undefined;
    },
  };
}

function violation(event: BusEvent, errors: Problem[]): ContractViolation {
  return { type: event.type, ...(event.from !== undefined && { from: event.from }), errors };
}

function draftOf(schema: object): SchemaDraft {
  const uri = (schema as { $schema?: unknown }).$schema;
  if (typeof uri !== 'string') return '2020-12';
  if (uri.includes('draft-07') || uri.includes('draft-06')) return '7';
  if (uri.includes('draft-04')) return '4';
  if (uri.includes('2019-09')) return '2019-09';
  return '2020-12';
}

/** Keywords whose failure only says "something below me failed": their children say what. */
const AGGREGATE_KEYWORDS = new Set([
  'properties',
  'patternProperties',
  'additionalProperties',
  'unevaluatedProperties',
  'items',
  'prefixItems',
  'additionalItems',
  'unevaluatedItems',
  'dependentSchemas',
  'allOf',
  '$ref',
  '$recursiveRef',
  '$dynamicRef',
  'if',
  'then',
  'else',
]);

/** The validator's output as JSON pointers into `data` with what failed there. */
function leafProblems(units: OutputUnit[]): Problem[] {
  const leaves = units.filter((u) => !AGGREGATE_KEYWORDS.has(u.keyword));
  const chosen = leaves.length ? leaves : units;
  const seen = new Set<string>();
  const problems: Problem[] = [];
  for (const unit of chosen) {
    const pointer = toJsonPointer(unit.instanceLocation);
    const detail =
      unit.keyword === 'false' ? 'is not allowed here (the schema forbids it)' : unit.error;
    const key = `${pointer}\n${detail}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push({ pointer, detail });
  }
  return problems;
}

/** `#/a~1b/0` (URI fragment, as the validator writes it) → `/a~1b/0`. */
function toJsonPointer(location: string): string {
  const fragment = location.startsWith('#') ? location.slice(1) : location;
  try {
    return decodeURIComponent(fragment);
  } catch {
    return fragment;
  }
}
