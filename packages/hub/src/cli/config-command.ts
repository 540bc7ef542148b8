import { ConfigSchema } from '../config/schema.ts';

/** `portico config schema`: the configuration's JSON Schema, for editors. */
export async function runConfigSchema(args: string[]): Promise<number> {
  if (args[0] !== 'schema') {
    process.stderr.write('usage: portico config schema\n');
    return 2;
  }
  process.stdout.write(
    JSON.stringify(
      { $schema: 'https://json-schema.org/draft/2020-12/schema', ...ConfigSchema },
      null,
      2,
    ) + '\n',
  );
  return 0;
}
