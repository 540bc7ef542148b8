/**
 * `npm run types -w examples/portal`: starts the demo on free ports and writes
 * web/portal-events.ts from its catalog, the way a portal team runs `portico types` against
 * its hub. The smoke test fails when the file is out of date.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PORTAL_EVENTS_FILE, portalEventTypes } from './hub/portal-event-types.ts';
import { DEMO_TENANT, startPortalDemo } from './portal-demo.ts';

const outDir = mkdtempSync(join(tmpdir(), 'portal-demo-types-'));
const demo = await startPortalDemo({ portBase: 0, outDir, logLevel: 'silent' });
try {
  const token = await demo.hub.issuer.mint({
    tenant: DEMO_TENANT,
    scopes: ['events:read'],
    ttlSeconds: 60,
  });
  writeFileSync(PORTAL_EVENTS_FILE, await portalEventTypes(demo.urls.hub, token));
  console.log(`wrote ${PORTAL_EVENTS_FILE}`);
} finally {
  await demo.close();
  rmSync(outDir, { recursive: true, force: true });
}
