/**
 * Two hub nodes sharing their gateway rate limits through Redis (127.0.0.1:6379): one
 * tenant's burst across both nodes is held to one limit; with Redis unreachable a node
 * falls back to its own buckets (a per-node limit, never none).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../testing/test-hub.ts';

const REDIS = process.env.PORTICO_TEST_REDIS ?? 'redis://127.0.0.1:6379';
const prefix = `portico:test:${randomBytes(4).toString('hex')}:`;
let upstream: Server;
const hubs: TestHub[] = [];

async function hub(url: string): Promise<TestHub> {
  const t = await startTestHub({
    gateway: {
      upstreams: { allowHttp: true, allowCidrs: ['127.0.0.0/8'] },
      rateLimitStore: { kind: 'redis', url, prefix },
    },
  });
  hubs.push(t);
  const res = await t.hub.server.inject({
    method: 'PUT',
    url: '/v1/dictionary/apis/orders',
    headers: {
      ...(await t.auth('acme', ['dictionary:write'])),
      'content-type': 'application/json',
    },
    payload: JSON.stringify({
      domain: 'commerce',
      versions: [
        {
          version: 'v1',
          upstream: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
          policy: { rateLimit: { tenant: { burst: 4, perSecond: 0.01 } } },
        },
      ],
    }),
  });
  expect(res.statusCode).toBe(201);
  return t;
}

const get = async (t: TestHub) =>
  t.hub.server.inject({
    method: 'GET',
    url: '/api/orders/v1/x',
    headers: await t.auth('acme', []),
  });

beforeAll(async () => {
  upstream = createServer((_req, res) => res.end('{}'));
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
});
afterAll(async () => {
  await Promise.all(hubs.map((t) => t.close()));
  upstream.closeAllConnections();
  await new Promise((r) => upstream.close(r));
});

describe('gateway rate limits shared through Redis', () => {
  it('holds one tenant to one limit across two nodes', async () => {
    const [a, b] = [await hub(REDIS), await hub(REDIS)];
    const codes: number[] = [];
    for (let i = 0; i < 3; i++) codes.push((await get(a)).statusCode, (await get(b)).statusCode);
    expect(codes.filter((c) => c === 200)).toHaveLength(4);
    expect(codes.filter((c) => c === 429)).toHaveLength(2);
    const limited = await get(a);
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['ratelimit']).toMatch(/^"tenant";r=0;t=\d+$/);
  });

  it("falls back to the node's own buckets while Redis is unreachable", async () => {
    const alone = await hub('redis://127.0.0.1:1');
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) codes.push((await get(alone)).statusCode);
    expect(codes).toEqual([200, 200, 200, 200, 429]);
  });
});
