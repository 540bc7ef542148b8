/**
 * Sends acks / naks / terms to JetStream in batches, confirmed by one round trip.
 *
 * A settlement is a message to the delivery's ack subject. Sent as a request, JetStream
 * answers once it has processed it, so a pull right after sees its effect; but one
 * request per event makes a consumer that acks a batch of 100 pay 100 round trips of
 * client and server work (measured: the router then kept up with about a third of the
 * ingest rate). Settlements issued in the same tick for one consumer are therefore sent
 * as plain publishes followed by one request: the server queues a consumer's acks in
 * arrival order and processes them in that order, so the answer to the last one means
 * every earlier one of the batch was processed too. If that request fails, every
 * settlement of the batch fails (StoreUnavailableError); some may still have been
 * applied, which is harmless (a repeated or lost ack only changes when, not whether,
 * an event is redelivered).
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { unavailableOr } from './nats-errors.ts';

type Pending = { reply: string; body: string; done: () => void; fail: (error: unknown) => void };

export type SettlementBatcher = {
  /** Sends `body` to the ack subject `reply` of `consumer`; resolves once JetStream processed it. */
  send(consumer: string, reply: string, body: string): Promise<void>;
};

export function createSettlementBatcher(
  nc: NatsConnection,
  requestTimeoutMs: number,
): SettlementBatcher {
  const batches = new Map<string, Pending[]>();

  const flush = async (consumer: string) => {
    const batch = batches.get(consumer)!;
    batches.delete(consumer);
    const last = batch[batch.length - 1]!;
    try {
      for (const p of batch) if (p !== last) nc.publish(p.reply, p.body);
      await nc.request(last.reply, last.body, { timeout: requestTimeoutMs });
      for (const p of batch) p.done();
    } catch (error) {
      const failure = unavailableOr(error);
      for (const p of batch) p.fail(failure);
    }
  };

  return {
    send(consumer, reply, body) {
      return new Promise<void>((done, fail) => {
        let batch = batches.get(consumer);
        if (!batch) {
          batch = [];
          batches.set(consumer, batch);
          // After the caller's synchronous loop (e.g. acks of a whole pulled batch).
          queueMicrotask(() => void flush(consumer));
        }
        batch.push({ reply, body, done, fail });
      });
    },
  };
}
