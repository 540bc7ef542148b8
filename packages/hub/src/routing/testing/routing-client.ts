/** Test helper: the calls routing tests make against a test hub, over HTTP (inject). */
import { waitFor } from '../../testing/wait-for.ts';
import { expect } from 'vitest';
import type { Scope } from '../../auth/principal.ts';
import type { TestHub } from '../../testing/test-hub.ts';
import {} from './http-receiver.ts';

export type QueueMessage = {
  token: string;
  topic: string;
  event: {
    id: string;
    type: string;
    correlationid: string;
    data: unknown;
    tenantid: string;
    [k: string]: unknown;
  };
};

const ALL: Scope[] = ['events:publish', 'events:read', 'rules:write'];

export class RoutingClient {
  readonly #t: TestHub;
  #seq = 0;

  constructor(t: TestHub) {
    this.#t = t;
  }

  async api(
    tenant: string,
    method: 'GET' | 'PUT' | 'POST' | 'DELETE',
    url: string,
    payload?: unknown,
    scopes = ALL,
  ) {
    return this.#t.hub.server.inject({
      method,
      url,
      headers: await this.#t.auth(tenant, scopes),
      ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}),
    });
  }

  async createRule(
    tenant: string,
    rule: Record<string, unknown>,
    scopes = ALL,
  ): Promise<{ id: string; warnings?: string[] }> {
    const res = await this.api(tenant, 'POST', '/v1/rules', rule, scopes);
    expect(res.statusCode, res.body).toBe(201);
    return res.json();
  }

  /** Publishes events (a batch); returns their ids. */
  async publish(tenant: string, events: Record<string, unknown>[]): Promise<string[]> {
    const batch = events.map((e) => ({
      specversion: '1.0',
      id: `ev-${++this.#seq}`,
      source: '/tests',
      type: 'incident.ticket.created',
      ...e,
    }));
    const res = await this.#t.hub.server.inject({
      method: 'POST',
      url: '/v1/events',
      headers: {
        ...(await this.#t.auth(tenant, ['events:publish'])),
        'content-type': 'application/cloudevents-batch+json',
      },
      payload: JSON.stringify(batch),
    });
    expect(res.statusCode, res.body).toBe(202);
    return batch.map((e) => e.id as string);
  }

  /** Creates a consumer group reading a queue target's copies. */
  async queue(tenant: string, name: string): Promise<void> {
    const res = await this.api(tenant, 'PUT', `/v1/consumer-groups/${name}`, {
      topic: `portico.*.queue.${name}`,
      startAt: 'beginning',
    });
    expect(res.statusCode, res.body).toBe(200);
  }

  /** Pulls and acks everything currently in a queue. */
  async drain(tenant: string, name: string): Promise<QueueMessage[]> {
    const res = await this.api(tenant, 'POST', `/v1/consumer-groups/${name}/pull`, {
      consumer: 'test',
      max: 100,
      waitSeconds: 0,
    });
    const messages = res.json().messages as QueueMessage[];
    if (messages.length > 0)
      await this.api(tenant, 'POST', `/v1/consumer-groups/${name}/ack`, {
        tokens: messages.map((m) => m.token),
      });
    return messages;
  }

  /** Collects a queue until it holds at least `count` messages. */
  async collect(tenant: string, name: string, count: number): Promise<QueueMessage[]> {
    const got: QueueMessage[] = [];
    await waitFor(async () => {
      got.push(...(await this.drain(tenant, name)));
      return got.length >= count;
    }, `${count} message(s) in ${tenant}/${name}`);
    return got;
  }

  /** Waits until a delivery reaches a status; returns its view. */
  async deliveryWhen(
    tenant: string,
    id: string,
    status: 'delivered' | 'dead' | 'pending',
    also: (d: Record<string, unknown>) => boolean = () => true,
  ) {
    return waitFor(async () => {
      const d = (await this.api(tenant, 'GET', `/v1/deliveries/${id}`)).json() as Record<
        string,
        unknown
      >;
      return d['status'] === status && also(d) ? d : undefined;
    }, `delivery ${id} to be ${status}`);
  }
}
