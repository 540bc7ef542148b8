import { describe, expect, it } from 'vitest';
import { SUBSCRIPTION_ID } from '../../../hub/src/push/subscription-spec.ts';
import { hubSubscriptionId } from './hub-subscription-id.ts';
import { holdForReplay, mergeHeld, replayRequestId, type PendingReplay } from './late-replay.ts';
import type { WireMessage } from './wire.ts';

const message = (position: number, subscriptions: string[], replayed?: boolean): WireMessage => ({
  subscriptions,
  position,
  topic: 'billing.invoice.paid',
  event: { specversion: '1.0', id: String(position), source: '/t', type: 'billing.invoice.paid' },
  ...(replayed ? { replayed } : {}),
});

describe('a late micro-frontend replay', () => {
  it('has a hub id that is valid, unique per tab and request, and no pattern id', () => {
    const long = hubSubscriptionId(`billing.${'x'.repeat(112)}`, undefined);
    const hashed = hubSubscriptionId('billing.>', { data: { a: [1] } });
    for (const id of [long, hashed, 'billing.>']) {
      const rid = replayRequestId(id, 'k3j9x0q1ab2', 12);
      expect(rid).toMatch(SUBSCRIPTION_ID);
      expect(rid).not.toBe(id);
    }
    expect(replayRequestId('billing.>', 'a', 1)).not.toBe(replayRequestId('billing.>', 'b', 1));
    expect(replayRequestId('billing.>', 'a', 1)).not.toBe(replayRequestId('billing.>', 'a', 2));
  });

  it('holds its replay and the live messages, then hands them over by position, once each', () => {
    const pending: PendingReplay = { id: 'billing.>:r1.t', last: 3, held: [] };
    holdForReplay(pending, 'billing.>', message(9, ['billing.>'])); // live, before the replay
    holdForReplay(pending, 'billing.>', message(4, ['billing.>:r1.t'], true));
    holdForReplay(pending, 'billing.>', message(9, ['billing.>:r1.t'], true)); // also live
    holdForReplay(pending, 'billing.>', message(7, ['billing.>:r1.t'], true));
    holdForReplay(pending, 'billing.>', message(8, ['incident.>'])); // someone else's
    holdForReplay(pending, 'billing.>', message(10, ['billing.>', 'billing.>:r1.t']));
    expect(mergeHeld(pending.held).map((h) => [h.message.position, h.replayed] as const)).toEqual([
      [4, true],
      [7, true],
      [9, false],
      [10, false],
    ]);
  });
});
