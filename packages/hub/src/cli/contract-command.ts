import { basename } from 'node:path';
import { parseCommandArgs } from './parse-command-args.ts';
import { AsyncApiParser } from '../catalog/asyncapi-document.ts';
import { compareContractFiles } from '../catalog/contract-check.ts';
import {
  formatReport,
  toReport,
  type ContractChange,
  type ContractReport,
} from '../catalog/contract-change.ts';
import {
  ContractInputError,
  parseAsyncApiValue,
  readContractFile,
  type ContractFile,
  type ContractTools,
} from '../catalog/contract-files.ts';
import { openApiProblems, type OpenApiDocument } from '../catalog/openapi-document.ts';
import { schemaChanges } from '../catalog/schema-diff.ts';
import { ManifestValidator } from '../catalog/validate-manifest.ts';
import { openApiChanges } from '../catalog/openapi-diff.ts';
import { asyncApiChanges } from '../catalog/asyncapi-diff.ts';
import { COMPATIBILITY_LEVELS, type CompatibilityLevel } from '../registry/compatibility/index.ts';
import { resolveHubTarget, type HubTarget } from './hub-client.ts';
import { isHelp } from './help.ts';

const USAGE = `usage: portico contract check <file>... [--base <file>]... [--format text|json] [--level LEVEL]
       portico contract check <file>... --against <hub URL> [--token T | --tenant T]
                              [--app NAME] [--api NAME] [--subject SUBJECT] [--format text|json]

Files are app manifests (portico.app.json), OpenAPI 3.x, AsyncAPI or JSON Schema documents,
in JSON or YAML. Each file is validated, then compared with its base: the --base files in
the same order, or what the hub holds (--against): an app's registered manifest (checked by
the hub, consumers included), an app's API (--app, --api), an app's events (--app) or a
registry subject (--subject). --level applies to JSON Schema files (default BACKWARD).
Exit status: 0 no breaking change, 1 breaking changes, 2 invalid input or usage.
`;

export async function runContract(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (isHelp(args)) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (sub !== 'check') {
    process.stderr.write(USAGE);
    return 2;
  }
  const { values, positionals } = parseCommandArgs({
    args: rest,
    allowPositionals: true,
    options: {
      base: { type: 'string', multiple: true },
      against: { type: 'string' },
      format: { type: 'string', default: 'text' },
      level: { type: 'string' },
      app: { type: 'string' },
      api: { type: 'string' },
      subject: { type: 'string' },
      token: { type: 'string' },
      tenant: { type: 'string' },
      'data-dir': { type: 'string' },
    },
    strict: true,
  });
  const fail = (message: string) => {
    process.stderr.write(`portico contract check: ${message}\n`);
    return 2;
  };
  if (positionals.length === 0) return fail(`give at least one file\n\n${USAGE}`);
  if (values.format !== 'text' && values.format !== 'json') return fail('--format is text or json');
  const bases = values.base ?? [];
  if (bases.length > 0 && values.against) return fail('give --base or --against, not both');
  if (bases.length > 0 && bases.length !== positionals.length)
    return fail(
      `${positionals.length} files but ${bases.length} --base files: give one base per file, in order`,
    );
  if (
    values.level !== undefined &&
    !COMPATIBILITY_LEVELS.includes(values.level as CompatibilityLevel)
  )
    return fail(`--level is one of ${COMPATIBILITY_LEVELS.join(', ')}`);
  const level = values.level as CompatibilityLevel | undefined;

  const tools: ContractTools = {
    validator: new ManifestValidator(),
    asyncapi: new AsyncApiParser(),
  };
  const changes: ContractChange[] = [];
  try {
    const hub = values.against
      ? await resolveHubTarget({ ...values, hub: values.against }, ['events:read'])
      : undefined;
    for (const [i, path] of positionals.entries()) {
      const next = await readContractFile(path, tools);
      if (bases[i] !== undefined) {
        const base = await readContractFile(bases[i]!, tools);
        changes.push(...compareContractFiles(base, next, level ? { level } : {}));
      } else if (hub) {
        changes.push(...(await againstHub(next, hub, values, tools, level)));
      }
    }
  } catch (error) {
    if (error instanceof ContractInputError) return fail(error.message);
    if (error instanceof HubError) return fail(error.message);
    if (error instanceof Error && /give --token/.test(error.message)) return fail(error.message);
    throw error;
  }
  const report = toReport(changes);
  if (values.format === 'json') process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  else {
    if (bases.length === 0 && !values.against)
      process.stdout.write(
        `${positionals.length} file(s) valid; nothing to compare (give --base or --against)\n`,
      );
    else process.stdout.write(formatReport(report));
  }
  return report.breaking ? 1 : 0;
}

class HubError extends Error {
  override name = 'HubError';
}

async function againstHub(
  next: ContractFile,
  hub: HubTarget,
  values: { app?: string; api?: string; subject?: string },
  tools: ContractTools,
  level: CompatibilityLevel | undefined,
): Promise<ContractChange[]> {
  switch (next.kind) {
    case 'manifest': {
      // The hub runs the publish checks (consumers and registry subjects included).
      const result = await call(
        hub,
        `/v1/catalog/apps/${encodeURIComponent(next.manifest.name)}/check`,
        {
          method: 'POST',
          body: JSON.stringify(next.manifest),
        },
      );
      return (result as { report: ContractReport }).report.changes;
    }
    case 'openapi': {
      const app = required(values.app, '--app (the app whose API this is)', next.path);
      const query = values.api ? `?api=${encodeURIComponent(values.api)}` : '';
      const base = await call(
        hub,
        `/v1/catalog/apps/${encodeURIComponent(app)}/openapi.json${query}`,
        {},
        true,
      );
      if (base === undefined) return [notRegistered(`app ${app}`, next.path)];
      const problems = await openApiProblems(base, '');
      if (problems.length > 0)
        throw new HubError(`the hub's OpenAPI document for ${app} is invalid`);
      return openApiChanges(
        base as OpenApiDocument,
        next.doc,
        `${app}${values.api ? `/${values.api}` : ''} (${basename(next.path)})`,
      );
    }
    case 'asyncapi': {
      const app = required(values.app, '--app (the app whose events these are)', next.path);
      const base = await call(
        hub,
        `/v1/catalog/apps/${encodeURIComponent(app)}/asyncapi.json`,
        {},
        true,
      );
      if (base === undefined) return [notRegistered(`app ${app}`, next.path)];
      return asyncApiChanges(
        await parseAsyncApiValue(base, `the hub's AsyncAPI for ${app}`, tools),
        next.doc,
        `${app} (${basename(next.path)})`,
      );
    }
    case 'json-schema': {
      const subject = required(values.subject, '--subject (the registry subject)', next.path);
      const base = await call(
        hub,
        `/v1/registry/subjects/${encodeURIComponent(subject)}/versions/latest`,
        {},
        true,
      );
      if (base === undefined) return [notRegistered(`subject ${subject}`, next.path)];
      const schema = JSON.parse((base as { schema: string }).schema) as unknown;
      return schemaChanges(
        schema,
        next.schema,
        level ?? 'BACKWARD',
        `json-schema ${next.path} vs subject ${subject}`,
      );
    }
  }
}

function required(value: string | undefined, what: string, path: string): string {
  if (value === undefined) throw new ContractInputError(`${path}: --against needs ${what}`);
  return value;
}

function notRegistered(what: string, path: string): ContractChange {
  return {
    severity: 'info',
    code: 'not-registered',
    location: path,
    detail: `the hub has no ${what} yet: nothing to compare`,
  };
}

/** A hub call; `absentOk`: a 404 is undefined instead of an error. */
async function call(
  hub: HubTarget,
  path: string,
  init: RequestInit,
  absentOk = false,
): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(`${hub.url}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${hub.token}`,
        ...(init.body ? { 'content-type': 'application/json' } : {}),
      },
    });
  } catch (error) {
    throw new HubError(`cannot reach the hub at ${hub.url}: ${(error as Error).message}`);
  }
  const text = await response.text();
  if (response.status === 404 && absentOk) return undefined;
  let body: Record<string, unknown> | undefined;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    const errors = ((body?.errors as { pointer: string; detail: string }[] | undefined) ?? [])
      .map((e) => `\n  ${e.pointer}: ${e.detail}`)
      .join('');
    throw new HubError(
      `the hub answered ${response.status}: ${String(body?.detail ?? text.slice(0, 300))}${errors}`,
    );
  }
  return body;
}
