import { describe, expect, it } from 'vitest';
import { applyInputTransform, parsePath, validateInputTransform } from './input-transform.ts';

const event = {
  id: 'e1',
  type: 'incident.ticket.created',
  data: {
    severity: 'high',
    affected_services: ['billing', 'auth'],
    count: 3,
    'odd key': 'x',
    note: 'say "hi"',
  },
};

describe('JSONPath subset', () => {
  it('parses dot, bracket and index steps', () => {
    expect(parsePath('$')).toEqual([]);
    expect(parsePath('$.data.affected_services[1]')).toEqual(['data', 'affected_services', 1]);
    expect(parsePath("$.data['odd key']")).toEqual(['data', 'odd key']);
    expect(parsePath('$["data"]')).toEqual(['data']);
  });

  it('refuses what it does not support, saying where', () => {
    expect(parsePath('data.x')).toBe('must start with "$"');
    expect(parsePath('$.data[*]')).toMatch(/character 7.*wildcards/);
    expect(parsePath('$..data')).toMatch(/field name after "\."/);
  });
});

describe('input transform', () => {
  it('fills a JSON template: raw JSON outside strings, escaped text inside', () => {
    const out = applyInputTransform(
      {
        paths: {
          sev: '$.data.severity',
          services: '$.data.affected_services',
          n: '$.data.count',
          note: '$.data.note',
        },
        template:
          '{"text": "Severity <sev>: <note>", "services": <services>, "count": <n>, "first": "<services>"}',
      },
      event,
    );
    expect(out).toEqual({
      text: 'Severity high: say "hi"',
      services: ['billing', 'auth'],
      count: 3,
      first: '["billing","auth"]',
    });
  });

  it('gives null for a missing value outside a string and nothing inside one', () => {
    expect(
      applyInputTransform(
        { paths: { x: '$.data.nope', y: '$.nope[3]' }, template: '{"a": <x>, "b": "[<y>]"}' },
        event,
      ),
    ).toEqual({ a: null, b: '[]' });
  });

  it('returns plain text when the filled template is not JSON', () => {
    expect(
      applyInputTransform({ paths: { id: '$.id' }, template: 'event <id> arrived' }, event),
    ).toBe('event e1 arrived');
  });

  it('can pass the whole event', () => {
    expect(applyInputTransform({ paths: { e: '$' }, template: '{"wrapped": <e>}' }, event)).toEqual(
      { wrapped: event },
    );
  });

  it('reports every problem with a pointer into the transform', () => {
    expect(
      validateInputTransform({
        paths: { ok: '$.a', bad: 'a.b', 'no/slash': 1 },
        template: '<ok> <missing>',
        extra: 1,
      }),
    ).toEqual([
      { pointer: '/extra', detail: 'is not a known property (paths, template)' },
      { pointer: '/paths/bad', detail: 'JSONPath must start with "$"' },
      { pointer: '/paths/no~1slash', detail: expect.stringMatching(/^the name must be/) },
      { pointer: '/paths/no~1slash', detail: 'must be a JSONPath string such as "$.data.id"' },
      { pointer: '/template', detail: 'placeholder <missing> is not defined in paths' },
    ]);
    expect(validateInputTransform('x')).toEqual([
      { pointer: '', detail: 'must be an object with "paths" and "template"' },
    ]);
    expect(validateInputTransform({ paths: {} })).toEqual([
      { pointer: '/template', detail: 'must be a string' },
    ]);
  });
});
