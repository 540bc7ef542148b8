// The hub as the ingest benchmarks run it: its own process on the embedded log in a fresh
// data dir, logging at warn, with a development token that may publish.
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadOrCreateDevIssuer } from '../../packages/hub/src/auth/dev-issuer.ts';
import { startProcess } from '../lib/processes.ts';

const main = fileURLToPath(new URL('../../packages/hub/src/main.ts', import.meta.url));

export async function startBenchHub(options: {
  port: number;
  dataDir: string;
  /** Node flags for the hub (e.g. --cpu-prof). */
  nodeFlags?: string[];
}): Promise<{ hub: ChildProcess; token: string }> {
  const { port, dataDir } = options;
  const hub = await startProcess(
    [
      ...(options.nodeFlags ?? []),
      main,
      'start',
      '--port',
      String(port),
      '--host',
      '127.0.0.1',
      '--data-dir',
      dataDir,
    ],
    `http://127.0.0.1:${port}/readyz`,
    { PORTICO_LOG_LEVEL: 'warn' },
  );
  const issuer = await loadOrCreateDevIssuer(dataDir, { audience: 'urn:portico' });
  const token = await issuer.mint({ tenant: 'bench', scopes: ['events:publish'] });
  return { hub, token };
}

/** One structured CloudEvent of the benchmarks' size, with the given id. */
export const benchEvent = (id: string): string =>
  `{"specversion":"1.0","id":"${id}","source":"/bench","type":"bench.order.placed","time":"2026-01-01T00:00:00Z","data":{"sku":"A-1","qty":2,"price":9.99}}`;
