import { describe, expect, it } from 'vitest';
import { leaseFromToken, parseAckReply, tokenFor } from './ack-tokens.ts';

const v1 = '$JS.ACK.EVENTS.workers.2.17.40.1700000000123456789.5';
const v2 = '$JS.ACK.hub.ACCHASH.EVENTS.workers.3.18.41.1700000000123456789.4.xyz';

describe('ack tokens', () => {
  it('reads both ack subject layouts', () => {
    expect(parseAckReply(v1)).toEqual({
      reply: v1,
      stream: 'EVENTS',
      consumer: 'workers',
      deliveryCount: 2,
      streamSequence: 17,
      appendedAt: 1700000000123,
    });
    expect(parseAckReply(v2)).toMatchObject({
      stream: 'EVENTS',
      consumer: 'workers',
      deliveryCount: 3,
      streamSequence: 18,
    });
    expect(parseAckReply('$JS.ACK.EVENTS.workers.x.17.40.1.5')).toBeUndefined();
    expect(parseAckReply('orders.created')).toBeUndefined();
  });

  it('round-trips a lease and accepts it only for its own stream and consumer', () => {
    const token = tokenFor({
      delivery: parseAckReply(v1)!,
      pulledAt: 1_700_000_000_500,
      ackWaitMs: 30_000,
    });
    expect(leaseFromToken(token, 'EVENTS', 'workers')).toMatchObject({
      pulledAt: 1_700_000_000_500,
      ackWaitMs: 30_000,
    });
    expect(leaseFromToken(token, 'EVENTS', 'others')).toBeUndefined();
    expect(leaseFromToken(token, 'OTHER', 'workers')).toBeUndefined();
  });

  it('rejects forged tokens that point anywhere but an ack subject', () => {
    const forge = (subject: string) => `1.1.${Buffer.from(subject).toString('base64url')}`;
    expect(leaseFromToken(forge('orders.dev.order.created'), 'EVENTS', 'workers')).toBeUndefined();
    expect(
      leaseFromToken(forge('$JS.ACK.EVENTS.workers.1.1.1.1.>'), 'EVENTS', 'workers'),
    ).toBeUndefined();
    expect(leaseFromToken('not-a-token', 'EVENTS', 'workers')).toBeUndefined();
    expect(leaseFromToken('', 'EVENTS', 'workers')).toBeUndefined();
  });
});
