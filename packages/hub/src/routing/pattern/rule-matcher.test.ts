import { describe, expect, it } from 'vitest';
import { InvalidPatternError, naiveMatch, RuleMatcher, type Pattern } from './index.ts';

describe('RuleMatcher', () => {
  const rules = [
    {
      id: 'on-call',
      pattern: { type: ['incident.created'], data: { severity: ['high', 'critical'] } },
    },
    { id: 'feed', pattern: { type: [{ prefix: 'incident.' }] } },
    { id: 'acme-only', pattern: { tenantid: ['acme'], type: ['incident.created'] } },
  ];

  it('returns the ids of all matching rules', () => {
    const matcher = RuleMatcher.build(rules);
    expect(matcher.size).toBe(3);
    const high = { type: 'incident.created', tenantid: 'acme', data: { severity: 'high' } };
    const low = { type: 'incident.created', tenantid: 'globex', data: { severity: 'low' } };
    expect(matcher.match(high).sort()).toEqual(['acme-only', 'feed', 'on-call']);
    expect(matcher.match(low)).toEqual(['feed']);
    expect(matcher.match({ type: 'billing.paid' })).toEqual([]);
  });

  it('reports a rule once even when several of its $or branches match', () => {
    const matcher = RuleMatcher.build([
      { id: 'r', pattern: { $or: [{ a: ['1'] }, { b: ['2'] }, { a: [{ prefix: '' }] }] } },
    ]);
    expect(matcher.match({ a: '1', b: '2' })).toEqual(['r']);
  });

  it('treats rules sharing an id as one rule with alternative patterns', () => {
    const matcher = RuleMatcher.build([
      { id: 'r', pattern: { a: ['1'] } },
      { id: 'r', pattern: { b: ['2'] } },
      { id: 's', pattern: { a: ['1'] } },
    ]);
    expect(matcher.size).toBe(2);
    expect(matcher.match({ b: '2' })).toEqual(['r']);
    expect(matcher.match({ a: '1', b: '2' }).sort()).toEqual(['r', 's']);
  });

  it('is empty when built from no rules', () => {
    const matcher = RuleMatcher.build([]);
    expect(matcher.size).toBe(0);
    expect(matcher.match({ a: 1 })).toEqual([]);
    expect(matcher.matchJson('{"a": 1}')).toEqual([]);
  });

  it('refuses an invalid pattern, naming the rule and the pointer', () => {
    let error: unknown;
    try {
      RuleMatcher.build([
        ...rules,
        { id: 'broken', pattern: { data: { severity: [{ numeric: 5 }] } } },
      ]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidPatternError);
    expect((error as InvalidPatternError).ruleId).toBe('broken');
    expect((error as InvalidPatternError).problems[0]?.pointer).toBe('/data/severity/0/numeric');
    expect((error as Error).message).toContain(
      'rule "broken" has an invalid pattern: /data/severity/0/numeric',
    );
  });

  it('stays correct when thousands of rules share the same common condition', () => {
    const many = Array.from({ length: 5000 }, (_, i) => ({
      id: `ticket-${i}`,
      pattern: { type: ['incident.created'], data: { ticket: [`T-${i}`] } } as Pattern,
    }));
    const matcher = RuleMatcher.build(many);
    expect(matcher.match({ type: 'incident.created', data: { ticket: 'T-4711' } })).toEqual([
      'ticket-4711',
    ]);
    expect(matcher.match({ type: 'incident.updated', data: { ticket: 'T-4711' } })).toEqual([]);
  });

  it('finds every rule among many overlapping prefixes, suffixes and ranges', () => {
    const many: { id: string; pattern: Pattern }[] = [];
    for (let i = 0; i < 300; i++) {
      many.push({ id: `p${i}`, pattern: { s: [{ prefix: 'abcdefghij'.slice(0, i % 11) }] } });
      many.push({ id: `s${i}`, pattern: { s: [{ suffix: 'ghij'.slice(i % 5) }] } });
      many.push({ id: `n${i}`, pattern: { n: [{ numeric: ['>=', i, '<', i + 10] }] } });
    }
    const matcher = RuleMatcher.build(many);
    for (const event of [
      { s: 'abcdefghij', n: 5 },
      { s: 'abcxij', n: 299.5 },
      { s: '', n: -1 },
      { s: 'j', n: 150 },
    ]) {
      const expected = many
        .filter((r) => naiveMatch(r.pattern, event))
        .map((r) => r.id)
        .sort();
      expect(matcher.match(event).sort()).toEqual(expected);
    }
  });

  it('proves only what every entry of an alternative proves (one entry split, another not)', () => {
    // X sits under two values of `c`: the "xy" entry is crowded and splits X out by `a`,
    // the "ß" entry does not. Reaching X through "ß" proves nothing about `a`.
    const x = { a: [0], c: [{ 'equals-ignore-case': 'ß' }, { 'equals-ignore-case': 'xy' }] };
    const rules = [
      { id: 'x', pattern: x },
      ...Array.from({ length: 10 }, (_, i) => ({
        id: `crowd-${i}`,
        pattern: { c: [{ 'equals-ignore-case': 'xy' }], e: [{ 'anything-but': `v${i}` }] },
      })),
      // Make `a` = 0 a poor access condition, so X is filed under `c`.
      ...Array.from({ length: 20 }, (_, i) => ({ id: `a0-${i}`, pattern: { a: [0], f: [i] } })),
    ];
    const matcher = RuleMatcher.build(rules);
    for (const event of [
      { c: 'ß' },
      { c: 'XY' },
      { a: 0, c: 'ß' },
      { a: 0, c: 'xy' },
      { a: 1, c: 'ß' },
    ])
      expect(matcher.match(event).includes('x'), JSON.stringify(event)).toBe(naiveMatch(x, event));
  });

  it('checks conditions in separate arrays one array at a time, not every combination of elements', () => {
    // Twelve conditions, each met by every element of its own 12-element array, and one
    // more (the tenant) that fails. Trying every combination of elements would take
    // 12^12 steps before saying no: a publisher could stall the router with one event.
    const data: Record<string, unknown> = {};
    const fields: Record<string, unknown> = {};
    for (let i = 0; i < 12; i++) {
      fields[`list${i}`] = { v: ['x'] };
      data[`list${i}`] = Array.from({ length: 12 }, () => ({ v: 'x' }));
    }
    const pattern = { data: fields, tenantid: ['acme'] };
    const matcher = RuleMatcher.build([{ id: 'r', pattern }]);
    expect(matcher.match({ tenantid: 'globex', data })).toEqual([]);
    expect(matcher.matchJson(JSON.stringify({ tenantid: 'globex', data }))).toEqual([]);
    expect(matcher.match({ tenantid: 'acme', data })).toEqual(['r']);
    expect(naiveMatch(pattern, { tenantid: 'globex', data })).toBe(false);
  });

  it('still needs the conditions below one array met within one element', () => {
    const pattern = {
      orders: { sku: ['a'], qty: [{ numeric: ['>', 1] }], lines: { gift: [true] } },
      flags: [{ exists: false }],
    };
    const matcher = RuleMatcher.build([{ id: 'r', pattern }]);
    const order = (sku: string, qty: number, gifts: boolean[]) => ({
      sku,
      qty,
      lines: gifts.map((gift) => ({ gift })),
    });
    const cases: [unknown, boolean][] = [
      [{ orders: [order('a', 2, [false, true])] }, true],
      [{ orders: [order('a', 1, [true]), order('b', 2, [true])] }, false],
      [{ orders: [order('a', 2, [false]), order('b', 2, [true])] }, false],
      [{ orders: [order('b', 5, [true]), order('a', 3, [false, false, true])] }, true],
      [{ orders: [order('a', 2, [true])], flags: [] }, true],
      [{ orders: [order('a', 2, [true])], flags: ['x'] }, false],
      [{ orders: [[order('a', 2, [true])], [order('b', 0, [])]] }, true],
    ];
    for (const [event, expected] of cases) {
      expect(naiveMatch(pattern, event)).toBe(expected);
      expect(matcher.match(event)).toEqual(expected ? ['r'] : []);
    }
  });

  it('can be rebuilt aside and swapped while the old one keeps answering', () => {
    let current = RuleMatcher.build(rules);
    const next = RuleMatcher.build([...rules, { id: 'new', pattern: { tenantid: ['globex'] } }]);
    const event = { type: 'x', tenantid: 'globex' };
    expect(current.match(event)).toEqual([]);
    current = next;
    expect(current.match(event)).toEqual(['new']);
  });
});

describe('RuleMatcher.buildAsync', () => {
  it('builds the same matcher in slices, letting the event loop run in between', async () => {
    const many = Array.from({ length: 20_000 }, (_, i) => ({
      id: `r${i}`,
      pattern: i % 2 ? { data: { n: [i] } } : { data: { s: [{ prefix: `p${i}-` }], n: [i] } },
    }));
    let ticks = 0;
    const ticking = setInterval(() => ticks++, 0);
    const built = await RuleMatcher.buildAsync(many, 1);
    clearInterval(ticking);
    expect(ticks).toBeGreaterThan(0);
    const reference = RuleMatcher.build(many);
    for (const event of [
      { data: { n: 7 } },
      { data: { n: 8, s: 'p8-x' } },
      { data: { n: 8, s: 'p9-x' } },
      { data: { n: 19_999 } },
    ])
      expect(built.match(event)).toEqual(reference.match(event));
    expect(built.match({ data: { n: 8, s: 'p8-x' } })).toEqual(['r8']);
    await expect(
      RuleMatcher.buildAsync([...many, { id: 'bad', pattern: { data: 'x' } }]),
    ).rejects.toThrow(/rule "bad"/);
  });
});

describe('RuleMatcher.matchJson', () => {
  const matcher = RuleMatcher.build([
    { id: 'street', pattern: { properties: { STREET: ['OCTAVIA'] } } },
    { id: 'escaped', pattern: { properties: { 'NAME "Q"': [{ prefix: 'é' }] } } },
  ]);

  it('matches like match(JSON.parse(text)) and skips unmentioned fields', () => {
    const text =
      '{"type":"Feature","geometry":{"coordinates":[[[-122.4,37.8,0],[1e3,2,3]]]},"properties":{"STREET":"OCTAVIA"}}';
    expect(matcher.matchJson(text)).toEqual(['street']);
    expect(matcher.matchJson('{"properties":{"NAME \\"Q\\"":"\\u00e9t\\u00e9"}}')).toEqual([
      'escaped',
    ]);
  });

  it('throws a SyntaxError on malformed JSON', () => {
    for (const bad of [
      '',
      '{',
      '{"properties":{"STREET":"OCTAVIA"}',
      '{"properties":{"STREET":OCTAVIA}}',
      '{"properties":{"STREET":"OCT\\xAVIA"}}',
      '{"properties":{"STREET":01}}',
      '{"properties":[1,2,]}',
      '{"other":1} x',
      '{"other":"a\u0001b"}',
      '{"other" 1}',
      '{"other":tru}',
      // Skipped containers still get their structure checked:
      '{"other":[1,2}',
      '{"other":{"a":[1,2]]}',
      '{"other":["unterminated]}',
      '{"other":["\\q"]}',
      '{"other":[[1,2]',
    ]) {
      expect(() => JSON.parse(bad), bad).toThrow(SyntaxError);
      expect(() => matcher.matchJson(bad), bad).toThrow(SyntaxError);
    }
  });

  it('checks only the structure of objects and arrays no rule looks into', () => {
    // JSON.parse rejects these; matchJson skips the tokens inside "other" unread.
    expect(matcher.matchJson('{"other":[1,,2],"properties":{"STREET":"OCTAVIA"}}')).toEqual([
      'street',
    ]);
    expect(matcher.matchJson('{"other":{"a":01},"properties":{"STREET":"FULTON"}}')).toEqual([]);
  });

  it('keeps the last of duplicate keys, as JSON.parse does', () => {
    expect(matcher.matchJson('{"properties":{"STREET":"OCTAVIA","STREET":"FULTON"}}')).toEqual([]);
    expect(matcher.matchJson('{"properties":{"STREET":"FULTON","STREET":"OCTAVIA"}}')).toEqual([
      'street',
    ]);
  });
});
