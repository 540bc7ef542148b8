import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { contractsToTypeScript } from '../../../../packages/hub/src/cli/contracts-to-typescript.ts';
import type { EventContractsBody } from '../../../../packages/hub/src/cli/contracts-to-typescript.ts';

/** The micro-frontends' event types, generated from the catalog (what `portico types` writes). */
export const PORTAL_EVENTS_FILE = fileURLToPath(
  new URL('../../web/portal-events.ts', import.meta.url),
);

/** The `portico types` output for the demo tenant's catalog, as the hub serves it. */
export async function portalEventTypes(hub: string, token: string): Promise<string> {
  const response = await fetch(`${hub}/v1/catalog/contracts`, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (!response.ok) throw new Error(`GET /v1/catalog/contracts → ${response.status}`);
  const text = await contractsToTypeScript((await response.json()) as EventContractsBody, {
    // Not the hub URL: its port changes on every run, and the file must not.
    source: "the demo portal's catalog (npm run types -w examples/portal)",
  });
  // In the repository's own style, so `npm run lint` passes on the generated file.
  const options = await resolveConfig(PORTAL_EVENTS_FILE);
  return format(text, { ...options, filepath: PORTAL_EVENTS_FILE });
}
