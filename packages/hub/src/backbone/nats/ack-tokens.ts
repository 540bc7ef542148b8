/**
 * Consumer-group tokens. A JetStream delivery is acknowledged by publishing to its reply
 * subject (`$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<ts>.<pending>`),
 * so the token carries that subject plus the lease (when it was pulled, for how long).
 * Any hub node can then settle a delivery pulled through another node: no in-memory map
 * of in-flight messages is needed. Tokens are opaque to clients and checked strictly
 * before anything is published: only an ack subject of the named group's consumer on
 * this stream is accepted.
 */
export type Delivery = {
  reply: string;
  stream: string;
  consumer: string;
  deliveryCount: number;
  streamSequence: number;
  /** The message's timestamp in the stream (epoch ms): when it was appended. */
  appendedAt: number;
};

export type Lease = { delivery: Delivery; pulledAt: number; ackWaitMs: number };

const NUMBER = /^[0-9]+$/;

/** Reads an ack reply subject (v1 layout, and the v2 layout with domain and account hash). */
export function parseAckReply(reply: string): Delivery | undefined {
  const t = reply.split('.');
  if (t[0] !== '$JS' || t[1] !== 'ACK') return undefined;
  // v1: $JS.ACK.<stream>.<consumer>.<dc>.<sseq>.<cseq>.<ts>.<pending>
  // v2: $JS.ACK.<domain>.<account hash>.<stream>.<consumer>.<dc>.<sseq>.<cseq>.<ts>.<pending>[.<token>]
  const at = t.length === 9 ? 2 : t.length >= 11 ? 4 : -1;
  if (at < 0) return undefined;
  const [stream, consumer, dc, sseq, , ts] = t.slice(at, at + 6);
  if (!stream || !consumer || !dc || !sseq || !ts) return undefined;
  if (![dc, sseq, ts].every((n) => NUMBER.test(n))) return undefined;
  return {
    reply,
    stream,
    consumer,
    deliveryCount: Number(dc),
    streamSequence: Number(sseq),
    appendedAt: Number(BigInt(ts) / 1_000_000n),
  };
}

export function tokenFor(lease: Lease): string {
  return `${lease.pulledAt.toString(36)}.${lease.ackWaitMs.toString(36)}.${Buffer.from(lease.delivery.reply).toString('base64url')}`;
}

/** Undefined when the token is malformed or is not for this stream and consumer. */
export function leaseFromToken(token: string, stream: string, consumer: string): Lease | undefined {
  if (typeof token !== 'string' || token.length > 2048) return undefined;
  const [pulledAt, ackWait, encoded, extra] = token.split('.');
  if (
    pulledAt === undefined ||
    ackWait === undefined ||
    encoded === undefined ||
    extra !== undefined
  )
    return undefined;
  if (
    !/^[0-9a-z]+$/.test(pulledAt) ||
    !/^[0-9a-z]+$/.test(ackWait) ||
    !/^[A-Za-z0-9_-]+$/.test(encoded)
  )
    return undefined;
  const delivery = parseAckReply(Buffer.from(encoded, 'base64url').toString('utf8'));
  if (!delivery || delivery.stream !== stream || delivery.consumer !== consumer) return undefined;
  // Nothing but the exact subject JetStream gave us may be published to.
  if (/[\s*>]/.test(delivery.reply)) return undefined;
  return { delivery, pulledAt: parseInt(pulledAt, 36), ackWaitMs: parseInt(ackWait, 36) };
}
