/**
 * Builds the shell SDK with esbuild into ESM files and measures them. Used by
 * `npm run build:shell` (writes dist/) and by the browser tests (serve them from memory).
 *
 * Code split: what only development mode loads (the bus's contract checker and its JSON
 * Schema validator, a dynamic import) lands in its own chunk, so the core a portal loads
 * in production stays small.
 */
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

export const SHELL_ENTRY = fileURLToPath(new URL('../src/index.ts', import.meta.url));
export const BUNDLE_FILE = 'portico-shell.js';

export type ShellBundle = {
  /** The entry module (`portico-shell.js`). */
  code: string;
  /** Every output file by name: the entry and the lazily loaded chunks. */
  files: Map<string, string>;
  minBytes: number;
  gzipBytes: number;
  /** Sizes of the lazily loaded chunks together (development-mode checks). */
  lazyMinBytes: number;
  lazyGzipBytes: number;
};

export async function bundleShell(
  entry: string = SHELL_ENTRY,
  options: { minify?: boolean } = {},
): Promise<ShellBundle> {
  const result = await build({
    entryPoints: { 'portico-shell': entry },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: options.minify ?? true,
    outdir: fileURLToPath(new URL('../dist/', import.meta.url)),
    chunkNames: 'chunk-[hash]',
    write: false,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const files = new Map(result.outputFiles.map((f) => [basename(f.path), f.text]));
  const code = files.get(BUNDLE_FILE)!;
  // The entry plus any chunk it imports statically is what every page loads.
  const staticChunks = [...code.matchAll(/from\s*"\.\/(chunk-[^"]+\.js)"/g)].map((m) => m[1]!);
  const eager = [code, ...staticChunks.map((name) => files.get(name) ?? '')].join('\n');
  const lazy = [...files]
    .filter(([name]) => name !== BUNDLE_FILE && !staticChunks.includes(name))
    .map(([, text]) => text)
    .join('\n');
  return {
    code,
    files,
    minBytes: Buffer.byteLength(eager),
    gzipBytes: gzipSync(eager, { level: 9 }).length,
    lazyMinBytes: Buffer.byteLength(lazy),
    lazyGzipBytes: lazy ? gzipSync(lazy, { level: 9 }).length : 0,
  };
}
