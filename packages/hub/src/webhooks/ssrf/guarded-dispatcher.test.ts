/**
 * The SSRF matrix, end to end through undici. Only loopback is ever contacted: servers on
 * 127.0.0.1 / ::1 count connections, so "blocked" is shown to mean "no socket reached them";
 * for addresses nothing listens on, the proof is that no TCP connect was even attempted.
 */
import { createServer } from 'node:http';
import type { RequestListener, Server } from 'node:http';
import net from 'node:net';
import type { AddressInfo, LookupFunction } from 'node:net';
import { Agent, buildConnector } from 'undici';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAddressGuard } from './address-guard.ts';
import { createGuardedDispatcher } from './guarded-dispatcher.ts';
import type { GuardedDispatcher, SsrfPolicy } from './guarded-dispatcher.ts';
import { guardConnector } from './guarded-connector.ts';
import { guardedRequest } from './guarded-request.ts';
import { SsrfBlockedError } from './ssrf-blocked-error.ts';

type CountingServer = {
  port: number;
  connections: number;
  requests: number;
  close(): Promise<void>;
};

async function countingServer(
  host: string,
  port = 0,
  handler?: RequestListener,
): Promise<CountingServer> {
  const counts = { connections: 0, requests: 0 };
  const server: Server = createServer((req, res) => {
    counts.requests++;
    if (handler) handler(req, res);
    else res.end('ok');
  });
  server.on('connection', () => counts.connections++);
  await new Promise<void>((resolve, reject) =>
    server.once('error', reject).listen(port, host, resolve),
  );
  return {
    port: (server.address() as AddressInfo).port,
    get connections() {
      return counts.connections;
    },
    get requests() {
      return counts.requests;
    },
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A resolver answering each call with the next answer in turn (the last one repeats). */
function fakeDns(...answers: string[][]): LookupFunction & { calls: number } {
  const lookup = ((_hostname, options, callback) => {
    const answer = answers[Math.min(lookup.calls, answers.length - 1)]!;
    lookup.calls++;
    const addresses = answer.map((address) => ({ address, family: net.isIP(address) }));
    setImmediate(() => {
      if (options.all) callback(null, addresses);
      else callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  }) as LookupFunction & { calls: number };
  lookup.calls = 0;
  return lookup;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  vi.restoreAllMocks();
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function server(host: string, port = 0, handler?: RequestListener): Promise<CountingServer> {
  const s = await countingServer(host, port, handler);
  cleanups.push(() => s.close());
  return s;
}

function dispatcher(policy: SsrfPolicy): GuardedDispatcher {
  const d = createGuardedDispatcher(policy);
  cleanups.push(() => d.close());
  return d;
}

/** Counts TCP connections this process establishes (sockets emitting `connect`) from now on. */
function tcpConnections(): () => number {
  const emit = vi.spyOn(net.Socket.prototype, 'emit');
  return () => emit.mock.calls.filter((args) => (args[0] as string) === 'connect').length;
}

async function blockedError(promise: Promise<unknown>): Promise<SsrfBlockedError> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(SsrfBlockedError);
  return error as SsrfBlockedError;
}

describe('literal IP targets', () => {
  let v4: CountingServer;
  let v6: CountingServer;
  beforeEach(async () => {
    v4 = await server('127.0.0.1');
    v6 = await server('::1');
  });

  it.each([
    ['http://127.0.0.1:PORT4/', 'loopback 127.0.0.0/8'],
    ['http://127.0.0.2:PORT4/', 'loopback 127.0.0.0/8'],
    ['http://[::ffff:127.0.0.1]:PORT4/', 'ipv4-mapped'],
    ['https://127.0.0.1:PORT4/', 'loopback 127.0.0.0/8'],
    ['http://[::1]:PORT6/', 'loopback ::1/128'],
  ])('%s is refused and no connection reaches the listening server', async (template, range) => {
    const url = template.replace('PORT4', String(v4.port)).replace('PORT6', String(v6.port));
    const origin = new URL(url).origin;
    const connections = tcpConnections();
    const d = dispatcher({ allowHttp: true });

    // Through guardedRequest (refused at URL validation) and straight through the dispatcher
    // (refused by the connector): both layers hold on their own.
    expect((await blockedError(guardedRequest(url, {}, d))).message).toContain(range);
    expect((await blockedError(d.request({ origin, path: '/', method: 'GET' }))).range).toContain(
      range,
    );
    expect(v4.connections + v6.connections).toBe(0);
    expect(connections()).toBe(0);
  });

  it.each([
    '10.0.0.5',
    '172.16.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '224.0.0.1',
    '255.255.255.255',
    '192.0.2.1',
    '198.51.100.1',
    '203.0.113.1',
    '198.18.0.1',
    '240.0.0.1',
    '0.0.0.0',
    '192.0.0.1',
    '[::]',
    '[fe80::1]',
    '[fc00::1]',
    '[ff02::1]',
    '[2001:db8::1]',
    '[::ffff:169.254.169.254]',
    '[::ffff:10.0.0.5]',
    '[::127.0.0.1]',
    '[64:ff9b::7f00:1]',
    '[64:ff9b:1::a00:1]',
    '[2002:7f00:1::]',
    '[2001:0:4136:e378:8000:63bf:3fff:fdd2]',
  ])('%s is refused before any TCP connect is attempted', async (host) => {
    const connect = vi.spyOn(net.Socket.prototype, 'connect');
    const connections = tcpConnections();
    const d = dispatcher({ allowHttp: true, connectTimeoutMs: 500 });
    await blockedError(guardedRequest(`http://${host}/`, {}, d));
    await blockedError(d.request({ origin: `http://${host}`, path: '/', method: 'GET' }));
    expect(connect).not.toHaveBeenCalled();
    expect(connections()).toBe(0);
  });
});

describe('host names whose DNS answer is blocked', () => {
  it.each([['127.0.0.1'], ['::1'], ['::ffff:127.0.0.1'], ['8.8.8.8', '127.0.0.1']])(
    'answer %s: refused, the loopback servers see no connection',
    async (...answer) => {
      const v4 = await server('127.0.0.1');
      const v6 = await server('::1', v4.port);
      const lookup = fakeDns(answer);
      const connections = tcpConnections();
      const d = dispatcher({ allowHttp: true, lookup });

      const error = await blockedError(guardedRequest(`http://hooks.test:${v4.port}/`, {}, d));
      expect(error.range).toMatch(/loopback/);
      expect(lookup.calls).toBe(1);
      expect(v4.connections + v6.connections).toBe(0);
      expect(connections()).toBe(0);
    },
  );

  it.each([
    [['10.0.0.5'], 'private 10.0.0.0/8'],
    [
      ['::ffff:169.254.169.254'],
      'ipv4-mapped ::ffff:0:0/96 → link-local 169.254.0.0/16 (169.254.169.254)',
    ],
    [['2606:4700::1111', 'fd00::1'], 'unique-local fc00::/7'],
    [['10.0.0.5', '2606:4700::1111'], 'private 10.0.0.0/8'],
  ])('answer %j: refused (a mixed answer is refused whole) naming %s', async (answer, range) => {
    const connections = tcpConnections();
    const d = dispatcher({ lookup: fakeDns(answer), connectTimeoutMs: 500 });
    const error = await blockedError(guardedRequest('https://hooks.test/', {}, d));
    expect(error).toMatchObject({ code: 'ERR_SSRF_BLOCKED', range });
    expect(error.message).not.toContain('hooks.test/'); // names the address, never the URL
    expect(connections()).toBe(0);
  });

  it('DNS rebinding: each new connection resolves again, and the later private answer is refused', async () => {
    // 127.0.0.1 is allow-listed here, standing in for the public address a rebinding name first
    // answers (a test must not leave loopback); the second answer, ::1, is not allow-listed.
    const first = await server('127.0.0.1', 0, (_req, res) =>
      res.setHeader('connection', 'close').end('ok'),
    );
    const rebound = await server('::1', first.port);
    const lookup = fakeDns(['127.0.0.1'], ['::1']);
    const d = dispatcher({ allowHttp: true, allowCidrs: ['127.0.0.1/32'], lookup });
    const url = `http://rebind.test:${first.port}/`;

    expect((await guardedRequest(url, {}, d)).status).toBe(200);
    const error = await blockedError(guardedRequest(url, {}, d));
    expect(error.range).toBe('loopback ::1/128');
    expect(lookup.calls).toBe(2);
    expect(first.requests).toBe(1);
    expect(rebound.connections).toBe(0);
  });
});

describe('guardedRequest', () => {
  it('lets the operator allow-list through and reports status, headers, body and latency', async () => {
    const s = await server('127.0.0.1', 0, (req, res) => {
      let received = '';
      req.on('data', (chunk: Buffer) => (received += chunk));
      req.on('end', () =>
        res
          .writeHead(202, { 'x-seen': `${req.method} ${req.headers['webhook-id']}` })
          .end(received),
      );
    });
    const d = dispatcher({ allowHttp: true, allowCidrs: ['127.0.0.0/8'] });
    const response = await guardedRequest(
      `http://127.0.0.1:${s.port}/hook`,
      { headers: { 'webhook-id': 'msg_1' }, body: '{"a":1}' },
      d,
    );
    expect(response).toMatchObject({ status: 202, body: '{"a":1}', bodyTruncated: false });
    expect(response.headers['x-seen']).toBe('POST msg_1');
    expect(response.latencyMs).toBeGreaterThan(0);
  });

  it('does not follow a redirect: the 302 is returned and its target is never contacted', async () => {
    const secret = await server('127.0.0.1');
    const redirector = await server('127.0.0.1', 0, (_req, res) =>
      res.writeHead(302, { location: `http://127.0.0.1:${secret.port}/secret` }).end(),
    );
    const d = dispatcher({ allowHttp: true, allowCidrs: ['127.0.0.0/8'] });
    const response = await guardedRequest(`http://127.0.0.1:${redirector.port}/`, {}, d);
    expect(response.status).toBe(302);
    expect(response.headers.location).toBe(`http://127.0.0.1:${secret.port}/secret`);
    expect(secret.connections).toBe(0);
  });

  it.each(['ftp://127.0.0.1/x', 'http://user:pass@127.0.0.1/', 'file:///etc/passwd', 'not a url'])(
    'refuses %s without resolving or connecting',
    async (url) => {
      const lookup = fakeDns(['127.0.0.1']);
      const connect = vi.spyOn(net.Socket.prototype, 'connect');
      const d = dispatcher({ allowHttp: true, allowCidrs: ['127.0.0.0/8'], lookup });
      await blockedError(guardedRequest(url, {}, d));
      expect(lookup.calls).toBe(0);
      expect(connect).not.toHaveBeenCalled();
    },
  );

  it('refuses plain http unless the policy allows it, even to an allow-listed address', async () => {
    const s = await server('127.0.0.1');
    const d = dispatcher({ allowCidrs: ['127.0.0.0/8'] });
    const error = await blockedError(guardedRequest(`http://127.0.0.1:${s.port}/`, {}, d));
    expect(error.message).toMatch(/http:/);
    expect(s.connections).toBe(0);
  });

  it('keeps only the first maxBodyBytes of the response body', async () => {
    const s = await server('127.0.0.1', 0, (_req, res) => res.end('x'.repeat(10_000)));
    const d = dispatcher({ allowHttp: true, allowCidrs: ['127.0.0.0/8'] });
    const response = await guardedRequest(`http://127.0.0.1:${s.port}/`, { maxBodyBytes: 1024 }, d);
    expect(response.body).toBe('x'.repeat(1024));
    expect(response.bodyTruncated).toBe(true);
  });

  it('cuts off an answer far longer than it keeps, and still reports it', async () => {
    const s = await server('127.0.0.1', 0, (_req, res) => res.end('y'.repeat(300_000)));
    const d = dispatcher({ allowHttp: true, allowCidrs: ['127.0.0.0/8'] });
    const response = await guardedRequest(`http://127.0.0.1:${s.port}/`, { maxBodyBytes: 1024 }, d);
    expect(response).toMatchObject({ status: 200, body: 'y'.repeat(1024), bodyTruncated: true });
  });

  it("stops at the caller's signal with its reason, before or during the request", async () => {
    const s = await server('127.0.0.1', 0, () => {}); // never answers
    const d = dispatcher({ allowHttp: true, allowCidrs: ['127.0.0.0/8'] });
    const url = `http://127.0.0.1:${s.port}/`;
    const during = new AbortController();
    const pending = guardedRequest(url, { signal: during.signal }, d);
    await new Promise((resolve) => setTimeout(resolve, 50));
    during.abort(new Error('hub stopping'));
    await expect(pending).rejects.toThrow('hub stopping');
    const before = AbortSignal.abort(new Error('already stopped'));
    await expect(guardedRequest(url, { signal: before }, d)).rejects.toThrow('already stopped');
    expect(s.requests).toBe(1); // the one sent before the abort, none after
  });

  it('judges an answer whose body stalls by its status at timeoutMs, keeping what came, and closes it', async () => {
    let closed = false;
    const s = await server('127.0.0.1', 0, (_req, res) => {
      res.on('close', () => (closed = true));
      res.writeHead(200, { 'content-length': '100000' }).write('0123456789'); // then nothing
    });
    const d = dispatcher({ allowHttp: true, allowCidrs: ['127.0.0.0/8'] });
    const response = await guardedRequest(`http://127.0.0.1:${s.port}/`, { timeoutMs: 200 }, d);
    expect(response).toMatchObject({ status: 200, body: '0123456789', bodyTruncated: true });
    await vi.waitFor(() => expect(closed).toBe(true));
  });

  it('gives up at timeoutMs', async () => {
    const s = await server('127.0.0.1', 0, () => {}); // never answers
    const d = dispatcher({ allowHttp: true, allowCidrs: ['127.0.0.0/8'] });
    await expect(
      guardedRequest(`http://127.0.0.1:${s.port}/`, { timeoutMs: 100 }, d),
    ).rejects.toMatchObject({
      name: 'TimeoutError',
    });
  });
});

describe('the last line: the connected peer is checked before a byte is written', () => {
  it('destroys a connection that reached a blocked peer through an unguarded resolver', async () => {
    const s = await server('127.0.0.1');
    const connections = tcpConnections();
    // A connector whose lookup is NOT guarded, so only the post-connect peer check stands.
    const connect = guardConnector(
      buildConnector({ lookup: fakeDns(['127.0.0.1']) }),
      createAddressGuard(),
    );
    const agent = new Agent({ connect });
    cleanups.push(() => agent.close());

    const error = await blockedError(
      agent.request({ origin: `http://sneaky.test:${s.port}`, path: '/', method: 'GET' }),
    );
    expect(error.address).toBe('127.0.0.1');
    expect(connections()).toBe(1); // the TCP handshake happened (this layer is the last resort)...
    expect(s.requests).toBe(0); // ...but no HTTP request did
  });
});
