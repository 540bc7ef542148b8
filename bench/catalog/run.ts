// bench/catalog: what one `PUT /v1/catalog/apps/{name}` costs, with the demo portal's four
// manifests (examples/portal), in process (a test hub, Fastify inject: no HTTP socket).
//
// Each round publishes the four manifests into a fresh tenant, in the demo's order (each
// checked against the apps already there), then publishes them all again unchanged (what
// CI does on every build). The first round also pays for loading the parsers.
//
// Usage: npm run bench:catalog [-- --rounds 5]
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import {
  INCIDENT_CREATED,
  portalManifests,
} from '../../examples/portal/src/hub/portal-contracts.ts';
import { startTestHub } from '../../packages/hub/src/testing/test-hub.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' } } });
const rounds = Number(values.rounds);
const origin = 'http://127.0.0.1:1';
const manifests = portalManifests({
  shell: origin,
  incidents: origin,
  billing: origin,
  widget: origin,
});

console.log(
  `bench/catalog: ${rounds} rounds of the demo's ${manifests.length} manifests, in process; ${availableParallelism()} cores shared with other work (figures are noisy)`,
);
const t = await startTestHub();
try {
  const call = async (tenant: string, method: 'PUT' | 'POST', url: string, body: unknown) => {
    const started = performance.now();
    const res = await t.hub.server.inject({
      method,
      url,
      headers: {
        ...(await t.auth(tenant, ['schemas:write', 'events:read'])),
        'content-type': 'application/json',
      },
      payload: JSON.stringify(body),
    });
    if (res.statusCode >= 300) throw new Error(`${method} ${url} → ${res.statusCode}: ${res.body}`);
    return performance.now() - started;
  };
  for (let round = 1; round <= rounds; round++) {
    const tenant = `bench-${round}`;
    await call(tenant, 'POST', '/v1/registry/subjects/incident.ticket.created/versions', {
      schemaType: 'JSON',
      schema: JSON.stringify(INCIDENT_CREATED),
    });
    const first: string[] = [];
    const again: string[] = [];
    for (const m of manifests)
      first.push(
        `${m.name} ${(await call(tenant, 'PUT', `/v1/catalog/apps/${m.name}`, m)).toFixed(0)}`,
      );
    for (const m of manifests)
      again.push(`${(await call(tenant, 'PUT', `/v1/catalog/apps/${m.name}`, m)).toFixed(0)}`);
    console.log(`round ${round}: new (ms) ${first.join(', ')}; unchanged (ms) ${again.join(', ')}`);
  }
} finally {
  await t.close();
}
