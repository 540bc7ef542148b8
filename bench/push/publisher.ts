/**
 * The publishing side of the push benchmark (runs in run.ts's process, apart from the
 * clients, so a busy receiving process does not delay publishing). Each event carries
 * `data.t`, the epoch time in sub-milliseconds just before its request is sent.
 */
import { request } from 'node:http';
import type { Target } from './clients.ts';
import { now } from './clock.ts';

const PAD = 'x'.repeat(120);
const BATCH = 500;

export class Publisher {
  readonly #target: Target;
  #seq = 0;

  constructor(target: Target) {
    this.#target = target;
  }

  /** The sequence number the next event will carry. */
  get nextSeq(): number {
    return this.#seq + 1;
  }

  /** Publishes `count` events in one request; resolves with the request's round trip. */
  async publish(count: number): Promise<number> {
    const sentAt = now();
    await this.#post(this.#events(count));
    return now() - sentAt;
  }

  /** `rate` single-event requests per second for `seconds`; returns each round trip. */
  async atRate(
    rate: number,
    seconds: number,
  ): Promise<{ published: number; roundTrips: number[] }> {
    const total = Math.round(rate * seconds);
    const interval = 1000 / rate;
    const started = performance.now();
    const inflight: Promise<number>[] = [];
    for (let i = 0; i < total; i++) {
      const wait = started + i * interval - performance.now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      inflight.push(this.publish(1));
    }
    return { published: total, roundTrips: await Promise.all(inflight) };
  }

  /** `count` events as fast as they can be posted, BATCH per request. */
  async burst(count: number): Promise<number> {
    for (let left = count; left > 0; left -= BATCH) await this.publish(Math.min(BATCH, left));
    return count;
  }

  #events(count: number): object[] {
    return Array.from({ length: count }, () => {
      const seq = ++this.#seq;
      return {
        specversion: '1.0',
        id: `tick-${seq}`,
        source: '/bench',
        type: 'bench.tick.created',
        datacontenttype: 'application/json',
        data: { seq, t: now(), text: PAD },
      };
    });
  }

  #post(events: object[]): Promise<void> {
    const portico = this.#target.kind.startsWith('portico');
    const body = JSON.stringify(events);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: this.#target.port,
          method: 'POST',
          path: portico ? '/v1/events' : '/publish',
          headers: {
            'content-type': portico ? 'application/cloudevents-batch+json' : 'application/json',
            'content-length': Buffer.byteLength(body),
            ...(portico ? { authorization: `Bearer ${this.#target.token}` } : {}),
          },
        },
        (res) => {
          res.resume();
          res.on('end', () =>
            res.statusCode === 202
              ? resolve()
              : reject(new Error(`publish: HTTP ${res.statusCode}`)),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }
}
