/**
 * The catalog's rules, independent of HTTP. Publishing an app checks everything before
 * writing anything: the manifest's shape, each OpenAPI document (swagger-parser), the
 * registry subjects it names, the AsyncAPI document its events make (@asyncapi/parser),
 * then its changes against the app's current revision and against the other apps of the
 * tenant that consume its events. Breaking changes refuse the publish unless forced.
 */
import { problems, ProblemError, type FieldError } from '../http/problem.ts';
import {
  CheckBudget,
  checkCompatibility,
  type CompatibilityOptions,
} from '../registry/compatibility/index.ts';
import { AsyncApiParser } from './asyncapi-document.ts';
import { buildAsyncApi } from './asyncapi-export.ts';
import { eventsAsyncApiProblems } from './events-check.ts';
import { buildEventContracts, type EventContracts } from './event-contracts.ts';
import {
  AppLimitError,
  RevisionConflictError,
  type CatalogStore,
  type StoredApp,
} from './catalog-store.ts';
import { toReport, type ContractChange, type ContractReport } from './contract-change.ts';
import { manifestChanges } from './manifest-diff.ts';
import type { AppManifest, EventDeclaration } from './manifest-schema.ts';
import { openApiProblems } from './openapi-document.ts';
import { OpenApiSchemaCheck } from './openapi-schema-check.ts';
import { schemaChanges } from './schema-diff.ts';
import { RegisteredSchemas, type LoadedSchema, type SchemaLookup } from './registered-schemas.ts';
import { ManifestValidator } from './validate-manifest.ts';

export type { SchemaLookup } from './registered-schemas.ts';

export type CatalogServiceOptions = {
  store: CatalogStore;
  env: string;
  /**
   * The schema registry (registry-lookup.ts); without it, `schemaRef`s are accepted
   * unchecked (with a warning) and treated as unknown schemas.
   */
  schemas?: SchemaLookup;
  maxAppsPerTenant?: number;
};

export type PublishOutcome = {
  app: StoredApp;
  created: boolean;
  forced: boolean;
  dryRun: boolean;
  /** The manifest equals the current revision: nothing was written. */
  unchanged: boolean;
  report: ContractReport;
};

const REF = /^(.+?)(?:\/versions\/([1-9][0-9]*|latest))?$/;

export class CatalogService {
  readonly #store: CatalogStore;
  readonly #env: string;
  readonly #schemas: SchemaLookup | undefined;
  readonly #maxApps: number;
  readonly #validator = new ManifestValidator();
  readonly #asyncapi = new AsyncApiParser();
  readonly #openapiSchemas = new OpenApiSchemaCheck();

  constructor(options: CatalogServiceOptions) {
    this.#store = options.store;
    this.#env = options.env;
    this.#schemas = options.schemas;
    this.#maxApps = options.maxAppsPerTenant ?? 500;
  }

  get store(): CatalogStore {
    return this.#store;
  }

  /**
   * Checks `body` as the next revision of app `name` and, unless `dryRun`, stores it.
   * Throws a 400 problem for an invalid manifest and a 409 for breaking changes (unless
   * `force`); a dry run reports breaking changes without refusing.
   */
  async publish(
    tenant: string,
    name: string,
    body: unknown,
    options: { force: boolean; dryRun: boolean },
  ): Promise<PublishOutcome> {
    const schemaOf = this.#schemaResolver(tenant);
    const manifest = await this.#checkDocuments(body, name, schemaOf);
    const previous = await this.#store.get(tenant, name);
    const others = (await this.#store.list(tenant)).filter((a) => a.name !== name);
    await schemaOf.load([
      ...(previous ? [previous.manifest] : []),
      ...others.map((o) => o.manifest),
    ]);
    // One work budget for every schema comparison of the request: a manifest with many
    // large schemas, or an event with hundreds of consumers, cannot hold the event loop
    // for longer than one pathological schema can. Cross-subject `$ref`s resolve to what
    // this request loaded for this tenant, each side to its own referenced versions.
    const compare = { budget: new CheckBudget(), resolveExternalRef: schemaOf.resolve };
    const changes = [
      ...schemaOf.warnings(),
      ...(previous
        ? manifestChanges(
            previous.manifest,
            manifest,
            { previous: schemaOf.compared, next: schemaOf.compared },
            compare,
          )
        : []),
      ...consumerChanges(previous?.manifest, manifest, others, schemaOf.compared, compare),
    ];
    const report = toReport(changes);
    if (options.dryRun)
      return {
        app: previous ?? { name, revision: 0, manifest, createdAt: 0, updatedAt: 0 },
        created: !previous,
        forced: false,
        dryRun: true,
        unchanged: false,
        report,
      };
    if (report.breaking && !options.force) {
      const first = report.changes[0]!;
      throw problems.conflict(
        `${report.summary.breaking} breaking change${report.summary.breaking === 1 ? '' : 's'} (first: ${first.location}: ${first.detail}); fix them, or publish with ?force=true to accept them`,
        { ...report },
      );
    }
    // CI publishes on every build: the same manifest again is not a new revision.
    if (previous && JSON.stringify(previous.manifest) === JSON.stringify(manifest))
      return {
        app: previous,
        created: false,
        forced: false,
        dryRun: false,
        unchanged: true,
        report,
      };
    try {
      const app = await this.#store.save(
        tenant,
        manifest,
        previous?.revision ?? 0,
        { forced: report.breaking, changes: report.changes },
        this.#maxApps,
      );
      return {
        app,
        created: !previous,
        forced: report.breaking,
        dryRun: false,
        unchanged: false,
        report,
      };
    } catch (error) {
      if (error instanceof AppLimitError)
        throw problems.conflict(error.message, { limit: this.#maxApps });
      if (error instanceof RevisionConflictError)
        throw problems.conflict(
          `app "${name}" was published concurrently; check again against its new revision`,
        );
      throw error;
    }
  }

  /** The tenant's events as one AsyncAPI 3.0 document (or one app's, given `only`). */
  async asyncApi(tenant: string, only?: StoredApp): Promise<Record<string, unknown>> {
    const apps = only ? [only] : await this.#store.list(tenant);
    const schemaOf = this.#schemaResolver(tenant);
    await schemaOf.load(apps.map((a) => a.manifest));
    const latest = Math.max(0, ...apps.map((a) => a.updatedAt));
    return buildAsyncApi(
      apps.map((a) => ({ manifest: a.manifest, schemaOf: schemaOf.sync })),
      {
        title: only ? `${only.name} events` : `${tenant} portal events`,
        version: only ? String(only.revision) : latest > 0 ? new Date(latest).toISOString() : '0',
        description: only
          ? `Events published and consumed by ${only.name} (owner: ${only.manifest.owner.team}), from the Portico catalog.`
          : `The events of tenant ${tenant}'s portal, from the Portico catalog: each channel is an event type, each message a producing app.`,
        env: this.#env,
      },
    );
  }

  /** Each event type of the tenant's apps: its publishers, consumers and data schema. */
  async eventContracts(tenant: string): Promise<EventContracts> {
    const apps = await this.#store.list(tenant);
    const schemaOf = this.#schemaResolver(tenant);
    await schemaOf.load(apps.map((a) => a.manifest));
    const types = new Set(
      apps.flatMap((a) =>
        [...(a.manifest.events?.publishes ?? []), ...(a.manifest.events?.consumes ?? [])].map(
          (e) => e.type,
        ),
      ),
    );
    const lookup = this.#schemas;
    const registered = new Map<string, unknown>();
    if (lookup)
      await Promise.all(
        [...types].map(async (type) => {
          const found = await lookup(tenant, type, 'latest');
          if (found !== undefined) registered.set(type, found.schema);
        }),
      );
    return buildEventContracts(apps, { registered, declared: schemaOf.sync });
  }

  /** Everything a valid manifest must be, all problems at once (400), before any diff. */
  async #checkDocuments(
    body: unknown,
    name: string,
    schemaOf: SchemaResolver,
  ): Promise<AppManifest> {
    const errors = this.#validator.validate(body, { inline: true });
    if (errors.length > 0) throw invalid(errors);
    const manifest = body as AppManifest;
    if (manifest.name !== name)
      throw invalid([{ pointer: '/name', detail: `must be "${name}", the app name in the URL` }]);
    for (const [i, api] of (manifest.apis ?? []).entries())
      errors.push(
        ...(await openApiProblems(api.openapi, `/apis/${i}/openapi`, this.#openapiSchemas)),
      );
    errors.push(...(await schemaOf.load([manifest])));
    if (errors.length > 0) throw invalid(errors);
    // The app's events must make a valid AsyncAPI document (payloads included).
    const events = await eventsAsyncApiProblems(manifest, schemaOf.sync, {
      env: this.#env,
      parser: this.#asyncapi,
    });
    if (events.length > 0) throw invalid(events);
    return manifest;
  }

  #schemaResolver(tenant: string): SchemaResolver {
    return new SchemaResolver(tenant, this.#schemas);
  }
}

/**
 * Payload schemas of declared events: inline ones as they are, `schemaRef`s looked up in
 * the registry once per request (`load`, with the versions they reference), then read
 * synchronously: as registered (`sync`) by the export and the AsyncAPI check, pinned
 * (`compared`, with `resolve`) by the diffs.
 */
class SchemaResolver {
  readonly #registered: RegisteredSchemas | undefined;
  readonly #loaded = new Map<string, LoadedSchema | undefined>();
  readonly #unchecked = new Set<string>();

  constructor(tenant: string, lookup: SchemaLookup | undefined) {
    this.#registered = lookup ? new RegisteredSchemas(tenant, lookup) : undefined;
  }

  /** Looks up every `schemaRef` of the manifests; problems for refs the registry lacks. */
  async load(manifests: readonly AppManifest[]): Promise<FieldError[]> {
    const errors: FieldError[] = [];
    for (const [m, manifest] of manifests.entries())
      for (const direction of ['publishes', 'consumes'] as const)
        for (const [i, event] of (manifest.events?.[direction] ?? []).entries()) {
          const ref = event.schemaRef;
          if (ref === undefined || this.#loaded.has(ref)) continue;
          if (!this.#registered) {
            this.#unchecked.add(ref);
            continue;
          }
          const [, subject, version] = REF.exec(ref)!;
          const loaded = await this.#registered.load(
            subject!,
            version === undefined || version === 'latest' ? 'latest' : Number(version),
          );
          this.#loaded.set(ref, loaded);
          if (loaded === undefined && m === 0)
            errors.push({
              pointer: `/events/${direction}/${i}/schemaRef`,
              detail: `the schema registry has no subject "${subject}"${version ? ` version ${version}` : ''} for this tenant`,
            });
        }
    return errors;
  }

  readonly sync = (event: EventDeclaration): unknown => {
    if (event.schemaRef !== undefined) return this.#loaded.get(event.schemaRef)?.schema;
    return typeof event.schema === 'string' ? undefined : event.schema;
  };

  readonly compared = (event: EventDeclaration): unknown => {
    if (event.schemaRef !== undefined) return this.#loaded.get(event.schemaRef)?.compared;
    return typeof event.schema === 'string' ? undefined : event.schema;
  };

  /**
   * `resolveExternalRef` for the comparisons. Given even without a registry: a reference
   * nobody can resolve is then breaking, not a warning (schema-diff.ts).
   */
  readonly resolve = (key: string): unknown => this.#registered?.resolve(key);

  warnings(): ContractChange[] {
    return [...this.#unchecked].map((ref) => ({
      severity: 'warning' as const,
      code: 'schema-ref-unchecked',
      location: `schemaRef ${ref}`,
      detail: 'no schema registry is connected to the catalog: the reference was not checked',
    }));
  }
}

/**
 * What the new revision does to the other apps of the tenant: a consumer whose declared
 * schema cannot read the events this app now publishes is broken by this change
 * (breaking when the previous revision's schema was still readable, else a warning:
 * it was already broken), and a schema this app declares for an event it consumes that
 * cannot read what a producer sends is a warning.
 */
function consumerChanges(
  previous: AppManifest | undefined,
  next: AppManifest,
  others: readonly StoredApp[],
  schemaOf: (e: EventDeclaration) => unknown,
  compare: CompatibilityOptions,
): ContractChange[] {
  const out: ContractChange[] = [];
  const reads = (writer: unknown, reader: unknown) => {
    try {
      return checkCompatibility('BACKWARD', reader, [writer], compare).length === 0;
    } catch {
      return false;
    }
  };
  for (const event of next.events?.publishes ?? []) {
    const written = schemaOf(event);
    if (written === undefined) continue;
    const before = previous?.events?.publishes?.find((e) => e.type === event.type);
    const old = before ? schemaOf(before) : undefined;
    for (const other of others) {
      const consumed = other.manifest.events?.consumes?.find((e) => e.type === event.type);
      const reader = consumed ? schemaOf(consumed) : undefined;
      if (reader === undefined) continue;
      const found = schemaChanges(
        written,
        reader,
        'reads',
        `app ${other.name} (consumer of ${event.type}) payload`,
        compare,
      );
      const newlyBroken = old !== undefined && reads(old, reader);
      for (const c of found)
        out.push({
          ...c,
          severity: c.severity === 'breaking' && newlyBroken ? 'breaking' : 'warning',
          code: `consumer-cannot-read/${c.code}`,
          detail: `${c.detail} (the consumer's declared schema, reading what ${next.name} now publishes)`,
        });
    }
  }
  for (const event of next.events?.consumes ?? []) {
    const reader = schemaOf(event);
    if (reader === undefined) continue;
    for (const other of others) {
      const produced = other.manifest.events?.publishes?.find((e) => e.type === event.type);
      const written = produced ? schemaOf(produced) : undefined;
      if (written === undefined) continue;
      for (const c of schemaChanges(
        written,
        reader,
        'reads',
        `app ${next.name} consumed event ${event.type} payload`,
        compare,
      ))
        out.push({
          ...c,
          severity: 'warning',
          code: `cannot-read-producer/${c.code}`,
          detail: `${c.detail} (this app's declared schema, reading what ${other.name} publishes)`,
        });
    }
  }
  return out;
}

function invalid(errors: FieldError[]): ProblemError {
  const first = errors[0]!;
  return problems.validation(`the manifest is invalid: ${first.pointer} ${first.detail}`, errors);
}
