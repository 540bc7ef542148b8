/**
 * `--help` or `-h` anywhere among a command's arguments (`portico app publish --help` too):
 * for commands that print a fuller usage of their own (main.ts handles the others).
 */
export function isHelp(args: string[]): boolean {
  return args.some((a) => a === '--help' || a === '-h');
}
