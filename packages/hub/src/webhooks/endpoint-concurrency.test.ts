/**
 * Concurrent writes to webhook endpoints on the embedded store (SQLite). One process runs
 * a request's SQLite statements without interleaving them with another's, so bursts of
 * requests do not show the races there; a second EndpointService on the same store (as
 * another node would be) writing from a copy read before the first write does, exactly
 * as a concurrent request would. The PostgreSQL suite runs the bursts on two hub nodes
 * (endpoint-concurrency-postgres.cluster.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tenantOwner } from '../routing/rule.ts';
import { startTestHub, type TestHub } from '../testing/test-hub.ts';
import type { Endpoint } from './endpoints/endpoint.ts';
import { EndpointService, RULE_NAME_PREFIX } from './endpoints/endpoint-service.ts';
import { endpointPattern } from './endpoints/event-types.ts';
import { createRace, deleteRace, Nodes, patchRace, rotateRace } from './testing/endpoint-races.ts';

const LIMIT = 10;
let t: TestHub;
let nodes: Nodes;
let service: EndpointService;

beforeAll(async () => {
  t = await startTestHub({ webhooks: { maxEndpointsPerTenant: LIMIT } });
  nodes = new Nodes([t]);
  service = new EndpointService({
    store: t.hub.webhooks.endpoints,
    rules: t.hub.routing.rules,
    changed: () => {},
    onAutoDisabled: async () => {},
    onRemoved: async () => {},
  });
});
afterAll(async () => {
  await t?.close();
});

describe('bursts of requests', () => {
  it('keeps the managed rule in step with the endpoint under concurrent PATCHes and a disable', async () => {
    await patchRace(nodes, 'patch', LIMIT);
  });

  it('signs with every secret that concurrent rotations answered', async () => {
    await rotateRace(nodes, 'rotate', 3);
  });

  it('leaves no rule behind when PATCH, enable and disable race a DELETE', async () => {
    await deleteRace(nodes, 'delete', LIMIT);
  });

  it('holds the per-tenant endpoint limit under concurrent creations', async () => {
    await createRace(nodes, 'create', LIMIT, 3 * LIMIT);
  });
});

describe('writes from a copy read before another write', () => {
  async function created(tenant: string): Promise<Endpoint> {
    const { endpoint } = await service.create(tenant, {
      url: 'https://receiver.example.com/hook',
      description: '',
      eventTypes: ['billing.>'],
      filter: null,
      enabled: true,
      rateLimitPerSecond: null,
      concurrency: 4,
      ed25519: false,
    });
    return endpoint;
  }

  async function managedRules(endpoint: Endpoint) {
    const rules = await t.hub.routing.rules.store.list(tenantOwner(endpoint.tenant), {
      limit: 1000,
    });
    return rules.filter((r) => r.name === RULE_NAME_PREFIX + endpoint.id);
  }

  /** The stored row and its rule agree. */
  async function expectInStep(id: string): Promise<Endpoint> {
    const endpoint = (await t.hub.webhooks.endpoints.get(id))!;
    const rules = await managedRules(endpoint);
    expect(rules.map((r) => r.id)).toEqual([endpoint.ruleId]);
    expect({ pattern: rules[0]!.pattern, enabled: rules[0]!.enabled }).toEqual({
      pattern: endpointPattern(endpoint.eventTypes, endpoint.filter),
      enabled: endpoint.enabled,
    });
    return endpoint;
  }

  it('two PATCHes of different fields: the rule has both', async () => {
    const read = await created('stale-patch');
    await service.update(read, { eventTypes: ['orders.>'] });
    const answer = await service.update(read, { filter: { source: ['/erp'] } });
    const stored = await expectInStep(read.id);
    expect(stored).toMatchObject({ eventTypes: ['orders.>'], filter: { source: ['/erp'] } });
    expect(answer.eventTypes).toEqual(['orders.>']);
  });

  it('a disable after a PATCH: the rule keeps the PATCH', async () => {
    const read = await created('stale-disable');
    await service.update(read, { eventTypes: ['orders.>'] });
    await service.setEnabled(read, false);
    expect(await expectInStep(read.id)).toMatchObject({ eventTypes: ['orders.>'], enabled: false });
  });

  it('two rotations: both new secrets sign', async () => {
    const read = await created('stale-rotate');
    const first = await service.rotate(read, 60_000);
    const second = await service.rotate(read, 60_000);
    const { secrets } = (await t.hub.webhooks.endpoints.get(read.id))!;
    const signing = [secrets.current, ...secrets.previous].map((k) => k.hmac);
    expect(signing).toEqual([second.keys.secret, first.keys.secret, read.secrets.current.hmac]);
  });

  it('a PATCH after a DELETE: refused, and no rule is made again', async () => {
    const read = await created('stale-delete');
    await service.remove(read);
    await expect(service.update(read, { eventTypes: ['orders.>'] })).rejects.toThrow(
      `no webhook endpoint "${read.id}"`,
    );
    await expect(service.setEnabled(read, false)).rejects.toThrow('no webhook endpoint');
    await expect(service.rotate(read, 0)).rejects.toThrow('no webhook endpoint');
    expect(await managedRules(read)).toEqual([]);
  });
});
