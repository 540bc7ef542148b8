import { describe, expect, it, vi } from 'vitest';
import { explainMatch, type Pattern } from './index.ts';
import { MAX_REASONS } from './explain.ts';

const event = {
  type: 'incident.created',
  tenantid: 'acme',
  data: { severity: 'low', count: 12, tags: ['db', 'prod'], owner: { name: 'Bob' } },
};

describe('explainMatch', () => {
  it('says nothing when the pattern matches', () => {
    expect(explainMatch({ type: ['incident.created'] }, event)).toEqual({
      matches: true,
      reasons: [],
    });
  });

  it('names each unmet field with what was expected and what was found', () => {
    const result = explainMatch(
      {
        type: ['incident.created'],
        data: { severity: ['high', 'critical'], count: [{ numeric: ['<', 10] }] },
      },
      event,
    );
    expect(result).toEqual({
      matches: false,
      reasons: [
        'data.severity: expected one of "high", "critical", found "low"',
        'data.count: expected a number < 10, found 12',
      ],
    });
  });

  it('says when a field is missing, and warns that anything-but needs a value', () => {
    expect(explainMatch({ data: { region: [{ 'anything-but': 'eu' }] } }, event).reasons).toEqual([
      'data.region: expected anything but "eu", but the field is missing (anything-but does not match a missing field)',
    ]);
    expect(explainMatch({ data: { region: [{ prefix: 'eu-' }] } }, event).reasons).toEqual([
      'data.region: expected a string starting with "eu-", but the field is missing',
    ]);
  });

  it('says when exists: false finds a value', () => {
    expect(explainMatch({ data: { tags: [{ exists: false }] } }, event).reasons).toEqual([
      'data.tags: expected the field to be absent ({"exists": false}), found "db", "prod"',
    ]);
  });

  it('says when a matcher meets an object instead of a value', () => {
    expect(explainMatch({ data: { owner: [{ exists: true }] } }, event).reasons).toEqual([
      'data.owner: expected the field to exist, found an object, not a value (matchers, "exists" included, apply to leaf values only)',
    ]);
  });

  it('explains array consistency', () => {
    const result = explainMatch(
      { items: { sku: ['A'], qty: [5] } },
      {
        items: [
          { sku: 'A', qty: 1 },
          { sku: 'B', qty: 5 },
        ],
      },
    );
    expect(result.matches).toBe(false);
    expect(result.reasons).toEqual([expect.stringContaining('not within one array element')]);
    expect(result.reasons[0]).toContain('items.sku, items.qty');
  });

  it('explains every $or alternative', () => {
    const result = explainMatch(
      {
        $or: [{ tenantid: ['globex'] }, { data: { severity: [{ 'equals-ignore-case': 'HIGH' }] } }],
      },
      event,
    );
    expect(result.reasons).toEqual([
      'alternative 1 of 2 ($or): tenantid: expected "globex", found "acme"',
      'alternative 2 of 2 ($or): data.severity: expected "HIGH" (ignoring case), found "low"',
    ]);
  });

  it('gives at most MAX_REASONS reasons, and says the rest are left out', () => {
    // 10 × 10 × 10 alternatives ($or in three places), three unmet conditions each.
    const or = (field: string) => ({
      $or: Array.from({ length: 10 }, (_, i) => ({ [field]: [`${field}-${i}`] })),
    });
    const pattern = { data: { a: or('x'), b: or('y'), c: or('z') } } as Pattern;
    const { matches, reasons } = explainMatch(pattern, { data: { a: {}, b: {}, c: {} } });
    expect(matches).toBe(false);
    expect(reasons).toHaveLength(MAX_REASONS + 1);
    expect(reasons[MAX_REASONS]).toBe(`(the first ${MAX_REASONS} reasons; the rest are left out)`);
  });

  it('describes every matcher kind', () => {
    const reasons = explainMatch(
      {
        a: [
          { prefix: 'x' },
          { suffix: { 'equals-ignore-case': 'Y' } },
          { wildcard: 'a*b' },
          { cidr: '10.0.0.0/8' },
          { 'anything-but': { suffix: '.png' } },
          { 'anything-but': ['zzz.png', 'q'] },
          { numeric: ['>', 0, '<=', 5] },
        ],
      },
      { a: 'zzz.png' },
    ).reasons;
    expect(reasons).toEqual([
      'a: expected a string starting with "x" or a string ending with "Y" (ignoring case) or a string matching the wildcard "a*b" or an IP address in 10.0.0.0/8 or anything but a string ending with ".png" or anything but one of "zzz.png", "q" or a number > 0 and <= 5, found "zzz.png"',
    ]);
  });

  it('answers a wildcard with many stars against a long value (no backtracking)', () => {
    // As a regular expression, ^.*a.*a.*a.*a.*a.*a.*b$ against 5000 "a"s backtracks
    // through about 5000^6 ways to place the stars before saying no.
    const wildcard = '*a*a*a*a*a*a*b';
    const long = { x: 'a'.repeat(5000) };
    expect(explainMatch({ x: [{ wildcard }] }, long).matches).toBe(false);
    expect(explainMatch({ x: [{ 'anything-but': { wildcard } }] }, long).matches).toBe(true);
    expect(explainMatch({ x: [{ wildcard }] }, { x: 'a'.repeat(5000) + 'b' }).matches).toBe(true);
    expect(explainMatch({ x: [{ wildcard: 'a\\*b*\\\\' }] }, { x: 'a*bc\\' }).matches).toBe(true);
  });

  it('reports an invalid pattern instead of throwing', () => {
    expect(explainMatch({ type: 'incident.created' }, event)).toEqual({
      matches: false,
      reasons: [expect.stringMatching(/^invalid pattern at \/type: expected an array/)],
    });
  });

  it('tests a leaf against many prefixes without trying each (one request must not stall the hub)', () => {
    // 400 prefixes against 200 array leaves: tried one by one, 80,000 startsWith per pass
    // (a 16 KiB pattern against a 240 KB event took 0.7 s of the event loop).
    const pattern = {
      data: { v: Array.from({ length: 400 }, (_, i) => ({ prefix: `p${i}x` })) },
    } as Pattern;
    const event = { data: { v: Array.from({ length: 200 }, () => 'z') } };
    const calls = [
      vi.spyOn(String.prototype, 'startsWith'),
      vi.spyOn(String.prototype, 'charCodeAt'),
    ];
    const result = explainMatch(pattern, event);
    const work = calls.reduce((sum, spy) => sum + spy.mock.calls.length, 0);
    vi.restoreAllMocks();
    expect(result.matches).toBe(false);
    expect(result.reasons[0]).toMatch(/^data\.v: expected a string starting with "p0x"/);
    // Building the indexes reads the pattern's keys (a few thousand calls); trying each
    // prefix on each leaf would be 80,000 per pass.
    expect(work).toBeLessThan(20_000);
    expect(explainMatch(pattern, { data: { v: ['z', 'p399xyz'] } })).toEqual({
      matches: true,
      reasons: [],
    });
  });
});
