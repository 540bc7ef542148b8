/**
 * Concurrent writes to webhook endpoints, shared by the SQLite suite and the PostgreSQL
 * one (two hub nodes on one store). Each scenario fires its requests at once (spread over
 * the nodes given) and then checks the stored state, not the answers alone: the endpoint
 * row and its managed rule must agree, every secret shown must sign, a deleted endpoint
 * leaves no rule, and a tenant never holds more endpoints than its limit.
 */
import { expect } from 'vitest';
import { tenantOwner } from '../../routing/rule.ts';
import type { TestHub } from '../../testing/test-hub.ts';
import { injectJson } from '../../testing/inject-json.ts';
import type { Endpoint } from '../endpoints/endpoint.ts';
import { RULE_NAME_PREFIX } from '../endpoints/endpoint-service.ts';
import { endpointPattern } from '../endpoints/event-types.ts';

type Body = Record<string, unknown>;

/** The hubs under test: node `i % n` takes the i-th request of a burst. */
export class Nodes {
  readonly hubs: TestHub[];
  readonly #auth = new Map<string, Record<string, string>>();

  constructor(hubs: TestHub[]) {
    this.hubs = hubs;
  }

  async call(tenant: string, i: number, method: string, url: string, body?: unknown) {
    const hub = this.hubs[i % this.hubs.length]!;
    const key = `${this.hubs.indexOf(hub)}/${tenant}`;
    let auth = this.#auth.get(key);
    if (!auth) {
      auth = await hub.auth(tenant, ['webhooks:write', 'rules:write']);
      this.#auth.set(key, auth);
    }
    return injectJson<Body>(hub.hub.server, method, url, auth, body);
  }

  get first(): TestHub['hub'] {
    return this.hubs[0]!.hub;
  }
}

async function create(nodes: Nodes, tenant: string, extra: Body = {}): Promise<string> {
  const res = await nodes.call(tenant, 0, 'POST', '/v1/webhooks/endpoints', {
    url: 'https://receiver.example.com/hook',
    eventTypes: ['billing.>'],
    ...extra,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body['id'] as string;
}

/** The endpoint's managed rules (by name), as stored. */
async function managedRules(nodes: Nodes, tenant: string, id?: string) {
  const rules = await nodes.first.routing.rules.store.list(tenantOwner(tenant), { limit: 1000 });
  return rules.filter((r) =>
    id === undefined ? r.name.startsWith(RULE_NAME_PREFIX) : r.name === RULE_NAME_PREFIX + id,
  );
}

/** Row and rule agree: the rule the row names exists, and its pattern and state are the row's. */
async function expectInStep(nodes: Nodes, endpoint: Endpoint): Promise<void> {
  const rules = await managedRules(nodes, endpoint.tenant, endpoint.id);
  expect(rules.map((r) => r.id)).toEqual([endpoint.ruleId]);
  expect({ pattern: rules[0]!.pattern, enabled: rules[0]!.enabled }).toEqual({
    pattern: endpointPattern(endpoint.eventTypes, endpoint.filter),
    enabled: endpoint.enabled,
  });
}

/**
 * PATCHes of different fields and a disable, at once, on many endpoints: the row has all
 * of them, and the rule's pattern and state are the row's.
 */
export async function patchRace(nodes: Nodes, tenant: string, endpoints: number): Promise<void> {
  const ids = await Promise.all(Array.from({ length: endpoints }, () => create(nodes, tenant)));
  const answers = await Promise.all(
    ids.flatMap((id, n) => [
      nodes.call(tenant, n, 'PATCH', `/v1/webhooks/endpoints/${id}`, { eventTypes: ['orders.>'] }),
      nodes.call(tenant, n + 1, 'PATCH', `/v1/webhooks/endpoints/${id}`, {
        filter: { source: ['/erp'] },
      }),
      nodes.call(tenant, n + 2, 'POST', `/v1/webhooks/endpoints/${id}/disable`),
    ]),
  );
  expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
  for (const id of ids) {
    const endpoint = (await nodes.first.webhooks.endpoints.get(id))!;
    expect(endpoint).toMatchObject({
      eventTypes: ['orders.>'],
      filter: { source: ['/erp'] },
      enabled: false,
    });
    await expectInStep(nodes, endpoint);
  }
}

/** Rotations at once: each answers 200, and every secret shown is one the endpoint signs with. */
export async function rotateRace(nodes: Nodes, tenant: string, rotations: number): Promise<void> {
  const id = await create(nodes, tenant);
  const answers = await Promise.all(
    Array.from({ length: rotations }, (_, n) =>
      nodes.call(tenant, n, 'POST', `/v1/webhooks/endpoints/${id}/rotate-secret`, {}),
    ),
  );
  expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
  const { secrets } = (await nodes.first.webhooks.endpoints.get(id))!;
  // What the sender signs with: the current secret and every previous one not yet expired.
  const signing = [secrets.current, ...secrets.previous.filter((p) => p.expiresAt > Date.now())];
  const shown = answers.map((a) => a.body['secret'] as string);
  expect(new Set(shown).size).toBe(rotations);
  for (const secret of shown) expect(signing.map((k) => k.hmac)).toContain(secret);
}

/**
 * A PATCH, an enable and a disable racing a DELETE, on many endpoints: the endpoints are
 * gone, the others answer 200 or 404, and no managed rule is left behind.
 */
export async function deleteRace(nodes: Nodes, tenant: string, endpoints: number): Promise<void> {
  const ids = await Promise.all(
    Array.from({ length: endpoints }, (_, n) => create(nodes, tenant, { enabled: n % 2 === 0 })),
  );
  const answers = await Promise.all(
    ids.flatMap((id, n) => [
      nodes.call(tenant, n, 'PATCH', `/v1/webhooks/endpoints/${id}`, { eventTypes: ['orders.>'] }),
      nodes.call(tenant, n + 1, 'DELETE', `/v1/webhooks/endpoints/${id}`),
      nodes.call(tenant, n + 2, 'POST', `/v1/webhooks/endpoints/${id}/enable`),
      nodes.call(tenant, n + 3, 'POST', `/v1/webhooks/endpoints/${id}/disable`),
    ]),
  );
  for (const answer of answers)
    expect([200, 204, 404], JSON.stringify(answer.body)).toContain(answer.status);
  expect(answers.filter((a) => a.status === 204)).toHaveLength(endpoints);
  expect(await nodes.first.webhooks.endpoints.count(tenant)).toBe(0);
  expect((await managedRules(nodes, tenant)).map((r) => r.name)).toEqual([]);
}

/** Creations at once in one tenant: exactly `limit` succeed, the rest answer 409. */
export async function createRace(
  nodes: Nodes,
  tenant: string,
  limit: number,
  attempts: number,
): Promise<void> {
  const answers = await Promise.all(
    Array.from({ length: attempts }, (_, n) =>
      nodes.call(tenant, n, 'POST', '/v1/webhooks/endpoints', {
        url: 'https://receiver.example.com/hook',
      }),
    ),
  );
  const statuses = answers.map((a) => a.status).sort();
  expect(statuses).toEqual([
    ...Array.from({ length: limit }, () => 201),
    ...Array.from({ length: attempts - limit }, () => 409),
  ]);
  for (const answer of answers.filter((a) => a.status === 409))
    expect(answer.body['detail']).toBe(
      `the limit of ${limit} webhook endpoints per tenant is reached`,
    );
  expect(await nodes.first.webhooks.endpoints.count(tenant)).toBe(limit);
  expect(await managedRules(nodes, tenant)).toHaveLength(limit);
}
