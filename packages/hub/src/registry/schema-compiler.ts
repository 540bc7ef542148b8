/**
 * Turns a registered JSON Schema (2020-12 or draft-07) into a validator with ajv.
 *
 * - The meta-schema check runs on one long-lived ajv per dialect (its meta validator is
 *   compiled once, which is most of ajv's start-up cost).
 * - Each schema is compiled on its own small ajv instance (about 1-2 ms): schemas of
 *   different subjects, versions and tenants routinely share an `$id`, which one shared
 *   instance would refuse, and references to other subjects are registered under their
 *   names on that instance only.
 * - `$ref`s are resolved from the schema itself and its declared references, never
 *   fetched: ajv only loads remote schemas through `compileAsync` + `loadSchema`, which is
 *   not used here, so an unknown URL fails the compile (a 422 at registration). Each
 *   schema of a reference tree reads the versions it names itself (validation-references.ts).
 * - The `x-pii: true` keyword records where personal data is present in a validated value,
 *   for the publish-time PII policy.
 * - `pattern` and `patternProperties` run on RE2 (linear-pattern.ts): a tenant's regex
 *   must not stall the hub with catastrophic backtracking on a published string. A pattern
 *   RE2 cannot run (lookaround, backreference, too large) is refused at registration; a
 *   schema stored before that rule keeps such patterns on the native engine.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import { Ajv, type AnySchema, type ErrorObject, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { compileLinearPattern, linearRegExp, UnsupportedPattern } from './linear-pattern.ts';
import type { Dialect } from './schema-text.ts';
import {
  NO_REFERENCES,
  pinTree,
  type PinnedTree,
  type ReferenceTree,
} from './validation-references.ts';

// ajv-formats is CommonJS with a default export; under Node's ESM interop the default
// import is the function itself.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => void;

export type FieldProblem = { pointer: string; detail: string };

export type ValidationResult = {
  /** Failing fields, as JSON pointers into the validated value ("" is the value itself). */
  errors: FieldProblem[];
  /** Pointers of values present under a subschema marked `x-pii: true`. */
  pii: readonly string[];
};

export type CompiledSchema = {
  readonly dialect: Dialect;
  validate(value: unknown): ValidationResult;
};

/** The schema is not a usable JSON Schema; `problems` point into the schema document. */
export class SchemaCompileError extends Error {
  override name = 'SchemaCompileError';
  readonly problems: FieldProblem[];
  constructor(problems: FieldProblem[]) {
    super(problems.map((p) => `${p.pointer || '(root)'}: ${p.detail}`).join('; '));
    this.problems = problems;
  }
}

const BASE_OPTIONS: Options = {
  // Registered schemas carry vendor keywords (x-pii, javaType, …): unknown keywords and
  // formats are annotations, as the JSON Schema specification says.
  strict: false,
  logger: false,
  validateFormats: true,
};

const MAX_ERRORS_REPORTED = 50;

/**
 * ajv's compile time grows faster than linearly with a schema's size (seconds for a
 * 300 KB schema), and it blocks the event loop. Above this size, refs are not inlined and
 * the generated code is not optimised: compiles 3 to 8x faster, validates slower, which
 * matters less than a stalled hub for schemas that big (bench/registry measures both).
 */
const LARGE_SCHEMA_CHARS = 64 * 1024;

/**
 * ajv's regex engine: RE2 (linear-pattern.ts); `unsupported` says what becomes of a pattern
 * RE2 cannot run.
 */
const patternEngine = (
  unsupported: (pattern: string, flags: string, error: UnsupportedPattern) => RegExp,
) =>
  Object.assign(
    (pattern: string, flags: string) => {
      try {
        return compileLinearPattern(pattern);
      } catch (error) {
        if (!(error instanceof UnsupportedPattern)) throw error;
        return unsupported(pattern, flags, error);
      }
    },
    { code: linearRegExp.code },
  );

/** Registered patterns must run in linear time; its problem names the pattern. */
const strictPatterns = patternEngine((pattern, _flags, error) => {
  throw new UnsupportedPattern(`pattern ${JSON.stringify(pattern)}: ${error.message}`);
});

/** A schema registered before patterns were checked: what cannot run in linear time stays native. */
const storedPatterns = patternEngine((pattern, flags) => new RegExp(pattern, flags));

export class SchemaCompiler {
  readonly #meta: Record<Dialect, Ajv>;

  constructor() {
    // A schema's problems are all listed at registration.
    this.#meta = {
      '2020-12': newAjv('2020-12', { allErrors: true }),
      'draft-07': newAjv('draft-07', { allErrors: true }),
    };
  }

  /** Problems of a schema against its dialect's meta-schema ([] when it is valid). */
  metaProblems(schema: unknown, dialect: Dialect): FieldProblem[] {
    const ajv = this.#meta[dialect];
    if (ajv.validateSchema(withoutMetaSchema(schema) as object)) return [];
    return toProblems(ajv.errors ?? []);
  }

  /**
   * Compiles a schema whose meta-schema check passed. `references`: its own references and
   * the registered versions of its reference tree, each of which its `$ref`s resolve to as
   * the schema that names it says (validation-references.ts). Throws SchemaCompileError.
   */
  compile(
    schema: unknown,
    dialect: Dialect,
    references: ReferenceTree = NO_REFERENCES,
    options: { stored?: boolean } = {},
  ): CompiledSchema {
    // Valid events (the common case) go through a validator that stops at the first
    // failure; the one that lists every failing field is compiled on the first failure.
    const large = JSON.stringify(schema).length > LARGE_SCHEMA_CHARS;
    const stored = options.stored ?? false;
    const tree = pinTree(schema, references);
    const fast = build(tree, dialect, { allErrors: false, large, stored });
    // A new schema that recurses without end on a plain value is refused now rather than
    // failing every publish (a stored one keeps compiling; `run` answers for it).
    if (!stored && PROBES.some((probe) => run(fast, probe).errors[0] === UNENDING))
      throw new SchemaCompileError([{ pointer: '', detail: UNENDING_DETAIL }]);
    let detailed: Built | undefined;
    return {
      dialect,
      validate(value) {
        const first = run(fast, value);
        if (first.ok) return { errors: [], pii: first.pii };
        detailed ??= build(tree, dialect, { allErrors: true, large, stored });
        const all = run(detailed, value);
        return { errors: toProblems(all.errors), pii: all.pii };
      },
    };
  }
}

const NONE: readonly string[] = Object.freeze([]);

type Built = { validate: ReturnType<Ajv['compile']>; pii: string[] };

const UNENDING_DETAIL =
  'a $ref reaches itself without going into the value (e.g. anyOf: [{$ref: "#"}, …]), so checking never ends';

/** What a validation that ran out of stack answers: a failure at the root, not a crash. */
const UNENDING: ErrorObject = {
  instancePath: '',
  schemaPath: '#',
  keyword: '$ref',
  params: {},
  message: `cannot be checked: ${UNENDING_DETAIL}`,
};

/** Values a left-recursive schema recurses on, whatever else it says. */
const PROBES: readonly unknown[] = [null, true, 0, 0.5, '', [], {}];

function run(built: Built, value: unknown) {
  built.pii.length = 0;
  let ok: boolean;
  try {
    ok = built.validate(value) as boolean;
  } catch (error) {
    built.pii.length = 0;
    // Ajv's generated code throws nothing else; a RangeError is the stack running out.
    if (!(error instanceof RangeError)) throw error;
    return { ok: false, pii: NONE, errors: [UNENDING] };
  }
  const pii = built.pii.length === 0 ? NONE : [...new Set(built.pii)];
  built.pii.length = 0;
  return { ok, pii, errors: built.validate.errors ?? [] };
}

function build(
  tree: PinnedTree,
  dialect: Dialect,
  options: { allErrors: boolean; large: boolean; stored: boolean },
): Built {
  const pii: string[] = [];
  const regExp = options.stored ? storedPatterns : strictPatterns;
  const ajv = newAjv(dialect, {
    validateSchema: false,
    allErrors: options.allErrors,
    // Large schemas: refs are not inlined and the generated code is not optimised.
    ...(options.large ? { inlineRefs: false } : {}),
    code: { regExp, ...(options.large ? { optimize: false } : {}) },
  });
  ajv.addKeyword({
    keyword: 'x-pii',
    schemaType: 'boolean',
    errors: false,
    validate: (
      marked: boolean,
      _data: unknown,
      _parent: unknown,
      cxt?: { instancePath: string },
    ) => {
      if (marked && cxt) pii.push(cxt.instancePath);
      return true;
    },
  });
  const add = (schema: unknown, key: string) => {
    try {
      ajv.addSchema(schema as AnySchema, key);
    } catch (error) {
      throw new SchemaCompileError([
        { pointer: '', detail: `reference "${key}": ${(error as Error).message}` },
      ]);
    }
  };
  // Each version under its pinned key (the root's and the references' `$ref`s name these),
  // then the root's reference names as ajv spells URIs. The same object again is the same
  // compiled schema in ajv, under one more key.
  const byKey = new Map<string, unknown>();
  for (const doc of tree.documents) {
    const schema = withoutMetaSchema(doc.schema);
    byKey.set(doc.key, schema);
    add(schema, doc.key);
  }
  for (const { name, key } of tree.aliases) add(byKey.get(key), name);
  try {
    return { validate: ajv.compile(withoutMetaSchema(tree.root) as object), pii };
  } catch (error) {
    throw new SchemaCompileError([{ pointer: '', detail: compileMessage(error) }]);
  }
}

function newAjv(dialect: Dialect, extra: Options): Ajv {
  const options = { ...BASE_OPTIONS, ...extra };
  const ajv = dialect === '2020-12' ? new Ajv2020(options) : new Ajv(options);
  addFormats(ajv);
  return ajv;
}

/**
 * The dialect was already decided from `$schema` (schema-text.ts); ajv would look the URI
 * up again and fail on spellings it does not know (https, no trailing `#`).
 */
function withoutMetaSchema(schema: unknown): unknown {
  if (typeof schema !== 'object' || schema === null || !('$schema' in schema)) return schema;
  const { $schema: _ignored, ...rest } = schema as Record<string, unknown>;
  return rest;
}

function compileMessage(error: unknown): string {
  const e = error as { missingRef?: string; message?: string };
  if (e.missingRef)
    return `$ref "${e.missingRef}" cannot be resolved: it is neither in the schema nor a declared reference (remote schemas are never fetched)`;
  return e.message ?? String(error);
}

/** ajv errors as pointers: a missing required property points at the property itself. */
function toProblems(errors: readonly ErrorObject[]): FieldProblem[] {
  const out: FieldProblem[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    const missing = (e.params as { missingProperty?: string }).missingProperty;
    const extra = (e.params as { additionalProperty?: string }).additionalProperty;
    const leaf = missing ?? extra;
    const pointer = e.instancePath + (leaf !== undefined ? `/${escapePointer(leaf)}` : '');
    const detail =
      missing !== undefined
        ? 'is required'
        : extra !== undefined
          ? 'is not allowed (additional property)'
          : (e.message ?? 'is invalid') + allowed(e);
    const key = `${pointer}\u0000${detail}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ pointer, detail });
    if (out.length >= MAX_ERRORS_REPORTED) break;
  }
  return out;
}

function allowed(e: ErrorObject): string {
  const values = (e.params as { allowedValues?: unknown[] }).allowedValues;
  return values ? `: ${values.map((v) => JSON.stringify(v)).join(', ')}` : '';
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}
