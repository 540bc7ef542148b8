/**
 * One JetStream pull request on a durable consumer, sent as the raw API message so it can
 * use `no_wait` (return what is there now) and short waits; nats.js's `fetch` waits at
 * least a second and until the whole batch is full. Messages arrive on a fresh inbox
 * until the batch is full or the server ends the request with a status.
 */
import { createInbox, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { StoreUnavailableError } from '../../store/store-unavailable-error.ts';

export type PullRequest = { batch: number } & (
  | { noWait: true }
  /** `signal`: the caller is gone; the request ends with what it has (see EventLog.pull). */
  | { expiresMs: number; signal?: AbortSignal | undefined }
);

export class ConsumerGoneError extends Error {
  constructor(detail: string) {
    super(`the consumer is gone: ${detail}`);
    this.name = 'ConsumerGoneError';
  }
}

/** Statuses that end a pull request normally: no messages (404), request expired (408). */
const END = new Set([404, 408]);
/** How much longer than the server's own expiry we wait before giving up on it. */
const GRACE_MS = 2_000;

export function pullMessages(
  nc: NatsConnection,
  stream: string,
  consumer: string,
  request: PullRequest,
  requestTimeoutMs: number,
): Promise<Msg[]> {
  const body =
    'noWait' in request
      ? { batch: request.batch, no_wait: true }
      : { batch: request.batch, expires: Math.max(1, Math.round(request.expiresMs)) * 1_000_000 };
  const limitMs = 'noWait' in request ? requestTimeoutMs : request.expiresMs + GRACE_MS;
  const signal = 'signal' in request ? request.signal : undefined;
  if (signal?.aborted) return Promise.resolve([]);
  return new Promise<Msg[]>((resolve, reject) => {
    const abandon = () => finish();
    const inbox = createInbox();
    const out: Msg[] = [];
    let done = false;
    const finish = (error?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', abandon);
      sub.unsubscribe();
      if (error) reject(error);
      else resolve(out);
    };
    const sub = nc.subscribe(inbox, {
      callback: (error, msg) => {
        if (error) return finish(error);
        const code = msg.headers?.code ?? 0;
        if (!msg.reply && code > 0) {
          if (END.has(code)) return finish();
          if (code === 100) return; // idle heartbeat
          if (code === 503)
            return finish(new ConsumerGoneError(msg.headers?.description || 'no responders'));
          if (code === 409 && /deleted/i.test(msg.headers?.description ?? ''))
            return finish(new ConsumerGoneError(msg.headers?.description ?? 'deleted'));
          return finish(
            new Error(`pull request ended with ${code} ${msg.headers?.description ?? ''}`),
          );
        }
        out.push(msg);
        if (out.length >= request.batch) finish();
      },
    });
    signal?.addEventListener('abort', abandon, { once: true });
    const timer = setTimeout(() => {
      // Silence from the server: a request lost in a reconnect, or JetStream down.
      if (out.length > 0) finish();
      else finish(new StoreUnavailableError('NATS JetStream did not answer a pull request'));
    }, limitMs);
    try {
      nc.publish(`$JS.API.CONSUMER.MSG.NEXT.${stream}.${consumer}`, JSON.stringify(body), {
        reply: inbox,
      });
    } catch (error) {
      finish(error as Error);
    }
  });
}
