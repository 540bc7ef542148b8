/**
 * Builds the shell SDK into one minified ESM file with esbuild and measures it. Used by
 * `npm run build:shell` (writes dist/) and by the browser tests (serve it from memory).
 */
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

export const SHELL_ENTRY = fileURLToPath(new URL('../src/index.ts', import.meta.url));

export type ShellBundle = { code: string; minBytes: number; gzipBytes: number };

export async function bundleShell(
  entry: string = SHELL_ENTRY,
  options: { minify?: boolean } = {},
): Promise<ShellBundle> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: options.minify ?? true,
    write: false,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]!.text;
  return {
    code,
    minBytes: Buffer.byteLength(code),
    gzipBytes: gzipSync(code, { level: 9 }).length,
  };
}
