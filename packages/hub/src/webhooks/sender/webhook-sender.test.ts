/**
 * The sender on its own (no hub): the request it makes, the request timeout, and what it
 * reports about the endpoint's health.
 */
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudEventRecord } from '../../backbone/event-log.ts';
import type { Delivery } from '../../delivery/delivery-target.ts';
import { generateSecret } from '../signing/index.ts';
import { createGuardedDispatcher } from '../ssrf/index.ts';
import type { Endpoint } from '../endpoints/endpoint.ts';
import type { EndpointStore } from '../endpoints/endpoint-store.ts';
import { WebhookReceiver } from '../testing/webhook-receiver.ts';
import { EndpointCache } from './endpoint-cache.ts';
import { WebhookSender, type HealthReports } from './webhook-sender.ts';

let receiver: WebhookReceiver;
const dispatcher = createGuardedDispatcher({ allowHttp: true, allowCidrs: ['127.0.0.0/8'] });
beforeAll(async () => {
  receiver = await WebhookReceiver.start();
});
afterAll(async () => {
  await receiver.close();
  await dispatcher.close();
});

const secret = generateSecret();
function endpoint(path: string, extra: Partial<Endpoint> = {}): Endpoint {
  return {
    id: `ep_${path.slice(1)}`,
    tenant: 'acme',
    url: receiver.url(path),
    description: '',
    eventTypes: ['>'],
    filter: null,
    enabled: true,
    disabledReason: null,
    disabledAt: null,
    rateLimitPerSecond: null,
    concurrency: 4,
    ed25519: false,
    secrets: { current: { hmac: secret }, previous: [] },
    ruleId: 'r',
    failingSince: null,
    createdAt: 0,
    updatedAt: 0,
    ...extra,
  };
}

function setup(ep: Endpoint, requestTimeoutMs = 5000) {
  const reports: string[] = [];
  const health: HealthReports = {
    succeeded: async () => void reports.push('succeeded'),
    failed: async () => void reports.push('failed'),
    gone: async () => void reports.push('gone'),
  };
  const store = { get: async (id: string) => (id === ep.id ? ep : undefined) } as EndpointStore;
  const sender = new WebhookSender({
    endpoints: new EndpointCache(store),
    dispatcher,
    health,
    requestTimeoutMs,
    logger: { error: () => undefined },
  });
  return { sender, reports };
}

const event: CloudEventRecord = {
  specversion: '1.0',
  id: 'e-1',
  source: '/s',
  type: 'a.b.c',
  time: '2026-01-01T00:00:00Z',
  tenantid: 'acme',
  correlationid: 'e-1',
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  recordedtime: '2026-01-01T00:00:00Z',
  data: { x: 1 },
};

function delivery(ep: Endpoint, owner = 'tenant:acme', payload?: unknown): Delivery {
  return {
    id: 'd-1',
    attempt: 1,
    tenant: 'acme',
    owner,
    rule: { id: 'r', name: 'r' },
    target: { kind: 'webhook', ref: ep.id, index: 0, config: {} },
    event,
    payload: payload ?? event,
    transformed: payload !== undefined,
    correlationId: 'e-1',
    partitionKey: 'acme',
  };
}

describe('WebhookSender', () => {
  it('signs the event and reports success', async () => {
    const ep = endpoint('/ok');
    const { sender, reports } = setup(ep);
    const result = await sender.deliver(delivery(ep), new AbortController().signal);
    expect(result).toMatchObject({ outcome: 'delivered', detail: { statusCode: 204 } });
    const [r] = receiver.on('/ok');
    expect(new Webhook(secret).verify(r!.body, r!.headers as Record<string, string>)).toEqual(
      event,
    );
    expect(r!.headers['traceparent']).toBe(event.traceparent);
    expect(reports).toEqual(['succeeded']);
  });

  it("sends an input transform's output as application/json or text/plain", async () => {
    const ep = endpoint('/transformed');
    const { sender } = setup(ep);
    await sender.deliver(delivery(ep, 'tenant:acme', { text: 'hi' }), new AbortController().signal);
    await sender.deliver(delivery(ep, 'tenant:acme', 'plain words'), new AbortController().signal);
    const [json, text] = receiver.on('/transformed');
    expect(json!.headers['content-type']).toBe('application/json');
    expect(json!.body).toBe('{"text":"hi"}');
    expect(text!.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(text!.body).toBe('plain words');
  });

  it('gives up on an answer that takes longer than the request timeout, and counts a failure', async () => {
    receiver.script('/hang', () => ({ status: 200, hold: new Promise(() => undefined) }));
    const ep = endpoint('/hang');
    const { sender, reports } = setup(ep, 200);
    const result = await sender.deliver(delivery(ep), new AbortController().signal);
    expect(result).toEqual({ outcome: 'retry', error: 'no answer within 200 ms' });
    expect(reports).toEqual(['failed']);
  });

  it("refuses another tenant's endpoint, a missing one and a disabled one without a request", async () => {
    const ep = endpoint('/never');
    const { sender } = setup(ep);
    const signal = new AbortController().signal;
    expect(await sender.deliver(delivery(ep, 'tenant:globex'), signal)).toMatchObject({
      outcome: 'failed',
      reason: 'endpoint-not-found',
    });
    // Platform rules may send to any endpoint.
    expect((await sender.deliver(delivery(ep, 'platform'), signal)).outcome).toBe('delivered');
    const off = endpoint('/never-off', { enabled: false, disabledReason: 'manual' });
    expect(await setup(off).sender.deliver(delivery(off), signal)).toMatchObject({
      reason: 'endpoint-disabled',
    });
    expect(receiver.on('/never-off')).toHaveLength(0);
  });

  it('defers (no attempt) when the rate limit has no token', async () => {
    const ep = endpoint('/limited', { rateLimitPerSecond: 1 });
    const { sender } = setup(ep);
    const signal = new AbortController().signal;
    expect((await sender.deliver(delivery(ep), signal)).outcome).toBe('delivered');
    const second = await sender.deliver(delivery(ep), signal);
    expect(second.outcome).toBe('deferred');
    expect(receiver.on('/limited')).toHaveLength(1);
  });
});
