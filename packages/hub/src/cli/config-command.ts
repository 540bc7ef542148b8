import { isHelp } from './help.ts';
import { configJsonSchema } from '../config/json-schema.ts';

const USAGE =
  'usage: portico config schema   the JSON Schema of portico.config.json, for editors\n';

/** `portico config schema`: the configuration's JSON Schema, for editors. */
export async function runConfigSchema(args: string[]): Promise<number> {
  if (isHelp(args)) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (args.length !== 1 || args[0] !== 'schema') {
    process.stderr.write(USAGE);
    return 2;
  }
  process.stdout.write(JSON.stringify(configJsonSchema(), null, 2) + '\n');
  return 0;
}
