/**
 * Checks a manifest's shape (against `ManifestSchema`) and what the schema cannot say:
 * unique API names and event types, `schema` xor `schemaRef`, inline payload schemas that
 * pass their dialect's meta-schema. It does not parse OpenAPI documents (see
 * openapi-document.ts) nor resolve registry subjects (the catalog service does).
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { deeperThan, tooDeepDetail } from '../http/json-depth.ts';
import type { FieldError } from '../http/problem.ts';
import { ManifestSchema, type AppManifest, type EventDeclaration } from './manifest-schema.ts';

const DRAFT_07 = /^https?:\/\/json-schema\.org\/draft-07\/schema#?$/;
const MAX_ERRORS = 50;
const META_OPTIONS = { strict: false, allErrors: true, logger: false } as const;

export class ManifestValidator {
  // Compiled on first use (ajv's meta-schemas cost ~100 ms): a hub that never sees a
  // manifest does not pay for it at start-up.
  #manifest: ValidateFunction | undefined;
  // Meta-schema checks of payload schemas, one ajv per dialect (the meta validator is
  // compiled once per instance, which is most of ajv's cost).
  #meta2020: Ajv2020 | undefined;
  #meta07: Ajv | undefined;

  /**
   * Problems of `value` as a manifest ([] when valid). `inline`: the hub's rule that every
   * document is inline (file paths are the CLI's business).
   */
  validate(value: unknown, options: { inline: boolean }): FieldError[] {
    // Before anything recursive (ajv, the parsers, the diffs) sees it, inline documents
    // included.
    const tooDeep = deeperThan(value);
    if (tooDeep !== undefined) return [{ pointer: tooDeep, detail: tooDeepDetail() }];
    const shape = (this.#manifest ??= new Ajv2020({
      strict: false,
      allErrors: true,
      logger: false,
    }).compile(ManifestSchema));
    if (!shape(value)) return toFieldErrors(shape.errors ?? [], '');
    const manifest = value as AppManifest;
    const errors: FieldError[] = [];
    const apiNames = new Set<string>();
    (manifest.apis ?? []).forEach((api, i) => {
      if (apiNames.has(api.name))
        errors.push({ pointer: `/apis/${i}/name`, detail: `API "${api.name}" is declared twice` });
      apiNames.add(api.name);
      if (options.inline && typeof api.openapi === 'string')
        errors.push({
          pointer: `/apis/${i}/openapi`,
          detail:
            'must be the OpenAPI document itself: file paths are resolved by `portico app publish`',
        });
    });
    for (const direction of ['publishes', 'consumes'] as const) {
      const seen = new Set<string>();
      (manifest.events?.[direction] ?? []).forEach((event, i) => {
        const at = `/events/${direction}/${i}`;
        if (seen.has(event.type))
          errors.push({ pointer: `${at}/type`, detail: `"${event.type}" is listed twice` });
        seen.add(event.type);
        errors.push(...this.#eventProblems(event, at, options.inline));
      });
    }
    return errors.slice(0, MAX_ERRORS);
  }

  #eventProblems(event: EventDeclaration, at: string, inline: boolean): FieldError[] {
    if (event.schema !== undefined && event.schemaRef !== undefined)
      return [{ pointer: at, detail: 'give either "schema" or "schemaRef", not both' }];
    if (typeof event.schema === 'string')
      return inline
        ? [
            {
              pointer: `${at}/schema`,
              detail:
                'must be the JSON Schema itself: file paths are resolved by `portico app publish`',
            },
          ]
        : [];
    if (event.schema === undefined || typeof event.schema === 'boolean') return [];
    return this.schemaProblems(event.schema, `${at}/schema`);
  }

  /** Meta-schema problems of a payload schema (draft-07 when it says so, else 2020-12). */
  schemaProblems(schema: unknown, at: string): FieldError[] {
    if (typeof schema === 'boolean') return [];
    if (typeof schema !== 'object' || schema === null || Array.isArray(schema))
      return [{ pointer: at, detail: 'must be a JSON Schema (an object or a boolean)' }];
    const declared = (schema as { $schema?: unknown }).$schema;
    const ajv =
      typeof declared === 'string' && DRAFT_07.test(declared)
        ? (this.#meta07 ??= new Ajv(META_OPTIONS))
        : (this.#meta2020 ??= new Ajv2020(META_OPTIONS));
    // The meta-schema is chosen here; ajv would otherwise insist on knowing `$schema`.
    const { $schema: _ignored, ...body } = schema as Record<string, unknown>;
    if (ajv.validateSchema(body)) return [];
    return toFieldErrors(ajv.errors ?? [], at);
  }
}

function toFieldErrors(errors: ErrorObject[], prefix: string): FieldError[] {
  return errors.slice(0, MAX_ERRORS).map((e) => {
    const missing = (e.params as { missingProperty?: string }).missingProperty;
    const extra = (e.params as { additionalProperty?: string }).additionalProperty;
    const pointer = prefix + e.instancePath + (missing ? `/${missing}` : '');
    const detail =
      extra !== undefined ? `unknown property "${extra}"` : (e.message ?? 'is invalid');
    return { pointer: pointer || '/', detail };
  });
}
