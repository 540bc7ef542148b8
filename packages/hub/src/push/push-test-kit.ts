/**
 * Helpers for the push tests (not a test file): a listening hub, publishing, and small
 * WebSocket / SSE clients that queue what they receive so a test can await "the next
 * message like this". Deadlines only make a broken test fail instead of hang; no test
 * asserts on how long anything took.
 */
import { EventSource } from 'eventsource';
import WebSocket from 'ws';
import type { HubHooks } from '../app.ts';
import type { Scope } from '../auth/principal.ts';
import { startTestHub, type TestHub } from '../testing/test-hub.ts';

export type PushHub = TestHub & {
  base: string;
  wsBase: string;
  /** Publishes events of `type` (domain.entity.action) for `tenant`; returns their positions. */
  publish(
    tenant: string,
    events: Array<{ type: string; data?: unknown; id?: string }>,
  ): Promise<number[]>;
  metric(name: string, labels?: Record<string, string>): Promise<number>;
};

export async function startPushHub(
  overrides: Record<string, unknown> = {},
  hooks: HubHooks = {},
): Promise<PushHub> {
  const t = await startTestHub(overrides, hooks);
  const base = await t.hub.server.listen({ port: 0, host: '127.0.0.1' });
  let counter = 0;
  const publish: PushHub['publish'] = async (tenant, events) => {
    const res = await t.hub.server.inject({
      method: 'POST',
      url: '/v1/events',
      headers: {
        ...(await t.auth(tenant, ['events:publish'])),
        'content-type': 'application/cloudevents-batch+json',
      },
      payload: JSON.stringify(
        events.map((e) => ({
          specversion: '1.0',
          id: e.id ?? `e-${++counter}-${Math.random().toString(36).slice(2)}`,
          source: '/push-tests',
          type: e.type,
          ...(e.data !== undefined ? { data: e.data, datacontenttype: 'application/json' } : {}),
        })),
      ),
    });
    if (res.statusCode !== 202) throw new Error(`publish failed: ${res.statusCode} ${res.body}`);
    return (res.json() as { events: Array<{ position: number }> }).events.map((e) => e.position);
  };
  const metric: PushHub['metric'] = async (name, labels = {}) => {
    const found = (await t.hub.metrics.getSingleMetric(name)?.get())?.values.find((v) =>
      Object.entries(labels).every(
        ([k, value]) => (v.labels as Record<string, unknown>)[k] === value,
      ),
    );
    return found?.value ?? 0;
  };
  const close = async () => {
    const closing = t.close();
    // Node's server.close() waits for sockets that connected but never sent a request, up
    // to its headers timeout; undici's fetch pool leaves such sockets when requests overlap
    // with open streams. Give the graceful close a moment, then drop those.
    const grace = setTimeout(() => t.hub.server.server.closeAllConnections(), 2_000);
    await closing.finally(() => clearTimeout(grace));
  };
  return { ...t, close, base, wsBase: base.replace(/^http/, 'ws'), publish, metric };
}

type Waiter<T> = { match: (item: T) => boolean; resolve: (item: T) => void };

/** A queue of received items that tests can await by predicate. */
class Inbox<T> {
  readonly items: T[] = [];
  #waiters: Waiter<T>[] = [];
  #cursor = 0;

  push(item: T): void {
    this.items.push(item);
    for (const waiter of [...this.#waiters])
      if (waiter.match(item)) {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        waiter.resolve(item);
      }
  }

  /** The first item (received at any time) matching, or the next one to arrive. */
  find(match: (item: T) => boolean, what: string, deadlineMs = 10_000): Promise<T> {
    const found = this.items.find(match);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out waiting for ${what}`)),
        deadlineMs,
      );
      this.#waiters.push({
        match,
        resolve: (item) => {
          clearTimeout(timer);
          resolve(item);
        },
      });
    });
  }

  /** Items received since the last call. */
  drain(): T[] {
    const fresh = this.items.slice(this.#cursor);
    this.#cursor = this.items.length;
    return fresh;
  }
}

export type WsMessage = { type: string; [key: string]: unknown };

export class WsClient {
  readonly socket: WebSocket;
  readonly inbox = new Inbox<WsMessage>();
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly opened: Promise<void>;

  constructor(url: string, headers: Record<string, string> = {}) {
    this.socket = new WebSocket(url, { headers });
    this.socket.on('message', (data) => this.inbox.push(JSON.parse(String(data)) as WsMessage));
    this.closed = new Promise((resolve) =>
      this.socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk));
        res.on('end', () =>
          reject(
            Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, body }),
          ),
        );
      });
      this.socket.once('error', reject);
    });
  }

  static async open(url: string, headers: Record<string, string> = {}): Promise<WsClient> {
    const client = new WsClient(url, headers);
    await client.opened;
    await client.next('welcome');
    return client;
  }

  send(message: Record<string, unknown>): void {
    this.socket.send(JSON.stringify(message));
  }

  next(type: string, match: (m: WsMessage) => boolean = () => true): Promise<WsMessage> {
    return this.inbox.find((m) => m.type === type && match(m), `a "${type}" message`);
  }

  events(): Array<{
    position: number;
    subscriptions: string[];
    event: { id: string; type: string; tenantid: string; data?: unknown };
  }> {
    return this.inbox.items.filter((m) => m.type === 'event') as never;
  }

  close(): void {
    this.socket.close();
  }
}

export type SseMessage = { type: string; data: Record<string, unknown>; lastEventId: string };

/** The `eventsource` npm client with a bearer token (or none, for ticket URLs). */
export class SseClient {
  readonly source: EventSource;
  readonly inbox = new Inbox<SseMessage>();
  readonly errors: Array<{ code?: number; message?: string }> = [];

  constructor(url: string, token?: string) {
    this.source = new EventSource(url, {
      fetch: (input, init) =>
        fetch(input, {
          ...init,
          headers: {
            ...(init?.headers as Record<string, string>),
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
        }),
    });
    const record = (type: string) => (event: MessageEvent) =>
      this.inbox.push({
        type,
        data: JSON.parse(String(event.data)) as Record<string, unknown>,
        lastEventId: event.lastEventId,
      });
    this.source.addEventListener('message', record('message'));
    for (const type of [
      'ready',
      'reset',
      'caught-up',
      'subscribed',
      'unsubscribed',
      'expiring',
      'expired',
      'reconnect',
    ])
      this.source.addEventListener(type, record(type));
    this.source.addEventListener('error', (event) => this.errors.push(event as never));
  }

  next(
    type: string,
    match: (m: SseMessage) => boolean = () => true,
    deadlineMs?: number,
  ): Promise<SseMessage> {
    return this.inbox.find(
      (m) => m.type === type && match(m),
      `an SSE "${type}" event`,
      deadlineMs,
    );
  }

  positions(): number[] {
    return this.inbox.items
      .filter((m) => m.type === 'message')
      .map((m) => m.data.position as number);
  }

  close(): void {
    this.source.close();
  }
}

export const READ: Scope[] = ['events:read'];

/**
 * A loopback TCP proxy in front of the hub whose connections a test can cut, to play a
 * network drop: the client sees its stream fail and reconnects on its own.
 */
export class CuttableProxy {
  readonly #server: import('node:net').Server;
  readonly #sockets = new Set<import('node:net').Socket>();
  url = '';

  private constructor(server: import('node:net').Server) {
    this.#server = server;
  }

  static async start(target: string): Promise<CuttableProxy> {
    const net = await import('node:net');
    const { hostname, port } = new URL(target);
    const server = net.createServer();
    const proxy = new CuttableProxy(server);
    server.on('connection', (client) => {
      const upstream = net.connect(Number(port), hostname);
      for (const socket of [client, upstream]) {
        proxy.#sockets.add(socket);
        socket.on('close', () => proxy.#sockets.delete(socket));
        socket.on('error', () => {});
      }
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address() as import('node:net').AddressInfo;
    proxy.url = `http://127.0.0.1:${address.port}`;
    return proxy;
  }

  /** Drops every connection through the proxy. */
  cut(): void {
    for (const socket of this.#sockets) socket.destroy();
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise((resolve) => this.#server.close(resolve));
  }
}
