import { ConfigError } from './config/load-config.ts';

const USAGE = `portico — the integration hub for enterprise portals

Usage:
  portico start   [--port N] [--host H] [--data-dir DIR] [--config FILE]
  portico token   --tenant T --scopes "events:publish events:read" [--ttl SECONDS] [--subject S] [--data-dir DIR]
  portico publish --type domain.entity.action [--source URI] [--subject S] [--data JSON] [--id ID] [--hub URL] [--token T | --tenant T [--data-dir DIR]]
  portico tail    [--topic PATTERN] [--from POSITION] [--follow] [--hub URL] [--token T | --tenant T [--data-dir DIR]]
  portico migrate [--data-dir DIR] [--config FILE]   apply the state store's migrations, then exit
  portico config schema
  portico app schema | publish <portico.app.json> [--force] [--dry-run] [--hub URL] [--token T | --tenant T]
  portico contract check <files...> [--base FILE]... | [--against HUB_URL [--app A] [--api N] [--subject S]] [--format json]
  portico types   [--out portal-events.d.ts] [--hub URL] [--token T | --tenant T]   the portal's event contracts as TypeScript

Environment: PORTICO_PORT, PORTICO_DATA_DIR, PORTICO_HUB (CLI's hub URL), PORTICO_TOKEN, and the
configuration variables listed in the README.
`;

type Command = (args: string[]) => Promise<number>;

/** Commands that print a fuller usage of their own on `--help`. */
const OWN_HELP = new Set(['app', 'config', 'contract']);

/** The USAGE lines of one command. */
function usageOf(command: string): string {
  const lines = USAGE.split('\n').filter((l) => l.startsWith(`  portico ${command} `));
  return `Usage:\n${lines.join('\n')}`;
}

// Loaded on demand: `portico token` should not pay for the whole server.
const commands: Record<string, () => Promise<Command>> = {
  start: async () => (await import('./cli/start-command.ts')).runStart,
  token: async () => (await import('./cli/token-command.ts')).runToken,
  publish: async () => (await import('./cli/publish-command.ts')).runPublish,
  tail: async () => (await import('./cli/tail-command.ts')).runTail,
  config: async () => (await import('./cli/config-command.ts')).runConfigSchema,
  app: async () => (await import('./cli/app-command.ts')).runApp,
  contract: async () => (await import('./cli/contract-command.ts')).runContract,
  types: async () => (await import('./cli/types-command.ts')).runTypes,
  migrate: async () => (await import('./cli/migrate-command.ts')).runMigrate,
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return command ? 0 : 2;
  }
  const load = commands[command];
  if (!load) {
    process.stderr.write(`portico: unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  if (!OWN_HELP.has(command) && rest.some((a) => a === '--help' || a === '-h')) {
    process.stdout.write(`${usageOf(command)}\n`);
    return 0;
  }
  try {
    const run = await load();
    return await run(rest);
  } catch (error) {
    if (
      error instanceof ConfigError ||
      (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    ) {
      // parseArgs appends advice on positionals starting with '-': the first sentence says it.
      const message = (error as Error).message.split('. To specify a positional')[0];
      process.stderr.write(`portico ${command}: ${message}\n\n${usageOf(command)}\n`);
      return 2;
    }
    // An engine (PostgreSQL, NATS) that cannot be reached at start-up: say so, no stack.
    if ((error as { name?: string }).name === 'StoreUnavailableError') {
      process.stderr.write(`portico ${command}: ${(error as Error).message}\n`);
      return 1;
    }
    throw error;
  }
}

process.exitCode = await main(process.argv.slice(2));
