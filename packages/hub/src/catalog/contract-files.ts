/**
 * Contract files as `portico contract check` and `portico app publish` read them: JSON or
 * YAML, recognised by their content: an OpenAPI document (`openapi`), an AsyncAPI document
 * (`asyncapi`), an app manifest (see `looksLikeManifest`), else a JSON Schema. Every
 * file is validated with the same parsers as the hub, so a file the CLI accepts is one the
 * hub accepts. A manifest's file paths are resolved relative to the manifest.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { AsyncAPIDocumentInterface } from '@asyncapi/parser';
import { parse as parseYaml } from 'yaml';
import type { FieldError } from '../http/problem.ts';
import type { AsyncApiParser } from './asyncapi-document.ts';
import { eventsAsyncApiProblems } from './events-check.ts';
import type { AppManifest } from './manifest-schema.ts';
import { bundleOpenApiFile, openApiProblems, type OpenApiDocument } from './openapi-document.ts';
import { deeperThan, tooDeepDetail } from '../http/json-depth.ts';
import type { ManifestValidator } from './validate-manifest.ts';

export type ContractFile =
  | { kind: 'manifest'; path: string; manifest: AppManifest }
  | { kind: 'openapi'; path: string; doc: OpenApiDocument }
  | { kind: 'asyncapi'; path: string; doc: AsyncAPIDocumentInterface }
  | { kind: 'json-schema'; path: string; schema: unknown };

/** A file that cannot be read or is not a valid contract: a usage error, not a verdict. */
export class ContractInputError extends Error {
  override name = 'ContractInputError';
  readonly problems: FieldError[];
  constructor(message: string, problems: FieldError[] = []) {
    super(
      problems.length === 0
        ? message
        : `${message}\n${problems.map((p) => `  ${p.pointer || '/'}: ${p.detail}`).join('\n')}`,
    );
    this.problems = problems;
  }
}

export type ContractTools = { validator: ManifestValidator; asyncapi: AsyncApiParser };

export async function readContractFile(path: string, tools: ContractTools): Promise<ContractFile> {
  const value = await readStructured(path);
  const tooDeep = deeperThan(value);
  if (tooDeep !== undefined) throw new ContractInputError(`${path}: ${tooDeep} ${tooDeepDetail()}`);
  if (isObject(value) && typeof value.openapi === 'string') {
    const doc = await bundleOpenApiFile(path).catch((error: unknown) => {
      throw new ContractInputError(`${path}: ${(error as Error).message.split('\n')[0]}`);
    });
    await mustBeValidOpenApi(doc, path, '');
    return { kind: 'openapi', path, doc };
  }
  if (isObject(value) && typeof value.asyncapi === 'string') {
    const text = await readFile(path, 'utf8');
    const parsed = await tools.asyncapi.parse(text, resolve(path));
    if (!parsed.document)
      throw new ContractInputError(`${path} is not a valid AsyncAPI document`, parsed.errors);
    return { kind: 'asyncapi', path, doc: parsed.document };
  }
  if (isObject(value) && looksLikeManifest(value, path))
    return { kind: 'manifest', path, manifest: await inlineManifest(value, path, tools) };
  const problems = tools.validator.schemaProblems(value, '');
  if (problems.length > 0)
    throw new ContractInputError(
      `${path} is neither an OpenAPI, AsyncAPI, app manifest nor valid JSON Schema document`,
      problems,
    );
  return { kind: 'json-schema', path, schema: value };
}

/** Parses an AsyncAPI document fetched from the hub (no file around it). */
export async function parseAsyncApiValue(value: unknown, label: string, tools: ContractTools) {
  const parsed = await tools.asyncapi.parse(value as object);
  if (!parsed.document)
    throw new ContractInputError(`${label} is not a valid AsyncAPI document`, parsed.errors);
  return parsed.document;
}

/**
 * A manifest read from disk with its OpenAPI documents and payload schemas read from the
 * files it names, then validated as the hub will (all problems at once).
 */
async function inlineManifest(
  value: Record<string, unknown>,
  path: string,
  tools: ContractTools,
): Promise<AppManifest> {
  const shape = tools.validator.validate(value, { inline: false });
  if (shape.length > 0) throw new ContractInputError(`${path} is not a valid app manifest`, shape);
  const manifest = structuredClone(value) as AppManifest;
  const dir = dirname(resolve(path));
  for (const api of manifest.apis ?? [])
    if (typeof api.openapi === 'string') {
      const file = resolve(dir, api.openapi);
      api.openapi = await bundleOpenApiFile(file).catch((error: unknown) => {
        throw new ContractInputError(
          `${path}: api ${api.name}: ${file}: ${(error as Error).message.split('\n')[0]}`,
        );
      });
    }
  for (const direction of ['publishes', 'consumes'] as const)
    for (const event of manifest.events?.[direction] ?? [])
      if (typeof event.schema === 'string')
        event.schema = (await readStructured(resolve(dir, event.schema))) as Record<
          string,
          unknown
        >;
  const problems = tools.validator.validate(manifest, { inline: true });
  for (const [i, api] of (manifest.apis ?? []).entries())
    problems.push(...(await openApiProblems(api.openapi, `/apis/${i}/openapi`)));
  if (problems.length === 0)
    // As the hub will; a `schemaRef` cannot be read offline, so its event has no payload here.
    problems.push(
      ...(await eventsAsyncApiProblems(
        manifest,
        (e) => (typeof e.schema === 'string' ? undefined : e.schema),
        { env: 'dev', parser: tools.asyncapi },
      )),
    );
  if (problems.length > 0)
    throw new ContractInputError(`${path} is not a valid app manifest`, problems);
  return manifest;
}

async function mustBeValidOpenApi(doc: unknown, path: string, at: string): Promise<void> {
  const problems = await openApiProblems(doc, at);
  if (problems.length > 0)
    throw new ContractInputError(`${path} is not a valid OpenAPI 3.x document`, problems);
}

async function readStructured(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ContractInputError(
      `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  try {
    // YAML 1.2 is a superset of JSON: one parser for both.
    return parseYaml(text, { maxAliasCount: 1000 }) as unknown;
  } catch (error) {
    throw new ContractInputError(
      `${basename(path)} is neither JSON nor YAML: ${(error as Error).message.split('\n')[0]}`,
    );
  }
}

/**
 * A manifest by its name or `$schema`, or by its keys: a manifest that lacks a required
 * field should be reported as an invalid manifest, not compared as a JSON Schema.
 */
function looksLikeManifest(value: Record<string, unknown>, path: string): boolean {
  if (/(^|[./\\])app\.(json|ya?ml)$/.test(basename(path))) return true;
  if (typeof value.$schema === 'string' && value.$schema.includes('portico.app')) return true;
  return 'name' in value && ['owner', 'domain', 'apis', 'events', 'ui'].some((k) => k in value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
