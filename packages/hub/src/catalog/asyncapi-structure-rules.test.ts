/**
 * The parser with cached structure rules must report exactly what the stock parser
 * reports, on every parse (the cache must not carry one document's result into another).
 */
import { Parser } from '@asyncapi/parser';
import { describe, expect, it } from 'vitest';
import { cachedStructureRules } from './asyncapi-structure-rules.ts';

const valid = {
  asyncapi: '3.0.0',
  info: { title: 'billing', version: '1' },
  channels: {
    paid: {
      address: 'billing.prod.invoice.paid',
      messages: { billing: { payload: { type: 'object' } } },
    },
  },
  operations: {
    send: { action: 'send', channel: { $ref: '#/channels/paid' } },
  },
};
// Structure errors only the AsyncAPI JSON Schema finds: an unknown action, an unknown
// field on a channel, a message that is not an object, a missing info.version.
const broken = {
  asyncapi: '3.0.0',
  info: { title: 'billing' },
  channels: {
    paid: { address: 'billing.prod.invoice.paid', colour: 'red', messages: { billing: 3 } },
  },
  operations: { send: { action: 'shout', channel: { $ref: '#/channels/paid' } } },
};

const errorsOf = async (parser: Parser, doc: object) =>
  (await parser.parse(structuredClone(doc) as never)).diagnostics.map((d) => ({
    code: String(d.code),
    path: d.path.join('/'),
    message: d.message,
    severity: d.severity,
  }));

describe('cached AsyncAPI structure rules', { timeout: 60_000 }, () => {
  it('report what the stock parser reports, parse after parse', async () => {
    const stock = new Parser();
    const cached = new Parser({ ruleset: cachedStructureRules() });
    const expected = await errorsOf(stock, broken);
    expect(expected.filter((e) => e.code.startsWith('asyncapi-document-')).length).toBeGreaterThan(
      0,
    );
    expect((await errorsOf(stock, valid)).filter((e) => e.severity === 0)).toEqual([]);
    for (const doc of [broken, valid, broken, valid])
      expect(await errorsOf(cached, doc)).toEqual(await errorsOf(stock, doc));
  });
});
