import { expect, it } from 'vitest';
import { rfc3339Millis } from './rfc3339.ts';

it('reads RFC 3339 date-times to epoch ms', () => {
  expect(rfc3339Millis('2025-01-31T12:00:00Z')).toBe(Date.UTC(2025, 0, 31, 12));
  expect(rfc3339Millis('2025-01-31t12:00:00.250+01:00')).toBe(Date.UTC(2025, 0, 31, 11, 0, 0, 250));
  expect(rfc3339Millis('2024-02-29T00:00:00Z')).toBe(Date.UTC(2024, 1, 29));
  expect(rfc3339Millis('2000-02-29T00:00:00Z')).toBe(Date.UTC(2000, 1, 29));
  expect(rfc3339Millis('2025-12-31T23:59:59.999-00:30')).toBe(Date.UTC(2026, 0, 1, 0, 29, 59, 999));
});

it('refuses days a month does not have, which Date.parse rolls over', () => {
  expect(Date.parse('2020-02-30T00:00:00Z')).toBe(Date.UTC(2020, 2, 1));
  for (const value of [
    '2020-02-30T00:00:00Z',
    '2023-02-29T00:00:00Z',
    '2025-04-31T00:00:00Z',
    '2025-13-01T00:00:00Z',
    '2025-01-31T24:00:00Z',
    '2025-01-31T12:60:00Z',
    '2025-01-31T12:00:00+24:00',
    '2100-02-29T00:00:00Z', // not a leap year (divisible by 100)
    '2025-01-31T12:00:00', // no time zone
    '2025-01-31 12:00:00Z', // no T
    '2025-01-31T12:00:00+0100', // an offset without its colon
    '2025-01-31',
    '2016-12-31T23:59:60Z', // a leap second: valid text, but no Date holds it
    'yesterday',
  ])
    expect(rfc3339Millis(value), value).toBeUndefined();
});
