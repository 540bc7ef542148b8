/**
 * The schema registry's rules, independent of HTTP: subjects and versions, "same schema,
 * same id", compatibility on registration, soft and permanent deletes, and the config
 * (compatibility level, validation mode, open-content-model choice) per subject and per
 * tenant. Every method is scoped to one tenant. Errors are Confluent-shaped problems.
 */
import type { SqlExecutor } from '../store/sql-database.ts';
import type { FieldError } from '../http/problem.ts';
import {
  checkCompatibility,
  COMPATIBILITY_LEVELS,
  pinnedKey,
  pinReferences,
  pinTargets,
  type CompatibilityLevel,
  type Incompatibility,
  type LoadedVersion,
} from './compatibility/index.ts';
import { ErrorCode, notFound, registryProblem } from './registry-errors.ts';
import {
  GLOBAL,
  type RegistryStore,
  type StoredConfig,
  type StoredVersion,
} from './registry-store.ts';
import { SchemaCompileError, type CompiledSchema, type SchemaCompiler } from './schema-compiler.ts';
import {
  dialectOf,
  fingerprint,
  parseSchemaText,
  type Dialect,
  type SchemaReference,
} from './schema-text.ts';
import type { ReferencedSchema } from './validation-references.ts';

export const VALIDATION_MODES = ['reject', 'warn'] as const;
export type ValidationMode = (typeof VALIDATION_MODES)[number];

export type RegistryDefaults = {
  compatibility: CompatibilityLevel;
  validation: ValidationMode;
  allowOptionalPropertyInOpenModel: boolean;
};

export const DEFAULTS: RegistryDefaults = {
  compatibility: 'BACKWARD',
  validation: 'reject',
  allowOptionalPropertyInOpenModel: true,
};

export type SchemaInput = {
  schema: string;
  schemaType?: string;
  references?: readonly SchemaReference[];
};

export type VersionView = {
  subject: string;
  version: number;
  id: number;
  schemaType: 'JSON';
  schema: string;
  references?: SchemaReference[];
};

export type EffectiveConfig = {
  compatibilityLevel: CompatibilityLevel;
  validation: ValidationMode;
  allowOptionalPropertyInOpenModel: boolean;
};

export type ConfigPatch = {
  compatibility?: string;
  validation?: string;
  allowOptionalPropertyInOpenModel?: boolean;
};

export type CompatibilityResult = {
  isCompatible: boolean;
  level: CompatibilityLevel;
  incompatibilities: Incompatibility[];
};

/** What publish-time validation needs for one subject version. */
export type ResolvedSchema = {
  subject: string;
  version: number;
  id: number;
  compiled: CompiledSchema;
};

/** A schema text that parsed, passed its meta-schema, resolved its references and compiled. */
type Prepared = {
  schema: unknown;
  text: string;
  dialect: Dialect;
  references: SchemaReference[];
  referenced: LoadedReference[];
  fingerprint: string;
  compiled: CompiledSchema;
};

/** A referenced version as loaded: named as the referencing schema names it, keyed by version. */
type LoadedReference = ReferencedSchema & { references: readonly SchemaReference[] };

/** Bounds a reference graph: deeper or larger graphs are refused rather than walked. */
const MAX_REFERENCED_SCHEMAS = 200;
export const MAX_SCHEMA_BYTES = 512 * 1024;
const SUBJECT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export type VersionSpec = number | 'latest';

/** `latest`, `-1` (Confluent's alias) or a positive integer; anything else is 422 42202. */
export function parseVersion(text: string): VersionSpec {
  if (text === 'latest' || text === '-1') return 'latest';
  if (/^[1-9][0-9]{0,9}$/.test(text) && Number(text) <= 2_147_483_647) return Number(text);
  throw registryProblem(
    422,
    ErrorCode.invalidVersion,
    `version "${text}" is invalid: use a positive integer or "latest"`,
    {
      errors: [
        { pointer: '/version', detail: 'must be a positive integer or "latest"', in: 'path' },
      ],
    },
  );
}

export class SchemaRegistry {
  readonly #store: RegistryStore;
  readonly #compiler: SchemaCompiler;
  readonly #defaults: RegistryDefaults;
  readonly #onChange: () => void;
  readonly #onCompiled: (tenant: string, id: number, compiled: CompiledSchema) => void;

  constructor(options: {
    store: RegistryStore;
    compiler: SchemaCompiler;
    defaults?: Partial<RegistryDefaults>;
    /** Called after every committed write (publish-time caches drop what they hold). */
    onChange?: () => void;
    /**
     * Called with the validator compiled while registering a new schema id, so that the
     * first event of the type does not compile it again (seconds for a very large schema).
     */
    onCompiled?: (tenant: string, id: number, compiled: CompiledSchema) => void;
  }) {
    this.#store = options.store;
    this.#compiler = options.compiler;
    this.#defaults = { ...DEFAULTS, ...options.defaults };
    this.#onChange = options.onChange ?? (() => {});
    this.#onCompiled = options.onCompiled ?? (() => {});
  }

  /**
   * Registers a schema under a subject. The same schema again returns its existing id and
   * version; a new one is checked against the subject's compatibility level first (409).
   */
  async register(
    tenant: string,
    subject: string,
    input: SchemaInput,
  ): Promise<{ id: number; version: number; created: boolean }> {
    const result = await this.#store.write(async (tx) => {
      const prepared = await this.#prepare(tx, tenant, input);
      const live = await this.#store.versions(tx, tenant, subject, false);
      const existing = await this.#store.schemaByFingerprint(tx, tenant, prepared.fingerprint);
      const same = existing && live.find((v) => v.schemaId === existing.id);
      if (existing && same)
        return { id: existing.id, version: same.version, created: false, compiled: undefined };

      const config = await this.#effective(tx, tenant, subject);
      const incompatibilities = await this.#check(tx, tenant, prepared, live, config, 'all');
      if (incompatibilities.length > 0) throw incompatible(subject, config, incompatibilities);

      const id =
        existing?.id ??
        (await this.#store.insertSchema(
          tx,
          tenant,
          prepared.fingerprint,
          prepared.text,
          prepared.references,
        ));
      const all = await this.#store.versions(tx, tenant, subject, true);
      const version = (all[all.length - 1]?.version ?? 0) + 1;
      await this.#store.insertVersion(tx, tenant, subject, version, id);
      return { id, version, created: true, compiled: prepared.compiled };
    });
    if (result.created) {
      this.#onCompiled(tenant, result.id, result.compiled!);
      this.#onChange();
    }
    return { id: result.id, version: result.version, created: result.created };
  }

  /** The version of `subject` holding this exact schema (Confluent's `POST /subjects/{s}`). */
  async lookup(tenant: string, subject: string, input: SchemaInput): Promise<VersionView> {
    const db = this.#store.db;
    const { schema, references } = parseInput(input);
    const live = await this.#store.versions(db, tenant, subject, false);
    if (live.length === 0) throw notFound.subject(subject);
    const existing = await this.#store.schemaByFingerprint(
      db,
      tenant,
      fingerprint(schema, references),
    );
    const version = existing && live.find((v) => v.schemaId === existing.id);
    if (!existing || !version)
      throw notFound.schema(`this schema is not registered under subject "${subject}"`);
    return view(version, existing.text, existing.references);
  }

  async subjects(tenant: string, includeDeleted: boolean): Promise<string[]> {
    return this.#store.subjects(this.#store.db, tenant, includeDeleted);
  }

  async versionNumbers(tenant: string, subject: string, includeDeleted: boolean) {
    const versions = await this.#store.versions(this.#store.db, tenant, subject, includeDeleted);
    if (versions.length === 0) throw notFound.subject(subject);
    return versions.map((v) => v.version);
  }

  async version(
    tenant: string,
    subject: string,
    spec: VersionSpec,
    includeDeleted = false,
  ): Promise<VersionView> {
    const db = this.#store.db;
    const version = await this.#findVersion(db, tenant, subject, spec, includeDeleted);
    const schema = await this.#store.schemaById(db, tenant, version.schemaId);
    return view(version, schema!.text, schema!.references);
  }

  async schemaById(tenant: string, id: number) {
    const schema = await this.#store.schemaById(this.#store.db, tenant, id);
    if (!schema) throw notFound.schema(`schema ${id} not found`);
    return {
      schema: schema.text,
      schemaType: 'JSON' as const,
      ...(schema.references.length > 0 ? { references: schema.references } : {}),
    };
  }

  /** Ids of the live schemas that reference a version (Confluent's `referencedby`). */
  async referencedBy(tenant: string, subject: string, spec: VersionSpec): Promise<number[]> {
    const db = this.#store.db;
    const version = await this.#findVersion(db, tenant, subject, spec, false);
    const users = await this.#store.referencedBy(db, tenant, subject, version.version);
    return [...new Set(users.map((u) => u.schemaId))].sort((a, b) => a - b);
  }

  async schemaUses(tenant: string, id: number): Promise<{ subject: string; version: number }[]> {
    const uses = await this.#store.usesOfSchema(this.#store.db, tenant, id);
    if (uses.length === 0) throw notFound.schema(`schema ${id} not found`);
    return uses.filter((u) => !u.deleted).map(({ subject, version }) => ({ subject, version }));
  }

  /**
   * Soft delete (versions are hidden and no longer checked against, their numbers are never
   * reused), or, after a soft delete, `permanent` removal. Returns the versions deleted.
   */
  async deleteSubject(tenant: string, subject: string, permanent: boolean): Promise<number[]> {
    const deleted = await this.#store.write(async (tx) => {
      const all = await this.#store.versions(tx, tenant, subject, true);
      if (all.length === 0) throw notFound.subject(subject);
      const live = all.filter((v) => !v.deleted);
      if (!permanent) {
        if (live.length === 0)
          throw registryProblem(
            404,
            ErrorCode.subjectSoftDeleted,
            `subject "${subject}" was soft deleted; delete it with ?permanent=true to remove it`,
          );
        // Versions of this subject referencing each other go together.
        for (const v of live) await this.#refuseIfReferenced(tx, tenant, v, false, subject);
        await this.#store.setDeleted(tx, tenant, subject, numbers(live));
        return numbers(live);
      }
      if (live.length > 0)
        throw registryProblem(
          409,
          ErrorCode.subjectNotSoftDeleted,
          `subject "${subject}" must be soft deleted before it is deleted permanently`,
        );
      for (const v of all) await this.#refuseIfReferenced(tx, tenant, v, true, subject);
      await this.#store.removeVersions(tx, tenant, subject, numbers(all));
      await this.#store.deleteConfig(tx, tenant, subject);
      return numbers(all);
    });
    this.#onChange();
    return deleted;
  }

  async deleteVersion(
    tenant: string,
    subject: string,
    spec: VersionSpec,
    permanent: boolean,
  ): Promise<number> {
    const deleted = await this.#store.write(async (tx) => {
      const version = await this.#findVersion(tx, tenant, subject, spec, permanent);
      if (!permanent && version.deleted)
        throw registryProblem(
          404,
          ErrorCode.versionSoftDeleted,
          `version ${version.version} of subject "${subject}" was soft deleted`,
        );
      if (permanent && !version.deleted)
        throw registryProblem(
          409,
          ErrorCode.versionNotSoftDeleted,
          `version ${version.version} of subject "${subject}" must be soft deleted before it is deleted permanently`,
        );
      await this.#refuseIfReferenced(tx, tenant, version, permanent);
      if (permanent) await this.#store.removeVersions(tx, tenant, subject, [version.version]);
      else await this.#store.setDeleted(tx, tenant, subject, [version.version]);
      return version.version;
    });
    this.#onChange();
    return deleted;
  }

  /**
   * Would `input` be accepted? Against one version (`spec` a number: that version only,
   * in the level's direction), the latest (`'latest'`: as registration would check), or
   * every version the level names (`'all'`).
   */
  async checkCompatibility(
    tenant: string,
    subject: string,
    spec: VersionSpec | 'all',
    input: SchemaInput,
  ): Promise<CompatibilityResult> {
    const db = this.#store.db;
    const prepared = await this.#prepare(db, tenant, input);
    const config = await this.#effective(db, tenant, subject);
    const live = await this.#store.versions(db, tenant, subject, false);
    let against: StoredVersion[] | 'all' = 'all';
    if (spec !== 'all') {
      const version = await this.#findVersion(db, tenant, subject, spec, false);
      if (spec !== 'latest') against = [version];
    }
    const incompatibilities = await this.#check(db, tenant, prepared, live, config, against);
    return {
      isCompatible: incompatibilities.length === 0,
      level: config.compatibilityLevel,
      incompatibilities,
    };
  }

  /** A subject's own config, or (`defaultToGlobal`) the one in force; the tenant's for GLOBAL. */
  async config(
    tenant: string,
    subject: string,
    defaultToGlobal: boolean,
  ): Promise<EffectiveConfig> {
    const db = this.#store.db;
    if (subject !== GLOBAL && !defaultToGlobal) {
      const own = await this.#store.config(db, tenant, subject);
      if (!own)
        throw registryProblem(
          404,
          ErrorCode.subjectConfigNotFound,
          `subject "${subject}" has no config of its own (add ?defaultToGlobal=true for the one in force)`,
        );
    }
    return this.#effective(db, tenant, subject);
  }

  /** Sets the given fields of a subject's (or, for GLOBAL, the tenant's) config. */
  async putConfig(tenant: string, subject: string, patch: ConfigPatch): Promise<EffectiveConfig> {
    const errors: FieldError[] = [];
    if (
      patch.compatibility !== undefined &&
      !COMPATIBILITY_LEVELS.includes(patch.compatibility as CompatibilityLevel)
    )
      throw registryProblem(
        422,
        ErrorCode.invalidCompatibilityLevel,
        `invalid compatibility level "${patch.compatibility}": use one of ${COMPATIBILITY_LEVELS.join(', ')}`,
        {
          errors: [
            {
              pointer: '/compatibility',
              detail: `must be one of ${COMPATIBILITY_LEVELS.join(', ')}`,
            },
          ],
        },
      );
    if (
      patch.validation !== undefined &&
      !VALIDATION_MODES.includes(patch.validation as ValidationMode)
    )
      errors.push({
        pointer: '/validation',
        detail: `must be one of ${VALIDATION_MODES.join(', ')}`,
      });
    if (errors.length > 0)
      throw registryProblem(
        422,
        42200,
        `invalid config: ${errors[0]!.pointer} ${errors[0]!.detail}`,
        {
          errors,
        },
      );
    const result = await this.#store.write(async (tx) => {
      const current = (await this.#store.config(tx, tenant, subject)) ?? {
        compatibility: null,
        validation: null,
        allowOptionalInOpen: null,
      };
      const next: StoredConfig = {
        compatibility: patch.compatibility ?? current.compatibility,
        validation: patch.validation ?? current.validation,
        allowOptionalInOpen: patch.allowOptionalPropertyInOpenModel ?? current.allowOptionalInOpen,
      };
      await this.#store.putConfig(tx, tenant, subject, next);
      return this.#effective(tx, tenant, subject);
    });
    this.#onChange();
    return result;
  }

  /** Removes a subject's own config (it inherits the tenant's again); returns what was in force. */
  async deleteConfig(tenant: string, subject: string): Promise<EffectiveConfig> {
    const before = await this.#store.write(async (tx) => {
      if (subject !== GLOBAL && !(await this.#store.config(tx, tenant, subject)))
        throw registryProblem(
          404,
          ErrorCode.subjectConfigNotFound,
          `subject "${subject}" has no config of its own`,
        );
      const effective = await this.#effective(tx, tenant, subject);
      await this.#store.deleteConfig(tx, tenant, subject);
      return effective;
    });
    this.#onChange();
    return before;
  }

  /**
   * The compiled schema of a subject version for publish-time validation, or undefined
   * when the subject (or that version) is not registered. `compile` lets the caller cache
   * compiled validators by schema id.
   */
  async resolve(
    tenant: string,
    subject: string,
    spec: VersionSpec,
    compiled: (id: number, build: () => Promise<CompiledSchema>) => Promise<CompiledSchema>,
  ): Promise<ResolvedSchema | undefined> {
    const db = this.#store.db;
    const live = await this.#store.versions(db, tenant, subject, false);
    const version =
      spec === 'latest' ? live[live.length - 1] : live.find((v) => v.version === spec);
    if (!version) return undefined;
    const schema = await compiled(version.schemaId, async () => {
      // Checked at registration: only the references need loading, then one compile.
      const stored = (await this.#store.schemaById(db, tenant, version.schemaId))!;
      const parsed = JSON.parse(stored.text) as unknown;
      const dialect = dialectOf(parsed) as Dialect;
      const referenced = await this.#loadReferences(db, tenant, stored.references);
      return this.#compiler.compile(
        parsed,
        dialect,
        { references: stored.references, loaded: referenced },
        { stored: true },
      );
    });
    return { subject, version: version.version, id: version.schemaId, compiled: schema };
  }

  async #effective(q: SqlExecutor, tenant: string, subject: string): Promise<EffectiveConfig> {
    const own = subject === GLOBAL ? undefined : await this.#store.config(q, tenant, subject);
    const global = await this.#store.config(q, tenant, GLOBAL);
    const d = this.#defaults;
    return {
      compatibilityLevel: (own?.compatibility ??
        global?.compatibility ??
        d.compatibility) as CompatibilityLevel,
      validation: (own?.validation ?? global?.validation ?? d.validation) as ValidationMode,
      allowOptionalPropertyInOpenModel:
        own?.allowOptionalInOpen ??
        global?.allowOptionalInOpen ??
        d.allowOptionalPropertyInOpenModel,
    };
  }

  async #findVersion(
    q: SqlExecutor,
    tenant: string,
    subject: string,
    spec: VersionSpec,
    includeDeleted: boolean,
  ): Promise<StoredVersion> {
    const versions = await this.#store.versions(q, tenant, subject, includeDeleted);
    if (versions.length === 0) throw notFound.subject(subject);
    const found =
      spec === 'latest' ? versions[versions.length - 1] : versions.find((v) => v.version === spec);
    if (!found) throw notFound.version(subject, spec);
    return found;
  }

  /**
   * 422 while another version's schema references `version`. A soft delete minds live
   * versions only; a permanent one soft-deleted versions too: their schemas (and ids) are
   * still stored, and once the number is free again (a subject removed permanently starts
   * again at 1) the same id would resolve its reference to another schema, whereas caches
   * and clients keep an id's meaning forever. `together`: the subject whose versions are
   * all being deleted in the same call (their references to each other do not count).
   */
  async #refuseIfReferenced(
    q: SqlExecutor,
    tenant: string,
    version: StoredVersion,
    permanent = false,
    together?: string,
  ) {
    const users = (
      await this.#store.referencedBy(q, tenant, version.subject, version.version, permanent)
    ).filter((u) => u.subject !== together);
    if (users.length > 0)
      throw registryProblem(
        422,
        ErrorCode.referenceExists,
        `version ${version.version} of subject "${version.subject}" is referenced by ${[
          ...new Set(
            users.map(
              (u) => `"${u.subject}" version ${u.version}${u.deleted ? ' (soft deleted)' : ''}`,
            ),
          ),
        ].join(', ')}; delete those first${permanent ? ' (permanently)' : ''}`,
      );
  }

  /** Runs the compatibility check of `prepared` against the subject's live versions. */
  async #check(
    q: SqlExecutor,
    tenant: string,
    prepared: Prepared,
    live: readonly StoredVersion[],
    config: EffectiveConfig,
    against: readonly StoredVersion[] | 'all',
  ): Promise<Incompatibility[]> {
    if (config.compatibilityLevel === 'NONE' || live.length === 0) return [];
    // Which versions the level needs: all of them when transitive, else the latest.
    const level = config.compatibilityLevel;
    const targets =
      against !== 'all' ? against : level.endsWith('_TRANSITIVE') ? live : live.slice(-1);
    // Each side reads the referenced versions it names itself (pinned-references.ts): an
    // old version and the new one may `$ref` the same name and mean different versions.
    const loaded = new Map<string, LoadedVersion>();
    const documents = new Map<string, unknown>();
    const pin = (
      schema: unknown,
      references: readonly SchemaReference[],
      found: LoadedReference[],
    ) => {
      for (const ref of found) loaded.set(ref.key, ref);
      for (const ref of found)
        if (!documents.has(ref.key))
          documents.set(
            ref.key,
            pinReferences(ref.schema, pinTargets(ref.references, loaded), ref.key),
          );
      return pinReferences(schema, pinTargets(references, loaded));
    };
    const current = pin(prepared.schema, prepared.references, prepared.referenced);
    const previous: unknown[] = [];
    for (const v of targets) {
      const stored = (await this.#store.schemaById(q, tenant, v.schemaId))!;
      const found = await this.#loadReferences(q, tenant, stored.references);
      previous.push(pin(JSON.parse(stored.text), stored.references, found));
    }
    const directional = (
      level.startsWith('FULL') ? 'FULL' : level.startsWith('FORWARD') ? 'FORWARD' : 'BACKWARD'
    ) as CompatibilityLevel;
    return checkCompatibility(
      // The targets are already the versions to check: compare with each, non-transitively
      // when one was named, as the level says otherwise.
      against === 'all' ? level : directional,
      current,
      against === 'all' ? previous : previous.slice(-1),
      {
        allowOptionalPropertyInOpenModel: config.allowOptionalPropertyInOpenModel,
        resolveExternalRef: (key) => documents.get(key),
      },
    );
  }

  /** Parses, checks and compiles a schema input; 422 (Confluent 42201) when it is not usable. */
  async #prepare(q: SqlExecutor, tenant: string, input: SchemaInput): Promise<Prepared> {
    const { schema, references } = parseInput(input);
    const dialect = dialectOf(schema);
    if (typeof dialect !== 'string')
      throw invalidSchema(dialect.problem, [{ pointer: '/$schema', detail: dialect.problem }]);
    const meta = this.#compiler.metaProblems(schema, dialect);
    if (meta.length > 0)
      throw invalidSchema(`the schema is not a valid ${dialect} JSON Schema`, meta);
    const referenced = await this.#loadReferences(q, tenant, references);
    let compiled: CompiledSchema;
    try {
      compiled = this.#compiler.compile(schema, dialect, { references, loaded: referenced });
    } catch (error) {
      if (error instanceof SchemaCompileError)
        throw invalidSchema(`the schema cannot be compiled: ${error.message}`, error.problems);
      throw error;
    }
    return {
      schema,
      text: JSON.stringify(schema),
      dialect,
      references,
      referenced,
      fingerprint: fingerprint(schema, references),
      compiled,
    };
  }

  /** The schemas behind references, transitively (each reference graph node once). */
  async #loadReferences(
    q: SqlExecutor,
    tenant: string,
    references: readonly SchemaReference[],
  ): Promise<LoadedReference[]> {
    const out: LoadedReference[] = [];
    const seen = new Set<string>();
    const visit = async (refs: readonly SchemaReference[], top: boolean) => {
      for (const [i, ref] of refs.entries()) {
        const key = pinnedKey(ref.subject, ref.version);
        if (seen.has(key)) continue;
        seen.add(key);
        if (seen.size > MAX_REFERENCED_SCHEMAS)
          throw invalidSchema(
            `the schema references more than ${MAX_REFERENCED_SCHEMAS} schemas`,
            [],
          );
        const version = await this.#store.version(q, tenant, ref.subject, ref.version);
        if (!version || version.deleted) {
          const detail = `references version ${ref.version} of subject "${ref.subject}", which is not registered`;
          throw invalidSchema(detail, top ? [{ pointer: `/references/${i}`, detail }] : []);
        }
        const stored = (await this.#store.schemaById(q, tenant, version.schemaId))!;
        out.push({
          name: ref.name,
          key,
          schema: JSON.parse(stored.text),
          references: stored.references,
        });
        await visit(stored.references, false);
      }
    };
    await visit(references, true);
    return out;
  }
}

/** The request's schema and references, checked for shape (not yet for meaning). */
function parseInput(input: SchemaInput): { schema: unknown; references: SchemaReference[] } {
  if (input.schemaType !== undefined && input.schemaType.toUpperCase() !== 'JSON')
    throw invalidSchema(
      `schemaType "${input.schemaType}" is not supported: Portico registers JSON Schema only`,
      [{ pointer: '/schemaType', detail: 'must be "JSON"' }],
    );
  if (Buffer.byteLength(input.schema) > MAX_SCHEMA_BYTES)
    throw invalidSchema(`the schema is larger than ${MAX_SCHEMA_BYTES} bytes`, [
      { pointer: '/schema', detail: `must be at most ${MAX_SCHEMA_BYTES} bytes` },
    ]);
  const parsed = parseSchemaText(input.schema);
  if ('problem' in parsed)
    throw invalidSchema(parsed.problem, [{ pointer: '/schema', detail: parsed.problem }]);
  const references = [...(input.references ?? [])];
  const errors: FieldError[] = [];
  const names = new Set<string>();
  for (const [i, ref] of references.entries()) {
    if (names.has(ref.name))
      errors.push({ pointer: `/references/${i}/name`, detail: 'is listed twice' });
    names.add(ref.name);
    if (!SUBJECT.test(ref.subject))
      errors.push({ pointer: `/references/${i}/subject`, detail: 'is not a valid subject name' });
  }
  if (errors.length > 0)
    throw invalidSchema(`invalid references: ${errors[0]!.pointer} ${errors[0]!.detail}`, errors);
  return { schema: parsed.schema, references };
}

export function isSubjectName(text: string): boolean {
  return SUBJECT.test(text);
}

function invalidSchema(detail: string, problems: { pointer: string; detail: string }[]) {
  // Pointers into the schema document go under /schema for the request body; the
  // unprefixed ones are kept as `schemaErrors` for tools that show them against the schema.
  const intoSchema = problems.filter(
    (p) =>
      !p.pointer.startsWith('/references') &&
      p.pointer !== '/schemaType' &&
      p.pointer !== '/schema',
  );
  return registryProblem(422, ErrorCode.invalidSchema, `invalid schema: ${detail}`, {
    errors: problems.map((p) =>
      p.pointer.startsWith('/references') || p.pointer === '/schemaType' || p.pointer === '/schema'
        ? p
        : { pointer: '/schema', detail: `${p.pointer || '(root)'} ${p.detail}` },
    ),
    ...(intoSchema.length > 0 ? { extensions: { schemaErrors: intoSchema } } : {}),
  });
}

function incompatible(subject: string, config: EffectiveConfig, list: Incompatibility[]) {
  return registryProblem(
    409,
    ErrorCode.incompatible,
    `the schema is incompatible with an earlier version of subject "${subject}" (compatibility ${config.compatibilityLevel}): ${list
      .slice(0, 3)
      .map(describeIncompatibility)
      .join('; ')}${list.length > 3 ? `; and ${list.length - 3} more` : ''}`,
    { extensions: { compatibility: config.compatibilityLevel, incompatibilities: list } },
  );
}

/** One line per incompatibility, as Confluent's verbose `messages`. */
export function describeIncompatibility(i: Incompatibility): string {
  return `${i.change} at ${i.pointer === '' ? '(root)' : i.pointer}: ${i.detail}`;
}

function numbers(versions: readonly StoredVersion[]): number[] {
  return versions.map((v) => v.version);
}

function view(version: StoredVersion, text: string, references: SchemaReference[]): VersionView {
  return {
    subject: version.subject,
    version: version.version,
    id: version.schemaId,
    schemaType: 'JSON',
    schema: text,
    ...(references.length > 0 ? { references } : {}),
  };
}
