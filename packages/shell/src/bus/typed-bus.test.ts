/**
 * The typed bus is checked by the compiler (`npm run typecheck` covers this file): each
 * `@ts-expect-error` below fails the typecheck if the mistake it marks stops being an error.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { createBus } from './create-bus.ts';
import { typedBus, type MatchingTypes } from './typed-bus.ts';

/** What `portico types` writes for a small catalog. */
type PortalEvents = {
  'incident.ticket.created': { id: string; severity: 'low' | 'high' };
  'incident.ticket.closed': { id: string };
  'billing.invoice.paid': { invoice: string; amount: number };
};

describe('typedBus', () => {
  it('types payloads by event type and handlers by pattern', async () => {
    const bus = typedBus<PortalEvents>(createBus({ dev: false }));
    const seen: string[] = [];
    bus.subscribe('incident.ticket.*', (e) => {
      expectTypeOf(e.type).toEqualTypeOf<'incident.ticket.created' | 'incident.ticket.closed'>();
      if (e.type === 'incident.ticket.created')
        expectTypeOf(e.data.severity).toEqualTypeOf<'low' | 'high'>();
      seen.push(e.data.id);
    });
    bus.subscribe('billing.>', (e) => expectTypeOf(e.data.amount).toEqualTypeOf<number>());
    bus.publish('incident.ticket.created', { id: 'T-1', severity: 'high' });
    // @ts-expect-error: severity is 'low' | 'high'
    bus.publish('incident.ticket.created', { id: 'T-2', severity: 'urgent' });
    // @ts-expect-error: not an event type of the catalog
    bus.publish('incident.ticket.reopened', { id: 'T-3' });
    await new Promise((resolve) => setTimeout(resolve, 0));
    // The typed bus is the same bus at run time: what the compiler refused was still sent.
    expect(seen).toEqual(['T-1', 'T-2', 'T-3']);
  });

  it('matches patterns at the type level like the bus does at run time', () => {
    expectTypeOf<MatchingTypes<PortalEvents, '>'>>().toEqualTypeOf<keyof PortalEvents>();
    expectTypeOf<MatchingTypes<PortalEvents, '*.*.paid'>>().toEqualTypeOf<'billing.invoice.paid'>();
    expectTypeOf<MatchingTypes<PortalEvents, 'incident.>'>>().toEqualTypeOf<
      'incident.ticket.created' | 'incident.ticket.closed'
    >();
    expectTypeOf<MatchingTypes<PortalEvents, 'incident.*'>>().toEqualTypeOf<never>();
    expectTypeOf<MatchingTypes<PortalEvents, 'incident.ticket.created.>'>>().toEqualTypeOf<never>();
  });
});
