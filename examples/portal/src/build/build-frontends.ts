import { copyFile, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions } from 'esbuild';

const WEB = fileURLToPath(new URL('../../web/', import.meta.url));

/** One directory per origin; each is deployed (served) on its own port. */
export type BuiltFrontends = { shell: string; incidents: string; billing: string; widget: string };

/** Modules the shell page's import map provides; micro-frontends must not bundle them. */
const SHARED = ['@portico/shell', '@portico/shell/react', 'react', 'react-dom/client'];

const common: BuildOptions = {
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'silent',
  define: { 'process.env.NODE_ENV': '"production"' },
};

/**
 * Builds the shell and the three micro-frontends with esbuild, each as a separate output
 * (separately deployable), and returns the directories. Reports each bundle's size.
 */
export async function buildFrontends(
  outDir: string,
  progress: (line: string) => void,
): Promise<BuiltFrontends> {
  await rm(outDir, { recursive: true, force: true });
  const dirs: BuiltFrontends = {
    shell: join(outDir, 'shell'),
    incidents: join(outDir, 'incidents'),
    billing: join(outDir, 'billing'),
    widget: join(outDir, 'widget'),
  };
  const sizes: string[] = [];
  const run = async (name: string, options: BuildOptions) => {
    const result = await build({ ...common, ...options, metafile: true });
    for (const [file, output] of Object.entries(result.metafile!.outputs))
      if (file.endsWith('.js')) sizes.push(`${name}/${file.split('/').pop()} ${kib(output.bytes)}`);
  };

  await Promise.all([
    // Shared modules, once, from the shell's origin. React and react-dom/client are split so
    // that both entries import one React chunk.
    run('shell', {
      entryPoints: {
        react: join(WEB, 'vendor/react.ts'),
        'react-dom-client': join(WEB, 'vendor/react-dom-client.ts'),
      },
      outdir: join(dirs.shell, 'vendor'),
      splitting: true,
      chunkNames: 'react-[hash]',
    }),
    // The shell SDK and its React adapter in one split build: they share the per-micro-
    // frontend context code, and development-only checks stay a lazy chunk.
    run('shell', {
      entryPoints: {
        'portico-shell': fileURLToPath(import.meta.resolve('@portico/shell')),
        'portico-shell-react': fileURLToPath(import.meta.resolve('@portico/shell/react')),
      },
      outdir: join(dirs.shell, 'vendor'),
      splitting: true,
      chunkNames: 'shell-[hash]',
      // The adapter renders with the portal's React, not a copy of its own.
      external: ['react'],
    }),
    run('shell', {
      entryPoints: [join(WEB, 'shell/shell.ts')],
      outfile: join(dirs.shell, 'shell.js'),
      external: SHARED,
    }),
    run('incidents', {
      entryPoints: [join(WEB, 'incidents/incidents-list.ts')],
      outfile: join(dirs.incidents, 'incidents-list.js'),
      external: SHARED,
    }),
    run('billing', {
      entryPoints: [join(WEB, 'billing/billing-panel.ts')],
      outfile: join(dirs.billing, 'billing-panel.js'),
      external: SHARED,
    }),
    // The sandboxed widget cannot see the shell page's import map: it bundles the small
    // bridge client it needs.
    run('widget', {
      entryPoints: [join(WEB, 'widget/widget.ts')],
      outfile: join(dirs.widget, 'widget.js'),
    }),
  ]);
  await Promise.all([
    copyFile(join(WEB, 'shell/index.html'), join(dirs.shell, 'index.template.html')),
    copyFile(join(WEB, 'shell/shell.css'), join(dirs.shell, 'shell.css')),
    mkdir(dirs.widget, { recursive: true }).then(() =>
      copyFile(join(WEB, 'widget/index.html'), join(dirs.widget, 'index.html')),
    ),
  ]);
  progress(`built with esbuild: ${sizes.sort().join(', ')}`);
  return dirs;
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
