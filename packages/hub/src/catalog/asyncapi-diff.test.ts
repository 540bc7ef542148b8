/** AsyncAPI 2.x documents go through the same model: `subscribe` is the app sending. */
import { describe, expect, it } from 'vitest';
import { AsyncApiParser } from './asyncapi-document.ts';
import { asyncApiChanges } from './asyncapi-diff.ts';

type Obj = Record<string, unknown>;

const v2 = (sent: Obj, received: Obj, extraChannels: Obj = {}) => ({
  asyncapi: '2.6.0',
  info: { title: 'orders', version: '1' },
  channels: {
    'orders/placed': {
      subscribe: { operationId: 'sendOrderPlaced', message: { payload: sent } },
    },
    'payments/done': {
      publish: { operationId: 'receivePayment', message: { payload: received } },
    },
    ...extraChannels,
  },
});

const object = (properties: Obj, required: string[] = []) => ({
  type: 'object',
  properties,
  required,
});

async function changes(before: Obj, after: Obj) {
  const parser = new AsyncApiParser();
  const a = await parser.parse(before);
  const b = await parser.parse(after);
  expect(a.errors).toEqual([]);
  expect(b.errors).toEqual([]);
  return asyncApiChanges(a.document!, b.document!, 'orders').map(
    (c) => `${c.severity} ${c.code}${c.pointer ? ` ${c.pointer}` : ''}`,
  );
}

describe('AsyncAPI 2.x', () => {
  const sent = object({ id: { type: 'string' }, total: { type: 'number' } }, ['id']);
  const received = object({ id: { type: 'string' } }, ['id']);

  it('checks what the app sends FORWARD and what it receives BACKWARD', async () => {
    // Sent: `total` may now be a string (old readers refuse it). Received: a new
    // requirement (old senders do not send it).
    expect(
      await changes(
        v2(sent, received),
        v2(
          object({ id: { type: 'string' }, total: { type: ['number', 'string'] } }, ['id']),
          object({ id: { type: 'string' }, at: { type: 'string' } }, ['id', 'at']),
        ),
      ),
    ).toEqual([
      'breaking type-narrowed /properties/total/type',
      'breaking required-added /required',
    ]);
  });

  it('the opposite changes are compatible', async () => {
    // Sent: a new requirement (old readers still read it). Received: a field now optional.
    expect(
      await changes(
        v2(sent, received),
        v2(
          object({ id: { type: 'string' }, total: { type: 'number' } }, ['id', 'total']),
          object({ id: { type: 'string' } }),
        ),
      ),
    ).toEqual([]);
  });

  it('a channel gone is breaking; a receiving operation gone is not', async () => {
    const before = v2(sent, received, {
      'orders/audit': { publish: { operationId: 'receiveAudit', message: { payload: received } } },
    });
    const after = v2(sent, received);
    expect(await changes(before, after)).toEqual([
      'breaking channel-removed',
      'info receive-operation-removed',
    ]);
  });
});
