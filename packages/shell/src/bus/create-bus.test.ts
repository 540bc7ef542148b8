import { afterEach, describe, expect, it, vi } from 'vitest';
import { ShellError } from '../shell-error.ts';
import type { BusEvent, ContractViolation } from '../types.ts';
import type { EventContracts } from './contracts.ts';
import { createBus, type HandlerErrorReport } from './create-bus.ts';

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

const contracts: EventContracts = {
  'incident.ticket.selected': {
    schema: {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      required: ['id', 'severity'],
      properties: {
        id: { type: 'string' },
        severity: { enum: ['low', 'high'] },
        tags: { type: 'array', items: { type: 'string' } },
      },
      additionalProperties: false,
    },
    publishers: ['incidents'],
    consumers: ['billing'],
  },
  'billing.invoice.viewed': { schema: null, publishers: ['billing'], consumers: [] },
};

afterEach(() => vi.restoreAllMocks());

describe('createBus', () => {
  it('delivers to matching subscribers only, by the hub topic wildcards', async () => {
    const bus = createBus({ dev: false });
    const got: Record<string, string[]> = { exact: [], star: [], rest: [], other: [] };
    bus.subscribe('incident.ticket.selected', (e) => got.exact!.push(e.type));
    bus.subscribe('incident.*.selected', (e) => got.star!.push(e.type));
    bus.subscribe('incident.>', (e) => got.rest!.push(e.type));
    bus.subscribe('billing.>', (e) => got.other!.push(e.type));
    bus.publish('incident.ticket.selected', { id: '1' });
    bus.publish('incident.ticket.closed', { id: '1' });
    await settle();
    expect(got).toEqual({
      exact: ['incident.ticket.selected'],
      star: ['incident.ticket.selected'],
      rest: ['incident.ticket.selected', 'incident.ticket.closed'],
      other: [],
    });
  });

  it('delivers asynchronously, in publish order, and never re-enters the publisher', async () => {
    const bus = createBus({ dev: false });
    const log: string[] = [];
    bus.subscribe('demo.item.first', () => {
      log.push('first handled');
      bus.publish('demo.item.second', null);
      log.push('first handler done');
    });
    bus.subscribe('demo.item.second', () => log.push('second handled'));
    bus.publish('demo.item.first', null, { from: 'incidents' });
    log.push('publish returned');
    await settle();
    expect(log).toEqual([
      'publish returned',
      'first handled',
      'first handler done',
      'second handled',
    ]);
  });

  it('gives subscribers the type, data, sender and time', async () => {
    const bus = createBus({ dev: false });
    const received = new Promise<BusEvent>((resolve) => bus.subscribe('>', resolve));
    bus.publish('incident.ticket.selected', { id: '7' }, { from: 'incidents' });
    const event = await received;
    expect(event).toMatchObject({
      type: 'incident.ticket.selected',
      data: { id: '7' },
      from: 'incidents',
    });
    expect(Date.parse(event.time)).not.toBeNaN();
  });

  it('isolates a throwing or rejecting subscriber and reports it with its micro-frontend', async () => {
    const reports: HandlerErrorReport[] = [];
    const bus = createBus({ dev: false, onHandlerError: (r) => reports.push(r) });
    const healthy: string[] = [];
    bus.subscribe('incident.>', () => healthy.push('before'));
    bus.subscribe(
      'incident.>',
      () => {
        throw new Error('boom');
      },
      { mfeId: 'flaky' },
    );
    bus.subscribe('incident.>', async () => Promise.reject(new Error('async boom')), {
      mfeId: 'lazy',
    });
    bus.subscribe('incident.>', () => healthy.push('after'));
    bus.publish('incident.ticket.selected', {}, { from: 'incidents' });
    bus.publish('incident.ticket.selected', {}, { from: 'incidents' });
    await settle();
    expect(healthy).toEqual(['before', 'after', 'before', 'after']);
    expect(
      reports.map((r) => [r.mfeId, r.pattern, (r.error as Error).message, r.event.from]),
    ).toEqual([
      ['flaky', 'incident.>', 'boom', 'incidents'],
      ['flaky', 'incident.>', 'boom', 'incidents'],
      ['lazy', 'incident.>', 'async boom', 'incidents'],
      ['lazy', 'incident.>', 'async boom', 'incidents'],
    ]);
  });

  it('reports a throwing subscriber on console.error by default', async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const bus = createBus({ dev: false });
    bus.subscribe(
      '>',
      () => {
        throw new Error('boom');
      },
      { mfeId: 'flaky' },
    );
    bus.publish('incident.ticket.selected', {}, { from: 'incidents' });
    await settle();
    expect(error).toHaveBeenCalledOnce();
    expect(error.mock.calls[0]![0]).toMatch(
      /subscriber of flaky to ">" failed on incident.ticket.selected \(sent by incidents\)/,
    );
  });

  it('does not call a handler unsubscribed between publish and delivery', async () => {
    const bus = createBus({ dev: false });
    const handler = vi.fn();
    const unsubscribe = bus.subscribe('>', handler);
    bus.publish('incident.ticket.selected', {});
    unsubscribe();
    await settle();
    expect(handler).not.toHaveBeenCalled();
  });

  it('refuses malformed types and patterns, and use after close, with a ShellError', () => {
    const bus = createBus({ dev: false });
    expect(() => bus.publish('incident.selected', {})).toThrow(ShellError);
    expect(() => bus.publish('incident.*.selected', {})).toThrow(/segment "\*"/);
    expect(() => bus.subscribe('incident.>.x', () => {})).toThrow(/'>' may only be the last/);
    bus.close();
    try {
      bus.publish('incident.ticket.selected', {});
      expect.unreachable();
    } catch (error) {
      expect((error as ShellError).code).toBe('closed');
    }
  });

  it('never loads contracts outside dev mode', async () => {
    const loadContracts = vi.fn(async () => contracts);
    const bus = createBus({ dev: false, loadContracts });
    const violations: ContractViolation[] = [];
    bus.onViolation((v) => violations.push(v));
    bus.publish('incident.ticket.selected', { id: 1 }, { from: 'incidents' });
    await settle();
    expect(loadContracts).not.toHaveBeenCalled();
    expect(violations).toEqual([]);
  });
});

describe('createBus in dev mode', () => {
  const nextViolation = (bus: ReturnType<typeof createBus>) =>
    new Promise<ContractViolation>((resolve) => bus.onViolation(resolve));

  it('reports a bad payload naming the sender and the failing pointers, and still delivers it', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const bus = createBus({ dev: true, loadContracts: async () => contracts });
    const delivered = vi.fn();
    bus.subscribe('incident.>', delivered);
    const violation = nextViolation(bus);
    bus.publish(
      'incident.ticket.selected',
      { severity: 'mid', tags: ['a', 3], extra: true },
      { from: 'incidents' },
    );
    const v = await violation;
    expect(v.type).toBe('incident.ticket.selected');
    expect(v.from).toBe('incidents');
    expect(v.errors.map((e) => e.pointer).sort()).toEqual(['', '/extra', '/severity', '/tags/1']);
    expect(v.errors.find((e) => e.pointer === '')!.detail).toMatch(/required property "id"/);
    expect(delivered).toHaveBeenCalledOnce();
    expect(warn).toHaveBeenCalledWith(
      expect.stringMatching(/incident\.ticket\.selected sent by "incidents".*\/severity: /),
    );
  });

  it('reports a publisher the catalog does not list for the type', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const bus = createBus({ dev: true, loadContracts: async () => contracts });
    const violation = nextViolation(bus);
    bus.publish('incident.ticket.selected', { id: '1', severity: 'low' }, { from: 'billing' });
    expect(await violation).toEqual({
      type: 'incident.ticket.selected',
      from: 'billing',
      errors: [
        {
          pointer: '',
          detail:
            '"billing" is not a catalog publisher of incident.ticket.selected (publishers: incidents)',
        },
      ],
    });
  });

  it('reports a type the catalog does not know, and passes a good event and a schema-less type', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const bus = createBus({ dev: true, loadContracts: async () => contracts });
    const violations: ContractViolation[] = [];
    bus.onViolation((v) => violations.push(v));
    const last = nextViolation(bus);
    bus.publish(
      'incident.ticket.selected',
      { id: '1', severity: 'high', tags: ['x'] },
      { from: 'incidents' },
    );
    bus.publish('billing.invoice.viewed', 'anything', { from: 'billing' });
    bus.publish('chat.message.typed', { text: 'hi' }, { from: 'chat' });
    // Checks run in publish order, so once the last one is reported the first two were checked.
    await last;
    expect(violations).toEqual([
      {
        type: 'chat.message.typed',
        from: 'chat',
        errors: [{ pointer: '', detail: 'chat.message.typed is not an event type of the catalog' }],
      },
    ]);
  });

  it('keeps delivering when the contracts cannot be loaded, and says so', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const bus = createBus({
      dev: true,
      loadContracts: async () => {
        throw new ShellError('http', 'GET /v1/catalog/contracts answered 403', 403);
      },
    });
    const delivered = new Promise<BusEvent>((resolve) => bus.subscribe('>', resolve));
    bus.publish('incident.ticket.selected', { id: 1 }, { from: 'incidents' });
    expect((await delivered).data).toEqual({ id: 1 });
    await settle();
    expect(warn).toHaveBeenCalledWith(
      expect.stringMatching(/contracts could not be loaded/),
      expect.any(ShellError),
    );
  });
});
