import { Registry } from 'prom-client';
import type { FastifyBaseLogger } from 'fastify';
import { describe, expect, it } from 'vitest';
import type { CloudEventRecord } from '../backbone/event-log.ts';
import { decide, domainOf } from './domain-policy.ts';
import type { PublishCache } from './publish-cache.ts';
import { createPublishChecks } from './publish-validation.ts';

const recordedtime = '2026-01-01T00:00:00.000Z';
const base = { domain: 'hr', expirytime: undefined, recordedtime, hasSchema: true, pii: [] };

describe('decide', () => {
  it('takes the domain from a topic or a type', () => {
    expect(domainOf('hr.prod.person.hired')).toBe('hr');
    expect(domainOf('hr.person.hired')).toBe('hr');
  });

  it('requireSchema comes first, then PII, then retention', () => {
    const all = { requireSchema: true, forbidPii: true, maxRetentionSeconds: 10 };
    expect(decide(all, { ...base, hasSchema: false, pii: ['/ssn'] })).toMatchObject({
      rule: 'schema-required',
    });
    expect(decide(all, { ...base, pii: ['/ssn'] })).toMatchObject({
      rule: 'pii',
      errors: [{ pointer: '/data/ssn' }],
    });
    expect(decide(all, { ...base, expirytime: '2026-01-01T00:00:11Z' })).toMatchObject({
      rule: 'retention',
    });
  });

  it('allows what no rule forbids, and PII where it is not forbidden', () => {
    expect(decide({}, { ...base, pii: ['/ssn'], hasSchema: false })).toEqual({ outcome: 'allow' });
    expect(
      decide({ maxRetentionSeconds: 10 }, { ...base, expirytime: '2026-01-01T00:00:10Z' }),
    ).toEqual({
      outcome: 'allow',
    });
  });

  it('stamps expirytime at the limit when the event has none', () => {
    expect(decide({ maxRetentionSeconds: 90 }, base)).toEqual({
      outcome: 'allow',
      stamp: { expirytime: '2026-01-01T00:01:30.000Z' },
    });
  });

  it('measures retention from arrival, whatever time the event claims', () => {
    // 30 s after arrival with a 10 s limit: refused, even if the event's own time were later.
    expect(
      decide({ maxRetentionSeconds: 10 }, { ...base, expirytime: '2026-01-01T00:00:30Z' }),
    ).toMatchObject({
      outcome: 'deny',
    });
    for (const bad of [42, 'tomorrow', ''])
      expect(decide({ maxRetentionSeconds: 10 }, { ...base, expirytime: bad })).toMatchObject({
        outcome: 'deny',
        errors: [{ pointer: '/expirytime', detail: 'must be an RFC 3339 timestamp' }],
      });
  });
});

describe('policy decisions are logged', () => {
  it('a denial at info with the rule and pointers, never the values; an allow at debug', async () => {
    const lines: { level: string; fields: Record<string, unknown>; message: string }[] = [];
    const logger = {
      info: (fields: Record<string, unknown>, message: string) =>
        lines.push({ level: 'info', fields, message }),
      debug: (fields: Record<string, unknown>, message: string) =>
        lines.push({ level: 'debug', fields, message }),
    } as unknown as FastifyBaseLogger;
    // No schema registered anywhere: only the requireSchema rule can fire.
    const cache = { peek: () => null } as unknown as PublishCache;
    const [schema, policy] = createPublishChecks({
      cache,
      domains: { audit: { requireSchema: true }, hr: { maxRetentionSeconds: 60 } },
      logger,
      metrics: new Registry(),
    });
    const event = (type: string) =>
      ({
        specversion: '1.0',
        id: 'e1',
        source: '/s',
        type,
        time: recordedtime,
        tenantid: 'acme',
        correlationid: 'e1',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        recordedtime,
        data: { secret: 'do-not-log' },
      }) as CloudEventRecord;

    const denied = event('audit.login.failed');
    expect(await schema!.check(denied, 'audit.dev.login.failed')).toEqual({ outcome: 'accept' });
    expect(await policy!.check(denied, 'audit.dev.login.failed')).toMatchObject({
      outcome: 'reject',
    });
    const allowed = event('hr.person.hired');
    await schema!.check(allowed, 'hr.dev.person.hired');
    expect(await policy!.check(allowed, 'hr.dev.person.hired')).toEqual({ outcome: 'accept' });
    expect(allowed['expirytime']).toBe('2026-01-01T00:01:00.000Z');
    // An ungoverned domain: no decision, nothing logged.
    await policy!.check(event('crm.deal.won'), 'crm.dev.deal.won');

    expect(lines).toEqual([
      {
        level: 'info',
        message: 'publish policy: event refused',
        fields: {
          tenant: 'acme',
          type: 'audit.login.failed',
          id: 'e1',
          source: '/s',
          domain: 'audit',
          rule: 'schema-required',
          fields: ['/type'],
        },
      },
      {
        level: 'debug',
        message: 'publish policy: event allowed',
        fields: expect.objectContaining({ domain: 'hr', expirytime: '2026-01-01T00:01:00.000Z' }),
      },
    ]);
    expect(JSON.stringify(lines)).not.toContain('do-not-log');
  });
});
