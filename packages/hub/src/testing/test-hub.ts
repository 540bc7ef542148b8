import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildHub, type Hub, type HubHooks } from '../app.ts';
import { loadConfig } from '../config/load-config.ts';
import type { Scope } from '../auth/principal.ts';

export type TestHub = {
  hub: Hub;
  dataDir: string;
  /** A development token for a tenant with the given scopes. */
  token(tenant: string, scopes: Scope[]): Promise<string>;
  /** `Authorization` header value for a tenant with the given scopes. */
  auth(tenant: string, scopes: Scope[]): Promise<{ authorization: string }>;
  close(): Promise<void>;
};

/** A hub on a fresh temporary data dir, configured like `npm start` plus `overrides`. */
export async function startTestHub(
  overrides: Record<string, unknown> = {},
  hooks: HubHooks = {},
): Promise<TestHub> {
  const dataDir = mkdtempSync(join(tmpdir(), 'portico-test-'));
  const config = loadConfig({
    env: {},
    cwd: dataDir,
    overrides: { dataDir, logLevel: 'silent', ...overrides },
  });
  const hub = await buildHub(config, hooks);
  const token = (tenant: string, scopes: Scope[]) =>
    hub.devIssuer!.mint({ tenant, scopes, ttlSeconds: 600 });
  return {
    hub,
    dataDir,
    token,
    auth: async (tenant, scopes) => ({ authorization: `Bearer ${await token(tenant, scopes)}` }),
    close: async () => {
      await hub.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
