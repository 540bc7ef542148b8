import { parseArgs, type ParseArgsConfig } from 'node:util';

/**
 * `parseArgs`, refusing an option given twice (`--port 1 --port 2`) unless it is `multiple`:
 * parseArgs keeps the last one silently, and a script that builds a command line would then
 * run with a value nobody chose. The error carries parseArgs' code, so it gets the same usage
 * message and exit status as any other bad flag.
 */
export function parseCommandArgs<T extends ParseArgsConfig>(
  config: T,
): ReturnType<typeof parseArgs<T>> {
  const parsed = parseArgs(config);
  const { tokens } = parseArgs({ ...config, tokens: true });
  const seen = new Set<string>();
  for (const token of tokens ?? []) {
    if (token.kind !== 'option' || config.options?.[token.name]?.multiple) continue;
    if (seen.has(token.name))
      throw Object.assign(new Error(`option '${token.rawName}' is given more than once`), {
        code: 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE',
      });
    seen.add(token.name);
  }
  return parsed;
}
