import { writeFile } from 'node:fs/promises';
import { parseCommandArgs } from './parse-command-args.ts';
import { contractsToTypeScript, type EventContractsBody } from './contracts-to-typescript.ts';
import { fetchHub, readHubResponse, resolveHubTarget } from './hub-client.ts';
import { isSystemError } from './system-error.ts';

const USAGE = `usage: portico types [--out portal-events.d.ts] [--hub URL] [--token T | --tenant T]
  writes the portal's event contracts (GET /v1/catalog/contracts) as TypeScript; --out - prints them
`;

/** `portico types`: the tenant's event contracts as a `.d.ts` (see contracts-to-typescript.ts). */
export async function runTypes(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs({
    args,
    allowPositionals: true,
    options: {
      out: { type: 'string', default: 'portal-events.d.ts' },
      hub: { type: 'string' },
      token: { type: 'string' },
      tenant: { type: 'string' },
      'data-dir': { type: 'string' },
    },
    strict: true,
  });
  if (positionals.length > 0) {
    process.stderr.write(USAGE);
    return 2;
  }
  let contracts: EventContractsBody;
  let url: string;
  try {
    const target = await resolveHubTarget(values, ['events:read']);
    url = `${target.url}/v1/catalog/contracts`;
    const response = await fetchHub(url, { headers: { authorization: `Bearer ${target.token}` } });
    contracts = (await readHubResponse(response)) as EventContractsBody;
  } catch (error) {
    process.stderr.write(`portico types: ${(error as Error).message}\n`);
    return 2;
  }
  const text = await contractsToTypeScript(contracts, { source: url });
  if (values.out === '-') {
    process.stdout.write(text);
    return 0;
  }
  try {
    await writeFile(values.out, text);
  } catch (error) {
    if (!isSystemError(error)) throw error;
    process.stderr.write(`portico types: cannot write ${values.out}: ${error.message}\n`);
    return 2;
  }
  const count = Object.keys(contracts.events).length;
  process.stdout.write(
    `portico types: ${values.out}: ${count} event type${count === 1 ? '' : 's'} (PortalEvents)\n`,
  );
  return 0;
}
