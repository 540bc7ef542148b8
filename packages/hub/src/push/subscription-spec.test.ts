/** A subscription's checks that need no hub: the filter's size limit. */
import { expect, it } from 'vitest';
import { MAX_FILTER_BYTES, parseSubscriptionSpec } from './subscription-spec.ts';

const withFilter = (text: string) =>
  parseSubscriptionSpec({ id: 's', topic: 'a.>', filter: { data: { note: [text] } } });

it('limits a filter to its bytes of JSON, whatever characters it is written in', () => {
  // "€" is one character and three bytes: 3,000 of them are 9,000 bytes of JSON.
  expect(withFilter('€'.repeat(3000))).toMatchObject({
    ok: false,
    errors: [{ pointer: '/filter', detail: `must be at most ${MAX_FILTER_BYTES} bytes of JSON` }],
  });
  expect(withFilter('€'.repeat(2000)).ok).toBe(true);
  expect(withFilter('e'.repeat(8000)).ok).toBe(true);
});
