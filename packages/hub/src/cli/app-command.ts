import { parseCommandArgs } from './parse-command-args.ts';
import { AsyncApiParser } from '../catalog/asyncapi-document.ts';
import { ContractInputError, readContractFile } from '../catalog/contract-files.ts';
import { formatReport, type ContractReport } from '../catalog/contract-change.ts';
import { manifestJsonSchema } from '../catalog/manifest-schema.ts';
import { ManifestValidator } from '../catalog/validate-manifest.ts';
import { resolveHubTarget } from './hub-client.ts';
import { isHelp } from './help.ts';

const USAGE = `usage: portico app schema
       portico app publish <portico.app.json> [--force] [--dry-run] [--hub URL] [--token T | --tenant T]
`;

/** `portico app schema` prints the manifest's JSON Schema; `portico app publish` registers an app. */
export async function runApp(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (isHelp(args)) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (sub === 'schema' && rest.length === 0) {
    process.stdout.write(JSON.stringify(manifestJsonSchema(), null, 2) + '\n');
    return 0;
  }
  if (sub === 'publish') return publish(rest);
  process.stderr.write(USAGE);
  return 2;
}

async function publish(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs({
    args,
    allowPositionals: true,
    options: {
      force: { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
      format: { type: 'string', default: 'text' },
      hub: { type: 'string' },
      token: { type: 'string' },
      tenant: { type: 'string' },
      'data-dir': { type: 'string' },
    },
    strict: true,
  });
  if (positionals.length !== 1) {
    process.stderr.write(USAGE);
    return 2;
  }
  let file;
  try {
    file = await readContractFile(positionals[0]!, {
      validator: new ManifestValidator(),
      asyncapi: new AsyncApiParser(),
    });
  } catch (error) {
    if (!(error instanceof ContractInputError)) throw error;
    process.stderr.write(`portico app publish: ${error.message}\n`);
    return 2;
  }
  if (file.kind !== 'manifest') {
    process.stderr.write(`portico app publish: ${file.path} is not an app manifest\n`);
    return 2;
  }
  const query = new URLSearchParams();
  if (values.force) query.set('force', 'true');
  if (values['dry-run']) query.set('dryRun', 'true');
  let response: Response;
  try {
    const target = await resolveHubTarget(values, ['schemas:write']);
    response = await fetch(
      `${target.url}/v1/catalog/apps/${encodeURIComponent(file.manifest.name)}?${query}`,
      {
        method: 'PUT',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${target.token}` },
        body: JSON.stringify(file.manifest),
      },
    );
  } catch (error) {
    process.stderr.write(`portico app publish: ${(error as Error).message}\n`);
    return 2;
  }
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { detail: text };
  }
  if (values.format === 'json') process.stdout.write(JSON.stringify(body, null, 2) + '\n');
  if (response.ok) {
    const report = body.report as ContractReport;
    if (values.format !== 'json') {
      process.stdout.write(formatReport(report));
      const revision = String(body.revision);
      const outcome = values['dry-run']
        ? 'checked (dry run)'
        : body.created
          ? `registered as revision ${revision}`
          : body.unchanged
            ? `unchanged (still revision ${revision})`
            : `updated as revision ${revision}`;
      process.stdout.write(
        `${file.manifest.name}: ${outcome}${body.forced ? ' (breaking changes forced)' : ''}\n`,
      );
    }
    return values['dry-run'] && report.breaking ? 1 : 0;
  }
  if (values.format !== 'json') {
    if (response.status === 409 && Array.isArray(body.changes))
      process.stderr.write(formatReport(body as unknown as ContractReport));
    process.stderr.write(
      `portico app publish: ${response.status} ${String(body.title ?? '')}: ${String(body.detail ?? '')}\n`,
    );
    for (const e of (body.errors as { pointer: string; detail: string }[] | undefined) ?? [])
      process.stderr.write(`  ${e.pointer}: ${e.detail}\n`);
  }
  return response.status === 409 ? 1 : 2;
}
