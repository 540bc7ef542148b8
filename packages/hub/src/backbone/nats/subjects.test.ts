import { describe, expect, it } from 'vitest';
import { decodeToken, encodeToken, subjectLayout } from './subjects.ts';

describe('subject layout', () => {
  const layout = subjectLayout('portico');

  it('puts tenant and partition before the topic tokens', () => {
    expect(layout.subjectFor('acme', 7, 'orders.dev.order.created')).toBe(
      'portico.acme.7.orders.dev.order.created',
    );
    expect(layout.parse('portico.acme.7.orders.dev.order.created')).toEqual({
      tenant: 'acme',
      partition: 7,
      topic: 'orders.dev.order.created',
    });
    expect(layout.parse('other.acme.7.orders.dev.order.created')).toBeUndefined();
  });

  it('builds filters for a tenant and a topic pattern', () => {
    expect(layout.filterFor('acme', 'orders.*.order.>')).toBe('portico.acme.*.orders.*.order.>');
    expect(layout.filterFor(undefined, undefined)).toBe('portico.*.*.>');
    expect(() => layout.filterFor('acme', 'orders.>.x')).toThrow(RangeError);
  });

  it('encodes any tenant into one token, reversibly and without collisions', () => {
    const tenants = [
      'acme',
      'a.b',
      'a*b',
      'a>b',
      'a b',
      'a~b',
      'a~2Eb',
      'Zoë',
      '租户',
      'ACME',
      'a_b-c',
    ];
    const tokens = tenants.map(encodeToken);
    expect(new Set(tokens).size).toBe(tenants.length);
    for (const token of tokens) expect(token).toMatch(/^[A-Za-z0-9_~-]+$/);
    expect(tokens.map(decodeToken)).toEqual(tenants);
    expect(encodeToken('a.b')).toBe('a~2Eb');
    const subject = layout.subjectFor('a.b c', 0, 'x.dev.y.z');
    expect(subject).toBe('portico.a~2Eb~20c.0.x.dev.y.z');
    expect(layout.parse(subject)?.tenant).toBe('a.b c');
    expect(() => encodeToken('')).toThrow(RangeError);
  });

  it('accepts dotted prefixes and rejects wildcards in them', () => {
    expect(subjectLayout('corp.portico').subjectFor('t', 1, 'a.b.c.d')).toBe(
      'corp.portico.t.1.a.b.c.d',
    );
    expect(() => subjectLayout('portico.>')).toThrow(RangeError);
  });
});
