import { describe, expect, it } from 'vitest';
import { naiveMatch } from '../../routing/pattern/index.ts';
import { endpointPattern, eventTypeProblem, validateEventTypes } from './event-types.ts';

const matches = (types: string[], type: string, extra: Record<string, unknown> = {}) =>
  naiveMatch(endpointPattern(types, null), { type, ...extra });

describe('endpoint event types', () => {
  it.each([
    'billing.invoice.paid',
    'billing.*.paid',
    '*.*.paid',
    'billing.>',
    'billing.invoice.>',
    '>',
    '*',
  ])('accepts %s', (t) => expect(eventTypeProblem(t)).toBeUndefined());

  it.each(['billing', 'billing.invoice', 'a.b.c.d', 'a.b.c.>', 'Billing.x.y', 'a.>.c', 'a..b', ''])(
    'refuses %s',
    (t) => expect(eventTypeProblem(t)).toBeDefined(),
  );

  it('keeps tenants out of the reserved portico. domain', () => {
    expect(validateEventTypes(['portico.webhook.endpoint-disabled'])[0]?.pointer).toBe(
      '/eventTypes/0',
    );
  });

  it('compiles to the EventBridge language with NATS-like meaning (* is one segment)', () => {
    expect(matches(['billing.invoice.paid'], 'billing.invoice.paid')).toBe(true);
    expect(matches(['billing.invoice.paid'], 'billing.invoice.void')).toBe(false);
    expect(matches(['billing.*.paid'], 'billing.refund.paid')).toBe(true);
    expect(matches(['billing.*.paid'], 'billing.refund.void')).toBe(false);
    expect(matches(['billing.>'], 'billing.a.b')).toBe(true);
    expect(matches(['billing.>'], 'billingx.a.b')).toBe(false);
    expect(matches(['billing.invoice.>'], 'billing.invoice.paid')).toBe(true);
    expect(matches(['billing.invoice.>'], 'billing.refund.paid')).toBe(false);
    expect(matches(['>'], 'any.thing.here')).toBe(true);
    expect(matches(['a.b.c', 'x.>'], 'x.y.z')).toBe(true);
  });

  it('ANDs the filter with the types', () => {
    const pattern = endpointPattern(['billing.>'], { data: { amount: [{ numeric: ['>', 10] }] } });
    expect(naiveMatch(pattern, { type: 'billing.a.b', data: { amount: 11 } })).toBe(true);
    expect(naiveMatch(pattern, { type: 'billing.a.b', data: { amount: 9 } })).toBe(false);
    expect(naiveMatch(pattern, { type: 'orders.a.b', data: { amount: 11 } })).toBe(false);
  });
});
