/**
 * The SSRF matrix end to end, through the Endpoints API and the webhook sender: every
 * blocked range as a literal IP (refused by the API), and via a host name whose DNS
 * answer is in that range (a resolver hook; refused at connect time, the delivery goes to
 * the DLQ as `ssrf-blocked`), and a redirect to a private address (never followed).
 * A server on 127.0.0.1 counts connections: none ever reaches it.
 */
import { waitFor } from '../testing/wait-for.ts';
import net, { type LookupFunction } from 'node:net';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../testing/test-hub.ts';
import { injectJson } from '../testing/inject-json.ts';
import { WebhookReceiver } from './testing/webhook-receiver.ts';

/** Every blocked range, by an address in it. */
const BLOCKED: Array<[string, string]> = [
  ['loopback', '127.0.0.1'],
  ['private 10/8', '10.1.2.3'],
  ['private 172.16/12', '172.16.5.4'],
  ['private 192.168/16', '192.168.1.1'],
  ['link-local / cloud metadata', '169.254.169.254'],
  ['CGNAT 100.64/10', '100.64.0.1'],
  ['multicast', '224.0.0.1'],
  ['broadcast', '255.255.255.255'],
  ['documentation TEST-NET-1', '192.0.2.1'],
  ['documentation TEST-NET-2', '198.51.100.7'],
  ['documentation TEST-NET-3', '203.0.113.9'],
  ['benchmarking 198.18/15', '198.18.0.1'],
  ['reserved 240/4', '240.0.0.1'],
  ['this network 0/8', '0.0.0.0'],
  ['IPv6 loopback', '::1'],
  ['IPv6 unspecified', '::'],
  ['IPv6 link-local', 'fe80::1'],
  ['IPv6 unique local', 'fc00::1'],
  ['IPv6 documentation', '2001:db8::1'],
  ['IPv4-mapped loopback', '::ffff:127.0.0.1'],
  ['IPv4-mapped metadata', '::ffff:169.254.169.254'],
  ['NAT64 of a private address', '64:ff9b::a00:1'],
  ['6to4 of a private address', '2002:a00:1::1'],
];

let t: TestHub;
let auth: { authorization: string };
let guarded: Server;
let guardedConnections = 0;
let guardedPort = 0;
let receiver: WebhookReceiver;
const dnsAnswers = new Map<string, string[]>();

/** The resolver hook: answers from dnsAnswers, never from the network. */
const lookup = ((
  hostname: string,
  options: { all?: boolean },
  callback: (...args: unknown[]) => void,
) => {
  const answer = dnsAnswers.get(hostname);
  setImmediate(() => {
    if (!answer)
      return callback(Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }));
    const all = answer.map((address) => ({ address, family: net.isIP(address) }));
    if (options.all) callback(null, all);
    else callback(null, all[0]!.address, all[0]!.family);
  });
}) as unknown as LookupFunction;

beforeAll(async () => {
  guarded = createServer((_req, res) => res.end('must never be reached'));
  guarded.on('connection', () => guardedConnections++);
  await new Promise<void>((resolve) => guarded.listen(0, '127.0.0.1', resolve));
  guardedPort = (guarded.address() as AddressInfo).port;
  receiver = await WebhookReceiver.start('127.0.0.2');
  t = await startTestHub(
    {
      webhooks: {
        allowHttp: true,
        // Only the receiver used for the redirect case is allowed; 127.0.0.1 is not.
        allowCidrs: ['127.0.0.2/32'],
        retryScheduleSeconds: [0.05],
        jitter: 'none',
      },
    },
    { webhookLookup: lookup },
  );
  auth = await t.auth('acme', ['webhooks:write', 'events:publish']);
});
afterAll(async () => {
  await t.close();
  await receiver.close();
  guarded.closeAllConnections();
  await new Promise((resolve) => guarded.close(resolve));
});

const api = (method: 'GET' | 'POST', url: string, body?: unknown) =>
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read many shapes
  injectJson<Record<string, any>>(t.hub.server, method, url, auth, body);

async function publish(type: string) {
  const res = await t.hub.server.inject({
    method: 'POST',
    url: '/v1/events',
    headers: { ...auth, 'content-type': 'application/cloudevents+json' },
    payload: JSON.stringify({
      specversion: '1.0',
      id: `e-${Math.random()}`,
      source: '/ssrf',
      type,
    }),
  });
  expect(res.statusCode).toBe(202);
}

const literal = (address: string) => (net.isIPv6(address) ? `[${address}]` : address);

describe('SSRF protection through the endpoints API and the sender', () => {
  it.each(BLOCKED)(
    'refuses a literal %s address (%s) when the endpoint is saved',
    async (_name, address) => {
      const res = await api('POST', '/v1/webhooks/endpoints', {
        url: `http://${literal(address)}:${guardedPort}/hook`,
      });
      expect(res.status).toBe(400);
      expect(res.body['errors'][0]).toMatchObject({ pointer: '/url' });
      expect(res.body['errors'][0].detail).toMatch(/blocked by the SSRF policy/);
    },
  );

  it('refuses other schemes and credentials, and plain http unless the operator allows it', async () => {
    for (const url of ['file:///etc/passwd', 'gopher://x.test/', 'http://u:p@hooks.test/']) {
      const res = await api('POST', '/v1/webhooks/endpoints', { url });
      expect(res.status, url).toBe(400);
    }
    const strict = await startTestHub({});
    try {
      const res = await strict.hub.server.inject({
        method: 'POST',
        url: '/v1/webhooks/endpoints',
        headers: {
          ...(await strict.auth('acme', ['webhooks:write'])),
          'content-type': 'application/json',
        },
        payload: JSON.stringify({ url: 'http://example.com/hook' }),
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().errors[0].detail).toMatch(/https/);
    } finally {
      await strict.close();
    }
  });

  it('blocks host names whose DNS answer is in any blocked range, at connect time', async () => {
    const endpoints: Array<{ id: string; name: string }> = [];
    for (const [i, [name, address]] of BLOCKED.entries()) {
      const host = `r${i}.hooks.test`;
      dnsAnswers.set(host, [address]);
      const res = await api('POST', '/v1/webhooks/endpoints', {
        url: `http://${host}:${guardedPort}/hook`,
        eventTypes: ['ssrf.test.sent'],
      });
      expect(res.status, name).toBe(201); // names are not resolved when saved (rebinding)
      endpoints.push({ id: res.body['id'], name });
    }
    // A public address mixed with a private one is refused as a whole.
    dnsAnswers.set('mixed.hooks.test', ['93.184.216.34', '10.0.0.1']);
    const mixed = await api('POST', '/v1/webhooks/endpoints', {
      url: `http://mixed.hooks.test:${guardedPort}/hook`,
      eventTypes: ['ssrf.test.sent'],
    });
    endpoints.push({ id: mixed.body['id'], name: 'mixed answer' });

    await publish('ssrf.test.sent');
    for (const { id, name } of endpoints) {
      const dead = await waitFor(async () => {
        const res = await api('GET', `/v1/webhooks/endpoints/${id}/dlq`);
        return res.body['entries'].length === 1 && res.body['entries'][0];
      }, `the DLQ entry of ${name}`);
      expect(dead.reason, name).toBe('ssrf-blocked');
      expect(dead.lastError, name).toMatch(/blocked by the SSRF policy: .* is in /);
    }
    expect(guardedConnections).toBe(0);
  });

  it('does not follow a redirect to a private address', async () => {
    receiver.script('/redirect', () => ({
      status: 307,
      headers: { location: `http://127.0.0.1:${guardedPort}/internal` },
    }));
    const res = await api('POST', '/v1/webhooks/endpoints', {
      url: receiver.url('/redirect'),
      eventTypes: ['redirect.test.sent'],
    });
    expect(res.status).toBe(201);
    await publish('redirect.test.sent');
    await waitFor(async () => {
      const dlq = await api('GET', `/v1/webhooks/endpoints/${res.body['id']}/dlq`);
      return dlq.body['entries'].length === 1;
    }, 'the DLQ entry');
    expect(receiver.on('/redirect')).toHaveLength(2);
    expect(guardedConnections).toBe(0);
  });
});
