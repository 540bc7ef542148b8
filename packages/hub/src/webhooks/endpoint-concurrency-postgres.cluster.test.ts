/**
 * Concurrent writes to webhook endpoints on PostgreSQL (127.0.0.1:5432, a fresh database)
 * with two hub nodes on one store and one NATS stream: each burst is spread over both
 * nodes and their connection pools, so requests really run side by side. The scenarios
 * are the SQLite suite's (endpoint-concurrency.test.ts).
 */
import { afterAll, beforeAll, it } from 'vitest';
import { clusterEngines } from '../../test/cluster/engines.ts';
import { startTestHub, type TestHub } from '../testing/test-hub.ts';
import { createRace, deleteRace, Nodes, patchRace, rotateRace } from './testing/endpoint-races.ts';

const LIMIT = 10;
const engines = clusterEngines('webhook_races');
const hubs: TestHub[] = [];
let nodes: Nodes;

beforeAll(async () => {
  const config = { ...engines.hubConfig(), webhooks: { maxEndpointsPerTenant: LIMIT } };
  // One after the other: both run the store's migrations at start.
  hubs.push(await startTestHub(config));
  hubs.push(await startTestHub(config));
  nodes = new Nodes(hubs);
});
afterAll(async () => {
  for (const hub of hubs) await hub.close();
});

it('keeps the managed rule in step with the endpoint under concurrent PATCHes and a disable', async () => {
  await patchRace(nodes, 'patch', LIMIT);
});

it('signs with every secret that concurrent rotations answered', async () => {
  await rotateRace(nodes, 'rotate', 4);
});

it('leaves no rule behind when PATCH, enable and disable race a DELETE', async () => {
  await deleteRace(nodes, 'delete', LIMIT);
});

it('holds the per-tenant endpoint limit under concurrent creations', async () => {
  await createRace(nodes, 'create', LIMIT, 3 * LIMIT);
});
