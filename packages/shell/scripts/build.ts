/** `npm run build:shell`: writes packages/shell/dist/ and prints the sizes a portal pays. */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { bundleShell } from './bundle.ts';

const outDir = new URL('../dist/', import.meta.url);
const bundle = await bundleShell();
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
for (const [name, code] of bundle.files) writeFileSync(new URL(name, outDir), code);
console.log(
  `packages/shell/dist/portico-shell.js: ${bundle.minBytes} bytes minified, ${bundle.gzipBytes} bytes gzipped` +
    ` (+ ${bundle.lazyMinBytes} bytes minified, ${bundle.lazyGzipBytes} gzipped loaded only in dev mode)`,
);
