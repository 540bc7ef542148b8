/** `npm run build:shell`: writes packages/shell/dist/portico-shell.js and prints its size. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { bundleShell } from './bundle.ts';

const outDir = new URL('../dist/', import.meta.url);
const bundle = await bundleShell();
mkdirSync(outDir, { recursive: true });
writeFileSync(new URL('portico-shell.js', outDir), bundle.code);
console.log(
  `packages/shell/dist/portico-shell.js: ${bundle.minBytes} bytes minified, ${bundle.gzipBytes} bytes gzipped`,
);
