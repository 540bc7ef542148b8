import { describe, expect, it } from 'vitest';
import { AsyncApiParser } from './asyncapi-document.ts';
import { buildAsyncApi, relocate } from './asyncapi-export.ts';
import type { AppManifest, EventDeclaration } from './manifest-schema.ts';

const inline = (e: EventDeclaration) => (typeof e.schema === 'string' ? undefined : e.schema);

describe('relocate', () => {
  it("points a payload's local references at its new place and drops its identity", () => {
    expect(
      relocate(
        {
          $schema: 'https://json-schema.org/draft/2020-12/schema',
          $id: 'https://example.com/order.json',
          type: 'object',
          properties: {
            parent: { $ref: '#' },
            line: { $ref: '#/$defs/line' },
            customer: { $ref: 'customer-subject#/$defs/Customer' },
          },
          $defs: { line: { type: 'object', properties: { next: { $ref: '#/$defs/line' } } } },
        },
        '#/components/schemas/shop.order',
      ),
    ).toEqual({
      type: 'object',
      properties: {
        parent: { $ref: '#/components/schemas/shop.order' },
        line: { $ref: '#/components/schemas/shop.order/$defs/line' },
        customer: {
          description: 'A reference to customer-subject#/$defs/Customer (not inlined here)',
          'x-portico-ref': 'customer-subject#/$defs/Customer',
        },
      },
      $defs: {
        line: {
          type: 'object',
          properties: { next: { $ref: '#/components/schemas/shop.order/$defs/line' } },
        },
      },
    });
    expect(relocate(true, '#/x')).toEqual({});
    expect(relocate(false, '#/x')).toEqual({ not: {} });
  });
});

describe('buildAsyncApi', () => {
  const producer: AppManifest = {
    name: 'shop',
    owner: { team: 'commerce' },
    domain: 'shop',
    events: {
      publishes: [
        {
          type: 'shop.order.placed',
          description: 'An order was placed',
          schema: {
            type: 'object',
            properties: { items: { type: 'array', items: { $ref: '#/$defs/item' } } },
            $defs: { item: { type: 'object', properties: { sku: { type: 'string' } } } },
          },
        },
      ],
    },
  };
  const consumer: AppManifest = {
    name: 'warehouse',
    owner: { team: 'logistics' },
    domain: 'stock',
    events: {
      consumes: [{ type: 'shop.order.placed' }, { type: 'pay.payment.done', schema: true }],
    },
  };

  it('makes a channel per type, a message per producer and an operation per app and event', async () => {
    const doc = buildAsyncApi(
      [
        { manifest: producer, schemaOf: inline },
        { manifest: consumer, schemaOf: inline },
      ],
      { title: 'acme', version: '1', env: 'prod' },
    );
    const parsed = await new AsyncApiParser().parse(doc);
    expect(parsed.errors).toEqual([]);
    const document = parsed.document!;
    expect(
      document
        .channels()
        .all()
        .map((c) => [c.id(), c.address()]),
    ).toEqual([
      ['pay.payment.done', 'pay.prod.payment.done'],
      ['shop.order.placed', 'shop.prod.order.placed'],
    ]);
    const placed = document.channels().get('shop.order.placed')!;
    expect(
      placed
        .messages()
        .all()
        .map((m) => m.id()),
    ).toEqual(['shop']);
    expect(placed.messages().get('shop')!.summary()).toBe('An order was placed');
    // Nobody publishes pay.payment.done here: the consumer's schema describes it.
    expect(
      document
        .channels()
        .get('pay.payment.done')!
        .messages()
        .all()
        .map((m) => m.id()),
    ).toEqual(['warehouse']);
    expect(
      document
        .operations()
        .all()
        .map((o) => [
          o.id(),
          o.action(),
          o
            .messages()
            .all()
            .map((m) => m.id()),
        ])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    ).toEqual([
      ['shop.send.shop.order.placed', 'send', ['shop']],
      ['warehouse.receive.pay.payment.done', 'receive', ['warehouse']],
      ['warehouse.receive.shop.order.placed', 'receive', ['shop']],
    ]);
  });

  it('is a valid empty document for a tenant without apps', async () => {
    const doc = buildAsyncApi([], { title: 't', version: '0', env: 'dev' });
    expect((await new AsyncApiParser().parse(doc)).errors).toEqual([]);
  });
});
