/**
 * Test helpers: a local `node:http` receiver whose answers a test scripts per path, and
 * `HttpPostTarget`, a webhook-like `DeliveryTarget` (the "SMS gateway" of the acceptance
 * scenario) that POSTs each delivery's payload to the receiver.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Delivery, DeliveryResult, DeliveryTarget } from '../../delivery/delivery-target.ts';

export type Received = {
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
};

/** The answer to the nth (1-based) request on a path: a status, or never answering. */
export type Behaviour = (
  n: number,
  request: Received,
) => { status: number; headers?: Record<string, string>; body?: string } | 'hang';

export class HttpReceiver {
  readonly requests: Received[] = [];
  readonly #behaviours = new Map<string, Behaviour>();
  readonly #counts = new Map<string, number>();
  readonly #server: Server;

  private constructor() {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = req.url ?? '/';
        const received: Received = {
          path,
          headers: req.headers,
          body: JSON.parse(Buffer.concat(chunks).toString() || '{}') as Record<string, unknown>,
        };
        this.requests.push(received);
        const n = (this.#counts.get(path) ?? 0) + 1;
        this.#counts.set(path, n);
        const behaviour: Behaviour = this.#behaviours.get(path) ?? (() => ({ status: 204 }));
        const answer = behaviour(n, received);
        if (answer === 'hang') return;
        res.writeHead(answer.status, answer.headers ?? {}).end(answer.body);
      });
    });
  }

  static async start(): Promise<HttpReceiver> {
    const receiver = new HttpReceiver();
    await new Promise<void>((resolve) => receiver.#server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  behave(path: string, behaviour: Behaviour): void {
    this.#behaviours.set(path, behaviour);
  }

  on(path: string): Received[] {
    return this.requests.filter((r) => r.path === path);
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise((resolve) => this.#server.close(resolve));
  }
}

/**
 * Delivers to `<base>/<destination>`: 2xx delivered; 429 and 5xx retried (Retry-After in
 * seconds honoured); any other status fails for good.
 */
export class HttpPostTarget implements DeliveryTarget {
  readonly #base: string;

  constructor(base: string) {
    this.#base = base;
  }

  async deliver(delivery: Delivery, signal: AbortSignal): Promise<DeliveryResult> {
    const res = await fetch(`${this.#base}/${delivery.target.ref}`, {
      method: 'POST',
      body: JSON.stringify(delivery.payload),
      headers: {
        'content-type': 'application/json',
        'x-delivery-id': delivery.id,
        'x-attempt': String(delivery.attempt),
        'x-event-id': delivery.event.id,
        'x-correlation-id': delivery.correlationId,
      },
      signal,
    });
    const text = await res.text();
    // What a real sender would keep for the attempt log: the status and the answer's start.
    const detail = { statusCode: res.status, ...(text ? { response: text.slice(0, 1024) } : {}) };
    if (res.ok) return { outcome: 'delivered', detail };
    const error = `HTTP ${res.status} from ${delivery.target.ref}`;
    if (res.status === 429 || res.status >= 500) {
      const after = Number(res.headers.get('retry-after'));
      return {
        outcome: 'retry',
        error,
        detail,
        ...(Number.isFinite(after) && after > 0 ? { retryAfterMs: after * 1000 } : {}),
      };
    }
    return { outcome: 'failed', error, reason: `http-${res.status}`, detail };
  }
}
