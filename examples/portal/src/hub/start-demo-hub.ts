import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildHub, type Hub } from '../../../../packages/hub/src/app.ts';
import { loadConfig } from '../../../../packages/hub/src/config/load-config.ts';
import type { DevIssuer } from '../../../../packages/hub/src/auth/dev-issuer.ts';

export type DemoHub = {
  url: string;
  dataDir: string;
  issuer: DevIssuer;
  hub: Hub;
  close(): Promise<void>;
};

/**
 * The hub, in process through its composition root, on a fresh temporary data dir
 * (embedded store, development auth). Loopback is opened on purpose for the demo only:
 * the gateway's upstreams and the webhook receiver live on 127.0.0.1, which the SSRF guard
 * blocks by default.
 */
export async function startDemoHub(options: {
  port: number;
  /** Origins of the shell and the micro-frontends: CORS on /v1 and on the gateway. */
  browserOrigins: string[];
  logLevel: string;
  /** An empty directory for the embedded store (removed on close); default a new temp one. */
  dataDir?: string;
}): Promise<DemoHub> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'portico-demo-'));
  const config = loadConfig({
    // Only what is set here: a stray portico.config.json or PORTICO_* variable must not
    // change what the demo shows.
    env: {},
    cwd: dataDir,
    overrides: {
      dataDir,
      host: '127.0.0.1',
      port: options.port,
      logLevel: options.logLevel,
      http: { cors: { origins: options.browserOrigins } },
      gateway: {
        cors: {
          origins: options.browserOrigins,
          // The default list plus the override header (testing in production from a page).
          allowHeaders: [
            'authorization',
            'content-type',
            'x-portico-app',
            'x-portico-override',
            'x-request-id',
            'traceparent',
          ],
          exposeHeaders: ['x-request-id', 'x-portico-override-status', 'deprecation', 'sunset'],
        },
        upstreams: { allowHttp: true, allowCidrs: ['127.0.0.0/8'] },
      },
      // Short retries so a receiver that was down catches up while you watch.
      webhooks: { allowHttp: true, allowCidrs: ['127.0.0.0/8'], retryScheduleSeconds: [1, 5, 30] },
    },
  });
  const hub = await buildHub(config);
  try {
    const address = await hub.server.listen({ port: config.port, host: config.host });
    return {
      url: address,
      dataDir,
      issuer: hub.devIssuer!,
      hub,
      close: async () => {
        await hub.close();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await hub.close();
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}
