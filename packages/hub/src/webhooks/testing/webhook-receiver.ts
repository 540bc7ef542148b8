/**
 * Test helper: a local HTTP receiver that keeps every request exactly as received (raw
 * body, headers, arrival time) and answers per path as a test scripts it, including
 * holding answers back until released. Used by the webhooks tests and benchmark.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ReceivedRequest = {
  path: string;
  headers: IncomingHttpHeaders;
  /** The body exactly as sent (what signatures cover). */
  body: string;
  receivedAt: number;
};

export type Answer = {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Answer after this many ms. */
  delayMs?: number;
  /** Answer only once this promise settles. */
  hold?: Promise<unknown>;
};

export type Script = (n: number, request: ReceivedRequest) => Answer;

export class WebhookReceiver {
  readonly requests: ReceivedRequest[] = [];
  connections = 0;
  inflight = 0;
  maxInflight = 0;
  readonly #scripts = new Map<string, Script>();
  readonly #counts = new Map<string, number>();
  readonly #server: Server;
  readonly #host: string;

  private constructor(host: string) {
    this.#host = host;
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = req.url ?? '/';
        const request: ReceivedRequest = {
          path,
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          receivedAt: Date.now(),
        };
        this.requests.push(request);
        const n = (this.#counts.get(path) ?? 0) + 1;
        this.#counts.set(path, n);
        const script: Script = this.#scripts.get(path) ?? (() => ({ status: 204 }));
        const answer = script(n, request);
        this.inflight++;
        this.maxInflight = Math.max(this.maxInflight, this.inflight);
        const send = () => {
          this.inflight--;
          if (!res.destroyed) res.writeHead(answer.status, answer.headers ?? {}).end(answer.body);
        };
        const after = () =>
          answer.delayMs ? setTimeout(send, answer.delayMs) : setImmediate(send);
        if (answer.hold) void answer.hold.then(after, after);
        else after();
      });
    });
    this.#server.on('connection', () => this.connections++);
  }

  static async start(host = '127.0.0.1'): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver(host);
    await new Promise<void>((resolve) => receiver.#server.listen(0, host, resolve));
    return receiver;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  url(path: string): string {
    return `http://${this.#host}:${this.port}${path}`;
  }

  script(path: string, script: Script): void {
    this.#scripts.set(path, script);
  }

  on(path: string): ReceivedRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise((resolve) => this.#server.close(resolve));
  }
}
