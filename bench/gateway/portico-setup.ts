// The Portico side of bench/gateway: the hub's command line and the API it proxies, with the
// policy the bench measures (a JWT on every request, a scope check, a tenant rate limit).
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadOrCreateDevIssuer } from '../../packages/hub/src/auth/dev-issuer.ts';

/** A range no other bench uses (they run concurrently on this machine). */
export const PORTS = { upstream: 18291, fastify: 18292, portico: 18293, nginx: 18294 };
export const API_PATH = '/api/orders/v1/orders/o-1';

const main = fileURLToPath(new URL('../../packages/hub/src/main.ts', import.meta.url));

/** Arguments to start the hub (after any Node flags) with loopback upstreams allowed. */
export function porticoArgs(dataDir: string): string[] {
  const config = join(dataDir, 'portico.config.json');
  writeFileSync(
    config,
    JSON.stringify({ gateway: { upstreams: { allowHttp: true, allowCidrs: ['127.0.0.0/8'] } } }),
  );
  return [
    main,
    'start',
    '--port',
    String(PORTS.portico),
    '--host',
    '127.0.0.1',
    '--data-dir',
    dataDir,
    '--config',
    config,
  ];
}

/** Defines the `orders` API in the dictionary; returns the URL and headers to load. */
export async function definePorticoApi(
  dataDir: string,
  upstream: string,
): Promise<{ url: string; headers: Record<string, string> }> {
  const issuer = await loadOrCreateDevIssuer(dataDir, { audience: 'urn:portico' });
  const admin = await issuer.mint({ tenant: 'bench', scopes: ['dictionary:write'] });
  const put = await fetch(`http://127.0.0.1:${PORTS.portico}/v1/dictionary/apis/orders`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      domain: 'commerce',
      versions: [
        {
          version: 'v1',
          upstream,
          // Checked on every request, never hit: the cost of checking is what is measured.
          policy: {
            scopes: ['events:read'],
            rateLimit: { tenant: { burst: 1e6, perSecond: 1e6 } },
          },
        },
      ],
    }),
  });
  if (!put.ok) throw new Error(`defining the API failed: ${put.status} ${await put.text()}`);
  const token = await issuer.mint({ tenant: 'bench', scopes: ['events:read'] });
  return {
    url: `http://127.0.0.1:${PORTS.portico}${API_PATH}`,
    headers: { authorization: `Bearer ${token}` },
  };
}

/**
 * Starts the hub (after `nodeFlags`) and waits for /readyz up to a minute: on a loaded
 * machine loading the hub's modules alone can take longer than bench/lib's 15 s.
 */
export async function startPortico(
  dataDir: string,
  nodeFlags: string[] = [],
): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--disable-warning=ExperimentalWarning', ...nodeFlags, ...porticoArgs(dataDir)],
    { env: { ...process.env, PORTICO_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const ready = `http://127.0.0.1:${PORTS.portico}/readyz`;
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`the hub exited with ${child.exitCode}`);
    if (
      await fetch(ready).then(
        (r) => r.ok,
        () => false,
      )
    )
      return child;
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error('the hub did not become ready within a minute');
}
