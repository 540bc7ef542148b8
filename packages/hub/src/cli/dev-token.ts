import { resolve } from 'node:path';
import { loadConfig } from '../config/load-config.ts';
import { loadOrCreateDevIssuer } from '../auth/dev-issuer.ts';

/** Mints a token with the hub's development key (the data dir must be the hub's). */
export async function mintDevToken(options: {
  dataDir?: string;
  tenant: string;
  scopes: string[];
  ttlSeconds?: number;
  subject?: string;
}): Promise<string> {
  const config = loadConfig({ overrides: options.dataDir ? { dataDir: options.dataDir } : {} });
  if (config.auth.mode !== 'dev')
    throw new Error(
      'portico token only works in development auth mode; get tokens from your OIDC issuer',
    );
  const issuer = await loadOrCreateDevIssuer(resolve(config.dataDir), {
    audience: config.auth.audience,
  });
  return issuer.mint({
    tenant: options.tenant,
    scopes: options.scopes,
    subject: options.subject,
    ttlSeconds: options.ttlSeconds,
  });
}
