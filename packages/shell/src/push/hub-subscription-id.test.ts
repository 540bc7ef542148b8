import { describe, expect, it } from 'vitest';
import { SUBSCRIPTION_ID } from '../../../hub/src/push/subscription-spec.ts';
import { hubSubscriptionId } from './hub-subscription-id.ts';

describe('hubSubscriptionId', () => {
  it('is the pattern itself when plain, the same in every tab', () => {
    expect(hubSubscriptionId('incident.*.ticket.created', undefined)).toBe(
      'incident.*.ticket.created',
    );
    expect(hubSubscriptionId('billing.>', undefined)).toBe('billing.>');
  });

  it('separates equal patterns with different filters, and is stable for equal ones', () => {
    const high = hubSubscriptionId('incident.>', { data: { severity: ['high'] } });
    const low = hubSubscriptionId('incident.>', { data: { severity: ['low'] } });
    expect(high).not.toBe(low);
    expect(high).not.toBe('incident.>');
    expect(hubSubscriptionId('incident.>', { data: { severity: ['high'] } })).toBe(high);
  });

  it('always gives an id the hub accepts, also for long patterns', () => {
    const long = `${'segment.'.repeat(40)}>`;
    for (const id of [
      hubSubscriptionId(long, undefined),
      hubSubscriptionId('a.b', { source: [{ prefix: '/eu/' }] }),
      hubSubscriptionId('incident.>', undefined),
    ])
      expect(id).toMatch(SUBSCRIPTION_ID);
    expect(hubSubscriptionId(long, undefined)).not.toBe(hubSubscriptionId(`${long}x`, undefined));
  });
});
