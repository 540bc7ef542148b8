import { describe, expect, it } from 'vitest';
import { createTraceparentSource } from './trace-context.ts';

const W3C = /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/;

describe('a traceparent source', () => {
  const traceparentFor = createTraceparentSource();
  it("keeps the request's valid traceparent (normalised to lowercase)", () => {
    const header = '00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-01';
    expect(traceparentFor(header)).toBe(header.toLowerCase());
    expect(traceparentFor([header, 'other'])).toBe(header.toLowerCase());
  });

  it('makes a new, well-formed, distinct one when the header is missing, invalid or all-zero', () => {
    const made = [
      traceparentFor(undefined),
      traceparentFor('garbage'),
      traceparentFor('00-00000000000000000000000000000000-b7ad6b7169203331-01'),
      traceparentFor('00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01'),
    ];
    for (const t of made) expect(t).toMatch(W3C);
    expect(new Set(made).size).toBe(made.length);
    const [, traceId, spanId] = made[0]!.split('-');
    expect(traceId).not.toMatch(/^0+$/);
    expect(spanId).not.toMatch(/^0+$/);
  });

  it('keeps making distinct ids past a refill of its random pool', () => {
    const made = Array.from({ length: 600 }, () => traceparentFor(undefined));
    for (const t of made) expect(t).toMatch(W3C);
    expect(new Set(made).size).toBe(made.length);
  });
});
