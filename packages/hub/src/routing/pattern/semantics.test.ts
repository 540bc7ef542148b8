import { describe, expect, it } from 'vitest';
import { explainMatch, naiveMatch, RuleMatcher, validatePattern, type Pattern } from './index.ts';

/**
 * What each matcher means, on matching and non-matching events. Every case is run through
 * the reference interpreter, RuleMatcher on a parsed event, RuleMatcher on the JSON text,
 * and explainMatch: all four must agree.
 */
function matches(pattern: Pattern, event: unknown): boolean {
  return matchesJson(pattern, JSON.stringify(event));
}

/** Same, with the event given as JSON text (to test number spellings). */
function matchesJson(pattern: Pattern, json: string): boolean {
  expect(validatePattern(pattern)).toEqual([]);
  const event: unknown = JSON.parse(json);
  const reference = naiveMatch(pattern, event);
  const matcher = RuleMatcher.build([{ id: 'rule', pattern }]);
  expect({
    indexed: matcher.match(event).length === 1,
    scanned: matcher.matchJson(json).length === 1,
    explained: explainMatch(pattern, event).matches,
  }).toEqual({ indexed: reference, scanned: reference, explained: reference });
  return reference;
}

const incident = {
  specversion: '1.0',
  id: 'e-1',
  type: 'incident.ticket.created',
  source: '/apps/helpdesk',
  tenantid: 'acme',
  data: {
    severity: 'high',
    count: 5,
    ratio: 0.25,
    tags: ['db', 'prod'],
    active: true,
    owner: null,
    note: '',
  },
};

describe('exact values', () => {
  it('matches strings exactly and case-sensitively', () => {
    expect(matches({ type: ['incident.ticket.created'] }, incident)).toBe(true);
    expect(matches({ type: ['Incident.Ticket.Created'] }, incident)).toBe(false);
    expect(matches({ type: ['incident.ticket'] }, incident)).toBe(false);
  });

  it('treats the values of one field as alternatives', () => {
    expect(matches({ data: { severity: ['high', 'critical'] } }, incident)).toBe(true);
    expect(matches({ data: { severity: ['low', 'medium'] } }, incident)).toBe(false);
  });

  it('ANDs several fields, at any depth', () => {
    expect(
      matches(
        { type: ['incident.ticket.created'], tenantid: ['acme'], data: { severity: ['high'] } },
        incident,
      ),
    ).toBe(true);
    expect(
      matches(
        { type: ['incident.ticket.created'], tenantid: ['globex'], data: { severity: ['high'] } },
        incident,
      ),
    ).toBe(false);
  });

  it('matches numbers numerically, whatever their spelling', () => {
    expect(matchesJson({ n: [300] }, '{"n": 300}')).toBe(true);
    expect(matchesJson({ n: [300] }, '{"n": 3.0e2}')).toBe(true);
    expect(matchesJson({ n: [300] }, '{"n": 300.0}')).toBe(true);
    expect(matchesJson({ n: [300] }, '{"n": 30000E-2}')).toBe(true);
    expect(matchesJson(JSON.parse('{"n": [3.0e2]}'), '{"n": 300}')).toBe(true);
    expect(matchesJson({ n: [300] }, '{"n": 300.5}')).toBe(false);
  });

  it('never equates a number with a string, or true with "true"', () => {
    expect(matches({ n: [300] }, { n: '300' })).toBe(false);
    expect(matches({ n: ['300'] }, { n: 300 })).toBe(false);
    expect(matches({ b: [true] }, { b: 'true' })).toBe(false);
    expect(matches({ b: [true] }, { b: true })).toBe(true);
    expect(matches({ b: [false] }, { b: true })).toBe(false);
  });

  it('matches null only against null, and "" only against ""', () => {
    expect(matches({ data: { owner: [null] } }, incident)).toBe(true);
    expect(matches({ data: { owner: [''] } }, incident)).toBe(false);
    expect(matches({ data: { note: [''] } }, incident)).toBe(true);
    expect(matches({ data: { note: [null] } }, incident)).toBe(false);
    expect(matches({ data: { missing: [null] } }, incident)).toBe(false);
  });

  it('does not match an object or a missing field', () => {
    expect(matches({ data: ['x'] }, incident)).toBe(false);
    expect(matches({ nothing: ['x'] }, incident)).toBe(false);
  });

  it('does not treat a dotted key as a path', () => {
    expect(matches({ data: { severity: ['high'] } }, { 'data.severity': 'high' })).toBe(false);
    expect(matches({ 'data.severity': ['high'] }, incident)).toBe(false);
    expect(matches({ 'data.severity': ['high'] }, { 'data.severity': 'high' })).toBe(true);
  });

  it('reads only own properties of the event', () => {
    expect(matches({ constructor: { name: ['Object'] } }, {})).toBe(false);
    expect(matches({ toString: [{ exists: true }] }, {})).toBe(false);
    expect(matches({ toString: ['x'] }, { toString: 'x' })).toBe(true);
    expect(matchesJson({ ['__proto__']: { a: ['x'] } }, '{"__proto__": {"a": "x"}}')).toBe(true);
  });
});

describe('prefix and suffix', () => {
  it('matches string beginnings and endings', () => {
    expect(matches({ type: [{ prefix: 'incident.' }] }, incident)).toBe(true);
    expect(matches({ type: [{ prefix: 'billing.' }] }, incident)).toBe(false);
    expect(matches({ type: [{ suffix: '.created' }] }, incident)).toBe(true);
    expect(matches({ type: [{ suffix: '.deleted' }] }, incident)).toBe(false);
  });

  it('is case-sensitive unless asked', () => {
    expect(matches({ type: [{ prefix: 'INCIDENT.' }] }, incident)).toBe(false);
    expect(matches({ type: [{ prefix: { 'equals-ignore-case': 'INCIDENT.' } }] }, incident)).toBe(
      true,
    );
    expect(matches({ type: [{ suffix: { 'equals-ignore-case': '.CREATED' } }] }, incident)).toBe(
      true,
    );
    expect(matches({ type: [{ suffix: { 'equals-ignore-case': '.DELETED' } }] }, incident)).toBe(
      false,
    );
  });

  it('matches the whole string and the empty prefix', () => {
    expect(matches({ type: [{ prefix: 'incident.ticket.created' }] }, incident)).toBe(true);
    expect(matches({ type: [{ prefix: 'incident.ticket.created!' }] }, incident)).toBe(false);
    expect(matches({ type: [{ prefix: '' }] }, incident)).toBe(true);
  });

  it('works only on strings', () => {
    expect(matches({ n: [{ prefix: '3' }] }, { n: 300 })).toBe(false);
    expect(matches({ n: [{ suffix: 'e' }] }, { n: true })).toBe(false);
  });
});

describe('equals-ignore-case', () => {
  it('matches strings regardless of case', () => {
    expect(matches({ tenantid: [{ 'equals-ignore-case': 'ACME' }] }, incident)).toBe(true);
    expect(matches({ tenantid: [{ 'equals-ignore-case': 'AcMe' }] }, { tenantid: 'aCmE' })).toBe(
      true,
    );
    expect(matches({ tenantid: [{ 'equals-ignore-case': 'ACME!' }] }, incident)).toBe(false);
    expect(matches({ tenantid: [{ 'equals-ignore-case': 'ÉCOLE' }] }, { tenantid: 'école' })).toBe(
      true,
    );
  });

  it('works only on strings', () => {
    expect(matches({ b: [{ 'equals-ignore-case': 'TRUE' }] }, { b: true })).toBe(false);
  });
});

describe('wildcard', () => {
  it('matches any run of characters at each star', () => {
    expect(matches({ f: [{ wildcard: '*.png' }] }, { f: 'dir/cat.png' })).toBe(true);
    expect(matches({ f: [{ wildcard: 'dir/*/x.png' }] }, { f: 'dir/a/b/x.png' })).toBe(true);
    expect(matches({ f: [{ wildcard: 'dir/*/x.png' }] }, { f: 'dir/x.png' })).toBe(false);
    expect(matches({ f: [{ wildcard: 'a*b*c' }] }, { f: 'abc' })).toBe(true);
    expect(matches({ f: [{ wildcard: 'a*b*c' }] }, { f: 'acb' })).toBe(false);
    expect(matches({ f: [{ wildcard: 'ab*ba' }] }, { f: 'aba' })).toBe(false);
    expect(matches({ f: [{ wildcard: '*' }] }, { f: '' })).toBe(true);
  });

  it('reads \\* as a literal star and \\\\ as a literal backslash', () => {
    expect(matches({ f: [{ wildcard: 'a\\*b' }] }, { f: 'a*b' })).toBe(true);
    expect(matches({ f: [{ wildcard: 'a\\*b' }] }, { f: 'axxb' })).toBe(false);
    expect(matches({ f: [{ wildcard: 'a\\\\*' }] }, { f: 'a\\anything' })).toBe(true);
    expect(matches({ f: [{ wildcard: 'a\\\\*' }] }, { f: 'ab' })).toBe(false);
    expect(matches({ f: [{ wildcard: '*\\**' }] }, { f: 'x*y' })).toBe(true);
    expect(matches({ f: [{ wildcard: '*\\**' }] }, { f: 'xy' })).toBe(false);
  });

  it('without a star is an exact match, and works only on strings', () => {
    expect(matches({ f: [{ wildcard: 'abc' }] }, { f: 'abc' })).toBe(true);
    expect(matches({ f: [{ wildcard: 'abc' }] }, { f: 'abcd' })).toBe(false);
    expect(matches({ f: [{ wildcard: '*' }] }, { f: 5 })).toBe(false);
  });
});

describe('anything-but', () => {
  it('matches any value except the one given', () => {
    expect(matches({ data: { severity: [{ 'anything-but': 'low' }] } }, incident)).toBe(true);
    expect(matches({ data: { severity: [{ 'anything-but': 'high' }] } }, incident)).toBe(false);
  });

  it('takes a list of strings or of numbers', () => {
    expect(matches({ data: { severity: [{ 'anything-but': ['low', 'medium'] }] } }, incident)).toBe(
      true,
    );
    expect(matches({ data: { severity: [{ 'anything-but': ['low', 'high'] }] } }, incident)).toBe(
      false,
    );
    expect(matches({ data: { count: [{ 'anything-but': [1, 2, 3] }] } }, incident)).toBe(true);
    expect(matchesJson({ n: [{ 'anything-but': [100, 300] }] }, '{"n": 3e2}')).toBe(false);
    expect(matches({ n: [{ 'anything-but': 300 }] }, { n: '300' })).toBe(true);
  });

  it('does NOT match a missing field (a common surprise)', () => {
    expect(matches({ data: { region: [{ 'anything-but': 'eu' }] } }, incident)).toBe(false);
    expect(matches({ data: { region: [{ 'anything-but': { prefix: 'eu-' } }] } }, incident)).toBe(
      false,
    );
  });

  it('matches an array field if any element is not excluded', () => {
    expect(matches({ data: { tags: [{ 'anything-but': 'db' }] } }, incident)).toBe(true);
    expect(matches({ data: { tags: [{ 'anything-but': ['db', 'prod'] }] } }, incident)).toBe(false);
  });

  it('has prefix, suffix, equals-ignore-case and wildcard variants', () => {
    expect(matches({ r: [{ 'anything-but': { prefix: 'us-' } }] }, { r: 'eu-west-1' })).toBe(true);
    expect(matches({ r: [{ 'anything-but': { prefix: 'us-' } }] }, { r: 'us-east-1' })).toBe(false);
    expect(matches({ f: [{ 'anything-but': { suffix: '.png' } }] }, { f: 'a.jpg' })).toBe(true);
    expect(matches({ f: [{ 'anything-but': { suffix: '.png' } }] }, { f: 'a.png' })).toBe(false);
    expect(
      matches({ s: [{ 'anything-but': { 'equals-ignore-case': 'INIT' } }] }, { s: 'init' }),
    ).toBe(false);
    expect(
      matches(
        { s: [{ 'anything-but': { 'equals-ignore-case': ['INIT', 'Stop'] } }] },
        { s: 'STOP' },
      ),
    ).toBe(false);
    expect(
      matches(
        { s: [{ 'anything-but': { 'equals-ignore-case': ['INIT', 'Stop'] } }] },
        { s: 'run' },
      ),
    ).toBe(true);
    expect(
      matches({ p: [{ 'anything-but': { wildcard: '*/lib/*' } }] }, { p: 'src/lib/x.js' }),
    ).toBe(false);
    expect(
      matches({ p: [{ 'anything-but': { wildcard: ['*/lib/*', '*.md'] } }] }, { p: 'README.md' }),
    ).toBe(false);
    expect(
      matches({ p: [{ 'anything-but': { wildcard: ['*/lib/*', '*.md'] } }] }, { p: 'src/x.js' }),
    ).toBe(true);
  });

  it('lets values of another type through (they are not excluded)', () => {
    expect(matches({ v: [{ 'anything-but': 'x' }] }, { v: null })).toBe(true);
    expect(matches({ v: [{ 'anything-but': { prefix: '1' } }] }, { v: 12 })).toBe(true);
  });
});

describe('numeric', () => {
  it('compares with each operator', () => {
    const n = (ops: unknown[], value: number) => matches({ n: [{ numeric: ops }] }, { n: value });
    expect(n(['=', 5], 5)).toBe(true);
    expect(n(['=', 5], 5.000001)).toBe(false);
    expect(n(['<', 5], 4.99)).toBe(true);
    expect(n(['<', 5], 5)).toBe(false);
    expect(n(['<=', 5], 5)).toBe(true);
    expect(n(['>', 5], 5)).toBe(false);
    expect(n(['>', 5], 6)).toBe(true);
    expect(n(['>=', 5], 5)).toBe(true);
    expect(n(['>=', -5], -6)).toBe(false);
  });

  it('combines a lower and an upper bound', () => {
    const range = { n: [{ numeric: ['>', 0, '<=', 5] }] };
    expect(matches(range, { n: 0 })).toBe(false);
    expect(matches(range, { n: 0.0001 })).toBe(true);
    expect(matches(range, { n: 5 })).toBe(true);
    expect(matches(range, { n: 5.5 })).toBe(false);
    expect(matches({ n: [{ numeric: ['<=', 5, '>', 0] }] }, { n: 3 })).toBe(true);
  });

  it('matches across number spellings', () => {
    expect(matchesJson({ n: [{ numeric: ['=', 3.018e2] }] }, '{"n": 301.8}')).toBe(true);
    expect(matchesJson({ n: [{ numeric: ['>=', 300] }] }, '{"n": 3e2}')).toBe(true);
  });

  it('matches only numbers, never numeric-looking strings', () => {
    expect(matches({ n: [{ numeric: ['>', 0] }] }, { n: '5' })).toBe(false);
    expect(matches({ n: [{ numeric: ['>', 0] }] }, { n: true })).toBe(false);
  });

  it('combines with other ranges on the field as alternatives', () => {
    const p = { n: [{ numeric: ['<', 0] }, { numeric: ['>', 10] }] };
    expect(matches(p, { n: -1 })).toBe(true);
    expect(matches(p, { n: 5 })).toBe(false);
    expect(matches(p, { n: 11 })).toBe(true);
  });
});

describe('cidr', () => {
  it('matches IPv4 addresses in the block', () => {
    const p = { ip: [{ cidr: '10.0.0.0/24' }] };
    expect(matches(p, { ip: '10.0.0.255' })).toBe(true);
    expect(matches(p, { ip: '10.0.1.0' })).toBe(false);
    expect(matches({ ip: [{ cidr: '10.0.0.0/8' }] }, { ip: '10.200.3.4' })).toBe(true);
    expect(matches({ ip: [{ cidr: '192.168.1.7/32' }] }, { ip: '192.168.1.7' })).toBe(true);
    expect(matches({ ip: [{ cidr: '192.168.1.7/32' }] }, { ip: '192.168.1.8' })).toBe(false);
    expect(matches({ ip: [{ cidr: '0.0.0.0/0' }] }, { ip: '8.8.8.8' })).toBe(true);
  });

  it('matches IPv6 addresses in the block, in any spelling', () => {
    const p = { ip: [{ cidr: '2001:db8::/32' }] };
    expect(matches(p, { ip: '2001:db8::1' })).toBe(true);
    expect(matches(p, { ip: '2001:0DB8:0000:0000:0000:0000:0000:0001' })).toBe(true);
    expect(matches(p, { ip: '2001:db9::1' })).toBe(false);
    expect(matches({ ip: [{ cidr: '::1/128' }] }, { ip: '0:0:0:0:0:0:0:1' })).toBe(true);
    expect(matches({ ip: [{ cidr: 'fe80::/10' }] }, { ip: 'febf::1' })).toBe(true);
    expect(matches({ ip: [{ cidr: 'fe80::/10' }] }, { ip: 'fec0::1' })).toBe(false);
    expect(matches({ ip: [{ cidr: '::ffff:0:0/96' }] }, { ip: '::ffff:10.1.2.3' })).toBe(true);
  });

  it('does not mix families, and ignores what is not an address', () => {
    expect(matches({ ip: [{ cidr: '10.0.0.0/8' }] }, { ip: '::ffff:10.1.2.3' })).toBe(false);
    expect(matches({ ip: [{ cidr: '::/0' }] }, { ip: '10.1.2.3' })).toBe(false);
    expect(matches({ ip: [{ cidr: '10.0.0.0/8' }] }, { ip: '10.0.0' })).toBe(false);
    expect(matches({ ip: [{ cidr: '10.0.0.0/8' }] }, { ip: '010.0.0.1' })).toBe(false);
    expect(matches({ ip: [{ cidr: '10.0.0.0/8' }] }, { ip: 'ten' })).toBe(false);
    expect(matches({ ip: [{ cidr: '10.0.0.0/8' }] }, { ip: 10 })).toBe(false);
  });
});

describe('exists', () => {
  it('exists: true matches any value, null included', () => {
    expect(matches({ data: { severity: [{ exists: true }] } }, incident)).toBe(true);
    expect(matches({ data: { owner: [{ exists: true }] } }, incident)).toBe(true);
    expect(matches({ data: { region: [{ exists: true }] } }, incident)).toBe(false);
  });

  it('exists: false matches a missing field and only a missing field', () => {
    expect(matches({ data: { region: [{ exists: false }] } }, incident)).toBe(true);
    expect(matches({ data: { severity: [{ exists: false }] } }, incident)).toBe(false);
    expect(matches({ data: { owner: [{ exists: false }] } }, incident)).toBe(false);
    expect(matches({ data: { region: [{ exists: false }] } }, { type: 'x' })).toBe(true);
  });

  it('only looks at leaves: an object is neither there for true nor for false', () => {
    const event = { detail: { 'c-count': { c1: 100 } } };
    expect(matches({ detail: { 'c-count': [{ exists: true }] } }, event)).toBe(false);
    expect(matches({ detail: { 'c-count': [{ exists: false }] } }, event)).toBe(true);
  });

  it('treats an empty array as no value', () => {
    expect(matches({ tags: [{ exists: true }] }, { tags: [] })).toBe(false);
    expect(matches({ tags: [{ exists: false }] }, { tags: [] })).toBe(true);
    expect(matches({ tags: [{ exists: true }] }, { tags: ['a'] })).toBe(true);
  });

  it('combines with other matchers on the same field as alternatives', () => {
    const p = { region: ['eu', { exists: false }] };
    expect(matches(p, {})).toBe(true);
    expect(matches(p, { region: 'eu' })).toBe(true);
    expect(matches(p, { region: 'us' })).toBe(false);
  });
});

describe('arrays in the event', () => {
  it('match if any element matches', () => {
    expect(matches({ data: { tags: ['prod'] } }, incident)).toBe(true);
    expect(matches({ data: { tags: ['staging'] } }, incident)).toBe(false);
    expect(matches({ a: ['x'] }, { a: [['y'], ['x']] })).toBe(true);
  });

  it('look through arrays of objects', () => {
    const event = {
      employees: [
        { first: 'John', last: 'Doe' },
        { first: 'Anna', last: 'Smith' },
      ],
    };
    expect(matches({ employees: { first: ['Anna'] } }, event)).toBe(true);
    expect(matches({ employees: { first: ['Zoe'] } }, event)).toBe(false);
  });

  it('need conditions on one array element to be met by the same element (array consistency)', () => {
    const event = {
      employees: [
        [
          { first: 'John', last: 'Doe' },
          { first: 'Anna', last: 'Smith' },
        ],
        [{ first: 'Peter', last: 'Jones' }],
      ],
    };
    expect(matches({ employees: { first: ['Anna'], last: ['Smith'] } }, event)).toBe(true);
    expect(matches({ employees: { first: ['Anna'], last: ['Jones'] } }, event)).toBe(false);
    expect(matches({ employees: { first: ['John'], last: ['Smith'] } }, event)).toBe(false);
  });

  it('keep consistency through nested objects but not across different arrays', () => {
    const event = {
      orders: [
        {
          id: 'o1',
          lines: [
            { sku: 'A', qty: 1 },
            { sku: 'B', qty: 5 },
          ],
        },
        { id: 'o2', lines: [{ sku: 'A', qty: 5 }] },
      ],
      tags: ['x', 'y'],
    };
    expect(matches({ orders: { id: ['o1'], lines: { sku: ['B'], qty: [5] } } }, event)).toBe(true);
    expect(matches({ orders: { id: ['o1'], lines: { sku: ['A'], qty: [5] } } }, event)).toBe(false);
    expect(matches({ orders: { id: ['o2'], lines: { sku: ['A'], qty: [5] } } }, event)).toBe(true);
    expect(matches({ orders: { id: ['o2'] }, tags: ['y'] }, event)).toBe(true);
  });

  it('apply exists: false within the element the other conditions chose', () => {
    const event = { people: [{ name: 'Bob' }, { name: 'Al', manager: 'Bob' }] };
    expect(matches({ people: { name: ['Bob'], manager: [{ exists: false }] } }, event)).toBe(true);
    expect(matches({ people: { name: ['Al'], manager: [{ exists: false }] } }, event)).toBe(false);
    // With nothing else to choose an element, absence means "in no element".
    expect(matches({ people: { manager: [{ exists: false }] } }, event)).toBe(false);
    expect(matches({ people: { boss: [{ exists: false }] } }, event)).toBe(true);
  });
});

describe('$or', () => {
  it('matches if any branch matches', () => {
    const p = {
      source: ['/apps/helpdesk'],
      $or: [{ tenantid: ['globex'] }, { data: { severity: ['high'] } }],
    };
    expect(matches(p, incident)).toBe(true);
    expect(matches(p, { ...incident, data: { severity: 'low' } })).toBe(false);
    expect(matches(p, { ...incident, tenantid: 'globex', data: {} })).toBe(true);
  });

  it('ANDs inside a branch and nests at any level', () => {
    const p = {
      source: ['aws.cloudwatch'],
      $or: [
        { metricName: ['CPUUtilization'] },
        {
          metricType: ['MetricType'],
          namespace: ['AWS/EC2'],
          $or: [{ metricId: [1234] }, { spaceId: [1000] }],
        },
        { scope: ['Service'] },
      ],
    };
    expect(
      matches(p, {
        source: 'aws.cloudwatch',
        metricType: 'MetricType',
        namespace: 'AWS/EC2',
        spaceId: 1000,
      }),
    ).toBe(true);
    expect(
      matches(p, {
        source: 'aws.cloudwatch',
        metricType: 'MetricType',
        namespace: 'AWS/EC2',
        spaceId: 1,
      }),
    ).toBe(false);
    expect(matches(p, { source: 'aws.cloudwatch', metricType: 'MetricType', spaceId: 1000 })).toBe(
      false,
    );
    expect(matches(p, { source: 'aws.cloudwatch', scope: 'Service' })).toBe(true);
    expect(matches(p, { source: 'aws.ec2', scope: 'Service' })).toBe(false);
  });

  it('works inside nested objects, several in parallel', () => {
    const p = {
      $or: [{ metricName: ['CPU'] }, { namespace: ['AWS/EC2'] }],
      detail: { $or: [{ source: ['aws.cloudwatch'] }, { 'detail-type': ['Alarm'] }] },
    };
    expect(matches(p, { namespace: 'AWS/EC2', detail: { 'detail-type': 'Alarm' } })).toBe(true);
    expect(matches(p, { namespace: 'AWS/EC2', detail: { source: 'aws.ec2' } })).toBe(false);
  });

  it('branches may constrain the same field, and mix with exists: false', () => {
    const p = {
      $or: [
        { n: [{ numeric: ['<', 0] }] },
        { n: [{ numeric: ['>', 10] }], m: [{ exists: false }] },
      ],
    };
    expect(matches(p, { n: -1, m: 1 })).toBe(true);
    expect(matches(p, { n: 11 })).toBe(true);
    expect(matches(p, { n: 11, m: 1 })).toBe(false);
    const both = { n: [{ prefix: 'a' }], $or: [{ n: [{ suffix: 'z' }] }, { n: ['b'] }] };
    expect(matches(both, { n: 'abcz' })).toBe(true);
    expect(matches(both, { n: 'b' })).toBe(false);
    expect(matches(both, { n: ['a', 'xz'] })).toBe(false); // one value must meet both
  });

  it('keeps array consistency within each branch', () => {
    const p = { items: { $or: [{ a: ['1'], b: ['2'] }, { c: ['3'] }] } };
    expect(matches(p, { items: [{ a: '1' }, { b: '2' }] })).toBe(false);
    expect(matches(p, { items: [{ a: '1', b: '2' }] })).toBe(true);
    expect(matches(p, { items: [{ a: '1' }, { c: '3' }] })).toBe(true);
  });
});

describe('events that are not objects', () => {
  it('only match patterns made of exists: false', () => {
    for (const event of [null, 'text', 42, [], [1, 2]]) {
      expect(matches({ a: ['x'] }, event)).toBe(false);
      expect(matches({ a: [{ exists: false }] }, event)).toBe(true);
    }
  });
});
