/**
 * `npm run demo`: the demo portal, everything on loopback. Options:
 *   --port-base N   first of 9 consecutive ports (default 4300; 0 = any free ports)
 *   --log-level L   the hub's log level (default warn)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startPortalDemo, type PortalDemo } from './portal-demo.ts';

const { values } = parseArgs({
  options: {
    'port-base': { type: 'string', default: process.env.PORTAL_DEMO_PORT_BASE ?? '4300' },
    'log-level': { type: 'string', default: 'warn' },
  },
});
const portBase = Number(values['port-base']);
if (!Number.isInteger(portBase) || portBase < 0 || portBase > 65_526) {
  console.error(
    `--port-base must be a port number (or 0 for any free ports), got ${values['port-base']}`,
  );
  process.exit(2);
}

// The hub's data dir is made here, so a Ctrl-C while starting can still remove it.
const dataDir = mkdtempSync(join(tmpdir(), 'portico-demo-'));
const running: { demo?: PortalDemo } = {};
let stopping = false;
const stop = (signal: string) => {
  const demo = running.demo;
  if (stopping || !demo) {
    console.log(stopping ? '  Stopping anyway.' : `\n  ${signal}: stopped while starting.`);
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(130);
  }
  stopping = true;
  console.log(`\n  ${signal}: stopping the demo (Ctrl-C again to force)…`);
  demo.close().then(
    () => {
      console.log('  Stopped.');
      process.exit(0);
    },
    (error: Error) => {
      console.error(`  Stopping failed: ${error.message}`);
      process.exit(1);
    },
  );
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));

const started = Date.now();
const say = (line: string) => console.log(`  · ${line}`);
console.log('\n  Starting the Portico demo portal…');
const demo = await startPortalDemo({
  portBase,
  outDir: fileURLToPath(new URL('../dist/', import.meta.url)),
  logLevel: values['log-level'],
  dataDir,
  progress: say,
}).catch((error: Error) => {
  console.error(`\n  The demo did not start: ${error.message}`);
  if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE')
    console.error('  A port is taken: try --port-base 0 (any free ports) or another base.');
  rmSync(dataDir, { recursive: true, force: true });
  process.exit(1);
});
running.demo = demo;
const u = demo.urls;
console.log(`
  Ready in ${((Date.now() - started) / 1000).toFixed(1)} s. Open the portal:

    Shell (the portal page)   ${u.shell}

  and, behind it:
    Portico hub               ${u.hub}   (API ${u.hub}/v1, OpenAPI ${u.hub}/openapi.json)
    incidents (Web Component) ${u.incidentsMfe}/incidents-list.js
    billing (React)           ${u.billingMfe}/billing-panel.js
    status widget (iframe)    ${u.widget}/index.html
    incidents API (upstream)  ${u.incidentsApi}   via ${u.hub}/api/incidents/v1/incidents
    billing API (upstream)    ${u.billingApi}   via ${u.hub}/api/billing/v1/summary
    billing canary            ${u.billingCanary}   only through the override set:
      the shell with it       ${u.shellWithCanary}
    BFF composition           ${u.hub}/bff/dashboard
    webhook receiver          ${u.webhookReceiver}

  Click "Publish event" in the shell: the incident appears in every micro-frontend over one
  push connection; high severity also pages on-call and reaches the webhook receiver, low
  severity waits in the triage queue. Ctrl-C stops everything.
`);
